"""The runner over real sessions (a real OpenSSH sshd on loopback, and local shells).

The plan here is synthetic (files in a temporary directory stand in for each node's state) so
that probes, both-at-once steps, confirmations, secrets, markers, the journal and resume can
be checked on any machine; the lab tests run the real plan on real VMs.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from hawizard.audit import chain, runs
from hawizard.audit import log as audit
from hawizard.audit.report.export import export_run
from hawizard.common.redact import Redactor
from hawizard.common.shellquote import q
from hawizard.design.preset_file import load_preset
from hawizard.events import EventBus, FileWritten, ListSink, StepFinished
from hawizard.plan.types import Fact, Plan, Poll, Run, Step, Write
from hawizard.plan.waits import Connected, CrmMonXml, DrbdCState, NodesOnline
from hawizard.render.renderer import RenderedFile, Rendering, SecretSpec
from hawizard.run.journal import Journal, JournalSink
from hawizard.run.runner import Runner
from hawizard.run.secrets import SecretStore
from hawizard.sessions import open_session

NODES = ("srv1", "srv2")
SECRET_ENV = "HAWIZARD_TEST_RUNNER_SECRET"
SECRET = "s3cr3t-Value-For-The-Runner-9431"


def synthetic_plan(root: Path) -> Plan:
    def p(node: str, name: str) -> str:
        return q(str(root / node / name))

    def each(fn):
        return {n: tuple(fn(n)) for n in NODES}
    files = (RenderedFile("authkeys", str(root / "{node}" / "authkeys"), "auth 1\n1 sha1 @@SECRET:hb@@\n", 0o600,
                          nodes=NODES, secrets=("hb",)),)
    rendering = Rendering(files, {"hb": SecretSpec("hb", f"env:{SECRET_ENV}", "hex", "test secret")})
    steps = (
        Step("prepare", "prepare", "t", "each",
             each(lambda n: [Run(f"mkdir -p {q(str(root / n))} && echo prepare >> {p(n, 'log')} "
                                 f"&& touch {p(n, 'prepared')}")]),
             probe={n: f"test -f {p(n, 'prepared')}" for n in NODES}),
        Step("facts", "facts", "t", "each",
             each(lambda n: [Fact("echo 1000", "clock"),
                             Run(f"echo 'output line from {n}'; echo 'to stderr' >&2")])),
        Step("secret", "secret file", "t", "each", each(lambda n: [Write("authkeys")])),
        Step("both", "both at once", "t", "both",
             each(lambda n: [Run(f"date +%s.%N > {p(n, 'both-start')}; sleep 1.5; "
                                 f"echo both >> {p(n, 'log')}; touch {p(n, 'both-done')}")]),
             probe={n: f"test -f {p(n, 'both-done')}" for n in NODES}),
        Step("destroy", "destructive step", "t", "primary",
             {"srv1": (Run(f"echo destroy >> {p('srv1', 'log')}; touch {p('srv1', 'destroyed')}"),)},
             probe={"srv1": f"test -f {p('srv1', 'destroyed')}"}, destructive=True, confirm="destroy it"),
        Step("poll", "wait for a state", "t", "primary",
             {"srv1": (Poll("echo Connected", DrbdCState(), Connected(), interval_s=0.1, timeout_s=10),)}),
        Step("marked", "marked step", "t", "primary",
             {"srv1": (Run(f"echo marked >> {p('srv1', 'log')}"),)},
             probe={"srv1": f"test -f {p('srv1', 'marked')}"}),
    )
    return Plan("synthetic", "debian12-crmsh", "srv1", "srv2", steps, rendering)


class NodePathSession:
    """Maps the '{node}' placeholder of the synthetic file paths to the node's own directory."""

    def __init__(self, inner, node):
        self.inner, self.name = inner, node

    def __getattr__(self, item):
        return getattr(self.inner, item)

    def write_file(self, path, data, **kw):
        return self.inner.write_file(path.replace("{node}", self.name), data, **kw)

    def run(self, command, **kw):
        return self.inner.run(command.replace("%7Bnode%7D", self.name).replace("{node}", self.name), **kw)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return tmp_path


def local_sessions():
    return {n: NodePathSession(open_session(dataclasses.replace(_local_target(), name=n), "local"), n) for n in NODES}


