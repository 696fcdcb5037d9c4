"""The live run as the wizard sees it: the run facade in a worker thread, the operator's dialogs,
and the run's state for the screens.

The run itself (lock and records, sessions, secrets, the runner, retry, skip, pause) is the
engine's run facade (hawizard/run/facade.py), the same one the command line uses. Here: the
facade runs in a Textual thread worker owned by the App, so the run goes on while the operator
moves between screens; its events reach the UI through ``UiSink`` (hawizard/ui/runsink.py),
which the App drains on a timer on the UI thread into ``RunController``; the run screen draws
from the controller, so leaving and re-opening it loses nothing.

The controller is the run's Operator: the questions the runner asks from its thread (typed
confirmation, host key, sudo password) are put to the operator as modal screens through
``call_from_thread``; the thread waits on an Event for the answer.
"""

from __future__ import annotations

import gc
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hawizard.audit import runs
from hawizard.design.model import Design
from hawizard.events import (
    ClusterState,
    ConfirmationNeeded,
    Confirmed,
    Event,
    Progress,
    StepFinished,
    StepStarted,
    parse_time,
)
from hawizard.plan.build import Plan, Step
from hawizard.run.facade import RunRequest, RunSession, SessionFactory
from hawizard.run.journal import Journal
from hawizard.ui.nodeasks import NodeQuestions
from hawizard.ui.outcome import RunOutcome
from hawizard.ui.runsink import LOG_LINES, UiSink

if TYPE_CHECKING:
    from textual.app import App
    from textual.worker import Worker

SPEED_SAMPLES = 40

ICONS = {"pending": "·", "running": "▶", "done": "✓", "already-done": "=", "skipped": "-",
         "failed": "✗", "cancelled": "×"}


# -- the controller ----------------------------------------------------------------------------

