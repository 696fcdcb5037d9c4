"""Reading a run's audit log into the report model: one record at a time, in the order written.

Why apart from the model and the formats: this is the one place that knows what each record kind
means for a report (a command-started opens a command, an output record belongs to the newest
open command of its step and node, a resumed log starts a new attempt ...). It trusts nothing: a
record it cannot read becomes a problem the report lists, never an exception, and the chain is
verified first (hawizard/audit/chain.py) so that the report can say whether the log is intact.

Engine core: standard library only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hawizard.audit.chain import read_records, verify_run
from hawizard.audit.report.model import CommandReport, Confirmation, RunReport
from hawizard.audit.runs import resolve_run


def load_run(ref: str | Path) -> RunReport:
    """The report model of one run (a run id, a prefix, ``latest``, a directory or a file: see ``resolve_run``)."""
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