def _local_target():
    from hawizard.sessions import SshTarget

    return SshTarget(name="srv1", host="localhost")


def make_runner(plan, sessions, *, confirm=True, journal=None, sinks=()):
    """A runner on a bus with a ListSink, then ``sinks``, then the journal's sink (as the run record wires it)."""
    redactor = Redactor()
    bus = EventBus()
    events = ListSink()
    bus.subscribe(events)
    for s in sinks:
        bus.subscribe(s, critical=True)
    if journal is not None:
        bus.subscribe(JournalSink(journal), critical=True)
    runner = Runner(plan, sessions, bus, confirm=lambda step, phrase: confirm,
                    run_id=journal.run_id if journal else "test-run",
                    secrets=SecretStore(plan.rendering.secrets, redactor), poll_scale=1.0)
    return runner, events, redactor


def statuses(events):
    return [(e.step_id, e.node, e.status) for e in events.events if isinstance(e, StepFinished)]


def test_full_run_then_rerun_does_nothing(env):
    plan = synthetic_plan(env / "nodes")
    runner, events, _ = make_runner(plan, local_sessions())
    result = runner.run()
    assert result.status == "finished", result.message
    log = (env / "nodes/srv1/log").read_text().split()
    assert log == ["prepare", "both", "destroy", "marked"]
    key = env / "nodes/srv1/authkeys"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and SECRET in key.read_text()
    assert runner.facts["srv2"]["clock"] == "1000"
    # when it was read, by this machine's clock (crosscheck.py compares the nodes' offsets from it)
    assert abs(int(runner.facts["srv2"]["clock_at"]) - time.time()) < 600
    # both-at-once: the two nodes started within the same 1.5 s sleep
    starts = [float((env / f"nodes/{n}/both-start").read_text()) for n in NODES]
    assert abs(starts[0] - starts[1]) < 1.0
    # second run: probes say done, files unchanged
    runner2, events2, _ = make_runner(plan, local_sessions())
    assert runner2.run().status == "finished"
    st = statuses(events2)
    assert ("prepare", "srv1", "already-done") in st and ("destroy", "srv1", "already-done") in st
    assert all(not e.changed for e in events2.events if isinstance(e, FileWritten))
    assert (env / "nodes/srv1/log").read_text().split().count("destroy") == 1


def test_refused_confirmation_changes_nothing(env):
    plan = synthetic_plan(env / "nodes")
    runner, events, _ = make_runner(plan, local_sessions(), confirm=False)
    result = runner.run()
    assert result.status == "cancelled" and "not confirmed" in result.message
    assert not (env / "nodes/srv1/destroyed").exists()
    assert ("destroy", "srv1", "cancelled") in statuses(events)


def test_cancel_interrupts_a_running_command(env):
    root = env / "nodes"
    plan = synthetic_plan(root)
    slow = Step("slow", "slow", "t", "primary", {"srv1": (Run("sleep 30"),)})
    plan = dataclasses.replace(plan, steps=(slow,) + plan.steps)
    runner, events, _ = make_runner(plan, local_sessions())
    threading.Timer(1.0, runner.cancel).start()
    t0 = time.monotonic()
    result = runner.run()
    assert result.status == "cancelled" and time.monotonic() - t0 < 15
    assert not (root / "srv1/prepared").exists()


def test_poll_of_a_missing_command_fails_at_once(env):
    """A poll whose tool is not installed (exit 127) fails with the shell's words, not after its timeout."""
    wait = Step("wait", "wait", "t", "primary",
                {"srv1": (Poll("crm_mon_not_installed -1", CrmMonXml(), NodesOnline(NODES), interval_s=1, timeout_s=120,
                               description="both nodes online"),)})
    plan = dataclasses.replace(synthetic_plan(env / "nodes"), steps=(wait,))
    runner, _, _ = make_runner(plan, local_sessions())
    t0 = time.monotonic()
    result = runner.run()
    assert result.status == "failed" and time.monotonic() - t0 < 30
    assert "cannot run" in result.message and "not found" in result.message


def test_a_failed_check_says_its_failure_once(env):
    """check(): the failure is both the action's description and its stderr; the message has it once."""
    from hawizard.plan.types import check

    failing = Step("look", "look", "t", "primary", {"srv1": (check("false", "the disk is not there"),)})
    plan = dataclasses.replace(synthetic_plan(env / "nodes"), steps=(failing,))
    runner, _, _ = make_runner(plan, local_sessions())
    result = runner.run()
    assert result.status == "failed" and result.message.count("the disk is not there") == 1, result.message


