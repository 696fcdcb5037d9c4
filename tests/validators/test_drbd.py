"""DRBD files parsed by the drbdadm of their own dialect, on each node in turn.

drbd-utils 9.22 ships three parsers: /usr/lib/drbd/drbdadm-83 (8.3 dialect, centos5-heartbeat),
/usr/lib/drbd/drbdadm-84 (8.4 dialect, debian12-crmsh) and drbdadm (DRBD 9, el9-pcs). Their
`dump` checks that this host's name has an `on` section and that its address is on this host,
so each node's check runs in fresh UTS + network namespaces (`unshare --uts --net --mount`)
whose host name is the node's name and whose `lo` holds the node's replication address.

Per node, inside the namespace:
    drbdadm-XX -c DIR/drbd.conf dump all      (exit 0, stderr empty; header "on NODE: not ignored")
    drbdadm-XX -c DIR/drbd.conf -d up RES     (dry run: the drbdsetup/drbdmeta commands it would run)
DIR/drbd.conf includes the rendered global_common.conf and resource file (for centos5 the
rendered /etc/drbd.conf itself is used, with its include paths pointed at DIR). The dry run
proves where each option lands: the node's own backing disk, its own and its peer's address
and port, the protocol and the resync rate.

What it cannot prove: that the kernel module accepts the values (e.g. the cram-hmac-alg name
is checked by the kernel's crypto API at connect time, not by drbdadm), nor DRBD 9 behaviour
beyond two nodes (hawizard renders no `connection` sections; drbdadm 9 derives the single path
of a two-node resource from the `on` sections' addresses, as the dry run shows).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from .harness import Case, case, case_ids, in_namespace, node_env_script, require, show, write

DRBDADM = {"8.3": "/usr/lib/drbd/drbdadm-83", "8.4": "/usr/lib/drbd/drbdadm-84", "9": "drbdadm"}


def _conf_dir(c: Case, where: Path, resource_text: str | None = None, common_text: str | None = None) -> Path:
    """The rendered DRBD files under WHERE, and WHERE/drbd.conf including them."""
    res = c.rendering.get("drbd-resource")
    glob = c.rendering.get("drbd-global")
    write(where / "drbd.d" / Path(glob.path).name, common_text or c.text("drbd-global"), glob.mode)
    write(where / "drbd.d" / Path(res.path).name, resource_text or c.text("drbd-resource"), res.mode)
    if c.stack.drbd_main_conf:
        main = c.text("drbd-conf")
        assert 'include "drbd.d/global_common.conf";' in main and 'include "drbd.d/*.res";' in main
        main = main.replace('include "drbd.d/', f'include "{where}/drbd.d/')
    else:
        main = f'include "{where}/drbd.d/*.conf";\ninclude "{where}/drbd.d/*.res";\n'
    return write(where / "drbd.conf", main)


def _noise(stderr: str) -> list[str]:
    """stderr lines that are not the 8.3 tool's probe for modinfo (absent in a container)."""
    return [ln for ln in stderr.splitlines() if ln.strip() and not ln.endswith("modinfo: not found")]


def _drbdadm(c: Case, conf: Path, node: str, args: str):
    tool = DRBDADM[c.stack.drbd]
    n = c.design.node(node)
    body = f"exec {shlex.quote(tool)} -c {shlex.quote(str(conf))} {args}\n"
    return in_namespace(node_env_script(node, [n.replication_address], body))


