"""The run facade: the one way both front ends start, steer and end a run of a plan on the nodes.

Why: the wiring of a run — its lock and records, the node sessions, the secrets, the runner,
retry, skip, pause, resume and closing everything in the right order — was written twice, once
in the command line and once in the wizard, and the two had begun to differ. Now a front end
gives a ``RunSession`` the human side (an ``Operator``: how to ask for a typed confirmation, a
host key, a sudo password) and its sinks (the console, the wizard's queue), and calls:

    start()    lock the run and its nodes, open (or continue) the journal and the audit log
    connect()  open a session per node and resolve the secrets, once; say what the operator
               should hear about them (a secret file others can read) as status lines
    run(...)   run the selected steps (again, for a retry); returns the RunResult
    skip(...)  record a failed step as skipped, with the operator's reason
    pause(), unpause(), cancel()   from any thread
    close()    close the sessions, then the bus: the audit log, then the lock

A run that ends before the runner does (a node unreachable, a refused secret) is recorded as
failed in its journal and audit log (hawizard/run/record.py), never left "running".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from hawizard.common.errors import HawizardError
from hawizard.common.redact import Redactor
from hawizard.common.terminal_text import clean
from hawizard.design.model import Design
from hawizard.events import EventBus, OutputLine, Sink, StepFinished
from hawizard.plan.build import Plan, Step
from hawizard.run.gate import GatedSession
from hawizard.run.journal import Journal
from hawizard.run.record import RunRecord, open_run_record
from hawizard.run.runner import Runner, RunResult
from hawizard.run.secrets import SecretStore
from hawizard.run.targets import target_for
from hawizard.sessions.base import NodeSession

SessionFactory = Callable[[str], NodeSession]  # node name -> an open session (tests, the lab)


class Operator(Protocol):
    """The human side of a run, as a front end asks it (terminal prompts, the wizard's dialogs)."""

    def confirm_step(self, step: Step, phrase: str) -> bool:
        """A destructive step: did the operator type ``phrase``?"""

    def confirm_host_key(self, label: str, key_type: str, fingerprint: str) -> bool:
        """First contact with an unknown host key: does the operator trust it?"""

    def sudo_password(self, who: str) -> str:
        """The sudo password of ``who`` (asked once per node; never stored)."""


@dataclass(frozen=True)
class RunRequest:
    """What to run: the design and its plan, where the preset came from, how to reach the nodes."""

    design: Design
    plan: Plan
    preset_ref: str  # the preset's file (absolute) or shipped name, as the journal records it
    transport: str = "ssh"  # ssh | paramiko (hawizard/sessions/factory.py)
    dry_run: bool = False
    resume: Journal | None = None
    poll_scale: float = 1.0  # tests shorten the waits between polls


class RunSession:
    """One run of a plan, from its lock to its last record (see the module docstring)."""

    def __init__(self, request: RunRequest, operator: Operator, *, sinks: Iterable[Sink] = (),
                 session_factory: SessionFactory | None = None) -> None:
        self.request, self.operator = request, operator
        self.redactor = Redactor()
        self.bus = EventBus()
        for sink in sinks:
            self.bus.subscribe(sink)
        self._factory = session_factory
        self._gate = threading.Event()
        self._gate.set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.record: RunRecord | None = None
        self.sessions: dict[str, NodeSession] = {}
        self.secrets: SecretStore | None = None
        self.runner: Runner | None = None
        self._closed = False

    # -- what a front end shows -------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.record.run_id if self.record else ""

    @property
    def journal(self) -> Journal | None:
        return self.record.journal if self.record else None

    @property
    def audit_path(self) -> str:
        return str(self.record.sink.path) if self.record else ""

    @property
    def connected(self) -> bool:
        return bool(self.sessions)

    # -- the run's life ----------------------------------------------------------------------
    def start(self) -> RunSession:
        """Lock the run and its nodes and open its records (RunLocked, exit 3, when they are held)."""
        r = self.request
        self.record = open_run_record(r.design, r.plan, r.preset_ref, self.bus, self.redactor, resume=r.resume,
                                      dry_run=r.dry_run)
        return self

    def connect(self) -> None:
        """Open every node's session and resolve every secret, once; a failure ends the run as failed."""
        if self.sessions:
            return
        opened: dict[str, NodeSession] = {}
        try:
            for name in self.request.design.node_names:
                opened[name] = GatedSession(self._open(name), self._gate, self._stop)
            if not self.request.dry_run:
                secrets = SecretStore(self.request.plan.rendering.secrets, self.redactor)
                for warning in secrets.resolve_all(opened[self.request.plan.primary]):
                    self.bus.emit(OutputLine(step_id="secrets", node=",".join(self.request.design.node_names), stream="status",
                                             text=f"warning: {warning}"))
                self.secrets = secrets
        except BaseException as exc:
            for s in opened.values():
                s.close()
            if isinstance(exc, HawizardError) and self.record is not None:
                # the run ends here: its journal and audit log must say so (not "running")
                self.record.finish("failed", self.redactor.redact_text(clean(str(exc))))
            raise
        self.sessions = opened

    def _open(self, name: str) -> NodeSession:
        if self._factory is not None:
            return self._factory(name)
        if self.request.dry_run:
            from hawizard.sessions.dryrun import DryRunSession

            return DryRunSession(name)
        from hawizard.sessions.factory import open_session

        return open_session(target_for(self.request.design.node(name)), self.request.transport,
                            confirm_host_key=self.operator.confirm_host_key,
                            sudo_password=self.operator.sudo_password)

    def run(self, only: set[str] | None = None, *, include_optional: bool = False) -> RunResult:
        """Run the selected steps on the connected nodes (again, for a retry of the same run)."""
        if self.record is None:
            self.start()
        self.connect()
        if not self.request.dry_run and self.secrets is None:  # never write placeholders to a real node
            raise RuntimeError("the run's secrets were not resolved")
        self._stop.clear()  # a retry after a cancel sends commands again; a pause stays the operator's
        r = self.request
        with self._lock:
            self.runner = Runner(r.plan, self.sessions, self.bus, confirm=self._confirm_when_not_paused,
                                 secrets=self.secrets, run_id=self.run_id, only=only,
                                 include_optional=include_optional, dry_run=r.dry_run, poll_scale=r.poll_scale)
        return self.runner.run()

    def _confirm_when_not_paused(self, step: Step, phrase: str) -> bool:
        """Ask the operator about a destructive step only once the run is not held.

        A paused run asks nothing new, and a run held while the operator answers another question
        (the UI's "Cancel the run?") must not put this question over it: the keys typed for the
        first would answer the second. Cancelled while held: not confirmed.
        """
        self._gate.wait()
        if self._stop.is_set():
            return False
        return self.operator.confirm_step(step, phrase)

    def skip(self, step: Step, reason: str, nodes: Iterable[str]) -> None:
        """Record ``step`` as skipped on ``nodes`` by the operator, with the reason (journal and audit log)."""
        message = f"skipped by the operator: {reason}"
        for node in nodes:
            self.bus.emit(StepFinished(step_id=step.id, node=node, status="skipped", duration=0.0, message=message))

    # -- control from any thread ---------------------------------------------------------------
    def pause(self) -> None:
        """Hold every node before its next command or batch (what runs finishes: a batch to its end)."""
        self._gate.clear()

    def unpause(self) -> None:
        self._gate.set()

    @property
    def paused(self) -> bool:
        return not self._gate.is_set()

    @property
    def stopping(self) -> bool:
        """Cancelled (or closing): nothing more is sent, nobody will answer a question."""
        return self._stop.is_set()

    def cancel(self) -> None:
        """Stop as soon as possible: running commands are interrupted, no new step starts."""
        self._stop.set()
        with self._lock:
            runner = self.runner
        if runner is not None:
            runner.cancel()
        self._gate.set()

    def close(self) -> None:
        """Close the sessions, then the bus (the audit log, then the run's lock). Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for s in self.sessions.values():
            try:
                s.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        self.bus.close()

    def __enter__(self) -> RunSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