class Die(BaseException):
    """Stands for the process dying: raised by a critical sink, caught by nobody in the runner."""


class DieAfter:
    def __init__(self, step_id, node):
        self.step_id, self.node = step_id, node

    def handle(self, event):
        if isinstance(event, StepFinished) and (event.step_id, event.node) == (self.step_id, self.node):
            raise Die()


def final_state(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()
            and p.name != "both-start"}


@pytest.mark.parametrize("boundary", [("prepare", "srv2"), ("facts", "srv1"), ("both", "srv1"),
                                      ("destroy", "srv1"), ("poll", "srv1")])
def test_resume_after_death_at_each_step_boundary(env, boundary):
    clean = env / "clean"
    r, _, _ = make_runner(synthetic_plan(clean), local_sessions())
    assert r.run().status == "finished"

    root = env / "nodes"
    plan = synthetic_plan(root)
    journal = Journal(runs.new_run_id(), "synthetic", "sha", list(plan.step_ids))
    runner, _, _ = make_runner(plan, local_sessions(), journal=journal, sinks=[DieAfter(*boundary)])
    with pytest.raises(Die):
        runner.run()
    resumed = Journal.load(journal.run_id)
    assert resumed.status == "running"
    runner2, _, _ = make_runner(plan, local_sessions(), journal=resumed)
    assert runner2.run().status == "finished"
    assert final_state(root) == {k: v for k, v in final_state(clean).items()}
    assert Journal.load(journal.run_id).status == "finished"


sshd = pytest.importorskip("tests.support.sshd", reason="needs the test sshd helper")


@pytest.mark.sshd
def test_run_over_real_ssh_logs_everything_and_leaks_no_secret(env, tmp_path):
    from tests.support.sshd import SshServer, sshd_available
    from tests.support.targets import make_target

    why = sshd_available()
    if why:
        pytest.skip(why)
    with SshServer(tmp_path) as srv:
        base = make_target(srv, tmp_path)
        sessions = {n: NodePathSession(open_session(dataclasses.replace(base, name=n), "ssh"), n) for n in NODES}
        plan = synthetic_plan(env / "nodes")
        run_id = runs.new_run_id()
        journal = Journal(run_id, "synthetic", "sha", list(plan.step_ids))
        redactor = Redactor()
        bus = EventBus()
        sink = audit.AuditSink.for_run(run_id, redactor=redactor)
        bus.subscribe(sink, critical=True)
        bus.subscribe(JournalSink(journal), critical=True)
        runner = Runner(plan, sessions, bus, confirm=lambda s, p: True, run_id=run_id,
                        secrets=SecretStore(plan.rendering.secrets, redactor))
        # the secret also shows up in command output: it must still not reach the log
        leak = Step("leak", "leak", "t", "primary",
                    {"srv1": (Run(f"cat {q(str(env / 'nodes/srv1/authkeys'))}"),)})
        runner.plan = dataclasses.replace(plan, steps=plan.steps + (leak,))
        result = runner.run()
        bus.close()
        for s in sessions.values():
            s.close()
    assert result.status == "finished", result.message
    ok, bad, msg = chain.verify_chain(sink.path)
    assert ok, msg
    text = Path(sink.path).read_text()
    assert "output line from srv2" in text and "to stderr" in text  # output streamed and logged
    assert "echo both" in text  # every command is logged
    assert stat.S_IMODE(os.stat(sink.path).st_mode) == 0o600
    for fmt in ("md", "html", "jsonl"):
        report = export_run(run_id, fmt)
        assert SECRET not in report and "authkeys" in report
    assert SECRET not in text


# --- the record of a run: refused then confirmed; what the console shows -------------------------


def _recorded_run(plan, sessions, *, confirm: bool, resume=None):
    """One attempt as the CLI makes it: run record (lock, journal, audit log), runner, bus closed."""
    from hawizard.run.record import open_run_record

    design = load_preset("debian12")
    redactor = Redactor()
    bus = EventBus()
    record = open_run_record(design, plan, "synthetic", bus, redactor, resume=resume)
    runner = Runner(plan, sessions, bus, confirm=lambda step, phrase: confirm, run_id=record.run_id,
                    secrets=SecretStore(plan.rendering.secrets, redactor))
    try:
        return record, runner.run()
    finally:
        bus.close()


