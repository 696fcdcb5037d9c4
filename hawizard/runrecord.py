"""Opening the record of a run: its id, journal and audit log, new or resumed, and the first event.

The CLI (hawizard/cli_run.py) and the wizard (hawizard.screens.runctl) both start runs; this is
the one place that decides how a run is recorded, so that the two cannot drift apart.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from . import audit
from .events import EventBus, RunStarted
from .journal import Journal
from .model import Design
from .plan import Plan
from .presets import preset_sha256
from .redact import Redactor


@dataclass
class RunRecord:
    run_id: str
    journal: Journal | None  # None for a dry run: there is nothing to resume
    sink: audit.AuditSink


def operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def open_run_record(design: Design, plan: Plan, preset_ref: str, bus: EventBus, redactor: Redactor, *,
                    resume: Journal | None = None, dry_run: bool = False) -> RunRecord:
    """Start (or continue) the journal and the audit log, subscribe the log, emit RunStarted."""
    sha = preset_sha256(design)
    if resume is not None:
        journal: Journal | None = resume
        resume.resumed += 1
        resume.status = "running"
        run_id = resume.run_id
        sink = audit.AuditSink.resume(audit.run_dir(run_id) / audit.AUDIT_FILE, redactor=redactor)
    else:
        run_id = audit.new_run_id()
        journal = None if dry_run else Journal(run_id, preset_ref, sha, plan.step_ids)
        sink = audit.AuditSink.for_run(run_id, redactor=redactor)
    bus.subscribe(sink, critical=True)
    if journal is not None:
        journal.save()
    bus.emit(RunStarted(run_id=run_id, preset_name=design.name, preset_sha256=sha, operator=operator(),
                        stack=design.stack, plan=tuple(plan.step_ids), dry_run=dry_run))
    return RunRecord(run_id, journal, sink)
