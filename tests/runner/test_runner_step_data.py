"""The runner does what a step's data says, and knows no step by its id; the journal is a sink of its events.

Real local shell sessions run every command; the polls run the installed crm_mon on recorded CIB
files (tests/progress/samples/crm_mon/cib-*.xml) and cat recorded /proc/drbd samples.
"""

from __future__ import annotations

import dataclasses
import inspect
import shutil
from pathlib import Path

import pytest

from hawizard.common.redact import Redactor
from hawizard.common.shellquote import q
from hawizard.design.preset_file import load_preset
from hawizard.events import ClusterState, EventBus, ListSink, OutputLine, Progress, StepFinished
from hawizard.plan.build import build_plan
from hawizard.plan.crosscheck import NodesAgree
from hawizard.plan.types import Fact, Marker, Plan, Poll, Run, Step
from hawizard.plan.waits import CrmMonXml, GroupOn, NodesOnline, ProcDrbd, ServiceUp, Synced
from hawizard.render.renderer import Rendering
from hawizard.run import runner as runner_module
from hawizard.run.journal import Journal
from hawizard.run.record import open_run_record
from hawizard.run.runner import Runner
from hawizard.sessions import SshTarget, open_session

NODES = ("srv1", "srv2")
SAMPLES = Path(__file__).parent.parent / "progress" / "samples"
needs_crm_mon = pytest.mark.skipif(shutil.which("crm_mon") is None, reason="crm_mon (Pacemaker CLI) is not installed")


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


def sessions():
    return {n: open_session(SshTarget(name=n, host="localhost"), "local") for n in NODES}


def plan_of(*steps: Step) -> Plan:
    return Plan("synthetic", "debian12-crmsh", "srv1", "srv2", steps, Rendering((), {}))


def run(plan: Plan, *, dry_run: bool = False, run_id: str | None = None, bus: EventBus | None = None):
    bus = bus or EventBus()
    events = ListSink()
    bus.subscribe(events)
    runner = Runner(plan, sessions(), bus, confirm=lambda s, p: True, secrets=None, run_id=run_id,
                    dry_run=dry_run, poll_scale=1.0)
    result = runner.run()
    for s in runner.sessions.values():
        s.close()
    return result, events.events


def test_the_runner_knows_no_step_by_its_id():
    source = inspect.getsource(runner_module)
    for step_id in build_plan(load_preset("debian12")).step_ids:
        assert f'"{step_id}"' not in source and f"'{step_id}'" not in source, step_id


def test_a_step_marker_is_written_with_its_content(env):
    done = env / "done"
    marked = Step("load-config", "load", "t", "primary", {"srv1": (Run("true"),)},
                  marker=Marker("load-config", "4f2a9c0d11e2b3a4", directory=str(done)))
    plain = Step("plain", "no marker", "t", "primary", {"srv1": (Run("true"),)})
    result, _ = run(plan_of(marked, plain), dry_run=True)
    assert result.status == "finished" and not done.exists()  # a dry run leaves no marker
    result, _ = run(plan_of(marked, plain))
    assert result.status == "finished", result.message
    assert [p.name for p in done.iterdir()] == ["load-config"]
    assert (done / "load-config").read_text() == "4f2a9c0d11e2b3a4"
    # the step's own probe of the plan finds it: the next run skips the step
    probe = Marker("load-config", "4f2a9c0d11e2b3a4", directory=str(done)).holds_content
    again = dataclasses.replace(marked, probe={"srv1": probe})
    result, events = run(plan_of(again))
    assert [(e.step_id, e.status) for e in events if isinstance(e, StepFinished)] == [("load-config", "already-done")]
    changed = dataclasses.replace(again, probe={"srv1": Marker("load-config", "other", directory=str(done)).holds_content})
    result, events = run(plan_of(changed))
    assert [(e.step_id, e.status) for e in events if isinstance(e, StepFinished)] == [("load-config", "done")]


def facts_step(disk2: str, clock2: str) -> Step:
    return Step("look", "read the nodes", "t", "each",
                {"srv1": (Fact("echo 1000", "disk_bytes"), Fact("echo 5000", "clock")),
                 "srv2": (Fact(f"echo {disk2}", "disk_bytes"), Fact(f"echo {clock2}", "clock"))},
                facts_check=NodesAgree("srv1", "srv2"))


def test_a_steps_facts_check_stops_the_run_whatever_the_step_is_called(env):
    after = Step("after", "after", "t", "primary", {"srv1": (Run(f"touch {q(str(env / 'after'))}"),)})
    result, _ = run(plan_of(facts_step("2000", "5000"), after))
    assert result.status == "failed" and "backing disks differ in size" in result.message
    assert "step look failed on both" in result.message and not (env / "after").exists()


