"""The journal of a run: each step's outcome per node, rewritten atomically after every change.

``hawizard apply --resume`` reads it to continue the same run (same audit log, same run id).
The journal says where a run got to; the steps' probes decide what still needs doing, so a
resumed run reaches the same end state even when a node rebooted in between.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .audit import run_dir, runs_dir
from .localfiles import atomic_write

JOURNAL = "journal.json"


@dataclass
class Journal:
    run_id: str
    preset: str
    preset_sha256: str
    plan: list[str]
    steps: dict[str, dict[str, str]] = field(default_factory=dict)  # step -> node -> status
    status: str = "running"  # running | finished | failed | cancelled
    started: float = field(default_factory=time.time)
    resumed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def path(self) -> Path:
        return run_dir(self.run_id, create=True) / JOURNAL

    def record(self, step_id: str, node: str, status: str) -> None:
        with self._lock:  # both-at-once steps finish on two threads
            self.steps.setdefault(step_id, {})[node] = status
            self.save()

    def finish(self, status: str) -> None:
        self.status = status
        self.save()

    def save(self) -> None:
        data = {"run_id": self.run_id, "preset": self.preset, "preset_sha256": self.preset_sha256,
                "plan": self.plan, "steps": self.steps, "status": self.status, "started": self.started,
                "resumed": self.resumed}
        atomic_write(self.path, (json.dumps(data, indent=1) + "\n").encode(), mode=0o600, backup=False)

    def first_unfinished(self) -> str | None:
        for step in self.plan:
            done = self.steps.get(step, {})
            if not done or any(s not in ("done", "already-done", "skipped") for s in done.values()):
                return step
        return None

    @classmethod
    def load(cls, run_id: str) -> Journal:
        data = json.loads((run_dir(run_id) / JOURNAL).read_text())
        return cls(data["run_id"], data["preset"], data["preset_sha256"], data["plan"], data["steps"],
                   data["status"], data["started"], data.get("resumed", 0))


def latest_unfinished(preset_sha256: str | None = None) -> Journal | None:
    """The newest run that did not finish (optionally: for this preset)."""
    base = runs_dir()
    if not base.is_dir():
        return None
    for d in sorted(base.iterdir(), reverse=True):
        if not (d / JOURNAL).is_file():
            continue
        try:
            j = Journal.load(d.name)
        except (OSError, ValueError, KeyError):
            continue
        if j.status != "finished" and (preset_sha256 is None or j.preset_sha256 == preset_sha256):
            return j
    return None
