"""One run's report in the format asked for: the entry point of the CLI and the wizard.

Why apart from the formats: choosing a format, and refusing an unknown one with a message that
lists the known ones (an InputError: exit 2), is one decision for every caller. A run whose chain
does not verify still exports: the report says so at the top, and the caller decides the exit code.

Engine core: standard library only.
"""

from __future__ import annotations

from pathlib import Path

from hawizard.audit.report.html import render_html
from hawizard.audit.report.jsonl import render_jsonl
from hawizard.audit.report.load import load_run
from hawizard.audit.report.markdown import render_markdown
from hawizard.audit.report.model import RunReport
from hawizard.common.errors import InputError

FORMATS = ("md", "html", "jsonl")


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
