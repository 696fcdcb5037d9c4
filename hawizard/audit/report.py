"""Turn a run's audit log into a readable report: Markdown, self-contained HTML, or JSON lines.

Why: the audit log is exact but not meant for people; an auditor or the next on-call engineer
wants "what ran where, what changed, what failed" on one page. The report is built from the
log alone (nothing is re-run or re-read from the nodes), says at the top whether the hash
chain verifies - and says it loudly when it does not - and re-applies the redaction patterns
as a second line of defence, in case a secret slipped past the run's redactor.

Long outputs are trimmed (first and last lines kept, with a note saying how many were left
out); the full output stays in the audit log and in the ``jsonl`` export.

Node text is shown cleaned (hawizard/common/terminal_text.py): the Markdown and HTML reports carry no
escape sequence, control character or bidi override from a node, so that a report cannot
retitle or clear the terminal it is read on, or say something other than what ran. The
``jsonl`` export is the log itself and keeps the raw text as evidence, JSON-escaped: JSON
already escapes C0 controls (ESC is ``\\u001b``), and the characters it would leave raw (DEL,
C1 controls, bidi controls) are written as ``\\uXXXX`` escapes too - the same JSON value.

The figures say what they measure: the run's duration is the time from its Started to its
Finished record (wall clock, across resumes); a step's and a command's duration are the
runner's own measurement of that step or command.

Engine core: standard library only.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hawizard.audit.log import (
    AUDIT_FILE,
    RUN_ID_RE,
    canonical_json,
    list_runs,
    read_records,
    runs_dir,
    verify_run,
)
from hawizard.common.errors import InputError
from hawizard.common.redact import Redactor, redact_patterns
from hawizard.common.terminal_text import clean
from hawizard.events import parse_time

FORMATS = ("md", "html", "jsonl")
HEAD_LINES = 40
TAIL_LINES = 40

_pattern_redactor = Redactor(patterns=True)


def _r(text: Any, *, keep_newlines: bool = True) -> str:
    """Anything shown: cleaned of terminal controls first (a secret split by one is whole again),
    then the second-line redaction."""
    return redact_patterns(clean("" if text is None else str(text), keep_newlines=keep_newlines))


# --- the report model ---------------------------------------------------------------------------


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
        key = name or "-"
        if key not in self.nodes:
            self.nodes[key] = NodeReport(key)
        return self.nodes[key]

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
        key = step_id or "(no step)"
        if key not in self.steps:
            self.steps[key] = StepReport(key)
        return self.steps[key]

    @property
    def duration(self) -> float | None:
        """Seconds from Started to Finished (wall clock, across resumes); None while unfinished."""
        start, end = parse_time(self.started), parse_time(self.finished)
        return (end - start).total_seconds() if start and end else None

    @property
    def failures(self) -> list[tuple[StepReport, NodeReport]]:
        return [(s, n) for s in self.steps.values() for n in s.nodes.values() if n.failed]


# --- finding and loading a run ------------------------------------------------------------------


def resolve_run(ref: str | Path) -> Path:
    """The audit file for a run id, a unique run-id prefix, ``latest``, a run directory or a file."""
    text = str(ref)
    p = Path(text).expanduser()
    if p.is_file():
        return p
    if p.is_dir() and (p / AUDIT_FILE).is_file():
        return p / AUDIT_FILE
    root = runs_dir()
    looked = [str(p.resolve())]
    if text in ("latest", "last"):
        runs = list_runs()
        if runs:
            return runs[-1].path
        raise InputError(f"no runs yet: {root} holds none, so there is no latest run "
                         "(hawizard apply records each run there)")
    elif RUN_ID_RE.match(text) and ".." not in text:
        exact = root / text / AUDIT_FILE
        if exact.is_file():
            return exact
        looked.insert(0, str(exact))
        try:
            matches = sorted(d for d in root.iterdir() if d.name.startswith(text) and (d / AUDIT_FILE).is_file())
        except OSError:
            matches = []
        if len(matches) == 1:
            return matches[0] / AUDIT_FILE
        if len(matches) > 1:
            names = ", ".join(m.name for m in matches[:10])
            raise InputError(f"run {text!r} is ambiguous: it starts {len(matches)} run ids ({names})")
        looked.insert(1, f"run ids starting with {text!r} in {root}")
    known = list_runs()
    hint = (
        "; known runs: " + ", ".join(r.run_id for r in known[-5:])
        if known
        else f"; there are no runs in {root}"
    )
    raise InputError(f"no run {text!r}: looked for " + "; ".join(looked) + hint)


def load_run(ref: str | Path) -> RunReport:
    path = resolve_run(ref)
    ok, bad, message = verify_run(path)
    records, problems = read_records(path)
    report = RunReport(path=path, run_id=path.parent.name, chain_ok=ok, chain_bad_seq=bad, chain_message=message)
    report.problems.extend(problems)
    report.record_count = len(records)
    open_cmds: dict[tuple[str, str], list[CommandReport]] = {}
    for rec in records:
        try:
            _apply(report, rec, open_cmds)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            report.problems.append(f"record {rec.get('seq')!r} could not be read: {exc}")
    return report


def _apply(report: RunReport, rec: dict[str, Any], open_cmds: dict[tuple[str, str], list[CommandReport]]) -> None:
    kind = rec.get("kind")
    data = rec.get("data") if isinstance(rec.get("data"), dict) else {}
    t = rec.get("time")
    step_id, node = data.get("step_id"), data.get("node")
    if kind in ("run-started", "audit-resumed", "run-finished"):
        for step in report.steps.values():  # a question still open when the attempt ended was not answered
            if step.open_confirmation is not None:
                step.open_confirmation.answer = "unanswered"
    if kind == "run-started":
        report.run_id = str(data.get("run_id") or report.run_id)
        report.operator = data.get("operator")
        report.preset_name = data.get("preset_name")
        report.preset_sha256 = data.get("preset_sha256")
        report.stack = data.get("stack")
        report.dry_run = data.get("dry_run")
        report.plan = [str(s) for s in data.get("plan") or []]
        report.started = report.started or t
        report.finished, report.status, report.message = None, None, ""  # a new attempt: not finished yet
        for sid in report.plan:
            report.step(sid)
    elif kind == "run-finished":
        report.finished = t
        report.status = data.get("status")
        report.message = str(data.get("message") or "")
        if isinstance(data.get("duration"), int | float):
            report.runner_time = (report.runner_time or 0.0) + data["duration"]
    elif kind == "audit-resumed":
        report.resumed.append(t or "?")
        report.finished, report.status, report.message = None, None, ""
    elif kind == "step-started":
        step = report.step(step_id)
        step.title = data.get("title") or step.title
        step.node(node).started = t
    elif kind == "step-finished":
        step = report.step(step_id)
        n = step.node(node)
        n.status, n.duration, n.message = data.get("status"), data.get("duration"), data.get("message") or ""
        c = step.open_confirmation
        if n.status == "cancelled" and c is not None:
            c.answer, c.answered = "refused", t  # the runner records a "no" as the step cancelled
    elif kind == "command-started":
        cmd = CommandReport(command=str(data.get("command", "")), started=t)
        report.step(step_id).node(node).commands.append(cmd)
        open_cmds.setdefault((step_id, node), []).append(cmd)
    elif kind == "output":
        pending = open_cmds.get((step_id, node))
        if pending:
            cmd = pending[-1]
        else:  # output with no command around it (a probe, a watcher): keep it, under a label
            cmd = CommandReport(command="(output outside a command)", started=t)
            report.step(step_id).node(node).commands.append(cmd)
            open_cmds.setdefault((step_id, node), []).append(cmd)
        for line in data.get("lines") or []:
            if isinstance(line, list | tuple) and len(line) == 3:
                cmd.output.append((str(line[0]), str(line[1]), str(line[2])))
    elif kind == "command-finished":
        pending = open_cmds.get((step_id, node), [])
        cmd = next((c for c in reversed(pending) if c.command == data.get("command")), pending[-1] if pending else None)
        if cmd is None:
            cmd = CommandReport(command=str(data.get("command", "")))
            report.step(step_id).node(node).commands.append(cmd)
        else:
            pending.remove(cmd)
        cmd.finished = True
        cmd.exit_status = data.get("exit_status")
        cmd.duration = data.get("duration")
        cmd.timed_out = bool(data.get("timed_out"))
    elif kind == "file-written":
        report.step(step_id).node(node).files.append(data)
    elif kind == "progress":
        report.step(step_id).node(node).progress.append({**data, "time": t})
    elif kind == "confirmation-needed":
        step = report.step(step_id)
        if step.open_confirmation is not None:  # asked again with no answer in between
            step.open_confirmation.answer = "unanswered"
        step.confirmations.append(Confirmation(t, str(node or ""), str(data.get("prompt") or ""),
                                               str(data.get("expected_phrase") or "")))
    elif kind == "confirmed":
        step = report.step(step_id)
        c = step.open_confirmation
        if c is None:  # an answer with no question in the log: show it as it is
            c = Confirmation(None, "", "", "")
            step.confirmations.append(c)
        c.answer, c.by, c.answered = "confirmed", str(data.get("by") or "?"), t
    elif kind == "cluster-state":
        report.step(step_id).node(node).cluster = data


# --- summaries ----------------------------------------------------------------------------------


def _fmt_duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "?"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


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
        line = f"{source}: {pct_text} in {_fmt_duration(elapsed)}" if done else (
            f"{source}: reached {pct_text} after {_fmt_duration(elapsed)} (last state {last.get('state') or '?'})"
        )
        if speeds:
            line += f", peak {max(speeds):,.0f} KiB/s"
        line += f"; {len(items)} samples"
        out.append(line)
    return out


def _trim(lines: list[tuple[str, str, str]], head: int = HEAD_LINES, tail: int = TAIL_LINES) -> tuple[list, int]:
    if len(lines) <= head + tail:
        return lines, 0
    return lines[:head] + [None] + lines[-tail:], len(lines) - head - tail


def _cluster_line(c: dict[str, Any]) -> str:
    online = ", ".join(c.get("nodes_online") or []) or "none"
    offline = ", ".join(c.get("nodes_offline") or []) or "none"
    res = "; ".join(
        f"{r.get('id')} {r.get('role')}" + (f" on {r.get('node')}" if r.get("node") else "")
        for r in c.get("resources") or []
        if isinstance(r, dict)
    )
    return f"online: {online}; offline: {offline}" + (f"; {res}" if res else "")


def _node_status(node: NodeReport) -> str:
    """``done in 43 s``; ``unfinished`` for a started step with no end; empty for mere observations."""
    if node.status:
        return f"{node.status} in {_fmt_duration(node.duration)}"
    if node.started or node.commands:
        return "unfinished"
    return ""


def _result(report: RunReport) -> str:
    if report.status:
        return report.status + (f": {report.message}" if report.message else "")
    return "unfinished (no run-finished record: interrupted, still running or cut short)"


def _duration_text(report: RunReport) -> str:
    """The run's duration and what it measures (one definition: Started to Finished)."""
    if report.duration is None:
        return "- (the run has not finished)"
    text = f"{_fmt_duration(report.duration)} from Started to Finished (wall clock"
    if report.resumed:
        text += f", across {len(report.resumed)} resume(s)"
    text += ")"
    if isinstance(report.runner_time, int | float):
        text += (f"; the runner itself ran {_fmt_duration(report.runner_time)} of it (the rest: connecting "
                 "to the nodes, and the time between attempts)")
    return text


