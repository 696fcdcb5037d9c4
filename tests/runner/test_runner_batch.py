"""The runner's batches (issue 15): consecutive commands of a step in one round trip, the same record.

What must not change when commands travel together: the events (so the console, the wizard, the
audit log and the journal), in content and order; a fatal failure stops the step with nothing run
after it; a non-fatal one is a warning and the rest still runs; a run killed in the middle of a
batch leaves the rest of the batch unrun and resumes to the same end state. The sessions are real
local shells (the same pty driver as over ssh); the reference is the same session made to run
one command per round trip (the interface's default ``run_batch``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from hawizard.audit import runs
from hawizard.common.shellquote import q
from hawizard.events import (
    CommandFinished,
    CommandStarted,
    EventBus,
    FileWritten,
    ListSink,
    OutputLine,
    RunFinished,
    StepFinished,
    StepStarted,
)
from hawizard.plan.types import Fact, Plan, Run, Step, Write
from hawizard.render.renderer import RenderedFile, Rendering
from hawizard.run.journal import Journal, JournalSink
from hawizard.run.runner import Runner
from hawizard.sessions import SshTarget, open_session
from hawizard.sessions.base import NodeSession

ROOT = Path(__file__).resolve().parents[2]


class OneByOne:
    """A session made to pay one round trip per command: the runner's behaviour before batches."""

    def __init__(self, inner):
        self.inner = inner
        self.batches = 0

    def __getattr__(self, item):
        return getattr(self.inner, item)

    def run_batch(self, commands, *, on_start=None, on_finish=None):
        self.batches += 1
        return NodeSession.run_batch(self, commands, on_start=on_start, on_finish=on_finish)


class Counting:
    """The real session, counting the batches the runner gives it."""

    def __init__(self, inner):
        self.inner = inner
        self.batches = 0

    def __getattr__(self, item):
        return getattr(self.inner, item)

    def run_batch(self, commands, **kw):
        self.batches += 1
        return self.inner.run_batch(commands, **kw)


def _plan(root: Path) -> Plan:
    def p(name: str) -> str:
        return q(str(root / name))
    files = (RenderedFile("conf", str(root / "conf.txt"), "a = 1\n", 0o640, nodes=("srv1",)),)
    steps = (
        Step("first", "several commands", "t", "primary", {"srv1": (
            Run(f"mkdir -p {q(str(root))} && echo first >> {p('log')}"),
            Fact("echo 42", "answer"),
            Run("echo 'out one'; echo 'err one' >&2; printf 'no newline'"),
            Run("echo 'soft failure' >&2; exit 3", fatal=False),
            Run(f"echo after-the-warning >> {p('log')}"),
            Write("conf"),
            Run(f"cat {p('conf.txt')}"),
            Run(f"echo done >> {p('log')}"),
        )}),
        Step("second", "a fatal failure", "t", "primary", {"srv1": (
            Run(f"echo second >> {p('log')}"),
            Run("echo 'hard failure' >&2; exit 5", "the check"),
            Run(f"touch {p('never')}"),
        )}),
    )
    return Plan("batches", "debian12-crmsh", "srv1", "srv2", steps, Rendering(files, {}))


def _record(events) -> list[tuple]:
    """The events without what differs from run to run (durations, times, temp paths)."""
    out = []
    for e in events:
        if isinstance(e, CommandStarted):
            out.append(("started", e.step_id, e.command.split("/")[-1]))
        elif isinstance(e, OutputLine):
            out.append(("line", e.step_id, e.stream, e.text))
        elif isinstance(e, CommandFinished):
            out.append(("finished", e.step_id, e.command.split("/")[-1], e.exit_status, e.timed_out))
        elif isinstance(e, StepStarted | StepFinished):
            out.append((type(e).__name__, e.step_id, e.node, getattr(e, "status", ""), getattr(e, "message", "")))
        elif isinstance(e, FileWritten):
            out.append(("written", e.step_id, e.sha256, e.changed))
        elif isinstance(e, RunFinished):
            out.append(("run", e.status))
    return out


def _run(plan: Plan, session) -> tuple[list, object, Runner]:
    bus = EventBus()
    events = ListSink()
    bus.subscribe(events)
    runner = Runner(plan, {"srv1": session}, bus, confirm=lambda s, p: True, secrets=None)
    result = runner.run()
    bus.close()
    return events.events, result, runner


def _local():
    return open_session(SshTarget(name="srv1", host="localhost"), "local")


