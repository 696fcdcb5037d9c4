"""End to end on the lab: `hawizard apply lab.toml --yes` builds a fenced cluster on two real VMs,
then breaks it the ways fencing exists for.

Real apt inside the VMs (from the image's local repository), real DRBD 8.4 replicating a disk,
Corosync 3 + Pacemaker 2.1 + crmsh, Apache on a VIP, and real fencing: sbd on a disk both VMs
share, each VM's i6300esb watchdog, Pacemaker's fencer (lab.toml is a fenced design by default).
The build is checked as an operator would (the page through the VIP, `hawizard status`, a
switch-over and back, a second apply that changes nothing, the audit log without secrets), then:

* partition: both cluster links cut while both nodes run and a writer appends numbered records
  with synchronous writes on the active node; exactly one node is fenced, the service stays on one
  node, DRBD is never Primary on both, the fenced node stays out until the links heal, then it
  resyncs without a split brain and every acknowledged record is on the serving node's disk;
* hung node: the active node's qemu is frozen; it is fenced and the service moves; powered off and
  on again (a paused VM that was fenced must not be resumed), it rejoins as an UpToDate Secondary;
* power loss: the active node's qemu is killed; the service is back within the worst case the
  timing model prints for this design.

When a selected test boots from it (the pcs build, the fleet: marker uses_post_install_snapshot),
the nodes are snapshotted after the install step (hawizard lab snapshot), so those builds do not
install the stack again.
Phase timings are printed in the test summary (tests/lab/conftest.py).
"""

from __future__ import annotations

import base64
import os
import re
import time
from pathlib import Path

import pytest
from support import faults
from support.lab_apply import PAGE, apply_killed_at, cluster, hawizard, serving_node, step_times, wait_page

from hawizard.design import timing
from hawizard.design.preset_file import load_preset

SNAPSHOT = "post-install"  # the nodes right after hawizard's install step (read by test_stage5_pcs.py)


def _snapshot_after_install(lab, env, wanted: bool) -> None:
    """Install through hawizard (a run of its own), then save both nodes' disks and boot them again.

    The snapshot is for the tests that boot from it (marker uses_post_install_snapshot: the pcs build,
    the fleet); when none of them is selected, as in CI's core set, it is skipped.
    """
    t0 = time.monotonic()
    r = hawizard("apply", str(lab.preset), "--yes", "--only", "preflight,install,post-install", env=env)
    assert r.returncode == 0, "the install step failed"
    lab.timings["install (real apt in the VMs)"] = f"{step_times(r.stdout).get('install', 0.0):.1f}s"
    if not wanted:
        lab.timings["snapshot after install"] = "skipped (no selected test boots from it)"
        return
    t1 = time.monotonic()
    lab.cli("down", "--timeout", "90")
    lab.cli("snapshot", SNAPSHOT)
    for n in ("srv1", "srv2"):  # one lab command at a time: each holds the lab's lock while it works
        lab.cli("start", n)
    assert lab.is_up(), "the nodes did not come back after the snapshot"
    lab.timings["snapshot after install (down, save, boot)"] = f"{time.monotonic() - t1:.1f}s"
    lab.timings["install + snapshot"] = f"{time.monotonic() - t0:.1f}s"


@pytest.fixture(scope="module")
def built(lab_session, tmp_path_factory, snapshot_wanted):
    """The fenced cluster built on the lab by `hawizard apply --yes`, killed twice and resumed (module scope).

    The install runs first as a run of its own, and the nodes are snapshotted after it. Then the
    build is SIGKILLed while the initial sync runs and again while the cluster configuration is
    loaded; `hawizard apply --resume` continues it each time. The tests below check that the end
    state is the one an uninterrupted run reaches: the service up and served, and a further apply
    finding every step already done.
    """
    lab = lab_session.ensure_up()
    TIMINGS = lab.timings
    state = tmp_path_factory.mktemp("state")
    env = dict(os.environ, XDG_STATE_HOME=str(state))
    preset = str(lab.preset)
    assert load_preset(preset).fencing.method == "sbd", "lab.toml is a fenced design by default"
    _snapshot_after_install(lab, env, snapshot_wanted)
    runs_before = set((state / "hawizard" / "runs").iterdir())
    t0 = time.monotonic()
    first = apply_killed_at(preset, "initial-sync: Force the first primary", env)
    second = apply_killed_at(preset, "cluster-config: Cluster properties", dict(env, _HW_MODE="resume"))
    assert "resuming run" in second
    r = hawizard("apply", preset, "--yes", "--resume", env=env)
    TIMINGS["apply (build after install)"] = f"{time.monotonic() - t0:.1f}s (killed twice, resumed)"
    times = step_times(first + second + r.stdout)
    for label, steps in (("sbd disk + config", ["sbd-device", "sbd-config"]), ("DRBD sync", ["initial-sync"]),
                         ("cluster up", ["cluster-start", "cluster-config", "verify"])):
        TIMINGS[label] = f"{sum(times.get(s, 0.0) for s in steps):.1f}s"
    assert r.returncode == 0, "apply --resume failed"
    runs = set((state / "hawizard" / "runs").iterdir()) - runs_before
    assert len(runs) == 1, "the resumed run continues the same run and audit log"
    return lab, env, first + second + r.stdout


