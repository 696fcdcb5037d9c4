"""corosync.conf accepted by corosync's own parser, on each node.

`corosync -t -c FILE` (corosync 3.1.7, Debian 12) reads the file with coroparse, then checks the
totem, nodelist and logging configuration (cipher/hash names, integer ranges, duplicate node ids,
the same number of links on every node, addresses that parse, logging values) and exits 0
("Corosync Cluster Engine exiting normally") or 8/7 with the reason. With crypto on, it also opens
/etc/corosync/authkey, so each check runs in fresh UTS + network + mount namespaces where a tmpfs
covers /etc/corosync and holds the rendered authkey file (random bytes, the file's own mode), the
host name is the node's and lo holds the node's interconnect addresses.

What -t does not check: unknown keys. corosync ignores a misspelt key (`trnasport: knet` passes),
so a second test compares every key of the file with the keys documented in the installed
corosync.conf(5) and votequorum(5) manual pages, and the keys of a quorum device with the ones
corosync-qdevice(8) documents (package corosync-qdevice; skipped, with the reason, without it).
Neither proves that the links come up: knet is not started. Nor does -t read the quorum section:
two_node together with a device, or `model: nett`, pass it (tried with corosync 3.1.7); votequorum
refuses the first only when corosync starts, so hawizard's validation refuses it (design/validate.py).
"""

from __future__ import annotations

import gzip
import os
import re
import shlex
from pathlib import Path

import pytest

from .harness import Case, case, case_ids, in_namespace, node_env_script, require, show, write

COROSYNC_CASES = case_ids("debian12-crmsh", "debian12-pcs", "el9-pcs")
MAN = Path("/usr/share/man")


def _corosync_t(c: Case, node: str, text: str, where: Path):
    conf = write(where / "corosync.conf", text)
    key = c.rendering.get("corosync-authkey")
    keyfile = where / "authkey"
    keyfile.write_bytes(os.urandom(256))
    addrs = [ic.address.split("/")[0] for ic in c.design.node(node).interconnects]
    keydir = os.path.dirname(key.path)
    logdir = os.path.dirname(re.search(r"^\s*logfile:\s*(\S+)", text, re.M).group(1))
    body = (f"mount -t tmpfs tmpfs {shlex.quote(keydir)}\n"
            # corosync -t opens the log file: a private /var/log with the directory the
            # distribution's package creates (/var/log/corosync on Debian, /var/log/cluster on EL)
            f"mount -t tmpfs tmpfs /var/log\nmkdir -p {shlex.quote(logdir)}\n"
            f"cp {shlex.quote(str(keyfile))} {shlex.quote(key.path)}\n"
            f"chmod {key.mode:o} {shlex.quote(key.path)}\n"
            f"exec corosync -t -c {shlex.quote(str(conf))}\n")
    return in_namespace(node_env_script(node, addrs, body))


@pytest.mark.parametrize("cid", COROSYNC_CASES)
def test_corosync_parser_accepts_conf(cid, tmp_path):
    c = case(cid)
    require("corosync", "unshare", "ip")
    for node in c.design.node_names:
        proc = _corosync_t(c, node, c.text("corosync-conf"), tmp_path / node)
        assert proc.returncode == 0, show(proc)
        assert "exiting normally" in proc.stdout + proc.stderr, show(proc)
        assert not re.search(r"\b(error|warning)\b", proc.stdout + proc.stderr, re.I), show(proc)


@pytest.mark.parametrize("mutation", [
    ("crypto_cipher: aes256", "crypto_cipher: aes999", "Invalid cipher type"),
    ("nodeid: 2", "nodeid: 1", "appears twice"),
    ("token: 3000", "token: 3s", "expected to be integer"),
    ("two_node: 1\n}", "two_node: 1\n", "Missing closing brace"),
    ("ring1_addr: 10.2.0.2\n", "", "same number of links"),
], ids=["cipher", "nodeid", "token", "brace", "links"])
def test_negative_corosync_rejects_broken_conf(mutation, tmp_path):
    c = case("debian12")
    require("corosync", "unshare", "ip")
    old, new, reason = mutation
    text = c.text("corosync-conf")
    assert old in text
    proc = _corosync_t(c, c.design.node_names[0], text.replace(old, new), tmp_path)
    assert proc.returncode in (7, 8) and reason in proc.stdout + proc.stderr, show(proc)


