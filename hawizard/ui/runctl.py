"""The live run as the wizard sees it: wiring, a thread-safe event sink, and the run's state.

The runner (hawizard/run/runner.py) is blocking and runs in a Textual thread worker owned by the
App, so the run goes on while the operator moves between screens. Its events reach the UI
through ``UiSink``: called from runner threads, it only formats and queues. Output lines go
into bounded per-node buffers (a flood of 100k lines costs the UI at most one buffer's worth
per refresh; every line is still in the audit log), state events into a short list. The App
drains the sink on a timer on the UI thread and updates ``RunController``; the run screen
draws from the controller, so leaving and re-opening it loses nothing.

Questions the runner asks from its thread (typed confirmation, host key, sudo password) are
put to the operator as modal screens through ``call_from_thread``; the thread waits on an
Event for the answer. Pause holds every node session before its next command.
"""

from __future__ import annotations

import gc
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hawizard.audit import log as audit
from hawizard.common import terminal_text
from hawizard.common.redact import Redactor
from hawizard.design.model import Design
from hawizard.events import (
    ClusterState,
    CommandFinished,
    CommandStarted,
    ConfirmationNeeded,
    Confirmed,
    Event,
    EventBus,
    FileWritten,
    OutputLine,
    Progress,
    StepFinished,
    StepStarted,
    parse_time,
)
from hawizard.plan.build import Plan, Step
from hawizard.run.journal import Journal
from hawizard.run.record import open_run_record
from hawizard.sessions.base import EXIT_CANCELLED, CommandResult, NodeSession, WriteResult

if TYPE_CHECKING:
    from textual.app import App
    from textual.worker import Worker

LOG_LINES = 5000  # lines kept per node on screen (the audit log keeps them all)
SPEED_SAMPLES = 40

SessionFactory = Callable[[str], NodeSession]  # node name -> an open session

ICONS = {"pending": "·", "running": "▶", "done": "✓", "already-done": "=", "skipped": "-",
         "failed": "✗", "cancelled": "×"}


def clean(text: str) -> str:
    """Remote output made safe to show: no escape sequences or control characters, tabs expanded."""
    return terminal_text.clean(text, tab_size=4)


# -- the sink ------------------------------------------------------------------------------------

class UiSink:
    """Receives events on runner threads; the UI thread takes them with ``drain``."""

    def __init__(self, redactor: Redactor, max_lines: int = LOG_LINES,
                 probes: dict[tuple[str, str], str] | None = None) -> None:
        self.redactor = redactor
        self.probes = probes or {}  # (step, node) -> the "already done?" command
        self.max_lines = max_lines
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._lines: dict[str, deque[str]] = {}
        self._dropped: dict[str, int] = {}

    def _add_line(self, node: str, text: str) -> None:
        buf = self._lines.get(node)
        if buf is None:
            buf = self._lines[node] = deque(maxlen=self.max_lines)
        if len(buf) == self.max_lines:
            self._dropped[node] = self._dropped.get(node, 0) + 1
        buf.append(text)

    def handle(self, event: Event) -> None:
        line = _log_line(event, self.probes)
        if line is not None:
            node, text = line
            text = self.redactor.redact_text(clean(text))
        with self._lock:
            if line is not None:
                for n in node.split(","):
                    if n:
                        self._add_line(n, text)
            if not isinstance(event, OutputLine | CommandStarted | CommandFinished | FileWritten):
                self._events.append(event)

    def drain(self) -> tuple[list[Event], dict[str, list[str]], dict[str, int]]:
        with self._lock:
            events, self._events = self._events, []
            lines = {n: list(buf) for n, buf in self._lines.items() if buf}
            self._lines = {}
            dropped, self._dropped = self._dropped, {}
        return events, lines, dropped


