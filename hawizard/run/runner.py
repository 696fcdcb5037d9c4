"""The runner: executes a plan over node sessions and tells every sink what happens.

Data flows one way: plan -> runner -> events -> sinks (console, Textual UI, audit log). The
runner asks nothing of its sinks; the only question it puts to the operator is the typed
confirmation of a destructive step, through the ``confirm`` callback it was given.

Per step: probes first (exit 0 = already done on that node); if any node needs work and the
step destroys data, the confirmation; then the actions, on each node in turn, on both at once,
or on the primary only; then the step's completion marker, if it has one; then the check of the
facts its nodes reported, if it carries one. Consecutive commands of a step on one node travel
in one round trip (``NodeSession.run_batch``), each with its own exit status, output, timeout and
events, in the order one by one would give; the batch stops at the first failure, so a command
never runs after one that failed. The runner knows kinds of action, not particular
steps: what a step needs beyond its actions is data of the step (hawizard/plan/types.py), and
what a poll waits for is the poll's reader and condition (hawizard/plan/waits.py).

The runner keeps no records itself: the journal, like the console, the wizard and the audit
log, is a sink of the events (hawizard/run/journal.py ``JournalSink``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hawizard.common.errors import OperationFailed
from hawizard.common.shellquote import q
from hawizard.events import (
    CommandFinished,
    CommandStarted,
    ConfirmationNeeded,
    Confirmed,
    EventBus,
    FileWritten,
    OutputLine,
    RunFinished,
    RunStatus,
    StepFinished,
    StepStarted,
    StepStatus,
)
from hawizard.plan.crosscheck import CLOCK, CLOCK_AT
from hawizard.plan.types import Action, Fact, Plan, Poll, Run, Step, Where, Write
from hawizard.run.secrets import SecretStore
from hawizard.sessions.base import BatchCommand, CommandResult, ConnectionLost, NodeSession

Confirm = Callable[[Step, str], bool]  # (step, phrase to type) -> confirmed?


class StepFailed(OperationFailed):
    def __init__(self, step: Step, node: str, message: str):
        self.step, self.node = step, node
        super().__init__(f"step {step.id} failed on {node}: {message}")


class RunCancelled(OperationFailed):
    exit_code = 130


@dataclass
class RunResult:
    status: RunStatus  # finished | failed | cancelled
    duration: float
    message: str = ""
    steps: dict[str, dict[str, StepStatus]] = field(default_factory=dict)  # this run's: step -> node -> status


class Runner:
    """Runs the selected steps of ``plan`` over ``sessions`` (node name -> session), emitting to ``bus``.

    ``run_id`` names the run in its ``RunFinished``; the plan carries all else the runner needs.
    """

    def __init__(self, plan: Plan, sessions: dict[str, NodeSession], bus: EventBus, *,
                 confirm: Confirm, secrets: SecretStore | None, run_id: str = "dry-run",
                 only: set[str] | None = None, include_optional: bool = False, dry_run: bool = False,
                 poll_scale: float = 1.0):
        self.plan, self.sessions, self.bus = plan, sessions, bus
        self.confirm, self.secrets = confirm, secrets
        self.only, self.include_optional, self.dry_run = only, include_optional, dry_run
        self.poll_scale = poll_scale  # tests shorten poll intervals
        self.facts: dict[str, dict[str, str]] = {n: {} for n in sessions}
        self.outcomes: dict[str, dict[str, StepStatus]] = {}
        self._outcomes_lock = threading.Lock()  # both-at-once steps finish on two threads
        self._cancel = threading.Event()
        self._run_id = run_id

    # -- control ---------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop as soon as possible: the running commands are interrupted, no new step starts."""
        self._cancel.set()
        for s in self.sessions.values():
            try:
                s.cancel()
            except Exception:  # noqa: BLE001 - best effort from another thread
                pass

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # -- the run ---------------------------------------------------------------------
    def selected_steps(self) -> list[Step]:
        out = []
        for s in self.plan.steps:
            if self.only is not None:
                if s.id in self.only:
                    out.append(s)
            elif not s.optional or self.include_optional:
                out.append(s)
        return out

    def run(self) -> RunResult:
        t0 = time.monotonic()
        status, message = RunStatus.FINISHED, ""
        try:
            for step in self.selected_steps():
                if self.cancelled:
                    raise RunCancelled("cancelled by the operator")
                self._run_step(step)
                if step.facts_check is not None and not self.dry_run:
                    self._check_facts(step)
        except RunCancelled as exc:
            status, message = RunStatus.CANCELLED, str(exc)
        except (StepFailed, OperationFailed) as exc:
            status, message = RunStatus.FAILED, str(exc)
        duration = time.monotonic() - t0
        self.bus.emit(RunFinished(run_id=self._run_id, status=status, duration=round(duration, 3)))
        with self._outcomes_lock:
            outcomes = {step_id: dict(nodes) for step_id, nodes in self.outcomes.items()}
        return RunResult(status, duration, message, outcomes)

    def _check_facts(self, step: Step) -> None:
        """The step's check of what its nodes reported (preflight: disks of one size, clocks together)."""
        assert step.facts_check is not None
        problems = step.facts_check.problems(self.facts)
        if problems:
            raise StepFailed(step, "both", "; ".join(problems))
        for warning in step.facts_check.warnings(self.facts):
            self.bus.emit(OutputLine(step_id=step.id, node="both", stream="status", text=f"warning: {warning}"))

    def _record(self, step: Step, node: str, status: StepStatus, duration: float, message: str = "") -> None:
        with self._outcomes_lock:
            self.outcomes.setdefault(step.id, {})[node] = status
        self.bus.emit(StepFinished(step_id=step.id, node=node, status=status, duration=round(duration, 3),
                                   message=message))

    def _run_step(self, step: Step) -> None:
        nodes = step.nodes
        # 1. probes: which nodes still need this step
        todo = []
        for node in nodes:
            if step.probe.get(node) and not self.dry_run:
                result = self._exec(step, node, step.probe[node], timeout=60, quiet=True)
                if result.exit_status == 0:
                    self.bus.emit(StepStarted(step_id=step.id, title=step.title, node=node))
                    self._record(step, node, StepStatus.ALREADY_DONE, 0.0, "already done (probe)")
                    continue
            todo.append(node)
        if not todo:
            return
        # 2. confirmation of a destructive step, once, before any node is touched
        if step.destructive:
            self.bus.emit(ConfirmationNeeded(step_id=step.id, node=",".join(todo), prompt=step.explain or step.title,
                                             expected_phrase=step.confirm))
            if not self.confirm(step, step.confirm):
                for node in todo:
                    self._record(step, node, StepStatus.CANCELLED, 0.0, "not confirmed")
                raise RunCancelled(f"step {step.id} was not confirmed; nothing was changed by it")
            self.bus.emit(Confirmed(step_id=step.id, by="operator"))
        # 3. actions
        if step.where == Where.BOTH and len(todo) > 1:
            errors: list[BaseException] = []

            def work(n: str) -> None:
                try:
                    self._run_on_node(step, n)
                except BaseException as exc:  # noqa: BLE001 - re-raised below in the runner thread
                    errors.append(exc)
                    self.cancel_others(n)
            threads = [threading.Thread(target=work, args=(n,), name=f"{step.id}@{n}") for n in todo]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                first = next((e for e in errors if not isinstance(e, RunCancelled)), errors[0])
                raise first
        else:
            for node in todo:
                self._run_on_node(step, node)

    def cancel_others(self, failed_node: str) -> None:
        """A node of a both-at-once step failed: the other node's waits are pointless."""
        for name, s in self.sessions.items():
            if name != failed_node:
                try:
                    s.cancel()
                except Exception:  # noqa: BLE001
                    pass

    def _run_on_node(self, step: Step, node: str) -> None:
        t0 = time.monotonic()
        self.bus.emit(StepStarted(step_id=step.id, title=step.title, node=node))
        warnings: list[str] = []
        try:
            actions = step.actions[node]
            i = 0
            while i < len(actions):
                if self.cancelled:
                    raise RunCancelled("cancelled by the operator")
                run = _commands_from(actions, i)
                if len(run) > 1:
                    i += self._batch(step, node, run, warnings)
                else:
                    self._action(step, node, actions[i], warnings)
                    i += 1
            if step.marker is not None and not self.dry_run:
                marker = step.marker
                self.sessions[node].run(f"mkdir -p {q(marker.directory)}", timeout=30)
                self.sessions[node].write_file(marker.path, marker.content.encode(), mode=0o644, backup=False)
        except StepFailed as exc:
            self._record(step, node, StepStatus.FAILED, time.monotonic() - t0, str(exc))
            raise
        except RunCancelled:
            self._record(step, node, StepStatus.CANCELLED, time.monotonic() - t0, "cancelled")
            raise
        except ConnectionLost as exc:
            self._record(step, node, StepStatus.FAILED, time.monotonic() - t0, f"connection lost: {exc}")
            raise StepFailed(step, node, f"connection lost ({exc}); run again with --resume") from None
        except OperationFailed as exc:
            self._record(step, node, StepStatus.FAILED, time.monotonic() - t0, str(exc))
            raise StepFailed(step, node, str(exc)) from None
        msg = "; ".join(f"warning: {w}" for w in warnings)
        self._record(step, node, StepStatus.DONE, time.monotonic() - t0, msg)

    # -- actions ---------------------------------------------------------------------
    def _exec(self, step: Step, node: str, command: str, *, timeout: float, quiet: bool = False) -> CommandResult:
        session = self.sessions[node]
        self.bus.emit(CommandStarted(step_id=step.id, node=node, command=command))

        def out(stream: str, line: str) -> None:
            if not quiet:
                self.bus.emit(OutputLine(step_id=step.id, node=node, stream=stream, text=line))
        try:
            result = session.run(command, timeout=timeout, on_output=out)
        except ConnectionLost as exc:
            r = exc.result
            self.bus.emit(CommandFinished(step_id=step.id, node=node, command=command, exit_status=-1,
                                          duration=round(r.duration, 3) if r else 0.0))
            raise
        self.bus.emit(CommandFinished(step_id=step.id, node=node, command=command, exit_status=result.exit_status,
                                      duration=round(result.duration, 3), timed_out=result.timed_out))
        if self.cancelled and result.exit_status in (130, -1):
            raise RunCancelled("cancelled by the operator")
        return result

    def _batch(self, step: Step, node: str, commands: tuple[Run | Fact, ...], warnings: list[str]) -> int:
        """Consecutive commands of a step on one node in one round trip (``NodeSession.run_batch``).

        The events are the ones ``_exec`` emits for each command, in the same order (started,
        output, finished, then the next), and each result is judged as ``_action`` judges it. The
        session stops at the first command that fails: a fatal one fails the step there, as one by
        one; after a non-fatal one the caller goes on with the rest. Returns how many ran.
        """
        announced: list[int] = []

        def out(stream: str, line: str) -> None:
            self.bus.emit(OutputLine(step_id=step.id, node=node, stream=stream, text=line))

        def started(k: int) -> None:
            announced.append(k)
            self.bus.emit(CommandStarted(step_id=step.id, node=node, command=commands[k].command))

        def finished(k: int, result: CommandResult) -> None:
            self.bus.emit(CommandFinished(step_id=step.id, node=node, command=commands[k].command,
                                          exit_status=result.exit_status, duration=round(result.duration, 3),
                                          timed_out=result.timed_out))

        timeouts = [self._timeout(step, a) for a in commands]
        batch = [BatchCommand(a.command, timeout=t, on_output=out) for a, t in zip(commands, timeouts, strict=True)]
        try:
            results = self.sessions[node].run_batch(batch, on_start=started, on_finish=finished)
        except ConnectionLost as exc:
            if announced:  # the command under way when the link died; its outcome is unknown
                r = exc.result
                self.bus.emit(CommandFinished(step_id=step.id, node=node, command=commands[announced[-1]].command,
                                              exit_status=-1, duration=round(r.duration, 3) if r else 0.0))
            raise
        for action, timeout, result in zip(commands, timeouts, results, strict=False):
            if self.cancelled and result.exit_status in (130, -1):
                raise RunCancelled("cancelled by the operator")
            self._judge(step, node, action, result, timeout, warnings)
        return len(results)

    @staticmethod
    def _timeout(step: Step, action: Run | Fact) -> float:
        return float(action.timeout_s or step.timeout_s)

    def _judge(self, step: Step, node: str, action: Run | Fact, result: CommandResult, timeout: float,
               warnings: list[str]) -> None:
        """What a command's result means for its step: a failure, a warning, a fact of the node."""
        if result.exit_status != 0:
            why = _last_line(result) or f"exit status {result.exit_status}"
            if result.timed_out:
                why = f"timed out after {timeout:.0f} s"
            if action.fatal:
                what = action.description or action.command
                # a check() says its failure twice (description and stderr): once is enough
                raise StepFailed(step, node, what if why == what else f"{what}: {why}")
            warnings.append(why)
        if isinstance(action, Fact):
            self.facts[node][action.fact] = result.stdout.strip()
            if action.fact == CLOCK:  # crosscheck.py: the nodes' offsets from this machine's clock are compared
                self.facts[node][CLOCK_AT] = str(int(time.time()))

    def _action(self, step: Step, node: str, action: Action, warnings: list[str]) -> None:
        if isinstance(action, Run | Fact):
            timeout = self._timeout(step, action)
            result = self._exec(step, node, action.command, timeout=timeout)
            self._judge(step, node, action, result, timeout, warnings)
        elif isinstance(action, Write):
            self._write(step, node, action)
        elif isinstance(action, Poll):
            self._poll(step, node, action, float(action.timeout_s or step.timeout_s))
        else:  # pragma: no cover - hawizard/plan/types.py has the kinds above
            raise StepFailed(step, node, f"unknown kind of action {type(action).__name__}")

    def _write(self, step: Step, node: str, action: Write) -> None:
        f = self.plan.rendering.get(action.file_id)
        if self.dry_run or self.secrets is None:
            data = f.preview(self.plan.rendering.secrets).encode()
        elif f.whole_secret:  # a file that is one secret and nothing else (the corosync authkey): raw bytes
            data = self.secrets.get(f.whole_secret, self.sessions.get(self.plan.primary))
        else:
            for name in f.secrets:
                self.secrets.get(name, self.sessions.get(self.plan.primary))
            data = f.with_secrets(self.secrets.text_values()).encode()
        parent = f.path.rsplit("/", 1)[0] or "/"
        if not self.dry_run:
            self.sessions[node].run(f"mkdir -p {q(parent)}", timeout=30)
        written = self.sessions[node].write_file(f.path, data, mode=f.mode, owner=f.owner, group=f.group, backup=True)
        self.bus.emit(FileWritten(step_id=step.id, node=node, path=f.path, mode=f.mode_str, owner=f"{f.owner}:{f.group}",
                                  sha256=written.sha256, changed=written.changed, backup_path=written.backup_path))

    def _poll(self, step: Step, node: str, poll: Poll, timeout: float) -> None:
        """Run the poll's command until its condition holds; say each new state; fail after ``timeout``."""
        if self.dry_run:
            self._exec(step, node, poll.command, timeout=30)
            return
        deadline = time.monotonic() + timeout
        watch = poll.watch(step.id, node)
        what = poll.description or poll.until.wire
        last_state = ""
        while True:
            if self.cancelled:
                raise RunCancelled("cancelled by the operator")
            result = self._exec(step, node, poll.command, timeout=60, quiet=True)
            if result.exit_status in (126, 127):  # the shell cannot run it: waiting will not help
                raise StepFailed(step, node, f"{what}: the command cannot run "
                                             f"on {node} ({_last_line(result) or f'exit {result.exit_status}'})")
            answer = watch.check(result.exit_status, result.stdout)
            for event in answer.events:
                self.bus.emit(event)
            if answer.state and answer.state != last_state:
                self.bus.emit(OutputLine(step_id=step.id, node=node, stream="status", text=answer.state))
                last_state = answer.state
            if answer.reached:
                return
            if time.monotonic() >= deadline:
                raise StepFailed(step, node, f"{what}: not reached after {timeout:.0f} s "
                                             f"(last: {answer.state or _last_line(result) or 'no answer'})")
            self._cancel.wait(max(0.05, poll.interval_s * self.poll_scale))


def _commands_from(actions: tuple[Action, ...], i: int) -> tuple[Run | Fact, ...]:
    """The commands (``Run``, ``Fact``) that follow one another in ``actions`` from ``i`` on: one batch.

    A write or a poll ends a batch: a write needs the secrets and its own check of the file, a
    poll decides from each answer whether to ask again.
    """
    j = i
    while j < len(actions) and isinstance(actions[j], Run | Fact):
        j += 1
    return tuple(a for a in actions[i:j] if isinstance(a, Run | Fact))


def _last_line(result: CommandResult) -> str:
    for text in (result.stderr, result.stdout):
        lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
        if lines:
            return lines[-1][:300]
    return ""


__all__ = ["Runner", "RunResult", "StepFailed", "RunCancelled"]
