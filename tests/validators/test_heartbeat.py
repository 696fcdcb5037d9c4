"""Heartbeat's ha.cf and authkeys (centos5-heartbeat): structure, and Heartbeat's own parser.

Heartbeat has no config-check mode, but its daemon parses ha.cf and authkeys first and logs
"Configuration validated. Starting heartbeat 3.0.6" or "Heartbeat not started: configuration
error." before it does anything else. Debian 12 still ships heartbeat 3.0.6 (the article runs
3.0.4; the ha.cf and authkeys grammar is the same 3.0 parser), so each node's check runs the real
daemon in fresh mount, UTS, network, IPC and PID namespaces:
- host name = the node's name (Heartbeat refuses a ha.cf whose `node` lines miss this host);
- the node's interconnect NICs as veth interfaces holding its addresses (bcast needs the
  interface and its broadcast address; ucast needs the interface);
- private tmpfs over /etc/ha.d (the rendered ha.cf and authkeys, authkeys with the mode of its
  RenderedFile: Heartbeat rejects an authkeys readable by others), /var/log, /run,
  /var/lib/heartbeat; `reboot` bound to /bin/true;
- stubs for the Pacemaker daemons that `crm yes` / `pacemaker respawn` make Heartbeat check
  (cib, stonithd, lrmd, attrd, crmd): Debian 12's heartbeat looks for the Pacemaker 1.x names,
  which Pacemaker 2.1 no longer installs. Heartbeat only checks that they are executable.
Passing means: "Configuration validated", every interconnect's medium opened, local status
'up', and no ERROR in the log. The namespaces (and every process in them) end right after.

What it cannot prove: that Pacemaker 1.0 starts under Heartbeat (stubbed), that the links
carry heartbeats between two nodes, or the behaviour of 3.0.4 where it differs from 3.0.6.
"""

from __future__ import annotations

import re
import shlex
import stat

import pytest

from .harness import Case, case, case_ids, in_namespace, require, secrets_for, show, write

HB_CASES = case_ids("centos5-heartbeat")
HEARTBEAT = "/usr/libexec/heartbeat/heartbeat"
STUBS = ("cib", "stonithd", "lrmd", "attrd", "crmd", "pengine")
MEDIA = ("bcast", "ucast", "mcast", "serial")


# -- structure (no tool needed) ---------------------------------------------------------------

def _directives(text: str) -> list[tuple[str, list[str]]]:
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            word, *rest = line.split()
            out.append((word, rest))
    return out


@pytest.mark.parametrize("cid", HB_CASES)
def test_ha_cf_structure(cid):
    """ha.cf is read top to bottom and each directive acts when read (ha.cf(5)): udpport must
    come before the media lines, the timing must be ordered, every node is named, and the
    Pacemaker directive is there exactly once."""
    c = case(cid)
    d = _directives(c.text("ha-cf"))
    words = [w for w, _ in d]
    first_media = min(i for i, w in enumerate(words) if w in MEDIA)
    assert words.index("udpport") < first_media
    hb = c.design.heartbeat
    assert hb.keepalive_s < hb.warntime_s < hb.deadtime_s <= hb.initdead_s
    assert sorted(a[0] for w, a in d if w == "node") == sorted(c.design.node_names)
    assert sum(w in ("crm", "pacemaker") for w in words) == 1
    nics = {ic.nic for n in c.design.nodes for ic in n.interconnects}
    for w, args in d:
        if w == "bcast":
            assert set(args) <= nics
        if w == "ucast":
            assert args[0] in nics and len(args) == 2


@pytest.mark.parametrize("cid", HB_CASES)
def test_authkeys_structure(cid):
    """authkeys(5): `auth N` names a key line that exists, N in 1..15, a known method, a secret
    unless crc, and the file is 0600 (Heartbeat refuses it otherwise)."""
    c = case(cid)
    f = c.rendering.get("authkeys")
    assert f.mode == 0o600 and f.owner == "root"
    d = _directives(c.text("authkeys"))
    assert d[0][0] == "auth" and len(d[0][1]) == 1
    n = d[0][1][0]
    keys = {w: a for w, a in d[1:]}
    assert n in keys and 1 <= int(n) <= 15
    method, *secret = keys[n]
    assert method == c.design.heartbeat.auth
    assert (method == "crc") == (not secret)
    if secret:
        assert "heartbeat-authkey" in f.secrets and secret == [secrets_for(c.rendering)["heartbeat-authkey"]]


# -- Heartbeat's own parser --------------------------------------------------------------------