def test_apply_builds_the_cluster(built):
    lab, env, output = built
    for step in ("preflight", "sbd-device", "sbd-config", "create-md", "initial-sync", "mkfs", "rehearsal",
                 "cluster-config", "verify"):
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
    # fencing is live: sbd runs on both, the cluster sees the watchdog, the device is started, both slots exist
    for node in ("srv1", "srv2"):
        assert lab.ssh(node, "systemctl is-active sbd").stdout.strip() == "active", node
    assert lab.ssh("srv1", "crm_attribute --type crm_config --name have-watchdog --query").stdout.strip()\
        .endswith("value=true")
    assert "fence_sbd" in lab.ssh("srv1", "stonith_admin --list-registered").stdout
    slots = lab.ssh("srv1", f"sbd -d {design.fencing.sbd_devices[0]} list").stdout
    assert "srv1" in slots and "srv2" in slots, slots


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
    for step in ("install", "sbd-device", "create-md", "initial-sync", "mkfs", "rehearsal", "cluster-start",
                 "cluster-config"):
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
    # the build is two runs (the install, then the resumed rest): together a complete record
    build = "".join(log.read_text() for log in logs)
    for command in ("drbdadm create-md r0", "drbdadm primary --force r0", "mkfs.ext4", "crm configure load update",
                    "-1 15 -4 30 create"):
        assert command in build, command


def _peer(node: str) -> str:
    return "srv2" if node == "srv1" else "srv1"


# Out of CI's core since 2026-12-07: it fails in the lab (the active node is fenced, and the survivor's
# operations then time out under emulation: docs/fencing.md "The fence race"); an open defect, not a budget cut
@pytest.mark.lab_extended
def test_partition_fences_exactly_one_node_and_loses_no_acknowledged_write(built):
    """Both cluster links cut under a writer: one node fenced, one Primary at any time, no acknowledged write lost.

    Which node loses is reported, not asserted. priority-fencing-delay delays the fencing of the node with
    the promoted DRBD, so the standby should lose; in this lab the active node repeatedly lost (two runs
    of 2026-12-07 with a 15 s and a 30 s delay, the race's journals in the note of that day): its own
    fence request had not gone out 45 s after the cut, while its DRBD monitor timed out with the
    replication link dead and its transitions were recovering DRBD. What fencing must guarantee holds
    either way and is asserted: exactly one reset, never two Primaries, the survivor serves, the fenced
    node stays out until the links heal, and every acknowledged record is on the survivor's disk.
    """
    lab, env, _ = built
    T = lab.timings
    design = load_preset(str(lab.preset))
    res = design.drbd.resource
    active = serving_node(lab, "srv1")
    boots = {n: faults.boot_id(lab, n) for n in ("srv1", "srv2")}
    writer = faults.Writer(lab, active)
    poller = faults.RolePoller(lab, res)
    T["partition: DC before the cut"] = faults.dc_of(lab, active)
    tails = {n: faults.JournalTail(lab, n) for n in ("srv1", "srv2")}
    try:
        writer.wait_for(10)
        lab.cli("cut")
        t_cut = time.monotonic()
        fenced = faults.wait_reset(lab, poller, boots, 300)
        assert fenced is not None, "no node was fenced within 300 s of the cut"
        survivor = _peer(fenced)
        won = "the standby, as the priority delay intends" if fenced != active else "the active node: priority lost"
        T["partition: cut -> loser reset and back"] = f"{time.monotonic() - t_cut:.1f}s ({fenced}, {won})"
        # the race as both nodes logged it, read live (a reset node loses its unwritten journal)
        print("\n".join(f"--- {n}'s journal from before the cut:\n{tails.pop(n).stop()}" for n in ("srv1", "srv2")))
        assert faults.boot_id(lab, survivor) == boots[survivor], "both nodes were reset"
        wait_page(lab, survivor, "", PAGE, 300)
        T["partition: cut -> page through the VIP (checked)"] = f"{time.monotonic() - t_cut:.1f}s"
        if survivor == active:
            # writes freeze while the peer is unknown (resource-and-stonith) and go on once it is fenced
            writer.wait_for(len(writer.acked) + 3, timeout=300)
            first_write = writer.first_ack_after(t_cut)
            assert first_write is not None
            T["partition: cut -> first write acknowledged again"] = f"{first_write - t_cut:.1f}s"
        # the fenced node stays out while the links are down: no quorum of its own, nothing promoted there
        time.sleep(20)
        role = lab.ssh(fenced, f"drbdadm role {res} 2>/dev/null || echo down", check=False).stdout.strip()
        assert not role.startswith("Primary"), f"{fenced} promoted DRBD while cut off: {role}"
        st = cluster(lab, fenced)
        assert st is None or st.all_started_on(design.cluster.ids.group) != fenced
        assert serving_node(lab, survivor) == survivor
        lab.cli("heal")
        t_heal = time.monotonic()
        T["partition: heal -> resynced"] = f"{faults.wait_rejoined(lab, fenced, res):.1f}s"
        assert time.monotonic() - t_heal < 600
    finally:
        for tail in tails.values():
            tail.stop()
        if lab.is_up():
            lab.cli("heal", check=False)
        acked = writer.stop()
        poller.stop()
    assert poller.samples >= 10, "the role poller hardly ran"
    assert not poller.both_primary, f"DRBD was Primary on both nodes {len(poller.both_primary)} time(s)"
    for n in ("srv1", "srv2"):
        assert not faults.split_brain_logged(lab, n), f"split brain in {n}'s kernel log"
    # every record the writer saw acknowledged is on the disk of the node serving now, whichever node won
    on_disk = set(lab.ssh(survivor, f"cat {faults.RECORDS}").stdout.split())
    lost = [n for n in acked if str(n) not in on_disk]
    assert acked and not lost, f"{len(lost)} acknowledged record(s) missing, e.g. {lost[:5]}"
    T["partition: records acknowledged"] = f"{len(acked)}, all on {survivor}'s disk"


