"""Exports of a synthetic run: Markdown, HTML (well-formed, escaped), JSON lines; the CLI's exit codes."""

from __future__ import annotations

import argparse
import json
import stat
import sys
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from hawizard.audit.chain import verify_chain
from hawizard.audit.log import AuditSink
from hawizard.audit.report import html as html_report
from hawizard.audit.report import markdown as md_report
from hawizard.audit.report import view
from hawizard.audit.report.export import export_run
from hawizard.audit.report.load import load_run
from hawizard.audit.report.view import progress_summary
from hawizard.audit.runs import new_run_id, resolve_run
from hawizard.common.errors import HawizardError, InputError
from hawizard.events import (
    ClusterState,
    CommandFinished,
    CommandStarted,
    ConfirmationNeeded,
    Confirmed,
    EventBus,
    FileWritten,
    OutputLine,
    Progress,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
)

pytestmark = pytest.mark.usefixtures("state_home")  # tests/conftest.py


T0 = datetime(2026, 11, 24, 20, 0, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def synthetic_run() -> AuditSink:
    rid = new_run_id()
    sink = AuditSink.for_run(rid)
    bus = EventBus()
    bus.subscribe(sink, critical=True)
    e = bus.emit
    e(RunStarted(rid, "article <b>", "f" * 64, "alice", "heartbeat", ["install", "create-md", "sync", "cluster"], time=at(0)))
    e(StepStarted("install", "Install <script>alert('x')</script>", "srv1", time=at(1)))
    cmd = "apt-get install -y drbd-utils heartbeat pacemaker"
    e(CommandStarted("install", "srv1", cmd, time=at(1)))
    for i in range(100):
        e(OutputLine("install", "srv1", "stdout", f"Unpacking pkg{i} <script>alert({i})</script> ```", time=at(2)))
    e(OutputLine("install", "srv1", "stderr", "W: something & <odd>", time=at(3)))
    e(CommandFinished("install", "srv1", cmd, 0, 42.0, time=at(43)))
    e(FileWritten("install", "srv1", "/etc/ha.d/authkeys", "0600", "root:root", "1" * 64, True, "/etc/ha.d/authkeys.2026-11-24@20:00:44~", time=at(44)))
    e(StepFinished("install", "srv1", "done", 43.0, time=at(44)))
    e(StepStarted("create-md", "Create DRBD metadata", "srv1", time=at(45)))
    e(ConfirmationNeeded("create-md", "srv1", "This wipes /dev/sdb1 on srv1", "wipe srv1", time=at(45)))
    e(Confirmed("create-md", "alice", time=at(50)))
    e(CommandStarted("create-md", "srv1", "drbdadm create-md r0", time=at(50)))
    e(OutputLine("create-md", "srv1", "stderr", "Command 'drbdmeta 0 v08 /dev/sdb1 internal create-md' terminated with exit code 40", time=at(51)))
    e(CommandFinished("create-md", "srv1", "drbdadm create-md r0", 40, 1.2, time=at(51)))
    e(StepFinished("create-md", "srv1", "failed", 6.0, "drbdmeta refused: a filesystem would be truncated", time=at(51)))
    e(StepStarted("sync", "Initial sync", "srv1", time=at(52)))
    for t, pct in ((52, 0.0), (60, 43.8), (70, 100.0)):
        e(Progress("sync", "srv1", "drbd", pct, 4712.0 if pct < 100 else None, None, "SyncSource", "r0", time=at(t)))
    e(StepFinished("sync", "srv1", "done", 18.0, time=at(70)))
    e(ClusterState("cluster", "srv1", ["srv1", "srv2"], [], [{"id": "res_ip", "role": "Started", "node": "srv1", "parent": "rg_httpd"}], time=at(80)))
    e(RunFinished(rid, "failed", 80.0, time=at(80)))
    bus.close()
    return sink


class StrictHTML(HTMLParser):
    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_markdown_report():
    sink = synthetic_run()
    md = export_run(sink.path.parent.name, "md")
    assert md.startswith(f"# hawizard run {sink.path.parent.name}")
    for needle in (
        "| Operator | alice |",
        "| Preset SHA-256 | " + "f" * 64,
        "| Stack | heartbeat |",
        "| Result | **failed** |",
        "verified",
        "## Failures",
        "**FAILED** step create-md on srv1",
        "exit 40",
        "21 lines omitted",
        "/etc/ha.d/authkeys: mode 0600, owner root:root, sha256 " + "1" * 64,
        "backup /etc/ha.d/authkeys.2026-11-24@20:00:44~",
        "confirmed by **alice**",
        "drbd: 100% in 18 s",
        "cluster: online: srv1, srv2",
        "[stderr] W: something & <odd>",
    ):
        assert needle in md, needle
    assert "Install &lt;script&gt;" in md  # titles are not raw HTML in Markdown
    assert "````text" in md  # output holding ``` gets a longer fence
    assert "DOES NOT VERIFY" not in md


def test_html_report_is_well_formed_and_escaped():
    sink = synthetic_run()
    page = export_run(sink.path, "html")
    parser = StrictHTML()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    assert "script" not in parser.tags  # no live script anywhere, although the output is full of them
    assert "&lt;script&gt;alert(" in page
    text = "".join(parser.text)
    assert "<script>alert('x')</script>" in text  # shown as text
    assert "FAILED" in text and "21 lines omitted" in text and "W: something & <odd>" in text
    assert page.lstrip().startswith("<!DOCTYPE html>") and "<style>" in page and "http" not in page.split("<body>")[0]


def test_markdown_and_html_show_the_same_parts_of_each_step():
    """The parts of a step are decided once (hawizard/audit/report/view.py) and both formats walk them:
    every question, node, command and file/progress/cluster line is in both, each in its own markup."""
    sink = synthetic_run()
    report = load_run(sink.path)
    md, page = md_report.render_markdown(report), html_report.render_html(report)
    steps = view.steps(report)
    assert [s.step_id for s in steps] == ["install", "create-md", "sync", "cluster"]
    parts = 0
    for step in steps:
        for line in step.confirmations:
            assert f"- {view.render_line(line, md_report._MARKUP)}\n" in md
            assert f"<li>{view.render_line(line, html_report._MARKUP)}</li>" in page
            parts += 1
        for node in step.nodes:
            status = f": {node.status}" if node.status else ""
            assert f"#### {node.name}{' - ' if status else ''}" in md and f">{node.name}{status}</h4>" in page
            for cmd in node.commands:
                assert f"command, {cmd.exit_text}, {cmd.duration}:" in md
                assert f"Command, {cmd.exit_text}, {cmd.duration}:</p>" in page
                parts += 1
            for item in node.items:
                assert f"- {view.render_line(item, md_report._MARKUP)}\n" in md
                assert f"<li>{view.render_line(item, html_report._MARKUP)}</li>" in page
                parts += 1
    assert parts == 1 + 2 + 1 + 1 + 1  # a question, two commands, a file, a progress, a cluster line
    # a path is code in HTML, escaped text in Markdown; a name from the log is escaped in both
    assert "file <code>/etc/ha.d/authkeys</code>: mode 0600" in page
    assert "- file /etc/ha.d/authkeys: mode 0600" in md


def test_jsonl_export_is_the_log_itself():
    sink = synthetic_run()
    out = export_run(sink.path.parent, "jsonl")
    assert out == sink.path.read_text(encoding="utf-8")
    assert [json.loads(x)["seq"] for x in out.splitlines()] == list(range(1, len(out.splitlines()) + 1))


def test_jsonl_export_scrubs_what_the_patterns_catch(tmp_path):
    rid = new_run_id()
    sink = AuditSink.for_run(rid)
    sink.redactor.patterns = False  # simulate a run whose redactor let something through
    sink.handle(CommandStarted("s", "srv1", "echo 'password=hunter2' > x"))
    sink.close()
    for fmt in ("md", "html", "jsonl"):
        assert "hunter2" not in export_run(rid, fmt)


def test_progress_summary():
    assert progress_summary([]) == []
    (line,) = progress_summary([{"source": "drbd", "percent": 40.0, "time": at(0), "state": "SyncSource"}, {"source": "drbd", "percent": 43.8, "time": at(12), "state": "SyncSource"}])
    assert line.startswith("drbd: reached 43.8% after 12 s (last state SyncSource)")


def test_unknown_run_names_it_and_where_it_looked():
    with pytest.raises(InputError) as err:
        export_run("20990101T000000Z-000000", "md")
    msg = str(err.value)
    assert "20990101T000000Z-000000" in msg and "runs" in msg and "looked for" in msg
    assert err.value.exit_code == 2
    with pytest.raises(InputError):
        export_run("x", "pdf")


def test_prefix_and_latest_resolve():
    a = synthetic_run()
    assert resolve_run(a.path.parent.name[:17]) == a.path
    assert resolve_run("latest") == a.path


def test_broken_chain_still_exports_loudly():
    sink = synthetic_run()
    lines = sink.path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace("srv1", "srv9", 1)
    sink.path.write_text("".join(lines), encoding="utf-8")
    assert not verify_chain(sink.path)[0]
    md = export_run(sink.path, "md")
    assert md.splitlines()[2].startswith("> **WARNING: THIS AUDIT LOG DOES NOT VERIFY.**")
    assert "first bad record: 4" in md
    page = export_run(sink.path, "html")
    assert page.index('class="alert"') < page.index("<table")
    assert load_run(sink.path).chain_bad_seq == 4


# --- the CLI --------------------------------------------------------------------------------------


def run_cli(argv: list[str]) -> int:
    """Through hawizard.cli.main.main once the lead has wired `export` in; until then the same way by hand."""
    from hawizard.cli import main as cli

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "export" in sub.choices:
        return cli.main(argv)
    from hawizard.cli import export as cli_export

    p = argparse.ArgumentParser(prog="hawizard")
    cli_export.add_parsers(p.add_subparsers(dest="command"))
    args = p.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except HawizardError as exc:
        print(f"hawizard: {exc}", file=sys.stderr)
        return exc.exit_code


def test_cli_exit_codes_and_output_file(tmp_path, capsys):
    sink = synthetic_run()
    rid = sink.path.parent.name
    assert run_cli(["export", rid, "--format", "md"]) == 0
    assert capsys.readouterr().out.startswith(f"# hawizard run {rid}")
    out = tmp_path / "report.html"
    assert run_cli(["export", rid, "--format", "html", "-o", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_text().startswith("<!DOCTYPE html>")
    capsys.readouterr()
    assert run_cli(["export", "no-such-run"]) == 2
    assert "no-such-run" in capsys.readouterr().err
    lines = sink.path.read_text(encoding="utf-8").splitlines(keepends=True)
    sink.path.write_text("".join(lines[:2] + lines[3:]), encoding="utf-8")
    assert run_cli(["export", rid, "--format", "jsonl"]) == 1
    captured = capsys.readouterr()
    assert "does not verify" in captured.err and captured.out


# --- what the report says about the run: one vocabulary, one duration, controls cleaned --------------


def finished_run(*, output: tuple[str, ...] = (), runner_s: float = 6.3, wall_s: float = 20.0) -> AuditSink:
    rid = new_run_id()
    sink = AuditSink.for_run(rid)
    bus = EventBus()
    bus.subscribe(sink, critical=True)
    e = bus.emit
    e(RunStarted(rid, "article", "f" * 64, "alice", "heartbeat", ["install"], time=at(0)))
    e(StepStarted("install", "Install", "srv1", time=at(wall_s - runner_s)))
    e(CommandStarted("install", "srv1", "apt-get install -y x", time=at(wall_s - runner_s)))
    for text in output:
        e(OutputLine("install", "srv1", "stdout", text, time=at(wall_s - 1)))
    e(CommandFinished("install", "srv1", "apt-get install -y x", 0, 1.0, time=at(wall_s)))
    e(StepFinished("install", "srv1", "done", runner_s, time=at(wall_s)))
    e(RunFinished(rid, "finished", runner_s, time=at(wall_s)))
    bus.close()
    return sink


def test_a_finished_run_is_shown_as_a_success():
    sink = finished_run()
    page = export_run(sink.path, "html")
    assert '<td class="ok">finished</td>' in page and 'class="fail"' not in page
    md = export_run(sink.path, "md")
    assert "| Result | **finished** |" in md


def test_the_duration_is_started_to_finished_and_says_so():
    sink = finished_run(runner_s=6.3, wall_s=20.0)
    report = load_run(sink.path)
    assert report.duration == 20.0
    md = export_run(sink.path, "md")
    row = next(line for line in md.splitlines() if line.startswith("| Duration |"))
    assert "20 s from Started to Finished" in row and "6.30 s" in row and "runner itself" in row
    assert "| Started | 2026-11-24T20:00:00" in md and "| Finished | 2026-11-24T20:00:20" in md
    page = export_run(sink.path, "html")
    assert "20 s from Started to Finished" in page


HOSTILE = (
    "\x1b]0;owned terminal title\x07apt: done",
    "\x1b[2J\x1b[Hcleared screen",
    "bell\x07 rings",
    "\x1b[31mred\x1b[0m text",
    "evil\u202etxt.exe",
    "eight-bit \x9b2J csi",
    "\x1bP dcs string \x1b\\ after",
)
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\x90")


def test_node_output_is_cleaned_in_md_and_html_and_escaped_in_jsonl():
    sink = finished_run(output=HOSTILE)
    for fmt in ("md", "html"):
        text = export_run(sink.path, fmt)
        for ch in RAW_CONTROLS:
            assert ch not in text, (fmt, repr(ch))
        for visible in ("apt: done", "cleared screen", "bell rings", "red text", "eviltxt.exe", "after"):
            assert visible in text, (fmt, visible)
        assert "owned terminal title" not in text
    out = export_run(sink.path, "jsonl")
    for ch in RAW_CONTROLS:
        assert ch not in out, repr(ch)
    assert "\\u001b]0;owned" in out and "\\u009b2J" in out and "\\u202e" in out
    # the jsonl keeps the raw text as evidence: the same JSON values as the log
    log = [json.loads(x) for x in sink.path.read_text(encoding="utf-8").splitlines()]
    assert [json.loads(x) for x in out.splitlines()] == log
    shown = [t for r in log if r["kind"] == "output" for _, _, t in r["data"]["lines"]]
    assert shown == list(HOSTILE)