def test_a_steps_facts_warning_is_said_and_the_run_goes_on(env):
    result, events = run(plan_of(facts_step("1000", "5007")))
    assert result.status == "finished", result.message
    said = [e.text for e in events if isinstance(e, OutputLine) and e.node == "both"]
    assert said == ["warning: the clocks of srv1 and srv2 differ by 7 s: logs of the two nodes will not line up; "
                    "synchronise them (NTP)"]
    _, events = run(plan_of(facts_step("2000", "5000")), dry_run=True)  # a dry run reads no facts: nothing to check
    assert not any(isinstance(e, OutputLine) and e.node == "both" for e in events)


def crm_mon(cib: str) -> str:
    return f"CIB_file={q(str(SAMPLES / 'crm_mon' / cib))} crm_mon -1 --output-as=xml"


@needs_crm_mon
def test_cluster_waits_on_the_real_crm_mon(env):
    up = Step("verify", "verify", "t", "primary",
              {"srv1": (Poll(crm_mon("cib-running.xml"), CrmMonXml(), ServiceUp("rg_httpd", "ms_drbd0"),
                             interval_s=0.2, timeout_s=60),
                        Poll(crm_mon("cib-failover.xml"), CrmMonXml(), GroupOn("rg_httpd", "srv2"),
                             interval_s=0.2, timeout_s=60))})
    result, events = run(plan_of(up))
    assert result.status == "finished", result.message
    states = [e for e in events if isinstance(e, ClusterState)]
    assert [s.nodes_online for s in states] == [("srv1", "srv2"), ("srv2",)]
    lines = [e.text for e in events if isinstance(e, OutputLine) and e.stream == "status"]
    assert lines[0].startswith("online: srv1 srv2;") and "res_httpd=Started@srv1" in lines[0]


@needs_crm_mon
def test_a_cluster_wait_that_is_never_reached_says_the_last_state(env):
    wait = Step("cluster-start", "start", "t", "primary",
                {"srv1": (Poll(crm_mon("cib-failover.xml"), CrmMonXml(), NodesOnline(NODES), interval_s=0.3,
                               timeout_s=2, description="both nodes online"),)})
    result, _ = run(plan_of(wait))
    assert result.status == "failed"
    assert "both nodes online: not reached after 2 s (last: online: srv2; offline: srv1" in result.message


def test_the_initial_sync_wait_reports_progress_from_proc_drbd(env):
    """The first answer is a sync at 43.8 %, the next ones the synced state (the lab's /proc/drbd)."""
    flag = q(str(env / "asked"))
    syncing, synced = (q(str(SAMPLES / "drbd" / f)) for f in ("lab-8.4.11-syncing.txt", "lab-8.4.11-synced.txt"))
    command = f"if [ -e {flag} ]; then cat {synced}; else touch {flag}; cat {syncing}; fi"
    sync = Step("sync", "sync", "t", "primary",
                {"srv1": (Poll(command, ProcDrbd("r0"), Synced(), interval_s=0.1, timeout_s=60),)})
    result, events = run(plan_of(sync))
    assert result.status == "finished", result.message
    assert [(e.percent, e.state) for e in events if isinstance(e, Progress)] == [(43.8, "SyncSource"),
                                                                                 (100.0, "synced")]
    lines = [e.text for e in events if isinstance(e, OutputLine) and e.stream == "status"]
    assert len(lines) == 2 and "43.8%" in lines[0] and "UpToDate/UpToDate" in lines[1]


# -- the journal is a sink ---------------------------------------------------------------------------

def test_the_journal_records_what_the_events_say(env):
    """The runner gets only a run id; the run record's journal sink writes each step's end and the run's end."""
    ok = Step("ok", "ok", "t", "each", {n: (Run("true"),) for n in NODES})
    bad = Step("bad", "bad", "t", "primary", {"srv1": (Run("echo broken >&2; false"),)})
    plan = plan_of(ok, bad)
    bus = EventBus()
    record = open_run_record(load_preset("debian12"), plan, "synthetic", bus, Redactor())
    try:
        result, _ = run(plan, run_id=record.run_id, bus=bus)
        assert result.status == "failed"
        assert result.steps == {"ok": {"srv1": "done", "srv2": "done"}, "bad": {"srv1": "failed"}}
        journal = Journal.load(record.run_id)
        assert journal.status == "failed" and journal.steps == result.steps
        assert journal.first_unfinished() == "bad"
        # the operator's skip (a front end emits it) reaches the journal the same way
        bus.emit(StepFinished(step_id="bad", node="srv1", status="skipped", duration=0.0, message="skipped: x"))
        assert Journal.load(record.run_id).steps["bad"] == {"srv1": "skipped"}
        assert Journal.load(record.run_id).first_unfinished() is None
    finally:
        bus.close()