@pytest.mark.lab_extended
def test_a_hung_node_is_fenced_and_the_service_moves(built):
    """The active node's qemu is frozen (SIGSTOP): it is fenced through sbd and the service moves.

    A frozen qemu freezes the guest's watchdog with it, so sbd's promise (a node that cannot read its
    slot is reset by its watchdog within msgwait) does not hold for it; resumed after it was fenced,
    it would come back as a zombie with its old state (docs/fencing.md, "A paused VM"). What an
    operator must do with a VM fenced while paused is power it off, not resume it; the test does
    that, powers it on again and checks that it rejoins as an UpToDate Secondary.
    """
    lab, env, _ = built
    T = lab.timings
    design = load_preset(str(lab.preset))
    active = serving_node(lab, "srv1")
    peer = _peer(active)
    lab.cli("freeze", active)
    t0 = time.monotonic()
    try:
        took = wait_page(lab, peer, "", PAGE, design.answers.switchover_target_s + 120)
        T["hung node: freeze -> page from the peer"] = f"{took:.1f}s"
        assert serving_node(lab, peer) == peer
        st = cluster(lab, peer)
        assert st is not None and active not in st.nodes_online
    finally:
        lab.cli("kill", active, check=False)  # power off the paused VM: never resume a fenced zombie
    t1 = time.monotonic()
    lab.cli("start", active)
    T["hung node: powered off and on -> back as Secondary"] = \
        f"{time.monotonic() - t1 + faults.wait_rejoined(lab, active, design.drbd.resource):.1f}s"
    st = cluster(lab, peer)
    assert st is not None and {"srv1", "srv2"} <= set(st.nodes_online)
    assert serving_node(lab, peer) == peer  # the rejoining node does not take the service back
    assert time.monotonic() - t0 < 1200


@pytest.mark.lab_extended
def test_power_loss_fails_over_within_the_printed_worst_case_and_the_node_rejoins(built):
    lab, env, _ = built
    T = lab.timings
    design = load_preset(str(lab.preset))
    worst = timing.estimate(design).node_loss_s
    active = serving_node(lab, "srv1")
    peer = _peer(active)
    stamp = f"written-before-kill-{time.time():.0f}"
    lab.ssh(active, f"echo {stamp} > /var/www/html/before-kill.txt && sync")
    t0 = time.monotonic()
    lab.cli("kill", active)
    took = wait_page(lab, peer, "before-kill.txt", stamp, worst + 120)
    T["power loss (fenced): kill -> page from the peer"] = f"{time.monotonic() - t0:.1f}s (worst case {worst:.0f}s)"
    assert took <= worst, f"the service came back after {took:.0f} s, beyond the {worst:.0f} s worst case"
    t1 = time.monotonic()
    lab.cli("start", active)
    T["power loss: node back as Secondary"] = f"{faults.wait_rejoined(lab, active, design.drbd.resource):.1f}s"
    assert time.monotonic() - t1 < 900
    st = cluster(lab, peer)
    assert {"srv1", "srv2"} <= set(st.nodes_online)
