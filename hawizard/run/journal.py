"""The journal of a run: each step's outcome per node, rewritten atomically after every change.

``hawizard apply --resume`` reads it to continue the same run (same audit log, same run id).
The journal says where a run got to; the steps' probes decide what still needs doing, so a
resumed run reaches the same end state even when a node rebooted in between.

The runner does not write it: a ``JournalSink`` on the run's event bus records each
``StepFinished`` and the ``RunFinished`` (hawizard/run/record.py subscribes it), as the console,
the wizard and the audit log each record what they need of the same events.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from hawizard.audit.runs import RUN_ID_RE, run_dir, runs_dir
from hawizard.common.errors import InputError
from hawizard.common.localfiles import atomic_write
from hawizard.events import RUN_STATUSES, SETTLED, Event, RunFinished, RunStatus, StepFinished, StepStatus

JOURNAL = "journal.json"
RUNNING = "running"
#: A run's status in its journal: "running", or how it ended (hawizard/events.py RunStatus).
STATUSES = (RUNNING, *RUN_STATUSES)


@dataclass
class Journal:
    run_id: str
    preset: str
    preset_sha256: str
    plan: list[str]
    steps: dict[str, dict[str, str]] = field(default_factory=dict)  # step -> node -> status
    status: str = RUNNING  # one of STATUSES
    started: float = field(default_factory=time.time)
    resumed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def path(self) -> Path:
        return run_dir(self.run_id, create=True) / JOURNAL

    def record(self, step_id: str, node: str, status: StepStatus) -> None:
        with self._lock:  # both-at-once steps finish on two threads
            self.steps.setdefault(step_id, {})[node] = StepStatus(status).value
            self.save()

    def finish(self, status: RunStatus) -> None:
        self.status = RunStatus(status).value
        self.save()

    def save(self) -> None:
        data = {"run_id": self.run_id, "preset": self.preset, "preset_sha256": self.preset_sha256,
                "plan": self.plan, "steps": self.steps, "status": self.status, "started": self.started,
                "resumed": self.resumed}
        atomic_write(self.path, (json.dumps(data, indent=1) + "\n").encode(), mode=0o600, backup=False)

    def first_unfinished(self) -> str | None:
        for step in self.plan:
            done = self.steps.get(step, {})
            if not done or any(s not in SETTLED for s in done.values()):
                return step
        return None

    @classmethod
    def load(cls, run_id: str) -> Journal:
        """The journal of run ``run_id``; ``InputError`` (exit 2) naming the file if it is missing or malformed."""
        path = run_dir(run_id) / JOURNAL
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"no run {run_id}: {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"{path}: not valid JSON ({exc})") from None
        return cls(**_checked(data, path, run_id))


class JournalSink:
    """Records in ``journal`` how each step ended on each node, and how the run ended: a sink of the run's events.

    Subscribed (as critical: a run whose journal cannot be written stops, as the audit log's does)
    by hawizard/run/record.py ``open_run_record``; the operator's skips reach it the same way,
    as ``StepFinished`` events with the status ``skipped``.
    """

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def handle(self, event: Event) -> None:
        if isinstance(event, StepFinished):
            self.journal.record(event.step_id, event.node, event.status)
        elif isinstance(event, RunFinished):
            self.journal.finish(event.status)


def _checked(data: object, path: Path, run_id: str) -> dict:
    """The journal's fields, each of the type ``save`` writes; ``InputError`` names the file and the key."""
    def bad(what: str) -> InputError:
        return InputError(f"{path}: not a hawizard journal: {what}")

    if not isinstance(data, dict):
        raise bad(f"expected a JSON object, found {type(data).__name__}")
    for key in ("run_id", "preset", "preset_sha256", "plan", "steps", "status", "started"):
        if key not in data:
            raise bad(f"'{key}' is missing")
    for key in ("run_id", "preset", "preset_sha256", "status"):
        if not isinstance(data[key], str):
            raise bad(f"'{key}' must be a string")
    if data["run_id"] != run_id:
        raise bad(f"'run_id' is {data['run_id']!r} but the file is in the directory of run {run_id}")
    if data["status"] not in STATUSES:
        raise bad(f"'status' must be one of {', '.join(STATUSES)}, not {data['status']!r}")
    plan = data["plan"]
    if not isinstance(plan, list) or not all(isinstance(s, str) for s in plan):
        raise bad("'plan' must be a list of step ids")
    steps = data["steps"]
    if not isinstance(steps, dict) or not all(
            isinstance(nodes, dict) and all(isinstance(n, str) and isinstance(st, str) for n, st in nodes.items())
            for nodes in steps.values()):
        raise bad("'steps' must map each step id to {node: status}")
    started = data["started"]
    if isinstance(started, bool) or not isinstance(started, int | float):
        raise bad("'started' must be a number (seconds since the epoch)")
    resumed = data.get("resumed", 0)
    if isinstance(resumed, bool) or not isinstance(resumed, int) or resumed < 0:
        raise bad("'resumed' must be a whole number")
    return {"run_id": run_id, "preset": data["preset"], "preset_sha256": data["preset_sha256"], "plan": plan,
            "steps": steps, "status": data["status"], "started": float(started), "resumed": resumed}


def latest_unfinished(preset_sha256: str | None = None) -> Journal | None:
    """The newest run that did not finish (optionally: for this preset)."""
    base = runs_dir()
    if not base.is_dir():
        return None
    for d in sorted(base.iterdir(), reverse=True):
        if not RUN_ID_RE.match(d.name) or ".." in d.name or not (d / JOURNAL).is_file():
            continue
        try:
            j = Journal.load(d.name)
        except InputError:  # not a run's journal (or damaged): `apply --resume RUN` names the problem
            continue
        if j.status != RunStatus.FINISHED and (preset_sha256 is None or j.preset_sha256 == preset_sha256):
            return j
    return None