def test_refused_then_confirmed_is_one_refusal_and_one_confirmation_in_the_report(env):
    """Issue 10, 2.7: a "no" followed by a resumed run that says "yes" is not two confirmations."""
    plan = synthetic_plan(env / "nodes")
    record, result = _recorded_run(plan, local_sessions(), confirm=False)
    assert result.status == "cancelled"
    run_id = record.run_id
    journal = Journal.load(run_id)
    assert journal.status == "cancelled"
    record2, result2 = _recorded_run(plan, local_sessions(), confirm=True, resume=journal)
    assert record2.run_id == run_id and result2.status == "finished"

    from hawizard.audit.report.load import load_run

    md = export_run(run_id, "md")
    assert md.count("confirmed by **operator**") == 1  # the old report said it twice
    report = load_run(run_id)
    assert report.chain_ok, report.chain_message
    assert report.problems == []
    asked = report.steps["destroy"].confirmations
    assert [c.answer for c in asked] == ["refused", "confirmed"]
    assert asked[1].by == "operator" and asked[0].by is None and asked[0].answered and asked[1].answered
    # a probe's "not yet" (exit 1) before a step that then ran is not a failure of the run
    assert report.failures == [] and "## Failures" not in md and "**FAILED**" not in md
    assert md.count("not confirmed: the step did not run") == 1
    assert "| Result | **finished** |" in md
    page = export_run(run_id, "html")
    assert page.count("confirmed by <strong>operator</strong>") == 1
    assert '<td class="ok">finished</td>' in page
    # one duration: from the first start to the last finish, across the resume
    assert report.duration is not None and report.started < report.finished
    assert report.resumed and "across 1 resume(s)" in md


CONTROL_OUTPUT = ("printf '\\033]0;node owns your title\\007visible one\\n'; printf '\\033[2J\\033[Hvisible two\\n'; "
                  "printf 'bell\\007 three\\n'; printf '\\033[1;31mred\\033[0m four\\n' >&2")


@pytest.mark.sshd
@pytest.mark.parametrize("transport", ["ssh", "paramiko"])
def test_console_shows_no_terminal_controls_from_a_real_node(env, tmp_path, transport):
    """Issue 10, 3.8: OSC, clear-screen and BEL from a node (over a real sshd) never reach the terminal."""
    import io

    from hawizard.run.console import ConsoleSink
    from tests.support.sshd import SshServer, sshd_available
    from tests.support.targets import make_target

    why = sshd_available()
    if why:
        pytest.skip(why)
    noisy = Step("noisy", "noisy output", "t", "primary", {"srv1": (Run(CONTROL_OUTPUT),)})
    plan = dataclasses.replace(synthetic_plan(env / "nodes"), steps=(noisy,))
    out = io.StringIO()
    with SshServer(tmp_path) as srv:
        base = make_target(srv, tmp_path)
        sessions = {n: open_session(dataclasses.replace(base, name=n), transport) for n in NODES}
        runner, events, _ = make_runner(plan, sessions, sinks=[ConsoleSink(out, tty=True, verbose=True)])
        result = runner.run()
        for s in sessions.values():
            s.close()
    assert result.status == "finished", result.message
    shown = out.getvalue()
    for ch in ("\x1b", "\x07", "\x9b"):
        assert ch not in shown, repr(ch)
    for word in ("visible one", "visible two", "bell three", "red four"):
        assert word in shown, (word, shown)
    from hawizard.events import OutputLine

    raw = "".join(e.text for e in events.events if isinstance(e, OutputLine))
    assert "\x07" in raw  # what the node sent reaches the event stream (and the audit log) as it was sent
    if transport == "paramiko":  # the raw stream: the whole OSC string is recognised and removed
        assert "node owns your title" not in shown.replace(CONTROL_OUTPUT, "")  # (the command itself is shown)
    # (the ssh transport strips "ESC ]" itself before the event - hawizard/sessions/frames.py ANSI - so
    # the title's text, no longer a control string, is shown as text: harmless, but see the report)
