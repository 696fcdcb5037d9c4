"""What the readable reports show, decided once: the figures, the words, and the parts of each step.

Why: the Markdown and the HTML report show the same facts and differ only in markup. So that a
fact cannot appear in one and be forgotten in the other, everything a reader sees is decided here
- which words an answer to a confirmation reads, how a long output is trimmed, what a node's
heading says, the lines about files, progress and the cluster - as a small structure
(``StepView``, ``NodeView``, ``CommandView``) that each renderer walks, writing its own markup and
escaping each value its own way. Where a line mixes fixed words and values from the log, it is a
tuple of ``Span``s, so that a renderer knows which parts to escape.

Everything shown that comes from the log goes through ``shown``: cleaned of terminal controls
(hawizard/common/terminal_text.py), then redacted again by the patterns (a second line of defence,
in case a secret slipped past the run's redactor). Long outputs are trimmed to their first and
last lines, with a note saying how many were left out; the full output stays in the audit log.

The figures say what they measure: the run's duration is the time from its Started to its
Finished record (wall clock, across resumes); a step's and a command's duration are the
runner's own measurement of that step or command.

Engine core: standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from hawizard.audit.report.model import CommandReport, Confirmation, NodeReport, RunReport
from hawizard.common.redact import redact_patterns
from hawizard.common.terminal_text import clean
from hawizard.common.timefmt import fmt_duration
from hawizard.events import parse_time

HEAD_LINES = 40
TAIL_LINES = 40


def shown(text: Any, *, keep_newlines: bool = True) -> str:
    """Anything shown: cleaned of terminal controls first (a secret split by one is whole again),
    then the second-line redaction."""
    return redact_patterns(clean("" if text is None else str(text), keep_newlines=keep_newlines))


# --- spans: the parts of a line -----------------------------------------------------------------

TEXT = "text"  # fixed words of the report: written as they are
VALUE = "value"  # from the log: shown() and escaped by the renderer
CODE = "code"  # a value a format may set as code (a path, a hash)
STRONG = "strong"  # a value set off (who answered)
ALERT = "alert"  # a value that reads as a failure (a refusal, a missing answer)


class Span(NamedTuple):
    kind: str
    value: Any


Line = tuple[Span, ...]


def render_line(line: Line, markup: Mapping[str, Callable[[Any], str]]) -> str:
    """One line in a format: ``markup`` writes each kind of span (and escapes what it must)."""
    return "".join(markup[span.kind](span.value) for span in line)


# --- the facts at the top -----------------------------------------------------------------------


def facts(report: RunReport) -> list[tuple[str, str]]:
    """The run's facts, label and value, in the order both reports list them."""
    return [
        ("Run", report.run_id),
        ("Operator", report.operator or "?"),
        ("Preset", report.preset_name or "?"),
        ("Preset SHA-256", report.preset_sha256 or "?"),
        ("Stack", report.stack or "?"),
        ("Dry run", "yes" if report.dry_run else "no"),
        ("Started", report.started or "?"),
        ("Finished", report.finished or "-"),
        ("Duration", duration_text(report)),
    ]


def result_text(report: RunReport) -> str:
    if report.status:
        return report.status + (f": {report.message}" if report.message else "")
    return "unfinished (no run-finished record: interrupted, still running or cut short)"


def duration_text(report: RunReport) -> str:
    """The run's duration and what it measures (one definition: Started to Finished)."""
    if report.duration is None:
        return "- (the run has not finished)"
    text = f"{fmt_duration(report.duration)} from Started to Finished (wall clock"
    if report.resumed:
        text += f", across {len(report.resumed)} resume(s)"
    text += ")"
    if isinstance(report.runner_time, int | float):
        text += (f"; the runner itself ran {fmt_duration(report.runner_time)} of it (the rest: connecting "
                 "to the nodes, and the time between attempts)")
    return text


# --- summaries of a node's records --------------------------------------------------------------


def progress_summary(samples: list[dict[str, Any]]) -> list[str]:
    """One line per progress source, e.g. ``drbd: 100% in 18 s (last 4,712 KiB/s)``."""
    out: list[str] = []
    by_source: dict[str, list[dict[str, Any]]] = {}
    for s in samples:
        by_source.setdefault(str(s.get("source") or "progress"), []).append(s)
    for source, items in by_source.items():
        first = parse_time(items[0].get("time"))
        done = next((i for i in items if isinstance(i.get("percent"), int | float) and i["percent"] >= 100), None)
        last = done or items[-1]
        end = parse_time(last.get("time"))
        elapsed = (end - first).total_seconds() if first and end else None
        pct = last.get("percent")
        pct_text = f"{pct:.1f}%".replace(".0%", "%") if isinstance(pct, int | float) else "?%"
        speeds = [i["speed_kib_s"] for i in items if isinstance(i.get("speed_kib_s"), int | float) and i["speed_kib_s"] > 0]
        line = f"{source}: {pct_text} in {fmt_duration(elapsed)}" if done else (
            f"{source}: reached {pct_text} after {fmt_duration(elapsed)} (last state {last.get('state') or '?'})"
        )
        if speeds:
            line += f", peak {max(speeds):,.0f} KiB/s"
        line += f"; {len(items)} samples"
        out.append(line)
    return out