def _log_line(event: Event, probes: dict[tuple[str, str], str]) -> tuple[str, str] | None:
    """The line an event adds to a node's output pane, if any."""
    if isinstance(event, OutputLine):
        mark = {"stderr": "! ", "status": "» "}.get(event.stream, "")
        return event.node, mark + event.text
    is_probe = isinstance(event, CommandStarted | CommandFinished) and \
        probes.get((event.step_id, event.node)) == event.command
    if isinstance(event, CommandStarted):
        return event.node, f"{'? done already? ' if is_probe else '$ '}{event.command}"
    if isinstance(event, CommandFinished) and is_probe:
        return event.node, "  -> yes, nothing to do" if event.exit_status == 0 else "  -> not yet"
    if isinstance(event, CommandFinished) and (event.exit_status or event.timed_out):
        return event.node, f"  (exit status {event.exit_status}{', timed out' if event.timed_out else ''})"
    if isinstance(event, FileWritten):
        how = "written" if event.changed else "unchanged"
        return event.node, f"  {event.path} {how} ({event.mode} {event.owner})"
    if isinstance(event, StepStarted):
        return event.node, f"── {event.step_id}: {event.title}"
    if isinstance(event, StepFinished):
        note = f": {event.message}" if event.message else ""
        return event.node, f"── {event.step_id} {event.status}{note}"
    if isinstance(event, ConfirmationNeeded):
        return event.node, f"?? {event.step_id} waits for the operator to type '{event.expected_phrase}'"
    return None


# -- a pausable session ----------------------------------------------------------------------------

class GatedSession(NodeSession):
    """Wraps a session so that a paused run holds before its next command (the running one finishes)."""

    def __init__(self, inner: NodeSession, gate: threading.Event, stop: threading.Event) -> None:
        self.inner, self.gate, self.stop = inner, gate, stop
        self.name = inner.name

    def _go_on(self) -> bool:
        """Wait while paused; False when the run was cancelled meanwhile (then nothing more is sent)."""
        while not self.gate.wait(0.1):
            if self.stop.is_set():
                break
        return not self.stop.is_set()

    def run(self, command: str, **kwargs: Any) -> CommandResult:
        if not self._go_on():
            return CommandResult(command, EXIT_CANCELLED, "", "", 0.0)
        return self.inner.run(command, **kwargs)

    def write_file(self, path: str, data: bytes, **kwargs: Any) -> WriteResult:
        if not self._go_on():
            from hawizard.run.runner import RunCancelled

            raise RunCancelled("cancelled by the operator")
        return self.inner.write_file(path, data, **kwargs)

    def read_file(self, path: str) -> bytes | None:
        if not self._go_on():
            return None
        return self.inner.read_file(path)

    def close(self) -> None:
        self.inner.close()

    def cancel(self) -> None:
        self.inner.cancel()


# -- what the finish screen shows ----------------------------------------------------------------

@dataclass
class RunOutcome:
    design_name: str
    stack: str
    mode: str  # dry-run | apply
    status: str  # finished | failed | cancelled | error
    message: str
    built: list[str]  # one line each: what the cluster is
    steps: list[tuple[str, str, str]]  # (step id, title, per-node states as text)
    phases: list[tuple[str, float]]  # (phase, seconds)
    total_s: float
    run_id: str
    audit_path: str
    skipped: dict[str, str] = field(default_factory=dict)


def fmt_duration(seconds: float) -> str:
    if seconds < 1:
        return "<1 s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    m, s = divmod(seconds, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


# -- the controller ----------------------------------------------------------------------------