def _documented_keys(pages: tuple[str, ...] = ("man5/corosync.conf.5.gz", "man5/votequorum.5.gz")) -> set[str]:
    keys: set[str] = set()
    for page in pages:
        path = MAN / page
        if not path.exists():
            pytest.skip(f"{path} is not installed (manual pages excluded from this image, or its package "
                        "is missing)")
        text = gzip.open(path, "rt", errors="replace").read()
        # corosync.conf(5): ".TP" then the key; votequorum(5): ".B key: value" paragraphs
        keys |= {m.group(1) for m in re.finditer(r"^\.TP\n(?:\.B\s+)?([A-Za-z0-9_]+)", text, re.M)}
        keys |= {m.group(1) for m in re.finditer(r"^\.B\s+([a-z0-9_]+):", text, re.M)}
    return keys


def _keys(text: str) -> list[tuple[str, str]]:
    """(section path, key) of every 'key: value' line."""
    out, stack = [], []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.endswith("{"):
            stack.append(line[:-1].strip())
        elif line == "}":
            stack.pop()
        elif ":" in line:
            out.append(("/".join(stack), line.split(":", 1)[0].strip()))
    return out


# corosync-qdevice(8) documents quorum.device and quorum.device.net (package corosync-qdevice)
QDEVICE_PAGE = "man8/corosync-qdevice.8.gz"


@pytest.mark.parametrize("cid", COROSYNC_CASES)
def test_corosync_keys_are_documented(cid):
    require("corosync")
    c = case(cid)
    device = bool(c.design.corosync.qdevice.host)
    documented = _documented_keys()
    if device:
        documented |= _documented_keys((QDEVICE_PAGE,))
    unknown = []
    for section, key in _keys(c.text("corosync-conf")):
        if section.startswith("quorum/device"):
            section_keys = _documented_keys((QDEVICE_PAGE,))  # a device key must be the device's own
            if key not in section_keys:
                unknown.append(f"{section}: {key}")
            continue
        if re.fullmatch(r"ring\d+_addr", key):
            key = "ringX_addr"
        if key not in documented:
            unknown.append(f"{section}: {key}")
    assert not unknown, f"keys not in corosync.conf(5)/votequorum(5): {unknown}"


def test_quorum_device_section_is_where_corosync_qdevice_reads_it():
    """corosync-qdevice(8): "The main configuration is within quorum.device sub-key", the net model's in
    quorum.device.net; corosync -t does not read that section, so its place and keys are checked here."""
    cid = next(c for c in COROSYNC_CASES if case(c).design.corosync.qdevice.host)
    c = case(cid)
    qd = c.design.corosync.qdevice
    keys = _keys(c.text("corosync-conf"))
    assert ("quorum/device", "model") in keys and ("quorum/device/net", "host") in keys
    assert ("quorum", "two_node") not in keys  # votequorum refuses it with a device
    assert [k for s, k in keys if s == "quorum/device/net"][:1] == ["host"]
    assert ("quorum/device", "votes") in keys if qd.algorithm == "ffsplit" else ("quorum/device", "votes") not in keys


def test_negative_misspelt_device_key_is_caught():
    require("corosync")
    documented = _documented_keys((QDEVICE_PAGE,))
    assert {"model", "votes", "host", "port", "algorithm", "tls", "tie_breaker"} <= documented
    assert "tie_braker" not in documented and "two_node" not in documented


def test_negative_misspelt_key_is_caught():
    require("corosync")
    documented = _documented_keys()
    keys = [k for _, k in _keys(case("debian12").text("corosync-conf").replace("transport:", "trnasport:"))]
    assert "trnasport" in keys and "trnasport" not in documented
