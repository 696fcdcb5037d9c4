"""End to end on the lab with pcs: `hawizard apply --yes` builds the same cluster with the
debian12-pcs stack (Corosync 3 + Pacemaker 2.1 + pcs 0.11 + DRBD 8.4 on Debian 12).

The lab is brought up again with `--stack debian12-pcs`, from the snapshot the crmsh build took
after its install step when there is one (hawizard's install step then adds pcs from the image's
local repository), else on fresh disks. The design is fenced with sbd, as the crmsh build is. The configuration is built with `pcs -f` on a copy of the CIB, checked
with crm_verify and pushed with `pcs cluster cib-push`. Then: the page through the VIP from the
peer, `pcs resource move`/`clear` there and back, a second apply that changes nothing, and a
third after a design change, which replaces the changed resource (the VIP's monitor interval)
in place while the service keeps running.
What the crmsh build already proves for the common path (resume, power loss) is not repeated.
"""

from __future__ import annotations

import base64
import os
import re
import time
from pathlib import Path

import pytest
from support.lab_apply import PAGE, cluster, hawizard, serving_node, step_times, wait_page

from hawizard.design.preset_file import dump_preset, load_preset

pytestmark = [pytest.mark.lab_extended, pytest.mark.uses_post_install_snapshot]  # outside the CI budget: -m lab_extended (docs/lab.md)

STACK = "debian12-pcs"
SNAPSHOT = "post-install"  # taken by test_stage2_cluster.py after the crmsh build's install step


@pytest.fixture(scope="module")
def pcs_built(lab_session, tmp_path_factory):
    lab = lab_session
    lab.cli("down", "--timeout", "60", check=False)
    t0 = time.monotonic()
    # boot from the snapshot the crmsh build took after its install step when there is one (the
    # cluster stack is installed; pcs is not, so hawizard's install step still installs it)
    snapshots = lab.cli("snapshot", check=False).stdout.split()
    origin = ["--from-snapshot", SNAPSHOT] if SNAPSHOT in snapshots else []
    lab.cli("up", "--nodes", "2", "--port-base", str(lab.port_base), "--stack", STACK, *origin)
    lab.timings["pcs: lab up"] = f"{time.monotonic() - t0:.1f}s ({'from ' + SNAPSHOT if origin else 'fresh disks'})"
    assert load_preset(str(lab.preset)).stack == STACK
    state = tmp_path_factory.mktemp("state-pcs")
    env = dict(os.environ, XDG_STATE_HOME=str(state))
    t0 = time.monotonic()
    r = hawizard("apply", str(lab.preset), "--yes", env=env)
    lab.timings["pcs: apply (whole build)"] = f"{time.monotonic() - t0:.1f}s"
    times = step_times(r.stdout)
    for label, steps in (("pcs: install", ["install"]), ("pcs: DRBD sync", ["initial-sync"]),
                         ("pcs: cluster up", ["cluster-start", "cluster-config", "verify"])):
        lab.timings[label] = f"{sum(times.get(s, 0.0) for s in steps):.1f}s"
    assert r.returncode == 0, "apply failed"
    yield lab, env, r.stdout
    lab.cli("down", "--timeout", "60", check=False)