class RunController:
    """One run of a plan (with its retries and skips), owned by the App."""

    def __init__(self, app: App, design: Design, plan: Plan, *, mode: str, preset_ref: str,
                 session_factory: SessionFactory | None = None, transport: str = "ssh",
                 poll_scale: float = 1.0, resume: Journal | None = None,
                 only: set[str] | None = None, include_optional: bool = False) -> None:
        self.app, self.design, self.plan, self.mode = app, design, plan, mode
        self.preset_ref = preset_ref
        self.session_factory, self.transport, self.poll_scale = session_factory, transport, poll_scale
        self.redactor = Redactor()
        self.sink = UiSink(self.redactor, probes={(s.id, n): cmd for s in plan.steps for n, cmd in s.probe.items()})
        self.bus = EventBus()
        self.bus.subscribe(self.sink)
        self.gate = threading.Event()
        self.gate.set()
        self.stop = threading.Event()
        self.sessions: dict[str, NodeSession] = {}
        self.secrets = None
        self.runner = None
        self.journal = resume
        self.audit_sink: audit.AuditSink | None = None
        self.run_id = ""
        self.state = "idle"  # idle|running|paused|confirming|finished|failed|cancelled|error
        self.message = ""
        self.current_step = ""
        self.failed_step: str | None = None
        self.skipped: dict[str, str] = {}
        self.include_optional = include_optional
        self.selected = [s for s in plan.steps if (only is not None and s.id in only)
                         or (only is None and (not s.optional or include_optional))]
        self.states: dict[str, dict[str, str]] = {s.id: {n: "pending" for n in s.nodes} for s in self.selected}
        if resume is not None:
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
        self._shut = False
        self._shutdown_lock = threading.Lock()

    # -- starting -----------------------------------------------------------------------------
    @property
    def dry_run(self) -> bool:
        return self.mode == "dry-run"

    @property
    def live(self) -> bool:
        return self.state in ("running", "paused", "confirming")

    def start(self) -> None:
        """Open the audit log (and the journal of a real run), then start the runner in a worker."""
        # What exists now (the app, its screens, the design) lives as long as the app: keep it out of
        # the collector's full passes, which otherwise stall the screen while a run streams output.
        gc.freeze()
        record = open_run_record(self.design, self.plan, self.preset_ref, self.bus, self.redactor,
                                 resume=self.journal, dry_run=self.dry_run)
        self.run_id, self.journal, self.audit_sink = record.run_id, record.journal, record.sink
        self._launch([s.id for s in self.selected])

    @property
    def audit_path(self) -> str:
        return str(self.audit_sink.path) if self.audit_sink else ""

    def _launch(self, step_ids: list[str]) -> None:
        self.state, self.message, self.failed_step = "running", "", None
        self.stop.clear()
        self.gate.set()
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
        """Connect (once), resolve the secrets (once), run the steps."""
        from hawizard.run.runner import Runner

        if not self.sessions:
            opened: dict[str, NodeSession] = {}
            try:
                for n in self.design.node_names:
                    opened[n] = GatedSession(self._open(n), self.gate, self.stop)
                if not self.dry_run:
                    from hawizard.run.secrets import SecretStore

                    secrets = SecretStore(self.plan.rendering.secrets, self.redactor)
                    secrets.resolve_all(opened[self.plan.primary])
                    self.secrets = secrets
            except BaseException:
                for s in opened.values():
                    s.close()
                raise
            self.sessions = opened
        if not self.dry_run and self.secrets is None:  # never write placeholders to a real node
            raise RuntimeError("the run's secrets were not resolved")
        self.runner = Runner(self.plan, self.design, self.sessions, self.bus, confirm=self._confirm,
                             secrets=self.secrets, journal=self.journal, only=only,
                             include_optional=True, dry_run=self.dry_run, poll_scale=self.poll_scale)
        return self.runner.run()

    def _open(self, node_name: str) -> NodeSession:
        if self.session_factory is not None:
            return self.session_factory(node_name)
        if self.dry_run:
            from hawizard.sessions.dryrun import DryRunSession

            return DryRunSession(node_name)
        from hawizard.run.targets import target_for
        from hawizard.sessions.factory import open_session

        return open_session(target_for(self.design.node(node_name)), self.transport,
                            confirm_host_key=self._confirm_host_key, sudo_password=self._sudo_password)

    # -- questions from the worker thread --------------------------------------------------
    def _ask(self, make_screen: Callable[[], Any]) -> Any:
        answered = threading.Event()
        box: list[Any] = []

        def done(result: Any) -> None:
            self._modal = None
            box.append(result)
            answered.set()

        def push() -> None:
            if self.stop.is_set() or self._closing:
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
            if self.stop.is_set():  # cancelled, or the app is closing: nobody will answer
                return None
        return box[0] if box else None

    def _confirm(self, step: Step, phrase: str) -> bool:
        from hawizard.ui.dialogs import ConfirmPhraseScreen

        where = ", ".join(step.nodes)
        return bool(self._ask(lambda: ConfirmPhraseScreen(step.title, step.explain, phrase, where=where,
                                                          dry_run=self.dry_run)))

    def _confirm_host_key(self, label: str, key_type: str, fingerprint: str) -> bool:
        from hawizard.ui.dialogs import ConfirmPhraseScreen

        text = (f"{key_type} {fingerprint}\nCompare it with the node's own key (ssh-keygen -lf "
                "/etc/ssh/ssh_host_*_key.pub on its console) before trusting it.")
        return bool(self._ask(lambda: ConfirmPhraseScreen(f"The host key of {label} is not known yet", text,
                                                          "yes")))

    def _sudo_password(self, who: str) -> str:
        from hawizard.common.errors import InputError
        from hawizard.ui.dialogs import PromptScreen

        answer = self._ask(lambda: PromptScreen(f"sudo password for {who}", "Asked once; never stored or logged.",
                                                password=True))
        if answer is None:
            raise InputError(f"{who} needs a sudo password and none was given")
        return answer

    # -- operator controls (UI thread) -----------------------------------------------------
    def toggle_pause(self) -> None:
        if self.state == "running":
            self.gate.clear()
            self.state = "paused"
        elif self.state == "paused":
            self.gate.set()
            self.state = "running"

    def cancel(self) -> None:
        if not self.live:
            return
        self.stop.set()
        if self.runner is not None:
            self.runner.cancel()
        self.gate.set()
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
        message = f"skipped by the operator: {reason}"
        for node, st in self.states[step_id].items():
            if st not in ("done", "already-done"):
                self.bus.emit(StepFinished(step_id=step_id, node=node, status="skipped", duration=0.0,
                                           message=message))
                if self.journal is not None:
                    self.journal.record(step_id, node, "skipped")
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
            if self.journal is not None:
                self.journal.finish("failed")
        if self.audit_sink is not None:
            self.audit_sink.flush()
        if self.view is not None:
            self.view.update_from(self, {}, {})

    def close(self) -> None:
        """End of the run's life: stop whatever still runs, close the sessions and the audit log.

        A runner still under way closes them itself once it has recorded how it ended."""
        self._closing = True
        self.stop.set()
        if self.runner is not None:
            self.runner.cancel()
        self.gate.set()
        if self._modal is not None:
            self._modal = None
        if not self._in_worker.is_set():  # (a thread worker outlives its Worker's cancelled state)
            self._shutdown()

    def _shutdown(self) -> None:
        with self._shutdown_lock:
            if self._shut:
                return
            self._shut = True
        for s in self.sessions.values():
            try:
                s.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        self.bus.close()

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
                 f"{'on' if d.cluster.stonith_enabled else 'off'}; no-quorum-policy {d.cluster.no_quorum_policy}"]
        steps = [(s.id, s.title, " ".join(f"{n}:{st}" for n, st in self.states[s.id].items())) for s in self.selected]
        phases = self.phase_durations()
        return RunOutcome(d.name, d.stack, self.mode, self.state, self.message, built, steps, phases,
                          sum(p for _, p in phases), self.run_id, self.audit_path, dict(self.skipped))

    def export_report(self) -> Path:
        """Write the Markdown report of this run beside its audit log (called in a worker thread)."""
        from hawizard.audit.report import export_run
        from hawizard.common.localfiles import atomic_write

        if self.audit_sink is not None:
            self.audit_sink.flush()
        text = export_run(self.run_id, "md")
        return atomic_write(audit.run_dir(self.run_id) / "report.md", text.encode(), mode=0o600, backup=True)
