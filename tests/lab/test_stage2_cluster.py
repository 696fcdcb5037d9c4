"""End to end on the lab: `hawizard apply lab.toml --yes` builds the article's cluster on two real VMs.

Real apt inside the VMs (from the image's local repository), real DRBD 8.4 replicating a disk,
Corosync 3 + Pacemaker 2.1 + crmsh, Apache on a VIP. Then what the article only describes:
a switch-over and back, a power loss of the active node (the qemu process is killed), the node
coming back, a second apply that changes nothing, and the audit log exported without secrets.
Phase timings are printed in the test summary (tests/lab/conftest.py).
"""

from __future__ import annotations

import base64
import os
import re
import time
from pathlib import Path

import pytest
from support.lab_apply import PAGE, apply_killed_at, cluster, hawizard, serving_node, step_times, wait_page

from hawizard.design.preset_file import load_preset


@pytest.fixture(scope="module")
def built(lab_session, tmp_path_factory):
    """The cluster built on the lab by `hawizard apply --yes`, killed twice and resumed (module scope).

    The run is SIGKILLed while the initial sync runs and again while the cluster configuration is
    loaded; `hawizard apply --resume` continues it each time. The tests below then check that the
    end state is the one an uninterrupted run reaches: the service up and served, and a further
    apply finding every step already done.
    """
    lab = lab_session.ensure_up()
    TIMINGS = lab.timings
    state = tmp_path_factory.mktemp("state")
    env = dict(os.environ, XDG_STATE_HOME=str(state))
    preset = str(lab.preset)
    t0 = time.monotonic()
    first = apply_killed_at(preset, "initial-sync: Force the first primary", env)
    second = apply_killed_at(preset, "cluster-config: Cluster properties", dict(env, _HW_MODE="resume"))
    assert "resuming run" in second
    r = hawizard("apply", preset, "--yes", "--resume", env=env)
    TIMINGS["apply (whole build)"] = f"{time.monotonic() - t0:.1f}s (killed twice, resumed)"
    times = step_times(first + second + r.stdout)
    for label, steps in (("install", ["install"]), ("DRBD sync", ["initial-sync"]),
                         ("cluster up", ["cluster-start", "cluster-config", "verify"])):
        TIMINGS[label] = f"{sum(times.get(s, 0.0) for s in steps):.1f}s"
    assert r.returncode == 0, "apply --resume failed"
    runs = list((state / "hawizard" / "runs").iterdir())
    assert len(runs) == 1, "the resumed run continues the same run and audit log"
    return lab, env, first + second + r.stdout


def test_apply_builds_the_cluster(built):
    lab, env, output = built
    for step in ("preflight", "install", "create-md", "initial-sync", "mkfs", "rehearsal", "cluster-config", "verify"):
        assert re.search(rf"^\[srv1\] {step}: ok", output, re.M), step
    assert re.search(r"^\[srv1\] initial-sync \[[#-]+\] +[\d.]+%", output, re.M)  # the sync's progress bar
    st = cluster(lab, "srv1")
    assert st is not None and {"srv1", "srv2"} <= set(st.nodes_online)
    design = load_preset(str(lab.preset))
    promoted = st.promoted_node(design.cluster.ids.drbd_clone)
    assert promoted and st.all_started_on(design.cluster.ids.group) == promoted
    other = "srv2" if promoted == "srv1" else "srv1"
    wait_page(lab, other, "", PAGE, 60)  # served through the VIP, checked from the peer
    s = hawizard("status", str(lab.preset), env=env, timeout=120)
    assert s.returncode == 0
    assert f"{design.cluster.ids.drbd_clone} promoted on: {promoted}" in s.stdout
    assert f"{design.cluster.ids.group} on: {promoted}" in s.stdout


def test_switchover_and_back(built):
    lab, env, _ = built
    TIMINGS = lab.timings
    t0 = time.monotonic()
    r = hawizard("apply", str(lab.preset), "--yes", "--only", "switchover", env=env)
    TIMINGS["switch-over (move+back)"] = f"{time.monotonic() - t0:.1f}s"
    assert r.returncode == 0
    assert serving_node(lab, "srv1") == "srv1"
    constraints = lab.ssh("srv1", "cibadmin -Q -o constraints").stdout
    assert "cli-prefer" not in constraints and "cli-ban" not in constraints  # the move was cleared


def test_second_apply_changes_nothing(built):
    lab, env, _ = built
    r = hawizard("apply", str(lab.preset), "--yes", env=env)
    assert r.returncode == 0
    assert " written" not in r.stdout  # every file unchanged
    for step in ("install", "create-md", "initial-sync", "mkfs", "rehearsal", "cluster-start", "cluster-config"):
        assert re.search(rf"^\[srv1\] {step}: already done", r.stdout, re.M), step


def test_export_has_no_secret(built):
    lab, env, _ = built
    key = lab.ssh("srv1", "base64 -w0 /etc/corosync/authkey").stdout.strip()
    raw = base64.b64decode(key)
    for fmt in ("md", "html", "jsonl"):
        r = hawizard("export", "latest", "--format", fmt, env=env)
        assert r.returncode == 0
        assert key not in r.stdout and raw.hex() not in r.stdout
    runs = Path(env["XDG_STATE_HOME"]) / "hawizard" / "runs"
    logs = sorted(runs.rglob("audit.jsonl"))
    for log in logs:
        text = log.read_text()
        assert key not in text and raw.hex() not in text
    build = logs[0].read_text()  # the first run is the (resumed) build: a complete record
    for command in ("drbdadm create-md r0", "drbdadm primary --force r0", "mkfs.ext4", "crm configure load update"):
        assert command in build, command


def test_power_loss_fails_over_and_node_rejoins(built):
    lab, env, _ = built
    TIMINGS = lab.timings
    design = load_preset(str(lab.preset))
    active = serving_node(lab, "srv1")
    peer = "srv2" if active == "srv1" else "srv1"
    stamp = f"written-before-kill-{time.time():.0f}"
    lab.ssh(active, f"echo {stamp} > /var/www/html/before-kill.txt && sync")
    t0 = time.monotonic()
    lab.cli("kill", active)
    took = wait_page(lab, peer, "before-kill.txt", stamp, design.design.switchover_target_s + 120)
    TIMINGS["power-loss failover"] = f"{time.monotonic() - t0:.1f}s (target {design.design.switchover_target_s}s)"
    assert took <= design.design.switchover_target_s
    # power back: the node boots, rejoins, and DRBD resyncs as Secondary
    t1 = time.monotonic()
    lab.cli("start", active)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        r = lab.ssh(active, f"drbdadm role {design.drbd.resource}; drbdadm dstate {design.drbd.resource}",
                    check=False, timeout=30)
        if r.returncode == 0 and r.stdout.split()[:2] == ["Secondary/Primary", "UpToDate/UpToDate"]:
            break
        time.sleep(3)
    else:
        raise AssertionError(f"{active} did not rejoin as an UpToDate secondary: {r.stdout} {r.stderr}")
    TIMINGS["node back as Secondary"] = f"{time.monotonic() - t1:.1f}s"
    st = cluster(lab, peer)
    assert {"srv1", "srv2"} <= set(st.nodes_online)
