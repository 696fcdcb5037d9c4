"""``hawizard export RUN --format md|html|jsonl [-o FILE]``: a run's audit log as a report.

Exit codes: 0 the report was written and the audit chain verifies; 1 the report was written
but the chain does NOT verify (the log was edited or damaged - the report says so at the top);
2 unknown run, bad option or an output file that cannot be written (hawizard.common.errors).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hawizard.audit.report.export import FORMATS, render
from hawizard.audit.report.load import load_run
from hawizard.common.localfiles import atomic_write


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="turn a run's audit log into a report (Markdown, HTML or JSON lines)",
        description=(
            "Write a readable report of one run from its audit log. RUN is a run id, a unique "
            "prefix of one, 'latest', a run directory or an audit.jsonl file. Secrets are "
            "redacted. Exits 1 if the log's hash chain does not verify."
        ),
    )
    p.add_argument("run", metavar="RUN", help="run id (or prefix, 'latest', a directory, a file)")
    p.add_argument("--format", "-f", choices=FORMATS, default="md", help="report format (default: md)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (mode 0600) instead of stdout")
    p.set_defaults(func=run_export)


def _write_private(path: str, text: str) -> None:
    """Reports name hosts, commands and file hashes: readable by the owner only (0600), written
    atomically, a replaced report kept as a backup, never through a symbolic link
    (hawizard/common/localfiles.py; it raises an InputError naming the path: exit 2)."""
    atomic_write(Path(path), text.encode("utf-8"), mode=0o600, backup=True)


def run_export(args: argparse.Namespace) -> int:
    report = load_run(args.run)
    text = render(report, args.format)
    if args.output and args.output != "-":
        _write_private(args.output, text)
        print(f"hawizard: wrote {args.output} ({args.format}, run {report.run_id})", file=sys.stderr)
    else:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # `hawizard export RUN | head`: the reader left, not an error
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    if not report.chain_ok:
        where = f" at record {report.chain_bad_seq}" if report.chain_bad_seq else ""
        print(
            f"hawizard: WARNING: the audit log of run {report.run_id} does not verify{where}: "
            f"{report.chain_message}",
            file=sys.stderr,
        )
        return 1
    return 0