@pytest.mark.parametrize("cid", case_ids())
def test_drbdadm_of_the_dialect_accepts_files(cid, tmp_path):
    c = case(cid)
    require(DRBDADM[c.stack.drbd], "unshare", "ip")
    conf = _conf_dir(c, tmp_path)
    res = c.design.drbd.resource
    a, b = c.design.nodes
    for me, peer in ((a, b), (b, a)):
        dump = _drbdadm(c, conf, me.name, "dump all")
        assert dump.returncode == 0 and not _noise(dump.stderr), show(dump)
        assert f"# resource {res} on {me.name}: not ignored" in dump.stdout, show(dump)

        dry = _drbdadm(c, conf, me.name, f"-d up {res}")
        assert dry.returncode == 0 and not _noise(dry.stderr), show(dry)
        out = dry.stdout
        port = c.design.drbd.port
        assert f"ipv4:{me.replication_address}:{port} ipv4:{peer.replication_address}:{port}" in out, out
        assert re.search(rf"\s{re.escape(me.backing_disk)}\s", out), out
        assert peer.backing_disk == me.backing_disk or f" {peer.backing_disk} " not in out, out
        rate = c.design.drbd.resync_rate
        assert f"--rate={rate}" in out or f"--resync-rate={rate}" in out, out
        dr = c.design.drbd
        if c.stack.drbd != "8.3":  # the dynamic controller's cap carries the rate unless c_max_rate is set
            assert f"--c-max-rate={dr.c_max_rate or rate}" in out, out
            for key, value in (("c-plan-ahead", dr.c_plan_ahead), ("c-fill-target", dr.c_fill_target),
                               ("c-min-rate", dr.c_min_rate)):
                assert (f"--{key}={value}" in out) == (value not in (-1, "")), (key, value, out)
        if c.stack.drbd != "8.3":
            assert f"--protocol={c.design.drbd.protocol}" in out, out
        else:
            assert re.search(rf"\snet .* {c.design.drbd.protocol}\b", out), out
        if c.design.drbd.fencing != "dont-care":
            assert f"--fencing={c.design.drbd.fencing}" in out, out
        if c.design.drbd.on_io_error != "unset":
            assert f"--on-io-error={c.design.drbd.on_io_error}" in out, out
        if c.design.drbd.shared_secret_ref:
            assert "--shared-secret=" in out and "--cram-hmac-alg=" in out, out
        # DRBD 9 quorum (drbd.conf(5) for 9, options section): the resource's options, or none of them
        quorum = [f"--quorum={dr.quorum}", f"--on-no-quorum={dr.on_no_quorum}",
                  f"--on-no-data-accessible={dr.on_no_quorum}"]
        if dr.quorum != "off":
            assert all(q in out for q in quorum), (quorum, out)
        else:
            assert "--quorum=" not in out and "--on-no-quorum=" not in out, out


@pytest.mark.parametrize("cid", ["article", "debian12", "el9"])
def test_negative_drbdadm_rejects_typo(cid, tmp_path):
    """A typo'd keyword in the resource file, and one in global_common.conf, make drbdadm fail;
    and so does running the check as a host whose address is not in the file."""
    c = case(cid)
    require(DRBDADM[c.stack.drbd], "unshare", "ip")
    node = c.design.nodes[0].name
    broken_res = c.text("drbd-resource").replace("meta-disk", "meta-dsik", 1)
    conf = _conf_dir(c, tmp_path / "res", resource_text=broken_res)
    proc = _drbdadm(c, conf, node, "dump all")
    assert proc.returncode != 0 and "meta-dsik" in proc.stderr, show(proc)

    good, typo = ("after-sb-0pri", "after-sb-Opri") if c.stack.drbd != "8.3" else ("rate ", "rtae ")
    broken_common = c.text("drbd-global").replace(good, typo, 1)
    conf = _conf_dir(c, tmp_path / "common", common_text=broken_common)
    proc = _drbdadm(c, conf, node, "dump all")
    assert proc.returncode != 0 and typo.strip() in proc.stderr, show(proc)

    conf = _conf_dir(c, tmp_path / "ok")
    tool = DRBDADM[c.stack.drbd]
    proc = in_namespace(node_env_script(node, ["192.0.2.99"], f"exec {tool} -c {conf} dump all\n"))
    assert proc.returncode != 0 and "not found on this host" in proc.stderr, show(proc)
