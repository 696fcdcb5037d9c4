"""The runner: executes a plan over node sessions and tells every sink what happens.

Data flows one way: plan -> runner -> events -> sinks (console, Textual UI, audit log). The
runner asks nothing of its sinks; the only question it puts to the operator is the typed
confirmation of a destructive step, through the ``confirm`` callback it was given.

Per step: probes first (exit 0 = already done on that node); if any node needs work and the
step destroys data, the confirmation; then the actions, on each node in turn, on both at once,
or on the primary only; then a completion marker where the step has no natural probe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hawizard.common.errors import OperationFailed
from hawizard.design.model import Design
from hawizard.events import (
    CommandFinished,
    CommandStarted,
    ConfirmationNeeded,
    Confirmed,
    EventBus,
    FileWritten,
    OutputLine,
    Progress,
    RunFinished,
    StepFinished,
    StepStarted,
)
from hawizard.plan import build as planmod
from hawizard.plan.build import Action, Plan, Step
from hawizard.readers.crm_mon import ClusterStatus, parse_crm_mon
from hawizard.readers.drbd import SyncProgress, parse_any
from hawizard.run.journal import Journal
from hawizard.run.secrets import SecretStore
from hawizard.sessions.base import CommandResult, ConnectionLost, NodeSession

Confirm = Callable[[Step, str], bool]  # (step, phrase to type) -> confirmed?


class StepFailed(OperationFailed):
    def __init__(self, step: Step, node: str, message: str):
        self.step, self.node = step, node
        super().__init__(f"step {step.id} failed on {node}: {message}")


class RunCancelled(OperationFailed):
    exit_code = 130


@dataclass
class RunResult:
    status: str  # finished | failed | cancelled
    duration: float
    message: str = ""
    steps: dict[str, dict[str, str]] = field(default_factory=dict)


class Runner:
    def __init__(self, plan: Plan, design: Design, sessions: dict[str, NodeSession], bus: EventBus, *,
                 confirm: Confirm, secrets: SecretStore | None, journal: Journal | None = None,
                 only: set[str] | None = None, include_optional: bool = False, dry_run: bool = False,
                 poll_scale: float = 1.0):
        self.plan, self.design, self.sessions, self.bus = plan, design, sessions, bus
        self.confirm, self.secrets, self.journal = confirm, secrets, journal
        self.only, self.include_optional, self.dry_run = only, include_optional, dry_run
        self.poll_scale = poll_scale  # tests shorten poll intervals
        self.facts: dict[str, dict[str, str]] = {n: {} for n in sessions}
        self._cancel = threading.Event()
        self._run_id = journal.run_id if journal else "dry-run"

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
        status, message = "finished", ""
        try:
            for step in self.selected_steps():
                if self.cancelled:
                    raise RunCancelled("cancelled by the operator")
                self._run_step(step)
                if step.id == "preflight" and not self.dry_run:
                    problems = planmod.cross_node_problems(self.design, self.facts)
                    if problems:
                        raise StepFailed(step, "both", "; ".join(problems))
                    for warning in planmod.cross_node_warnings(self.design, self.facts):
                        self.bus.emit(OutputLine(step_id=step.id, node="both", stream="status",
                                                 text=f"warning: {warning}"))
        except RunCancelled as exc:
            status, message = "cancelled", str(exc)
        except (StepFailed, OperationFailed) as exc:
            status, message = "failed", str(exc)
        duration = time.monotonic() - t0
        self.bus.emit(RunFinished(run_id=self._run_id, status=status, duration=round(duration, 3)))
        if self.journal:
            self.journal.finish(status)
        return RunResult(status, duration, message, dict(self.journal.steps) if self.journal else {})

    def _record(self, step: Step, node: str, status: str, duration: float, message: str = "") -> None:
        self.bus.emit(StepFinished(step_id=step.id, node=node, status=status, duration=round(duration, 3),
                                   message=message))
        if self.journal:
            self.journal.record(step.id, node, status)

    def _run_step(self, step: Step) -> None:
        nodes = step.nodes
        # 1. probes: which nodes still need this step
        todo = []
        for node in nodes:
            if step.probe.get(node) and not self.dry_run:
                res = self._exec(step, node, step.probe[node], timeout=60, quiet=True)
                if res.exit_status == 0:
                    self.bus.emit(StepStarted(step_id=step.id, title=step.title, node=node))
                    self._record(step, node, "already-done", 0.0, "already done (probe)")
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
                    self._record(step, node, "cancelled", 0.0, "not confirmed")
                raise RunCancelled(f"step {step.id} was not confirmed; nothing was changed by it")
            self.bus.emit(Confirmed(step_id=step.id, by="operator"))
        # 3. actions
        if step.where == planmod.BOTH and len(todo) > 1:
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
            for action in step.actions[node]:
                if self.cancelled:
                    raise RunCancelled("cancelled by the operator")
                self._action(step, node, action, warnings)
            if step.marker and not self.dry_run:
                content = (planmod.config_hash(self.plan.rendering, "cluster-config")
                           if step.id == "cluster-config" else "done")
                self.sessions[node].run(f"mkdir -p {planmod.DONE_DIR}", timeout=30)
                self.sessions[node].write_file(f"{planmod.DONE_DIR}/{step.id}", content.encode(), mode=0o644,
                                               backup=False)
        except StepFailed as exc:
            self._record(step, node, "failed", time.monotonic() - t0, str(exc))
            raise
        except RunCancelled:
            self._record(step, node, "cancelled", time.monotonic() - t0, "cancelled")
            raise
        except ConnectionLost as exc:
            self._record(step, node, "failed", time.monotonic() - t0, f"connection lost: {exc}")
            raise StepFailed(step, node, f"connection lost ({exc}); run again with --resume") from None
        except OperationFailed as exc:
            self._record(step, node, "failed", time.monotonic() - t0, str(exc))
            raise StepFailed(step, node, str(exc)) from None
        msg = "; ".join(f"warning: {w}" for w in warnings)
        self._record(step, node, "done", time.monotonic() - t0, msg)

    # -- actions ---------------------------------------------------------------------
    def _exec(self, step: Step, node: str, command: str, *, timeout: float, quiet: bool = False) -> CommandResult:
        session = self.sessions[node]
        self.bus.emit(CommandStarted(step_id=step.id, node=node, command=command))

        def out(stream: str, line: str) -> None:
            if not quiet:
                self.bus.emit(OutputLine(step_id=step.id, node=node, stream=stream, text=line))
        try:
            res = session.run(command, timeout=timeout, on_output=out)
        except ConnectionLost as exc:
            r = exc.result
            self.bus.emit(CommandFinished(step_id=step.id, node=node, command=command, exit_status=-1,
                                          duration=round(r.duration, 3) if r else 0.0))
            raise
        self.bus.emit(CommandFinished(step_id=step.id, node=node, command=command, exit_status=res.exit_status,
                                      duration=round(res.duration, 3), timed_out=res.timed_out))
        if self.cancelled and res.exit_status in (130, -1):
            raise RunCancelled("cancelled by the operator")
        return res

    def _action(self, step: Step, node: str, action: Action, warnings: list[str]) -> None:
        timeout = float(action.timeout_s or step.timeout_s)
        if action.kind in ("run", "fact"):
            res = self._exec(step, node, action.command, timeout=timeout)
            if res.exit_status != 0:
                why = _last_line(res) or f"exit status {res.exit_status}"
                if res.timed_out:
                    why = f"timed out after {timeout:.0f} s"
                if action.fatal:
                    raise StepFailed(step, node, f"{action.description or action.command}: {why}")
                warnings.append(why)
            if action.kind == "fact":
                self.facts[node][action.fact] = res.stdout.strip()
        elif action.kind == "write":
            self._write(step, node, action)
        elif action.kind == "poll":
            self._poll(step, node, action, timeout)
        else:  # pragma: no cover - the plan only makes the kinds above
            raise StepFailed(step, node, f"unknown action kind {action.kind}")

    def _write(self, step: Step, node: str, action: Action) -> None:
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
            self.sessions[node].run(f"mkdir -p {planmod.q(parent)}", timeout=30)
        res = self.sessions[node].write_file(f.path, data, mode=f.mode, owner=f.owner, group=f.group, backup=True)
        self.bus.emit(FileWritten(step_id=step.id, node=node, path=f.path, mode=f.mode_str, owner=f"{f.owner}:{f.group}",
                                  sha256=res.sha256, changed=res.changed, backup_path=res.backup_path))

    def _poll(self, step: Step, node: str, action: Action, timeout: float) -> None:
        if self.dry_run:
            self._exec(step, node, action.command, timeout=30)
            return
        deadline = time.monotonic() + timeout
        tracker = SyncProgress(step.id, node) if action.until == "synced" else None
        last_state = ""
        while True:
            if self.cancelled:
                raise RunCancelled("cancelled by the operator")
            res = self._exec(step, node, action.command, timeout=60, quiet=True)
            if res.exit_status in (126, 127):  # the shell cannot run it: waiting will not help
                raise StepFailed(step, node, f"{action.description or action.until}: the command cannot run "
                                             f"on {node} ({_last_line(res) or f'exit {res.exit_status}'})")
            ok, state = self._condition(step, node, action, res, tracker)
            if state and state != last_state:
                self.bus.emit(OutputLine(step_id=step.id, node=node, stream="status", text=state))
                last_state = state
            if ok:
                return
            if time.monotonic() >= deadline:
                raise StepFailed(step, node, f"{action.description or action.until}: not reached after "
                                             f"{timeout:.0f} s (last: {state or _last_line(res) or 'no answer'})")
            self._cancel.wait(max(0.05, action.interval_s * self.poll_scale))

    def _condition(self, step: Step, node: str, action: Action, res: CommandResult,
                   tracker: SyncProgress | None) -> tuple[bool, str]:
        text = res.stdout
        until = action.until
        if action.reader == "drbd-cstate":
            cs = text.strip().splitlines()[0] if text.strip() else ""
            return (res.exit_status == 0 and (cs == "Connected" or cs.startswith(("Sync", "Established")))), cs
        if until == "synced":
            statuses = [s for s in parse_any(text)
                        if s.resource in (None, self.design.drbd.resource)]
            assert tracker is not None
            for ev in tracker.update(statuses):
                self.bus.emit(ev)
            if not statuses:
                return False, ""
            st = statuses[0]
            return st.synced, st.summary()
        if action.reader in ("crm-mon-xml", "crm-mon-text"):
            if res.exit_status != 0 or not text.strip():
                return False, "cluster not answering yet"
            status = parse_crm_mon(text)
            self.bus.emit(status.to_event(step.id, node))
            return _cluster_condition(status, until, self.design), _cluster_summary(status)
        return res.exit_status == 0, ""


def _cluster_condition(status: ClusterStatus, until: str, design: Design) -> bool:
    names = set(design.node_names)
    if until == "nodes-online":
        return names <= set(status.nodes_online)
    if until.startswith("service-up:"):
        group = until.split(":", 1)[1]
        promoted = status.promoted_node(design.cluster.ids.drbd_clone)
        return promoted is not None and status.all_started_on(group) == promoted
    if until.startswith("group-on:"):
        _, group, node = until.split(":", 2)
        return status.all_started_on(group) == node
    return False


def _cluster_summary(status: ClusterStatus) -> str:
    parts = [f"online: {' '.join(status.nodes_online) or '-'}"]
    if status.nodes_offline:
        parts.append(f"offline: {' '.join(status.nodes_offline)}")
    active = [f"{r.id}={r.role}@{r.node}" for r in status.resources if r.node]
    if active:
        parts.append(" ".join(active))
    stopped = sorted({r.id for r in status.resources if not r.node})
    if stopped:
        parts.append("stopped: " + " ".join(stopped))
    for f in status.failures[:4]:  # the operator needs the reason, not only the symptom
        what = " ".join(str(x) for x in (f.operation, "on " + f.node if f.node else None, f.status, f.reason)
                        if x)
        parts.append(f"FAILED {f.resource}: {what}")
    return "; ".join(parts)


def _last_line(res: CommandResult) -> str:
    for text in (res.stderr, res.stdout):
        lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
        if lines:
            return lines[-1][:300]
    return ""


__all__ = ["Runner", "RunResult", "StepFailed", "RunCancelled", "Progress"]
