"""The step plan: the article's order, golden files per stack, probes and confirmations."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hawizard.plan import build_plan, cross_node_problems, cross_node_warnings
from hawizard.presets import load_preset

GOLDEN = Path(__file__).parent / "golden"
ORDER = ["preflight", "install", "post-install", "hosts", "membership-files", "drbd-files", "create-md", "drbd-up",
         "initial-sync", "mkfs", "apache", "rehearsal", "drbd-down", "cluster-start", "cluster-config", "verify",
         "switchover"]


@pytest.mark.parametrize("name", ["article", "debian12", "debian12-pcs", "el9"])
def test_plan_golden(name):
    """The whole plan, byte for byte. Regenerate deliberately with HAWIZARD_UPDATE_GOLDEN=1."""
    got = json.dumps(build_plan(load_preset(name)).to_dict(), indent=1, sort_keys=True) + "\n"
    path = GOLDEN / f"plan-{name}.json"
    if os.environ.get("HAWIZARD_UPDATE_GOLDEN"):
        path.write_text(got)
    assert path.read_text() == got


def test_article_order():
    assert build_plan(load_preset("article")).step_ids == ORDER


def test_destructive_steps_need_confirmation():
    plan = build_plan(load_preset("debian12"))
    destructive = {s.id: s.confirm for s in plan.steps if s.destructive}
    assert destructive == {"create-md": "create-md r0", "initial-sync": "overwrite srv2", "mkfs": "mkfs /dev/drbd0"}
    for s in plan.steps:
        if s.destructive:
            assert s.probe, f"{s.id} must be skippable when already done"


def test_both_and_primary_steps():
    plan = build_plan(load_preset("debian12"))
    assert plan.step("create-md").where == "both" and plan.step("drbd-up").where == "both"
    assert plan.step("initial-sync").nodes == ["srv1"] and plan.step("initial-sync").progress == "drbd-sync"
    assert plan.step("mkfs").nodes == ["srv1"]
    assert plan.step("switchover").optional


def test_stack_commands_differ():
    art = build_plan(load_preset("article"))
    cmds = [a.command for a in art.step("initial-sync").actions["srv1"]]
    assert cmds[0] == "drbdadm -- --overwrite-data-of-peer primary r0"
    assert art.step("drbd-up").actions["srv1"][0].command == "/etc/init.d/drbd start"
    assert "yum -y install" in art.step("install").actions["srv1"][-1].command
    assert "migrate rg_httpd srv2" in art.step("switchover").actions["srv1"][0].command
    deb = build_plan(load_preset("debian12"))
    assert deb.step("initial-sync").actions["srv1"][0].command == "drbdadm primary --force r0"
    assert "apt-get install" in deb.step("install").actions["srv1"][-1].command
    assert deb.step("cluster-start").actions["srv1"][-1].reader == "crm-mon-xml"
    el9 = build_plan(load_preset("el9"))
    assert el9.step("initial-sync").actions["srv1"][1].reader == "drbd9-events2"
    assert any("pcs cluster cib-push" in a.command for a in el9.step("cluster-config").actions["srv1"])


def test_cross_node_checks():
    d = load_preset("debian12")
    assert cross_node_problems(d, {"srv1": {"disk_bytes": "100", "clock": "1000"},
                                   "srv2": {"disk_bytes": "100", "clock": "1002"}}) == []
    probs = cross_node_problems(d, {"srv1": {"disk_bytes": "100", "clock": "1000"},
                                    "srv2": {"disk_bytes": "200", "clock": "1100"}})
    assert len(probs) == 2 and "differ in size" in probs[0] and "differ by 100 s" in probs[1]
    seven = {"srv1": {"disk_bytes": "100", "clock": "1000"}, "srv2": {"disk_bytes": "100", "clock": "1007"}}
    assert cross_node_problems(d, seven) == []  # emulated VMs drift by seconds: a warning, not a stop
    assert "differ by 7 s" in cross_node_warnings(d, seven)[0]