def _run_heartbeat(c: Case, node: str, tmp, ha_cf: str | None = None, authkeys: str | None = None,
                   authkeys_mode: int | None = None):
    files = tmp / node
    write(files / "ha.cf", ha_cf if ha_cf is not None else c.text("ha-cf"))
    ak = c.rendering.get("authkeys")
    write(files / "authkeys", authkeys if authkeys is not None else c.text("authkeys"))
    mode = ak.mode if authkeys_mode is None else authkeys_mode
    nics = "".join(
        f"ip link add {ic.nic} type veth peer name hbp{i}\n"
        f"ip addr add {ic.address} brd + dev {ic.nic}\n"
        f"ip link set {ic.nic} up\nip link set hbp{i} up\n"
        for i, ic in enumerate(c.design.node(node).interconnects))
    stubs = "".join(f"printf '#!/bin/sh\\nexec sleep 30\\n' > \"$EXE/{s}\"\nchmod 755 \"$EXE/{s}\"\n" for s in STUBS)
    script = f"""
hostname {shlex.quote(node)}
ip link set lo up
{nics}
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/log
mount -t tmpfs tmpfs /var/lib/heartbeat
mkdir -p /var/lib/heartbeat/cores/root /var/lib/heartbeat/cores/hacluster /var/lib/heartbeat/cores/nobody
chown hacluster /var/lib/heartbeat/cores/hacluster 2>/dev/null || true
mount -t tmpfs tmpfs /etc/ha.d
cp {shlex.quote(str(files))}/ha.cf {shlex.quote(str(files))}/authkeys /etc/ha.d/
chmod {mode:o} /etc/ha.d/authkeys
mount --bind /bin/true "$(readlink -f /usr/sbin/reboot)" 2>/dev/null || true
EXE=/var/lib/heartbeat/exe  # on the private tmpfs
mkdir -p "$EXE"
cp -a /usr/libexec/heartbeat/. "$EXE"/
{stubs}
mount --bind "$EXE" /usr/libexec/heartbeat
set +e
/usr/libexec/heartbeat/heartbeat >/dev/null 2>&1
log=$(sed -n 's/^logfile[[:space:]]*//p' /etc/ha.d/ha.cf)
i=0
while [ $i -lt 50 ]; do
  grep -qE "Local status now set to|onfiguration error|make_io_childpair" "$log" 2>/dev/null && break
  sleep 0.1; i=$((i+1))
done
sleep 0.2
cat "$log"
"""
    return in_namespace(script, pid=True, timeout=30)


# Errors of the namespace, not of the files: no memory locking allowed in a container.
ENVIRONMENT = (re.compile(r"Cannot lock ourselves into memory"),)


def _verdict(proc) -> tuple[bool, list[str]]:
    """(configuration validated and the media opened, the errors logged)."""
    lines = [ln for ln in proc.stdout.splitlines() if " debug: " not in ln]
    errors = [ln for ln in lines if "ERROR:" in ln and not any(p.search(ln) for p in ENVIRONMENT)]
    ok = any("Configuration validated" in ln for ln in lines) and \
        any("Local status now set to: 'up'" in ln for ln in lines) and not errors
    return ok, errors


@pytest.mark.parametrize("cid", HB_CASES)
def test_heartbeat_daemon_validates_configuration(cid, tmp_path, request):
    c = case(cid)
    require(HEARTBEAT, "unshare", "ip")
    for node in c.design.node_names:
        proc = _run_heartbeat(c, node, tmp_path)
        ok, errors = _verdict(proc)
        assert ok and not errors, show(proc)
        for ic in c.design.node(node).interconnects:  # every medium was opened on its NIC
            assert re.search(rf"(Broadcast heartbeat started|ucast: started) on port \d+ .*interface {ic.nic}\b",
                             proc.stdout), show(proc)


def test_heartbeat_is_not_a_rubber_stamp(tmp_path):
    """Negative controls: a typo'd directive, an authkeys readable by others, an `auth` pointing at
    a missing key, and a media line naming a NIC the node does not have, each stop Heartbeat."""
    require(HEARTBEAT, "unshare", "ip")
    c = case("article-ucast-sha1")
    node = c.design.node_names[0]
    ha, ak = c.text("ha-cf"), c.text("authkeys")
    cases = {
        "typo": dict(ha_cf=ha.replace("keepalive", "keepalvie")),
        "mode": dict(authkeys_mode=0o644),
        "auth": dict(authkeys=ak.replace("auth 1", "auth 2")),
        "nic": dict(ha_cf=re.sub(r"^ucast eth1 ", "ucast eth9 ", ha, count=1, flags=re.M)),
    }
    for name, kw in cases.items():
        proc = _run_heartbeat(c, node, tmp_path / name, **kw)
        ok, errors = _verdict(proc)
        assert not ok and errors, f"{name}:\n{show(proc)}"


def test_authkeys_mode_is_what_heartbeat_needs():
    f = case("article").rendering.get("authkeys")
    assert stat.S_IMODE(f.mode) & 0o077 == 0
