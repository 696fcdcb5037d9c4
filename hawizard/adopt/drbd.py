"""DRBD configuration, read through drbdadm itself (``drbdadm -c FILE dump-xml``), never by a parser of ours.

Why drbdadm: it is the parser the nodes run, with every include, ``common`` inheritance and
dialect rule. It needs no kernel module when the driver version is given
(``DRBD_DRIVER_VERSION_OVERRIDE``, the knob drbd-utils' own tests use), and ``dump-xml`` with no
resource name prints the common section and every resource, whichever host it runs on (seen with
drbd-utils 9.22). Dialects: the 8.4 parser (drbdadm-84, chosen with a version 8.4.x override)
reads 8.3 files too and prints them in 8.4 form (seen with drbd-utils 9.22 on the article's files:
``syncer { rate 200M; }`` -> ``disk { resync-rate 200M; }``, a resource-level ``protocol`` under
``net``: where DRBD 8.4 moved the former syncer settings, kernel commit f399002e "drbd: distribute
former syncer_conf settings to disk, connection, and resource level"); the DRBD 9 parser reads 9
files. drbdadm-83 itself is not used: for a host that is not in the files it dumps no common
section, and for one that is it checks that the host owns the address (seen).

The XML holds the shared secret of a resource that has one: it is read into a flag (has a
secret) and nothing else; drbdadm's error output is shown with any line naming the secret cut.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from hawizard.common.errors import EnvironmentProblem, InputError

# the driver version each dialect's parser is chosen by (drbdadm hands 8.x to drbdadm-84)
DRIVER_VERSION = {"8.3": "8.4.11", "8.4": "8.4.11", "9": "9.2.5"}


@dataclass
class DrbdHost:
    name: str
    device: str
    disk: str
    meta_disk: str
    address: str
    port: int
    node_id: str = ""


@dataclass
class DrbdResource:
    name: str
    hosts: list[DrbdHost]
    options: dict[str, dict[str, str]]  # section -> option -> value, the resource's own (not common)
    has_secret: bool = False


@dataclass
class DrbdConfig:
    common: dict[str, dict[str, str]] = field(default_factory=dict)
    resources: list[DrbdResource] = field(default_factory=list)
    usage_count: bool | None = None  # from the global section's text (dump-xml leaves global out)
    extras: list[str] = field(default_factory=list)  # XML elements not understood, by name


def dialect_of(texts: list[str]) -> str:
    """'9' when a file uses DRBD 9-only words (node-id, connection sections, the .9 handlers),
    '8.3' when it uses the 8.3 syncer section or a resource-level protocol, else '8.4'."""
    joined = "\n".join(re.sub(r"#.*", "", t) for t in texts)
    if re.search(r"\bnode-id\b|\bconnection\s*\{|\bconnection-mesh\b|crm-fence-peer\.9\.sh", joined):
        return "9"
    if re.search(r"\bsyncer\s*\{", joined) or not re.search(r"\bvolume\s+\d+\s*\{", joined):
        return "8.3"
    return "8.4"


def dump_xml(conf: Path, dialect: str, shown_as: str) -> str:
    """``drbdadm -c CONF dump-xml`` with the driver version of the dialect; InputError on a bad file."""
    tool = shutil.which("drbdadm")
    if not tool:
        raise EnvironmentProblem("drbdadm is not installed on this machine; adoption reads DRBD files "
                                 "through it (Debian: apt-get install drbd-utils)")
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C",
           "DRBD_DRIVER_VERSION_OVERRIDE": DRIVER_VERSION[dialect]}
    with tempfile.TemporaryDirectory(prefix="hawizard-adopt-") as home:
        env["HOME"] = home
        proc = subprocess.run([tool, "-c", str(conf), "dump-xml"], env=env, capture_output=True, text=True,
                              timeout=60, check=False)
    if proc.returncode != 0 or "<config" not in proc.stdout:
        lines = [ln for ln in proc.stderr.splitlines()
                 if ln.strip() and "modinfo" not in ln and "secret" not in ln.lower()]
        raise InputError(f"{shown_as}: drbdadm (DRBD {dialect} dialect) refused the DRBD configuration:\n  "
                         + "\n  ".join(lines[:10] or [f"exit {proc.returncode}"]))
    return proc.stdout


def _sections(elem: ET.Element) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for sec in elem.findall("section"):
        opts = out.setdefault(sec.get("name", ""), {})
        for opt in sec.findall("option"):
            opts[opt.get("name", "")] = opt.get("value", "")
    # 8.3-form attribute (drbdadm-83): <common protocol="C">
    if elem.get("protocol"):
        out.setdefault("net", {}).setdefault("protocol", elem.get("protocol", ""))
    return out


def parse_dump(xml_text: str, global_text: str = "") -> DrbdConfig:
    """The common section and the resources of a dump-xml; the global usage-count from its text."""
    root = ET.fromstring(xml_text)
    cfg = DrbdConfig()
    common = root.find("common")
    if common is not None:
        cfg.common = _sections(common)
    for res in root.findall("resource"):
        hosts = []
        for h in res.findall("host"):
            vol = h.find("volume")
            src = vol if vol is not None else h
            addr = h.find("address")
            if addr is None:
                addr = res.find(f"connection/host[@name='{h.get('name')}']/address")
            hosts.append(DrbdHost(
                name=h.get("name", ""), device=(src.findtext("device") or "").strip(),
                disk=(src.findtext("disk") or "").strip(), meta_disk=(src.findtext("meta-disk") or "").strip(),
                address=(addr.text or "").strip() if addr is not None else "",
                port=int(addr.get("port", "0")) if addr is not None else 0,
                node_id=(h.findtext("node-id") or "").strip()))
        options = _sections(res)
        for conn in res.findall("connection"):  # DRBD 9: a connection's own net options
            for name, opts in _sections(conn).items():
                for k, v in opts.items():
                    if k != "_name":
                        options.setdefault(name, {}).setdefault(k, v)
        secret = any("shared-secret" in opts for opts in list(options.values()) + list(cfg.common.values()))
        for opts in list(options.values()) + list(cfg.common.values()):
            opts.pop("shared-secret", None)  # never kept
        cfg.resources.append(DrbdResource(res.get("name", ""), hosts, options, secret))
        for child in res:
            if child.tag not in ("host", "section", "connection"):
                cfg.extras.append(f"resource {res.get('name')}: <{child.tag}>")
    m = re.search(r"\busage-count\s+(yes|no|ask)\s*;", re.sub(r"#.*", "", global_text))
    if m:
        cfg.usage_count = m.group(1) == "yes"
    return cfg


def read_config(files: dict[str, Path], main: Path | None, dialect: str, shown_as: str) -> DrbdConfig:
    """Write a drbd.conf that includes the collected files by absolute path, and dump it.

    ``files``: global_common.conf and the *.res files of a packaged layout; ``main``: a drbd.conf
    that holds everything itself (used when there is no drbd.d)."""
    with tempfile.TemporaryDirectory(prefix="hawizard-adopt-drbd-") as tmp:
        conf = Path(tmp) / "drbd.conf"
        if files:
            conf.write_text("".join(f'include "{p.resolve()}";\n' for p in files.values()))
        elif main is not None:
            conf = main.resolve()
        else:
            raise InputError(f"{shown_as}: no DRBD configuration (etc/drbd.d/*.res or etc/drbd.conf)")
        xml_text = dump_xml(conf, dialect, shown_as)
    texts = [p.read_text(errors="replace") for p in files.values()] if files else \
        [main.read_text(errors="replace")] if main else []
    glob_text = "\n".join(t for t in texts if re.search(r"\bglobal\s*\{", t))
    return parse_dump(xml_text, glob_text)
