"""Opening the record of a run: its lock, id, journal and audit log, new or resumed, and the first event.

The CLI (hawizard/cli/run.py) and the wizard (hawizard.ui.runctl) both start runs; this is
the one place that decides how a run is recorded, so that the two cannot drift apart:

* the run's lock (hawizard/audit/lock.py) is taken first - before the journal is read for a resume
  or a record is written - and is released when the run's event bus closes, after the audit log;
* a run whose record closes before the runner said how it ended (the nodes could not be
  reached, the process was interrupted, the front end failed) still gets a ``RunFinished``
  record and a journal that says so, so that the journal and the audit log never claim that a
  run is still going when it is not.
"""

from __future__ import annotations

import getpass
import time
from dataclasses import dataclass, field

from hawizard.audit import lock as runlock
from hawizard.audit import log as audit
from hawizard.audit import runs
from hawizard.common.redact import Redactor
from hawizard.design.model import Design
from hawizard.design.preset_file import preset_sha256
from hawizard.events import Event, EventBus, RunFinished, RunStarted
from hawizard.plan.build import Plan
from hawizard.run.journal import Journal, JournalSink


@dataclass
class RunRecord:
    run_id: str
    journal: Journal | None  # None for a dry run: there is nothing to resume
    sink: audit.AuditSink
    lock: runlock.RunLock | None = None
    guard: _EndGuard | None = field(default=None, repr=False)

    def finish(self, status: str, message: str = "") -> None:
        """Record how a run ended that the runner never ran (or did not finish): the log and the journal."""
        if self.guard is not None:
            self.guard.finish(status, message)


class _EndGuard:
    """A sink that knows whether the run's last attempt has a ``RunFinished``; its ``close`` adds one.

    Subscribed before the audit sink, so that what it emits on close is still written.
    """

    def __init__(self, bus: EventBus, run_id: str, journal: Journal | None) -> None:
        self.bus, self.run_id, self.journal = bus, run_id, journal
        self.open = True  # an attempt is under way and has no RunFinished yet
        self.t0 = time.monotonic()

    def handle(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.open = False
        elif not self.open and not isinstance(event, RunStarted):
            self.open = True  # the wizard's retry or skip: a new attempt of the same run
            self.t0 = time.monotonic()

    def finish(self, status: str, message: str = "") -> None:
        if self.open:
            self.bus.emit(RunFinished(run_id=self.run_id, status=status, message=message,
                                      duration=round(time.monotonic() - self.t0, 3)))
        if self.journal is not None and self.journal.status == "running":
            self.journal.finish(status)

    def close(self) -> None:
        self.finish("interrupted", "the run stopped before the runner recorded its end")


def operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def open_run_record(design: Design, plan: Plan, preset_ref: str, bus: EventBus, redactor: Redactor, *,
                    resume: Journal | None = None, dry_run: bool = False) -> RunRecord:
    """Lock the run and its nodes, start (or continue) the journal and the audit log, emit RunStarted.

    Raises ``runlock.RunLocked`` (exit code 3) when another run holds the run or a node.
    A dry run sends nothing to the nodes: it locks only its own run id.
    """
    sha = preset_sha256(design)
    run_id = resume.run_id if resume is not None else runs.new_run_id()
    nodes = [] if dry_run else [(n.ssh_host, n.ssh_port) for n in design.nodes]
    lock = runlock.lock_run(run_id, nodes, preset=design.name, operator=operator())
    try:
        if resume is not None:
            # read again under the lock: another run may have gone on with it since it was chosen
            journal: Journal | None = Journal.load(run_id)
            journal.resumed += 1
            journal.status = "running"
            sink = audit.AuditSink.resume(runs.run_dir(run_id) / runs.AUDIT_FILE, redactor=redactor)
        else:
            journal = None if dry_run else Journal(run_id, preset_ref, sha, plan.step_ids)
            sink = audit.AuditSink.for_run(run_id, redactor=redactor)
    except BaseException:
        lock.release()
        raise
    guard = _EndGuard(bus, run_id, journal)
    bus.subscribe(guard)  # before the log: what it emits on close is still written
    bus.subscribe(sink, critical=True)
    if journal is not None:  # after the log: a step is in the journal once the log has it
        bus.subscribe(JournalSink(journal), critical=True)
    bus.subscribe(lock)  # after the log: released once the log is closed
    if journal is not None:
        journal.save()
    bus.emit(RunStarted(run_id=run_id, preset_name=design.name, preset_sha256=sha, operator=operator(),
                        stack=design.stack, plan=tuple(plan.step_ids), dry_run=dry_run))
    return RunRecord(run_id, journal, sink, lock, guard)
