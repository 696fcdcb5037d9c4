"""The step plan: the article's order, golden files per stack, probes and confirmations."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hawizard.design.preset_file import load_preset
from hawizard.plan.build import build_plan

GOLDEN = Path(__file__).parent / "golden"
ORDER = ["preflight", "install", "post-install", "hosts", "membership-files", "drbd-files", "drbd-adjust", "create-md", "drbd-up",
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
    assert destructive == {"create-md": "create-md r0", "initial-sync": "overwrite srv2", "mkfs": "mkfs /dev/drbd0",
                           "sbd-device": "sbd create"}  # debian12 fences with sbd: the disk is initialised
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
    assert deb.step("cluster-start").actions["srv1"][-1].reader.name == "crm-mon-xml"
    el9 = build_plan(load_preset("el9"))
    assert el9.step("initial-sync").actions["srv1"][1].reader.name == "drbd9-events2"
    assert any("pcs cluster cib-push" in getattr(a, "command", "") for a in el9.step("cluster-config").actions["srv1"])


@pytest.mark.parametrize("name", ["debian12-pcs", "el9"])
def test_pcs_configuration_runs_pcs_once_besides_the_file_cib_script(name):
    """Issue 15: each pcs run is seconds of Python start-up on the lab's CPUs. The copy of the CIB is
    cibadmin's (what `pcs cluster cib` runs), the objects are built by the script's `pcs -f` lines, and
    the step itself runs pcs once: the push. The copy, the script, the check and the push are
    consecutive commands, so the runner sends them in one round trip."""
    step = build_plan(load_preset(name)).step("cluster-config")
    commands = [a.command for a in step.actions["srv1"] if a.kind == "run"]
    assert commands[0].startswith("cibadmin --local --query > ")
    assert [c for c in commands if c.startswith("pcs ")] == [c for c in commands if "cib-push" in c]
    assert len([c for c in commands if c.startswith("pcs ")]) == 1


@pytest.mark.parametrize("name", ["debian12-pcs", "el9"])
def test_the_pcs_script_gets_time_for_each_of_its_pcs_runs(name):
    """A flat 300 s for the whole `pcs -f` script failed the lab's changed-design build on a loaded
    machine (2026-11-30): the script's limit grows with its pcs runs (a limit only ends a hang)."""
    from hawizard.plan.steps.cluster import PCS_RUN_LIMIT_S
    from hawizard.render.renderer import render

    design = load_preset(name)
    script = render(design).get("cluster-config").content
    runs = sum(1 for ln in script.splitlines() if "$PCS " in ln and not ln.lstrip().startswith("#"))
    assert runs >= 8  # properties, defaults, fencing, DRBD and its clone, the group's members, constraints
    step = build_plan(design).step("cluster-config")
    (run,) = [a for a in step.actions["srv1"] if a.kind == "run" and a.command.startswith("sh ")]
    assert run.timeout_s >= PCS_RUN_LIMIT_S * runs > step.timeout_s


def test_cross_node_checks_come_with_preflight():
    """The check of both nodes' facts is the preflight step's own data (the runner knows no step ids)."""
    plan = build_plan(load_preset("debian12"))
    checks = {s.id: s.facts_check for s in plan.steps if s.facts_check is not None}
    assert list(checks) == ["preflight"]
    agree = checks["preflight"]
    read = {a.fact for a in plan.step("preflight").actions["srv1"] if a.kind == "fact"}
    assert {"disk_bytes", "clock"} <= read  # the facts the check compares are read on every node
    assert agree.problems({"srv1": {"disk_bytes": "100", "clock": "1000"},
                           "srv2": {"disk_bytes": "100", "clock": "1002"}}) == []
    probs = agree.problems({"srv1": {"disk_bytes": "100", "clock": "1000"},
                            "srv2": {"disk_bytes": "200", "clock": "1100"}})
    assert len(probs) == 2 and "differ in size" in probs[0] and "differ by 100 s" in probs[1]
    seven = {"srv1": {"disk_bytes": "100", "clock": "1000"}, "srv2": {"disk_bytes": "100", "clock": "1007"}}
    assert agree.problems(seven) == []  # emulated VMs drift by seconds: a warning, not a stop
    assert "differ by 7 s" in agree.warnings(seven)[0]
    assert agree.problems({"srv1": {}, "srv2": {}}) == agree.warnings({"srv1": {}, "srv2": {}}) == []  # dry run
    # read a step apart (srv2 90 s after srv1, each by the builder's clock): their offsets are what count
    late = {"srv1": {"disk_bytes": "100", "clock": "1000", "clock_at": "5000"},
            "srv2": {"disk_bytes": "100", "clock": "1090", "clock_at": "5090"}}
    assert agree.problems(late) == [] and agree.warnings(late) == []
    late["srv2"]["clock_at"] = "5010"  # the same readings 10 s apart: 80 s of real skew
    assert "differ by 80 s" in agree.problems(late)[0]


