"""What a run was, as a report reads it: runs, steps, nodes, commands, questions and answers.

Why a model between the log and the formats: the audit log is a stream of records, in the order
they happened, interleaved across nodes and resumes; a report wants them grouped (a step, then
each node's commands with their output) and decided (did this step fail here? was this question
answered?). The loader (hawizard/audit/report/load.py) fills these classes from the records; the
renderers read only them, never the log. The decisions - what counts as failed, as answered - are
made here, once.

Engine core: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hawizard.events import parse_time


@dataclass
class CommandReport:
    command: str
    started: str | None = None
    exit_status: int | None = None
    duration: float | None = None
    timed_out: bool = False
    finished: bool = False
    output: list[tuple[str, str, str]] = field(default_factory=list)  # (time, stream, text)

    @property
    def failed(self) -> bool:
        return self.timed_out or (self.finished and self.exit_status not in (0, None)) or (
            self.finished and self.exit_status is None
        )


@dataclass
class NodeReport:
    node: str
    started: str | None = None
    status: str | None = None
    duration: float | None = None
    message: str = ""
    commands: list[CommandReport] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    progress: list[dict[str, Any]] = field(default_factory=list)
    cluster: dict[str, Any] | None = None

    @property
    def succeeded(self) -> bool:
        """The step ended well here (its last record says so), whatever its probes answered on the way."""
        return self.status in ("done", "already-done", "skipped")

    @property
    def failed(self) -> bool:
        """The step's last word decides; a probe's "not yet" (exit 1) is not a failure of a step that
        then ran, and an earlier attempt's failure is not one of a step a resumed run then did."""
        if self.status in ("failed", "cancelled"):
            return True
        return not self.succeeded and any(c.failed for c in self.commands)


@dataclass
class Confirmation:
    """One question of a destructive step (a ConfirmationNeeded record) and its answer, if any.

    ``answer``: ``confirmed`` (a Confirmed record followed), ``refused`` (the step was recorded
    as cancelled: not confirmed), ``unanswered`` (the attempt ended, or asked again, with no
    answer) or None (the log ends while asking).
    """

    asked: str | None
    nodes: str
    prompt: str
    phrase: str
    answer: str | None = None
    by: str | None = None
    answered: str | None = None


@dataclass
class StepReport:
    step_id: str
    title: str = ""
    nodes: dict[str, NodeReport] = field(default_factory=dict)
    confirmations: list[Confirmation] = field(default_factory=list)

    @property
    def open_confirmation(self) -> Confirmation | None:
        c = self.confirmations[-1] if self.confirmations else None
        return c if c is not None and c.answer is None else None

    def node(self, name: str | None) -> NodeReport:
        """This step on one node, made at the node's first record (``-``: a record that names none)."""
        key = name or "-"
        return self.nodes.setdefault(key, NodeReport(key))

    @property
    def failed(self) -> bool:
        return any(n.failed for n in self.nodes.values())


@dataclass
class RunReport:
    path: Path
    run_id: str
    operator: str | None = None
    preset_name: str | None = None
    preset_sha256: str | None = None
    stack: str | None = None
    dry_run: bool | None = None
    plan: list[str] = field(default_factory=list)
    started: str | None = None  # the first run-started record: the run's start, across resumes
    finished: str | None = None  # the last run-finished record, if the last attempt has one
    status: str | None = None
    message: str = ""
    runner_time: float | None = None  # the sum of the runner's own durations of each attempt
    chain_ok: bool = False
    chain_bad_seq: int | None = None
    chain_message: str = ""
    steps: dict[str, StepReport] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    record_count: int = 0

    def step(self, step_id: str | None) -> StepReport:
        """One step, made at its first record (or from the plan); in the order first seen."""
        key = step_id or "(no step)"
        return self.steps.setdefault(key, StepReport(key))

    @property
    def duration(self) -> float | None:
        """Seconds from Started to Finished (wall clock, across resumes); None while unfinished."""
        start, end = parse_time(self.started), parse_time(self.finished)
        return (end - start).total_seconds() if start and end else None

    @property
    def failures(self) -> list[tuple[StepReport, NodeReport]]:
        return [(s, n) for s in self.steps.values() for n in s.nodes.values() if n.failed]
