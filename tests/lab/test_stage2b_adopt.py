"""Brownfield on the lab (issue 14): the cluster hawizard built, adopted back over SSH, diffed, applied again.

(a) `hawizard adopt --node ...` reads the running cluster over SSH (read-only commands, secrets cut on the
    node) and writes a preset; `hawizard diff` of that preset against the nodes (files and CIB objects)
    shows nothing; `hawizard apply` of it changes nothing (every step already done, no file written).
(c) drift: a file changed by hand on one node; `hawizard diff` shows it, on that node only (exit 1); `hawizard
    apply` writes hawizard's file back, keeping the edited one as a backup; the diff is empty again.

The cluster is the fenced crmsh build that test_stage2_cluster.py left on the nodes (the files of this
directory run in name order, so this one comes right after it and before the stages that bring the lab
up again): no extra build. The fixture first runs `hawizard apply` of the lab's preset, which finds every
step done on a built cluster, and builds it when this file runs alone on a fresh lab (measured so on
2026-11-30: 3 passed in 18 min, the build included). The machine running the tests needs cibadmin, drbdadm and
crm or pcs (the fast suite's tools): `adopt` and `diff` run them offline.
"""

from __future__ import annotations

import os
import re

import pytest
from support.lab_apply import PAGE, adopt_over_ssh, hawizard, serving_node, wait_page

from hawizard.design.preset_file import load_preset
from hawizard.render.renderer import render

DRIFT = "# drift: edited by hand on the node"
# the steps a built cluster finds done (their probes); the apache step has none and writes its file each time
DONE_STEPS = ("install", "create-md", "initial-sync", "mkfs", "rehearsal", "cluster-start", "cluster-config")


@pytest.fixture(scope="module")
def adopted(lab_session, tmp_path_factory):
    """(lab, env, the adopted preset, the lab's design): the built cluster adopted over SSH."""
    lab = lab_session.ensure_up()
    state = tmp_path_factory.mktemp("state-adopt")
    env = dict(os.environ, XDG_STATE_HOME=str(state))
    r = hawizard("apply", str(lab.preset), "--yes", env=env)
    assert r.returncode == 0, "the lab's cluster is not built (apply of lab.toml failed)"
    design = load_preset(str(lab.preset))
    out = tmp_path_factory.mktemp("adopt") / "adopted.toml"
    r = adopt_over_ssh(lab, out, design.name, env)
    assert r.returncode == 0, "adopt over SSH failed"
    return lab, env, out, design


def test_adopt_reads_the_built_cluster_over_ssh(adopted):
    lab, env, preset, design = adopted
    got = load_preset(str(preset))
    assert got.stack == design.stack
    assert got.node_names == design.node_names
    for mine, theirs in zip(got.nodes, design.nodes, strict=True):
        assert (mine.ssh_host, mine.ssh_port, mine.ssh_user) == (theirs.ssh_host, theirs.ssh_port, theirs.ssh_user)
        assert mine.backing_disk == theirs.backing_disk
        # the links' addresses (corosync.conf holds no prefix nor NIC name: adoption guesses those, docs/adopt.md)
        assert [i.address.split("/")[0] for i in mine.interconnects] == \
            [i.address.split("/")[0] for i in theirs.interconnects]
    assert (got.drbd.resource, got.drbd.device) == (design.drbd.resource, design.drbd.device)
    assert got.cluster.ids == design.cluster.ids
    assert (got.fencing.method, got.fencing.sbd_devices) == (design.fencing.method, design.fencing.sbd_devices)
    # no secret reached this machine's files: the corosync key is on the nodes only
    key = lab.ssh("srv1", "base64 -w0 /etc/corosync/authkey").stdout.strip()
    report = preset.with_name(preset.name + ".adopt.txt")
    for text in (preset.read_text(), report.read_text()):
        assert key and key not in text


