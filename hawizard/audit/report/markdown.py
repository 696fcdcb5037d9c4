"""The report as Markdown: for a terminal, a ticket or a wiki page.

Why its own module: Markdown has its own escaping (a value from the log must not start a heading,
a table cell or a link) and its own way to hold output (a fence longer than any run of backticks
inside it). What the report says is decided in hawizard/audit/report/view.py; this module only
writes it down.

Engine core: standard library only.
"""

from __future__ import annotations

import html
import re
from typing import Any

from hawizard.audit.report import view
from hawizard.audit.report.model import RunReport

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|!])")


def _md(text: Any) -> str:
    """Markdown-safe inline text: HTML entities for <>&, backslash for Markdown syntax."""
    s = html.escape(view.shown(text), quote=False).replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


_MARKUP = {
    view.TEXT: str,
    view.VALUE: _md,
    view.CODE: _md,
    view.STRONG: lambda v: f"**{_md(v)}**",
    view.ALERT: lambda v: f"**{_md(v)}**",
}



def _fence(body: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{body}\n{ticks}"


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.split("\n"))


def render_markdown(report: RunReport) -> str:
    out: list[str] = [f"# hawizard run {_md(report.run_id)}", ""]
    if not report.chain_ok:
        out += [
            "> **WARNING: THIS AUDIT LOG DOES NOT VERIFY.** " + _md(report.chain_message)
            + (f" (first bad record: {report.chain_bad_seq})" if report.chain_bad_seq else ""),
            "> Everything below is read from a log that was changed or damaged after it was written.",
            "",
        ]
    out += ["| | |", "|---|---|"]
    out += [f"| {label} | {_md(value)} |" for label, value in view.facts(report)]
    out += [
        f"| Result | {'**' + _md(view.result_text(report)) + '**'} |",
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
    for step in view.steps(report):
        flag = " - **FAILED**" if step.failed else ""
        title = f": {_md(step.title)}" if step.title else ""
        out += [f"### {_md(step.step_id)}{title}{flag}", ""]
        out += [f"- {view.render_line(c, _MARKUP)}" for c in step.confirmations]
        if step.confirmations:
            out.append("")
        if not step.nodes:
            out += ["Not run.", ""]
        for node in step.nodes:
            out += _node(node)
    return "\n".join(out).rstrip() + "\n"


def _node(node: view.NodeView) -> list[str]:
    mark = "**FAILED** " if node.failed else ""
    out = [f"#### {_md(node.name)}" + (f" - {mark}{_md(node.status)}" if node.status else "")]
    if node.message:
        out.append(_md(node.message))
    out.append("")
    for cmd in node.commands:
        out += _command(cmd)
    out += [f"- {view.render_line(item, _MARKUP)}" for item in node.items]
    out.append("")
    return out


def _command(cmd: view.CommandView) -> list[str]:
    mark = "**FAILED** " if cmd.failed else ""
    body = ["$ " + view.shown(cmd.command)]  # a command may be a heredoc: its lines stay lines
    for item in cmd.lines:
        if item is None:
            body.append(f"... {cmd.omitted} lines omitted (full output in the audit log) ...")
        else:
            body.append(("[stderr] " if item[0] == "stderr" else "") + view.shown(item[1], keep_newlines=False))
    return [f"- {mark}command, {cmd.exit_text}, {cmd.duration}:", "", _indent(_fence("\n".join(body)), "  "), ""]