def test_markers_are_data_of_their_steps():
    """Completion markers: the steps without a natural probe carry one; cluster-config's holds the config hash."""
    import hashlib

    plan = build_plan(load_preset("debian12"))
    marked = {s.id: s.marker for s in plan.steps if s.marker is not None}
    assert set(marked) == {"rehearsal", "drbd-down", "cluster-config"}
    assert marked["rehearsal"].content == marked["drbd-down"].content == "done"
    config = plan.rendering.get("cluster-config").content
    assert marked["cluster-config"].content == hashlib.sha256(config.encode()).hexdigest()[:16]
    for step_id, marker in marked.items():  # each step's probe looks at its own marker
        assert marker.path == f"/var/lib/hawizard/done/{step_id}"
        assert all(marker.path in probe for probe in plan.step(step_id).probe.values())
    assert marked["cluster-config"].content in plan.step("cluster-config").probe["srv1"]


# -- the page check looks for exactly what index.html holds -------------------------------------

@pytest.fixture
def web(tmp_path):
    """A real HTTP server on 127.0.0.1 serving tmp_path/www; yields (directory, port)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    root = tmp_path / "www"
    root.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, server.server_address[1]
    server.shutdown()
    server.server_close()


def _page_checks(design, port):
    import copy

    d = copy.deepcopy(design)
    d.service.vip, d.service.port = "127.0.0.1", port  # the checks fetch from this machine's server
    plan = build_plan(d)
    cmds = [a.command for sid in ("rehearsal", "verify") for acts in plan.step(sid).actions.values()
            for a in acts if "curl" in getattr(a, "command", "")]
    assert len(cmds) == 3  # the rehearsal on the primary, verify on both nodes
    return plan, cmds


def _passes(cmd: str) -> bool:
    import subprocess

    return subprocess.run(["bash", "-c", cmd], capture_output=True, timeout=60).returncode == 0


@pytest.mark.parametrize("text", ["Tom & Jerry's", '<b>"bold"</b> & more', "-v looks like an option", "tab\there"])
def test_page_check_finds_the_page_as_written(web, text):
    root, port = web
    d = load_preset("debian12")
    d.service.index_page = text
    plan, cmds = _page_checks(d, port)
    (root / "index.html").write_text(plan.rendering.get("index-html").content)
    assert all(_passes(c) for c in cmds), cmds
    # the raw text on some other page is not the test page
    (root / "index.html").write_text(f"<html><body>{text}</body></html>\n")
    assert not any(_passes(c) for c in cmds), cmds


def test_empty_page_text_is_refused_and_would_still_be_checked(web):
    from hawizard.design.preset_file import PresetError, design_from_dict, design_to_dict

    data = design_to_dict(load_preset("debian12"))
    data["service"]["index_page"] = ""
    with pytest.raises(PresetError) as exc:
        design_from_dict(data, "empty.toml")
    assert [p.path for p in exc.value.problems] == ["service.index_page"]
    # a design made in code with an empty text: the check still looks for hawizard's page
    root, port = web
    d = load_preset("debian12")
    d.service.index_page = ""
    plan, cmds = _page_checks(d, port)
    (root / "index.html").write_text("<html><body><h1>It works!</h1></body></html>\n")
    assert not any(_passes(c) for c in cmds)
    (root / "index.html").write_text(plan.rendering.get("index-html").content)
    assert all(_passes(c) for c in cmds)