def test_adopted_preset_diffs_clean_and_its_apply_changes_nothing(adopted):
    lab, env, preset, _ = adopted
    r = hawizard("diff", str(preset), env=env, timeout=900)
    assert r.returncode == 0, "the adopted design differs from the cluster it was read from"
    assert "0 differ or missing" in r.stdout
    assert "0 added, changed or removed" in r.stdout  # the CIB objects too
    before = serving_node(lab, "srv1")
    r = hawizard("apply", str(preset), "--yes", env=env)
    assert r.returncode == 0
    assert not re.search(r"\) written", r.stdout), "a file was written"
    for step in DONE_STEPS:
        assert re.search(rf"^\[srv1\] {step}: already done", r.stdout, re.M), step
    assert serving_node(lab, "srv1") == before
    wait_page(lab, "srv2" if before == "srv1" else "srv1", "", PAGE, 60)


def test_drift_on_one_node_is_shown_and_apply_restores_it_with_a_backup(adopted):
    lab, env, preset, _ = adopted
    path = render(load_preset(str(preset))).get("apache-status").path
    original = lab.ssh("srv2", f"cat {path}").stdout
    lab.ssh("srv2", f"echo '{DRIFT}' >> {path}")
    try:
        r = hawizard("diff", str(preset), "--files-only", env=env, timeout=600)
        assert r.returncode == 1
        assert f"--- srv2:{path} (collected)" in r.stdout and f"-{DRIFT}" in r.stdout
        assert f"srv1:{path}" not in r.stdout, "only the node that drifted differs"
        assert "1 differ or missing" in r.stdout
        r = hawizard("apply", str(preset), "--yes", env=env)
        assert r.returncode == 0
        m = re.search(rf"^\[srv2\]\s+{re.escape(path)} \(\S+\) written, previous kept as (\S+)$", r.stdout, re.M)
        assert m, "apply did not write the drifted file back with a backup"
        assert lab.ssh("srv2", f"cat {path}").stdout == original
        assert DRIFT in lab.ssh("srv2", f"cat {m.group(1)}").stdout
        assert not re.search(rf"^\[srv1\]\s+{re.escape(path)} \(\S+\) written", r.stdout, re.M)
        r = hawizard("diff", str(preset), env=env, timeout=900)
        assert r.returncode == 0, "the diff is not empty after the apply"
    finally:  # never leave the drift for a later test
        lab.ssh("srv2", f"sed -i '/^{DRIFT}$/d' {path}", check=False)


def test_a_cib_object_changed_by_hand_is_shown_and_apply_loads_the_design_over_it(adopted):
    """(c) for the cluster configuration: a meta attribute set by hand on hawizard's Apache primitive (is-managed
    true, Pacemaker's default: nothing moves) is a changed object in `hawizard diff`; apply's cluster-config
    sees its digest changed, loads the design again, and the diff is empty afterwards."""
    lab, env, preset, _ = adopted
    web = load_preset(str(preset)).cluster.ids.web
    lab.ssh("srv1", f"crm_resource -r {web} --meta -p is-managed -v true")
    try:
        r = hawizard("diff", str(preset), env=env, timeout=900)
        assert r.returncode == 1
        assert re.search(rf"^changed\s+primitive {re.escape(web)}\b", r.stdout, re.M), r.stdout
        r = hawizard("apply", str(preset), "--yes", env=env)
        assert r.returncode == 0
        assert re.search(r"^\[srv1\] cluster-config: ok", r.stdout, re.M), "cluster-config did not load again"
        got = lab.ssh("srv1", f"crm_resource -r {web} --meta -g is-managed", check=False)
        assert got.returncode != 0 or not got.stdout.strip(), "the hand-made attribute is still there"
        r = hawizard("diff", str(preset), env=env, timeout=900)
        assert r.returncode == 0, "the diff is not empty after the apply"
    finally:  # never leave the change for a later test
        lab.ssh("srv1", f"crm_resource -r {web} --meta -d is-managed", check=False)