def test_batched_run_records_exactly_what_one_by_one_records(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    records, logs = [], []
    for name, wrap in (("one", OneByOne), ("batched", Counting)):
        root = tmp_path / name
        session = wrap(_local())
        try:
            events, result, runner = _run(_plan(root), session)
        finally:
            session.close()
        assert result.status == "failed" and "the check: hard failure" in result.message
        assert runner.facts["srv1"]["answer"] == "42"
        records.append(_record(events))
        logs.append((root / "log").read_text().split())
        assert not (root / "never").exists()
        if name == "batched":
            # first step: the 5 commands before the write in a batch that the soft failure (the 4th)
            # stops, the 5th alone, then a batch of 2 after the write; second step: one batch, stopped by the
            # fatal failure
            assert session.batches == 3
    assert records[0] == records[1]
    assert logs[0] == logs[1] == ["first", "after-the-warning", "done", "second"]
    warned = [r for r in records[1] if r[0] == "StepFinished" and r[1] == "first"]
    assert warned == [("StepFinished", "first", "srv1", "done", "warning: soft failure")]


def test_the_runner_sends_consecutive_commands_in_one_batch(tmp_path, monkeypatch):
    """Twelve commands of a step: one write to the shell (one round trip), not twelve."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    sent: list[str] = []
    session = _local()
    real_send = session._send
    session._send = lambda text: (sent.append(text), real_send(text))[1]
    plan = Plan("b", "debian12-crmsh", "srv1", "srv2", (
        Step("s", "s", "t", "primary", {"srv1": tuple(Run(f"echo {i}") for i in range(12))}),), Rendering((), {}))
    try:
        _, result, _ = _run(plan, session)
    finally:
        session.close()
    assert result.status == "finished"
    assert len(sent) == 1


KILLED_RUN = textwrap.dedent("""
    import sys
    from pathlib import Path
    from hawizard.common.shellquote import q
    from hawizard.events import EventBus
    from hawizard.plan.types import Plan, Run, Step
    from hawizard.render.renderer import Rendering
    from hawizard.run.journal import Journal, JournalSink
    from hawizard.run.runner import Runner
    from hawizard.sessions import SshTarget, open_session

    root = Path(sys.argv[1])
    steps = (Step("batch", "three commands", "t", "primary", {"srv1": (
        Run(f"echo a >> {q(str(root / 'log'))}"),
        Run(f"echo b >> {q(str(root / 'log'))}; sleep 60"),
        Run(f"echo c >> {q(str(root / 'log'))}"),
    )}),)
    plan = Plan("killed", "debian12-crmsh", "srv1", "srv2", steps, Rendering((), {}))
    journal = Journal(sys.argv[2], "killed", "sha", plan.step_ids)
    journal.save()  # as the run record does before the first step
    bus = EventBus()
    bus.subscribe(JournalSink(journal), critical=True)
    session = open_session(SshTarget(name="srv1", host="localhost"), "local")
    Runner(plan, {"srv1": session}, bus, confirm=lambda s, p: True, secrets=None, run_id=sys.argv[2]).run()
""")


def test_a_run_killed_inside_a_batch_runs_nothing_more_and_resumes(tmp_path, monkeypatch):
    """SIGKILL while the second command of a batch runs: the shell goes with hawizard (its pty closes),
    so the third command never runs unrecorded; --resume then runs the step again to the end."""
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    root = tmp_path / "node"
    root.mkdir()
    run_id = runs.new_run_id()
    env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_STATE_HOME=str(state))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(root), run_id], env=env)
    try:
        deadline = time.monotonic() + 60
        while "b" not in ((root / "log").read_text().split() if (root / "log").exists() else []):
            assert time.monotonic() < deadline and proc.poll() is None, "the run never reached its second command"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(1.5)
    assert (root / "log").read_text().split() == ["a", "b"], "a command of the batch ran after the kill"
    journal = Journal.load(run_id)
    assert journal.status == "running" and journal.first_unfinished() == "batch"
    # resume: the same plan, quick this time
    plan = Plan("killed", "debian12-crmsh", "srv1", "srv2", (Step("batch", "three commands", "t", "primary", {
        "srv1": (Run(f"echo a >> {q(str(root / 'log'))}"), Run(f"echo b >> {q(str(root / 'log'))}"),
                 Run(f"echo c >> {q(str(root / 'log'))}"))}),), Rendering((), {}))
    bus = EventBus()
    bus.subscribe(JournalSink(journal), critical=True)
    session = _local()
    try:
        result = Runner(plan, {"srv1": session}, bus, confirm=lambda s, p: True, secrets=None, run_id=run_id).run()
    finally:
        session.close()
    assert result.status == "finished"
    assert (root / "log").read_text().split() == ["a", "b", "a", "b", "c"]
    assert Journal.load(run_id).status == "finished"
    assert Journal.load(run_id).steps == {"batch": {"srv1": "done"}}