def _answer(c: Confirmation) -> tuple[str, str | None, bool]:
    """(words, who, is it a refusal or a missing answer) for one confirmation."""
    if c.answer == "confirmed":
        return "confirmed by", c.by, False
    if c.answer == "refused":
        return "not confirmed: the step did not run", None, True
    if c.answer == "unanswered":
        return "not answered: the run stopped while asking", None, True
    return "no answer yet (the log ends while asking)", None, True


def _asked(c: Confirmation) -> str:
    where = f" on {c.nodes}" if c.nodes else ""
    when = f" at {c.asked}" if c.asked else ""
    return f"Confirmation asked{where}{when}: "


# --- Markdown -----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|!])")


def _md(text: Any) -> str:
    """Markdown-safe inline text: HTML entities for <>&, backslash for Markdown syntax."""
    s = html.escape(_r(text), quote=False).replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def _fence(body: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{body}\n{ticks}"


def render_markdown(report: RunReport) -> str:
    out: list[str] = [f"# hawizard run {_md(report.run_id)}", ""]
    if not report.chain_ok:
        out += [
            "> **WARNING: THIS AUDIT LOG DOES NOT VERIFY.** " + _md(report.chain_message)
            + (f" (first bad record: {report.chain_bad_seq})" if report.chain_bad_seq else ""),
            "> Everything below is read from a log that was changed or damaged after it was written.",
            "",
        ]
    out += [
        "| | |",
        "|---|---|",
        f"| Run | {_md(report.run_id)} |",
        f"| Operator | {_md(report.operator or '?')} |",
        f"| Preset | {_md(report.preset_name or '?')} |",
        f"| Preset SHA-256 | {_md(report.preset_sha256 or '?')} |",
        f"| Stack | {_md(report.stack or '?')} |",
        f"| Dry run | {'yes' if report.dry_run else 'no'} |",
        f"| Started | {_md(report.started or '?')} |",
        f"| Finished | {_md(report.finished or '-')} |",
        f"| Duration | {_md(_duration_text(report))} |",
        f"| Result | {'**' + _md(_result(report)) + '**'} |",
        f"| Audit chain | {'verified' if report.chain_ok else '**BROKEN**'}: {_md(report.chain_message)} |",
        f"| Audit log | {_md(report.path)} |",
        "",
    ]
    if report.resumed:
        out += ["Resumed at: " + ", ".join(_md(t) for t in report.resumed), ""]
    failures = report.failures
    if failures:
        out += ["## Failures", ""]
        for step, node in failures:
            out.append(f"- **FAILED** step {_md(step.step_id)} on {_md(node.node)}: {_md(node.status or 'command failed')}"
                       + (f" - {_md(node.message)}" if node.message else ""))
        out.append("")
    if report.problems:
        out += ["## Problems reading the log", ""] + [f"- {_md(p)}" for p in report.problems] + [""]
    out += ["## Steps", ""]
    for step in report.steps.values():
        flag = " - **FAILED**" if step.failed else ""
        title = f": {_md(step.title)}" if step.title else ""
        out += [f"### {_md(step.step_id)}{title}{flag}", ""]
        for c in step.confirmations:
            words, who, bad = _answer(c)
            answer = f"{words} **{_md(who)}** at {_md(c.answered)}" if who else (f"**{_md(words)}**" if bad else _md(words))
            question = f"{_md(c.prompt)} (phrase {_md(c.phrase)}); " if c.prompt or c.phrase else ""
            out.append(f"- {_md(_asked(c))}{question}{answer}")
        if step.confirmations:
            out.append("")
        if not step.nodes:
            out += ["Not run.", ""]
        for node in step.nodes.values():
            mark = "**FAILED** " if node.failed else ""
            out.append(f"#### {_md(node.node)}" + (f" - {mark}{_md(_node_status(node))}" if _node_status(node) else ""))
            if node.message:
                out.append(f"{_md(node.message)}")
            out.append("")
            for cmd in node.commands:
                exit_text = "timed out" if cmd.timed_out else (
                    f"exit {cmd.exit_status}" if cmd.finished else "did not finish"
                )
                mark = "**FAILED** " if cmd.failed and not node.succeeded else ""
                out.append(f"- {mark}command, {exit_text}, {_fmt_duration(cmd.duration)}:")
                out.append("")
                lines, omitted = _trim(cmd.output)
                body = ["$ " + _r(cmd.command)]  # a command may be a heredoc: its lines stay lines
                for item in lines:
                    if item is None:
                        body.append(f"... {omitted} lines omitted (full output in the audit log) ...")
                    else:
                        body.append(("[stderr] " if item[1] == "stderr" else "") + _r(item[2], keep_newlines=False))
                out.append(_indent(_fence("\n".join(body)), "  "))
                out.append("")
            for f in node.files:
                changed = "changed" if f.get("changed") else "unchanged"
                backup = f", backup {_md(f.get('backup_path'))}" if f.get("backup_path") else ""
                out.append(
                    f"- file {_md(f.get('path'))}: mode {_md(f.get('mode'))}, owner {_md(f.get('owner'))}, "
                    f"sha256 {_md(f.get('sha256'))}, {changed}{backup}"
                )
            for line in progress_summary(node.progress):
                out.append(f"- progress {_md(line)}")
            if node.cluster:
                out.append(f"- cluster: {_md(_cluster_line(node.cluster))}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.split("\n"))


# --- HTML ---------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}
table.meta td{padding:.15em .8em .15em 0;vertical-align:top} table.meta td:first-child{font-weight:bold}
pre{background:#f5f5f5;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.fail{color:#b00020;font-weight:bold} .ok{color:#1b5e20} .stderr{color:#8a4b00}
.alert{border:3px solid #b00020;background:#fde7ea;padding:1em;font-size:1.2em;margin-bottom:1em}
.omitted{color:#666;font-style:italic} section.step{border-top:1px solid #ccc;margin-top:1.5em}
section.step.failed{border-left:6px solid #b00020;padding-left:1em}
"""


def _h(text: Any, *, keep_newlines: bool = True) -> str:
    return html.escape(_r(text, keep_newlines=keep_newlines), quote=True)


def render_html(report: RunReport) -> str:
    o: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>hawizard run {_h(report.run_id)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>hawizard run {_h(report.run_id)}</h1>",
    ]
    if not report.chain_ok:
        bad = f" (first bad record: {report.chain_bad_seq})" if report.chain_bad_seq else ""
        o.append(
            f'<div class="alert"><strong>WARNING: THIS AUDIT LOG DOES NOT VERIFY.</strong> '
            f"{_h(report.chain_message)}{_h(bad)}<br>Everything below is read from a log that was "
            "changed or damaged after it was written.</div>"
        )
    rows = [
        ("Run", report.run_id),
        ("Operator", report.operator or "?"),
        ("Preset", report.preset_name or "?"),
        ("Preset SHA-256", report.preset_sha256 or "?"),
        ("Stack", report.stack or "?"),
        ("Dry run", "yes" if report.dry_run else "no"),
        ("Started", report.started or "?"),
        ("Finished", report.finished or "-"),
        ("Duration", _duration_text(report)),
    ]
    o.append('<table class="meta">')
    for k, v in rows:
        o.append(f"<tr><td>{_h(k)}</td><td>{_h(v)}</td></tr>")
    result_cls = "ok" if report.status == "finished" else "fail"  # events.RUN_STATUSES
    o.append(f'<tr><td>Result</td><td class="{result_cls}">{_h(_result(report))}</td></tr>')
    chain_cls = "ok" if report.chain_ok else "fail"
    chain_word = "verified" if report.chain_ok else "BROKEN"
    o.append(f'<tr><td>Audit chain</td><td class="{chain_cls}">{chain_word}: {_h(report.chain_message)}</td></tr>')
    o.append(f"<tr><td>Audit log</td><td>{_h(report.path)}</td></tr>")
    if report.resumed:
        o.append(f"<tr><td>Resumed</td><td>{_h(', '.join(report.resumed))}</td></tr>")
    o.append("</table>")
    if report.failures:
        o.append('<h2 class="fail">Failures</h2><ul>')
        for step, node in report.failures:
            msg = f" - {node.message}" if node.message else ""
            o.append(f'<li class="fail">step {_h(step.step_id)} on {_h(node.node)}: {_h(node.status or "command failed")}{_h(msg)}</li>')
        o.append("</ul>")
    if report.problems:
        o.append("<h2>Problems reading the log</h2><ul>")
        o += [f"<li>{_h(p)}</li>" for p in report.problems]
        o.append("</ul>")
    o.append("<h2>Steps</h2>")
    for step in report.steps.values():
        cls = "step failed" if step.failed else "step"
        o.append(f'<section class="{cls}">')
        flag = ' <span class="fail">FAILED</span>' if step.failed else ""
        title = f": {_h(step.title)}" if step.title else ""
        o.append(f"<h3>{_h(step.step_id)}{title}{flag}</h3>")
        if step.confirmations:
            o.append("<ul>")
            for c in step.confirmations:
                words, who, bad = _answer(c)
                answer = (f"{_h(words)} <strong>{_h(who)}</strong> at {_h(c.answered)}" if who
                          else f'<span class="fail">{_h(words)}</span>' if bad else _h(words))
                question = f"{_h(c.prompt)} (phrase {_h(c.phrase)}); " if c.prompt or c.phrase else ""
                o.append(f"<li>{_h(_asked(c))}{question}{answer}</li>")
            o.append("</ul>")
        if not step.nodes:
            o.append("<p>Not run.</p>")
        for node in step.nodes.values():
            ncls = ' class="fail"' if node.failed else ""
            status = f": {_h(_node_status(node))}" if _node_status(node) else ""
            o.append(f"<h4{ncls}>{_h(node.node)}{status}</h4>")
            if node.message:
                o.append(f"<p>{_h(node.message)}</p>")
            items: list[str] = []
            for f in node.files:
                backup = f", backup {_h(f.get('backup_path'))}" if f.get("backup_path") else ""
                items.append(
                    f"<li>file <code>{_h(f.get('path'))}</code>: mode {_h(f.get('mode'))}, owner {_h(f.get('owner'))}, "
                    f"sha256 <code>{_h(f.get('sha256'))}</code>, {'changed' if f.get('changed') else 'unchanged'}{backup}</li>"
                )
            for line in progress_summary(node.progress):
                items.append(f"<li>progress {_h(line)}</li>")
            if node.cluster:
                items.append(f"<li>cluster: {_h(_cluster_line(node.cluster))}</li>")
            if items:
                o.append("<ul>" + "".join(items) + "</ul>")
            for cmd in node.commands:
                exit_text = "timed out" if cmd.timed_out else (f"exit {cmd.exit_status}" if cmd.finished else "did not finish")
                ccls = ' class="fail"' if cmd.failed and not node.succeeded else ""
                o.append(f"<p{ccls}>Command, {_h(exit_text)}, {_h(_fmt_duration(cmd.duration))}:</p>")
                lines, omitted = _trim(cmd.output)
                body = ["$ " + _h(cmd.command)]
                for item in lines:
                    if item is None:
                        body.append(f'<span class="omitted">... {omitted} lines omitted (full output in the audit log) ...</span>')
                    elif item[1] == "stderr":
                        body.append(f'<span class="stderr">{_h(item[2], keep_newlines=False)}</span>')
                    else:
                        body.append(_h(item[2], keep_newlines=False))
                o.append("<pre>" + "\n".join(body) + "</pre>")
        o.append("</section>")
    o += ["</body>", "</html>"]
    return "\n".join(o) + "\n"


# --- JSON lines ---------------------------------------------------------------------------------


_RAW_IN_JSON = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]")


def _escape_controls(line: str) -> str:
    """Controls JSON leaves raw (DEL, C1, bidi) as ``\\uXXXX``: inside a JSON string that is the same
    value; in a line that is not JSON (a damaged log) it keeps the terminal safe all the same."""
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


def render_jsonl(report: RunReport) -> str:
    """The audit records as they are, each re-checked by the redaction patterns.

    A record the patterns change is re-serialised (its hash no longer matches, which is the
    point: something was scrubbed); untouched records are byte-identical to the log, except that
    a character JSON leaves raw but a terminal obeys (DEL, C1 controls, bidi controls) is
    written as its ``\\uXXXX`` escape - the same JSON value, so the record still parses to what
    was hashed.
    """
    out: list[str] = []
    try:
        with open(report.path, encoding="utf-8", errors="replace", newline="\n") as fh:
            for line in fh:
                line = line.rstrip("\n")
                if not line:
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    out.append(_escape_controls(redact_patterns(line)))
                    continue
                red = _pattern_redactor.redact(rec)
                out.append(_escape_controls(line if red == rec else canonical_json(red)))
    except OSError as exc:
        raise InputError(f"cannot read {report.path}: {exc.strerror or exc}") from None
    return "\n".join(out) + ("\n" if out else "")


# --- entry point --------------------------------------------------------------------------------


def render(report: RunReport, fmt: str) -> str:
    if fmt == "md":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    if fmt == "jsonl":
        return render_jsonl(report)
    raise InputError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")


def export_run(run_id_or_path: str | Path, fmt: str = "md") -> str:
    """The report of one run as text. A run whose chain does not verify still exports (with a warning)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return render(load_run(run_id_or_path), fmt)
