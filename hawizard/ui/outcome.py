"""What the finish screen shows of a run: its outcome (durations are written by hawizard/common/timefmt.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