def test_pcs_apply_builds_the_cluster(pcs_built):
    lab, env, output = pcs_built
    for step in ("preflight", "install", "sbd-device", "sbd-config", "create-md", "initial-sync", "mkfs",
                 "rehearsal", "cluster-config", "verify"):
        assert re.search(rf"^\[srv1\] {step}: ok", output, re.M), step
    assert lab.ssh("srv1", "dpkg-query -W -f='${Status}' pcs").stdout.endswith("ok installed")
    # fenced with sbd through pcs: the device runs, the cluster knows the watchdog
    assert "fence_sbd" in lab.ssh("srv1", "stonith_admin --list-registered").stdout
    assert lab.ssh("srv2", "systemctl is-active sbd").stdout.strip() == "active"
    design = load_preset(str(lab.preset))
    st = cluster(lab, "srv2")
    assert st is not None and {"srv1", "srv2"} <= set(st.nodes_online)
    promoted = st.promoted_node(design.cluster.ids.drbd_clone)
    assert promoted and st.all_started_on(design.cluster.ids.group) == promoted
    other = "srv2" if promoted == "srv1" else "srv1"
    wait_page(lab, other, "", PAGE, 60)
    # the configuration pcs built is the design's: the clone is promotable with the design's ids
    shown = lab.ssh("srv1", f"pcs resource config {design.cluster.ids.drbd_clone}").stdout
    assert "promotable=true" in shown and f"drbd_resource={design.drbd.resource}" in shown
    s = hawizard("status", str(lab.preset), env=env, timeout=120)
    assert s.returncode == 0 and f"{design.cluster.ids.group} on: {promoted}" in s.stdout


def test_pcs_switchover_and_back(pcs_built):
    lab, env, _ = pcs_built
    t0 = time.monotonic()
    r = hawizard("apply", str(lab.preset), "--yes", "--only", "switchover", env=env)
    lab.timings["pcs: switch-over (move+back)"] = f"{time.monotonic() - t0:.1f}s"
    assert r.returncode == 0
    assert "pcs resource move" in _audit_text(env)
    assert serving_node(lab, "srv1") == "srv1"
    constraints = lab.ssh("srv1", "cibadmin -Q -o constraints").stdout
    assert "cli-prefer" not in constraints and "cli-ban" not in constraints


def test_pcs_second_apply_changes_nothing(pcs_built):
    lab, env, _ = pcs_built
    r = hawizard("apply", str(lab.preset), "--yes", env=env)
    assert r.returncode == 0
    assert " written" not in r.stdout
    for step in ("install", "create-md", "initial-sync", "mkfs", "rehearsal", "cluster-start", "cluster-config"):
        assert re.search(rf"^\[srv1\] {step}: already done", r.stdout, re.M), step


def test_pcs_changed_design_is_applied_in_place(pcs_built, tmp_path):
    """A changed monitor interval re-runs only the cluster configuration: pcs replaces
    hawizard's resources in a copy of the CIB and pushes it; the service keeps running."""
    lab, env, _ = pcs_built
    design = load_preset(str(lab.preset))
    before = serving_node(lab, "srv1")
    design.timing.monitor_interval_s += 7
    changed = tmp_path / "changed.toml"
    changed.write_text(dump_preset(design))
    r = hawizard("apply", str(changed), "--yes", env=env)
    assert r.returncode == 0
    assert re.search(r"^\[srv1\] cluster-config: ok", r.stdout, re.M)
    assert re.search(r"^\[srv1\] mkfs: already done", r.stdout, re.M)
    ops = lab.ssh("srv1", f"cibadmin -Q -o resources | grep -o 'interval=\"{design.timing.monitor_interval_s}s\"'",
                  check=False).stdout
    assert ops.strip(), "the new monitor interval is not in the CIB"
    assert serving_node(lab, "srv1") == before
    wait_page(lab, "srv2" if before == "srv1" else "srv1", "", PAGE, 60)


def test_pcs_export_is_a_record_without_secret(pcs_built):
    lab, env, _ = pcs_built
    key = lab.ssh("srv1", "base64 -w0 /etc/corosync/authkey").stdout.strip()
    raw = base64.b64decode(key)
    text = _audit_text(env)
    assert key not in text and raw.hex() not in text
    for command in ("drbdadm create-md r0", "drbdadm primary --force r0", "pcs cluster cib-push"):
        assert command in text, command
    r = hawizard("export", "latest", "--format", "md", env=env)
    assert r.returncode == 0 and key not in r.stdout


def _audit_text(env: dict) -> str:
    runs = Path(env["XDG_STATE_HOME"]) / "hawizard" / "runs"
    return "".join(p.read_text() for p in sorted(runs.rglob("audit.jsonl")))
