"""The report as one self-contained HTML page: for a browser, an e-mail attachment, an archive.

Why its own module: HTML has its own escaping (every value from the log is escaped, quotes
included, so that node output cannot add markup or script) and its own look (one inline style
sheet: no file, font or script is fetched when the page is opened). What the report says is
decided in hawizard/audit/report/view.py; this module only writes it down. (``import html`` below
is the standard library's module: imports are absolute.)

Engine core: standard library only.
"""

from __future__ import annotations

import html
from typing import Any

from hawizard.audit.report import view
from hawizard.audit.report.model import RunReport

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
    return html.escape(view.shown(text, keep_newlines=keep_newlines), quote=True)


_MARKUP = {
    view.TEXT: str,
    view.VALUE: _h,
    view.CODE: lambda v: f"<code>{_h(v)}</code>",
    view.STRONG: lambda v: f"<strong>{_h(v)}</strong>",
    view.ALERT: lambda v: f'<span class="fail">{_h(v)}</span>',
}



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
    o.append('<table class="meta">')
    o += [f"<tr><td>{_h(label)}</td><td>{_h(value)}</td></tr>" for label, value in view.facts(report)]
    result_cls = "ok" if report.status == "finished" else "fail"  # events.RUN_STATUSES
    o.append(f'<tr><td>Result</td><td class="{result_cls}">{_h(view.result_text(report))}</td></tr>')
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
    for step in view.steps(report):
        o.append(f'<section class="{"step failed" if step.failed else "step"}">')
        flag = ' <span class="fail">FAILED</span>' if step.failed else ""
        title = f": {_h(step.title)}" if step.title else ""
        o.append(f"<h3>{_h(step.step_id)}{title}{flag}</h3>")
        if step.confirmations:
            o += ["<ul>", *(f"<li>{view.render_line(c, _MARKUP)}</li>" for c in step.confirmations), "</ul>"]
        if not step.nodes:
            o.append("<p>Not run.</p>")
        for node in step.nodes:
            o += _node(node)
        o.append("</section>")
    o += ["</body>", "</html>"]
    return "\n".join(o) + "\n"


def _node(node: view.NodeView) -> list[str]:
    ncls = ' class="fail"' if node.failed else ""
    status = f": {_h(node.status)}" if node.status else ""
    o = [f"<h4{ncls}>{_h(node.name)}{status}</h4>"]
    if node.message:
        o.append(f"<p>{_h(node.message)}</p>")
    if node.items:
        o.append("<ul>" + "".join(f"<li>{view.render_line(item, _MARKUP)}</li>" for item in node.items) + "</ul>")
    for cmd in node.commands:
        o += _command(cmd)
    return o


def _command(cmd: view.CommandView) -> list[str]:
    ccls = ' class="fail"' if cmd.failed else ""
    body = ["$ " + _h(cmd.command)]
    for item in cmd.lines:
        if item is None:
            body.append(f'<span class="omitted">... {cmd.omitted} lines omitted (full output in the audit log) ...</span>')
        elif item[0] == "stderr":
            body.append(f'<span class="stderr">{_h(item[1], keep_newlines=False)}</span>')
        else:
            body.append(_h(item[1], keep_newlines=False))
    return [f"<p{ccls}>Command, {_h(cmd.exit_text)}, {_h(cmd.duration)}:</p>", "<pre>" + "\n".join(body) + "</pre>"]
