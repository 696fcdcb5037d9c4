"""The article's membership layer for real: hawizard's ha.cf and authkeys start a two-node Heartbeat.

Debian 12 ships heartbeat 3.0.6. Pacemaker 2 no longer runs on Heartbeat, so this checks the
membership only: the files hawizard renders for the article's design (with the lab's NIC names,
and sha1 authentication so that the secret path is exercised) are written to both VMs through
hawizard's own sessions, Heartbeat starts, and each node sees the other as active.
Runs after the Corosync cluster tests (the files of this directory run in stage order); it stops that cluster first.
"""

from __future__ import annotations

import time

import pytest

from hawizard.design.preset_file import load_preset
from hawizard.render.renderer import render
from hawizard.run.secrets import generate
from hawizard.run.targets import target_for  # noqa: I001 - grouped with the engine imports above
from hawizard.sessions import open_session

pytestmark = pytest.mark.lab_extended  # outside the CI budget: -m lab_extended (docs/lab.md)

def test_heartbeat_membership_from_rendered_files(lab_session):
    lab = lab_session.ensure_up()
    t0 = time.monotonic()
    lab_design = load_preset(str(lab.preset))
    design = load_preset("article")
    for mine, theirs in zip(design.nodes, lab_design.nodes, strict=True):
        mine.name = theirs.name
        mine.interconnects = theirs.interconnects
    design.heartbeat.auth = "sha1"
    files = render(design)
    secret = generate("hex").decode()
    for node in lab_design.nodes:
        with open_session(target_for(node), "ssh") as s:
            r = s.run("systemctl stop pacemaker corosync 2>/dev/null; "
                      "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends heartbeat",
                      timeout=900)
            assert r.exit_status == 0, r.stdout[-2000:]
            for fid in ("ha-cf", "authkeys"):
                f = files.get(fid)
                text = f.with_secrets({"heartbeat-authkey": secret})
                if fid == "ha-cf":  # membership only: no CRM on top (Pacemaker 2 cannot run on Heartbeat)
                    text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("crm ")) + "\n"
                w = s.write_file(f.path, text.encode(), mode=f.mode)
                assert w.sha256
            mode = s.run("stat -c %a /etc/ha.d/authkeys", timeout=30).stdout.strip()
            assert mode == "600"
    for node in lab_design.nodes:
        # without a CRM line Heartbeat runs in its v1 mode, which wants a (here empty) haresources
        lab.ssh(node.name, "touch /etc/ha.d/haresources && systemctl restart heartbeat")
    deadline = time.monotonic() + 300
    seen = {}
    while time.monotonic() < deadline:
        for a, b in (("srv1", "srv2"), ("srv2", "srv1")):
            r = lab.ssh(a, f"cl_status nodestatus {b}", check=False, timeout=30)
            seen[a] = r.stdout.strip()
        if all(v == "active" for v in seen.values()):
            break
        time.sleep(3)
    lab.timings["heartbeat membership"] = f"{time.monotonic() - t0:.1f}s"
    assert seen == {"srv1": "active", "srv2": "active"}, seen
    for node in lab_design.nodes:
        lab.ssh(node.name, "systemctl stop heartbeat", check=False)