class RunController(NodeQuestions):
    """One run of a plan (with its retries and skips), owned by the App."""

    def __init__(self, app: App, design: Design, plan: Plan, *, mode: str, preset_ref: str,
                 session_factory: SessionFactory | None = None, transport: str = "ssh",
                 poll_scale: float = 1.0, resume: Journal | None = None,
                 only: set[str] | None = None, include_optional: bool = False) -> None:
        self.app, self.design, self.plan, self.mode = app, design, plan, mode
        self.preset_ref = preset_ref
        self.run = RunSession(RunRequest(design, plan, preset_ref, transport=transport, dry_run=mode == "dry-run",
                                         resume=resume, poll_scale=poll_scale),
                              self, session_factory=session_factory)
        self.redactor = self.run.redactor
        self.sink = UiSink(self.redactor, probes={(s.id, n): cmd for s in plan.steps for n, cmd in s.probe.items()})
        self.run.bus.subscribe(self.sink)
        self._resume = resume
        self.state = "idle"  # idle|running|paused|confirming|finished|failed|cancelled|error
        self.message = ""
        self.current_step = ""
        self.failed_step: str | None = None
        self.skipped: dict[str, str] = {}
        self.include_optional = include_optional
        self.selected = [s for s in plan.steps if (only is not None and s.id in only)
                         or (only is None and (not s.optional or include_optional))]
        self.states: dict[str, dict[str, str]] = {s.id: {n: "pending" for n in s.nodes} for s in self.selected}
        if resume is not None:  # what the earlier attempts of this run did
            for step_id, nodes in resume.steps.items():
                if step_id in self.states:
                    self.states[step_id].update({n: st for n, st in nodes.items() if n in self.states[step_id]})
        self.times: dict[str, list[str]] = {}  # step -> [first start, last finish] (UTC ISO)
        self.lines: dict[str, deque[str]] = {n: deque(maxlen=LOG_LINES) for n in design.node_names}
        self.hidden_lines: dict[str, int] = {n: 0 for n in design.node_names}
        self.progress: Progress | None = None
        self.speeds: deque[float] = deque(maxlen=SPEED_SAMPLES)
        self.cluster: ClusterState | None = None
        self.view: Any = None  # the run screen while it is mounted
        self._modal: Any = None
        self._worker: Worker | None = None
        self._closing = False
        self._in_worker = threading.Event()

    # -- starting -----------------------------------------------------------------------------
    @property
    def dry_run(self) -> bool:
        return self.mode == "dry-run"

    @property
    def live(self) -> bool:
        return self.state in ("running", "paused", "confirming")

    def start(self) -> None:
        """Lock the run and open its records (RunLocked when the nodes are busy), then run in a worker."""
        # What exists now (the app, its screens, the design) lives as long as the app: keep it out of
        # the collector's full passes, which otherwise stall the screen while a run streams output.
        gc.freeze()
        self.run.start()
        self._launch([s.id for s in self.selected])

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def journal(self) -> Journal | None:
        return self.run.journal if self.run.record is not None else self._resume

    @property
    def audit_path(self) -> str:
        return self.run.audit_path

    def _launch(self, step_ids: list[str]) -> None:
        self.state, self.message, self.failed_step = "running", "", None
        only = set(step_ids)
        self._in_worker.set()  # from now until the thread has returned
        self._worker = self.app.run_worker(lambda: self._work(only), thread=True, group="run", name="run",
                                           exit_on_error=False)
        self.app.start_drain()

    def _work(self, only: set[str]):
        """The worker thread's body; closes up behind itself if the app went away meanwhile."""
        try:
            return self._run_steps(only)
        finally:
            self._in_worker.clear()
            if self._closing:  # the app went away while this ran: finish the records, then close
                self._shutdown()

    def _run_steps(self, only: set[str]):
        """Connect (once), resolve the secrets (once), run the steps: the facade does all of it."""
        return self.run.run(only, include_optional=True)

    # -- questions from the worker thread --------------------------------------------------
    def _ask(self, make_screen: Callable[[], Any]) -> Any:
        answered = threading.Event()
        box: list[Any] = []

        def done(result: Any) -> None:
            self._modal = None
            box.append(result)
            answered.set()

        def push() -> None:
            if self.run.stopping or self._closing:
                answered.set()
                return
            self._modal = make_screen()
            self.app.push_screen(self._modal, callback=done)

        def show() -> None:
            # the screens under the question keep what they showed when it came up: bring them up
            # to the question first (the run screen then says which step asks), then ask
            self.drain()
            self.app.call_after_refresh(push)
        try:
            self.app.call_from_thread(show)
        except RuntimeError:  # the app is closing
            return None
        while not answered.wait(0.1):
            if self.run.stopping:  # cancelled, or the app is closing: nobody will answer
                return None
        return box[0] if box else None

    # the Operator of the run (hawizard/run/facade.py): asked from the worker thread
    def confirm_step(self, step: Step, phrase: str) -> bool:
        from hawizard.ui.dialogs import ConfirmPhraseScreen

        where = ", ".join(step.nodes)
        return bool(self._ask(lambda: ConfirmPhraseScreen(step.title, step.explain, phrase, where=where,
                                                          dry_run=self.dry_run)))

    # -- operator controls (UI thread) -----------------------------------------------------
    def toggle_pause(self) -> None:
        if self.state == "running":
            self.run.pause()
            self.state = "paused"
        elif self.state == "paused":
            self.run.unpause()
            self.state = "running"

    def hold(self) -> bool:
        """Hold a running run (no new command, no new question) while the operator answers one about it.

        Returns whether it was running, i.e. whether :meth:`release` should let it go on.
        """
        if self.state != "running":
            return False
        self.run.pause()
        return True

    def release(self) -> None:
        if self.state == "running":
            self.run.unpause()

    def cancel(self) -> None:
        if not self.live:
            return
        self.run.cancel()
        if self._modal is not None:
            self._modal.dismiss(False)

    def resumable_step(self) -> str | None:
        """The step a retry or a skip starts from: the one that failed, else the first not finished."""
        if self.live or self.state in ("idle", "finished"):
            return None
        if self.failed_step:
            return self.failed_step
        for s in self.selected:
            if any(st not in ("done", "already-done", "skipped") for st in self.states[s.id].values()):
                return s.id
        return None

    def retry(self) -> bool:
        step_id = self.resumable_step()
        if step_id is None:
            return False
        ids = [s.id for s in self.selected]
        rest = ids[ids.index(step_id):]
        for sid in rest:
            self.states[sid] = {n: (st if st in ("done", "already-done", "skipped") else "pending")
                                for n, st in self.states[sid].items()}
        self._launch(rest)
        return True

    def skip(self, reason: str) -> bool:
        """Record the failed step as skipped (with the operator's reason) and go on with the next."""
        step_id = self.resumable_step()
        if step_id is None:
            return False
        nodes = [node for node, st in self.states[step_id].items() if st not in ("done", "already-done")]
        self.run.skip(self.plan.step(step_id), reason, nodes)
        self.skipped[step_id] = reason
        ids = [s.id for s in self.selected]
        self.failed_step = None
        self._launch(ids[ids.index(step_id) + 1:])
        return True

    def run_extra(self, step_ids: set[str]) -> None:
        """Run further steps of the same plan on request (the switch-over test)."""
        for s in self.plan.steps:
            if s.id in step_ids and s not in self.selected:
                self.selected.append(s)
                self.states[s.id] = {n: "pending" for n in s.nodes}
        self._launch([s.id for s in self.selected if s.id in step_ids])

    # -- events (UI thread) ----------------------------------------------------------------
    def drain(self) -> bool:
        """Take what the sink collected; returns True when something changed."""
        events, lines, dropped = self.sink.drain()
        if not events and not lines:
            return False
        for ev in events:
            self._apply(ev)
        for node, new in lines.items():
            if node not in self.lines:
                continue
            if dropped.get(node):
                self.hidden_lines[node] += dropped[node]
            self.lines[node].extend(new)
        if self.view is not None:
            self.view.update_from(self, lines, dropped)
        return True

    def _apply(self, ev: Event) -> None:
        if isinstance(ev, StepStarted):
            self.current_step = ev.step_id
            self.states.setdefault(ev.step_id, {})[ev.node] = "running"
            self.times.setdefault(ev.step_id, [ev.time, ev.time])
        elif isinstance(ev, StepFinished):
            self.states.setdefault(ev.step_id, {})[ev.node] = ev.status
            span = self.times.setdefault(ev.step_id, [ev.time, ev.time])
            span[1] = max(span[1], ev.time)
            if ev.status == "failed":
                self.failed_step = ev.step_id
                self.message = ev.message
        elif isinstance(ev, Progress):
            self.progress = ev
            if ev.speed_kib_s is not None and ev.state != "synced":  # the last sample measures no transfer
                self.speeds.append(ev.speed_kib_s)
        elif isinstance(ev, ClusterState):
            self.cluster = ev
        elif isinstance(ev, ConfirmationNeeded):
            self.current_step = ev.step_id
            if self.state == "running":
                self.state = "confirming"
        elif isinstance(ev, Confirmed):
            if self.state == "confirming":
                self.state = "running"

    def worker_done(self, worker: Worker) -> None:
        """The runner returned (or raised): take the last events and settle the state."""
        from textual.worker import WorkerState

        self.drain()
        if worker.state == WorkerState.SUCCESS and worker.result is not None:
            result = worker.result
            self.state = result.status
            if result.message:
                self.message = self.redactor.redact_text(result.message)
            if self.state == "failed" and self.failed_step is None:
                self.failed_step = self.current_step or None
        else:
            self.state = "error"
            self.message = self.redactor.redact_text(str(worker.error or "the run stopped"))
            if self.run.record is not None:  # the journal and the audit log say how it ended
                self.run.record.finish("failed", self.message)
        if self.run.record is not None:
            self.run.record.sink.flush()
        if self.view is not None:
            self.view.update_from(self, {}, {})

    def close(self) -> None:
        """End of the run's life: stop whatever still runs, close the sessions and the audit log.

        A runner still under way closes them itself once it has recorded how it ended."""
        self._closing = True
        self.run.cancel()
        if self._modal is not None:
            self._modal = None
        if not self._in_worker.is_set():  # (a thread worker outlives its Worker's cancelled state)
            self._shutdown()

    def _shutdown(self) -> None:
        self.run.close()  # the sessions, then the audit log, then the run's lock; only once

    # -- summaries -------------------------------------------------------------------------
    def phase_durations(self) -> list[tuple[str, float]]:
        spans: dict[str, list] = {}
        for step in self.plan.steps:
            t = self.times.get(step.id)
            if not t:
                continue
            start, end = parse_time(t[0]), parse_time(t[1])
            if start is None or end is None:
                continue
            cur = spans.setdefault(step.phase, [start, end])
            cur[0], cur[1] = min(cur[0], start), max(cur[1], end)
        return [(phase, (end - start).total_seconds()) for phase, (start, end) in spans.items()]

    def outcome(self) -> RunOutcome:
        d = self.design
        built = [f"{d.name}: {d.stack}, nodes {' and '.join(d.node_names)} (primary {self.plan.primary})",
                 f"service {d.service.vip}/{d.service.vip_prefix} on {d.service.vip_nic}, "
                 f"{d.drbd.device} ({d.service.fstype}) on {d.service.mount_point}",
                 f"DRBD {d.drbd.resource} protocol {d.drbd.protocol}; fencing "
                 f"{d.fencing.method if d.fenced else 'off'}; no-quorum-policy {d.cluster.no_quorum_policy}"]
        steps = [(s.id, s.title, " ".join(f"{n}:{st}" for n, st in self.states[s.id].items())) for s in self.selected]
        phases = self.phase_durations()
        return RunOutcome(d.name, d.stack, self.mode, self.state, self.message, built, steps, phases,
                          sum(p for _, p in phases), self.run_id, self.audit_path, dict(self.skipped))

    def export_report(self) -> Path:
        """Write the Markdown report of this run beside its audit log (called in a worker thread)."""
        from hawizard.audit.report.export import export_run
        from hawizard.common.localfiles import atomic_write

        if self.run.record is not None:
            self.run.record.sink.flush()
        text = export_run(self.run_id, "md")
        return atomic_write(runs.run_dir(self.run_id) / "report.md", text.encode(), mode=0o600, backup=True)