def cluster_line(c: dict[str, Any]) -> str:
    online = ", ".join(c.get("nodes_online") or []) or "none"
    offline = ", ".join(c.get("nodes_offline") or []) or "none"
    resources = "; ".join(
        f"{r.get('id')} {r.get('role')}" + (f" on {r.get('node')}" if r.get("node") else "")
        for r in c.get("resources") or []
        if isinstance(r, dict)
    )
    return f"online: {online}; offline: {offline}" + (f"; {resources}" if resources else "")


def node_status(node: NodeReport) -> str:
    """``done in 43 s``; ``unfinished`` for a started step with no end; empty for mere observations."""
    if node.status:
        return f"{node.status} in {fmt_duration(node.duration)}"
    if node.started or node.commands:
        return "unfinished"
    return ""


# --- the parts of a step ------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandView:
    """One command: a failure mark only where the node's step did not end well anyway."""

    failed: bool
    exit_text: str
    duration: str
    command: str
    lines: list[tuple[str, str] | None]  # (stream, text); None where lines were left out
    omitted: int


@dataclass(frozen=True)
class NodeView:
    name: str
    failed: bool
    status: str  # empty: no heading status
    message: str
    commands: list[CommandView]
    items: list[Line]  # files written, progress, the cluster's state


@dataclass(frozen=True)
class StepView:
    step_id: str
    title: str
    failed: bool
    confirmations: list[Line]
    nodes: list[NodeView]  # empty: the step did not run


def _trim(lines: list[tuple[str, str, str]], head: int = HEAD_LINES,
          tail: int = TAIL_LINES) -> tuple[list[tuple[str, str] | None], int]:
    kept: list[tuple[str, str, str] | None] = list(lines)
    omitted = 0
    if len(lines) > head + tail:
        kept, omitted = [*lines[:head], None, *lines[-tail:]], len(lines) - head - tail
    return [None if item is None else (item[1], item[2]) for item in kept], omitted


def _command(cmd: CommandReport, node: NodeReport) -> CommandView:
    exit_text = "timed out" if cmd.timed_out else (f"exit {cmd.exit_status}" if cmd.finished else "did not finish")
    lines, omitted = _trim(cmd.output)
    return CommandView(cmd.failed and not node.succeeded, exit_text, fmt_duration(cmd.duration), cmd.command,
                       lines, omitted)


def _file(f: dict[str, Any]) -> Line:
    changed = "changed" if f.get("changed") else "unchanged"
    backup = (Span(TEXT, ", backup "), Span(VALUE, f.get("backup_path"))) if f.get("backup_path") else ()
    return (Span(TEXT, "file "), Span(CODE, f.get("path")), Span(TEXT, ": mode "), Span(VALUE, f.get("mode")),
            Span(TEXT, ", owner "), Span(VALUE, f.get("owner")), Span(TEXT, ", sha256 "), Span(CODE, f.get("sha256")),
            Span(TEXT, f", {changed}"), *backup)


def _node(node: NodeReport) -> NodeView:
    items = [_file(f) for f in node.files]
    items += [(Span(TEXT, "progress "), Span(VALUE, line)) for line in progress_summary(node.progress)]
    if node.cluster:
        items.append((Span(TEXT, "cluster: "), Span(VALUE, cluster_line(node.cluster))))
    return NodeView(node.node, node.failed, node_status(node), node.message,
                    [_command(c, node) for c in node.commands], items)


def _confirmation(c: Confirmation) -> Line:
    """Where and when it was asked, the question, and its answer (or that it had none)."""
    where = f" on {c.nodes}" if c.nodes else ""
    when = f" at {c.asked}" if c.asked else ""
    asked = (Span(VALUE, f"Confirmation asked{where}{when}: "),)
    question = ((Span(VALUE, c.prompt), Span(TEXT, " (phrase "), Span(VALUE, c.phrase), Span(TEXT, "); "))
                if c.prompt or c.phrase else ())
    answer: Line
    if c.answer == "confirmed":
        answer = ((Span(TEXT, "confirmed by "), Span(STRONG, c.by), Span(TEXT, " at "), Span(VALUE, c.answered))
                  if c.by else (Span(VALUE, "confirmed by"),))
    elif c.answer == "refused":
        answer = (Span(ALERT, "not confirmed: the step did not run"),)
    elif c.answer == "unanswered":
        answer = (Span(ALERT, "not answered: the run stopped while asking"),)
    else:
        answer = (Span(ALERT, "no answer yet (the log ends while asking)"),)
    return asked + question + answer


def steps(report: RunReport) -> list[StepView]:
    """Every step of the run, in plan order, as both readable reports show it."""
    return [
        StepView(step.step_id, step.title, step.failed, [_confirmation(c) for c in step.confirmations],
                 [_node(n) for n in step.nodes.values()])
        for step in report.steps.values()
    ]
