"""``hawizard audit verify RUN`` and ``hawizard audit list``: check runs' audit logs, write nothing.

Why a command of its own: ``export`` verifies too, but an auditor (or a cron job) that only wants
to know "was this log changed?" should get a plain answer and an exit code, not a report.

Exit codes of ``verify``: 0 the log verifies; 1 it does not (the reason and the first bad record
are printed); 2 no such run (or a bad option). ``list`` exits 0.
"""

from __future__ import annotations

import argparse

from hawizard.audit.chain import verify_run
from hawizard.audit.runs import list_runs, resolve_run, runs_dir


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="verify runs' audit logs (hash chain, head, start and end), list runs",
                       description="Check the audit logs of runs without writing anything.")
    audit_sub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = audit_sub.add_parser(
        "verify", help="check one run's audit log: exit 0 verified, 1 does not verify, 2 unknown run",
        description="Check one run's audit log: every record's hash chain, the head file beside it (records "
                    "cut from the end), that it starts with run-started and, unless the run is still going, "
                    "ends with run-finished. Exit 0 verified, 1 does not verify, 2 unknown run.")
    v.add_argument("run", metavar="RUN", help="run id (or a unique prefix, 'latest', a run directory, a file)")
    v.set_defaults(func=cmd_verify)
    ls = audit_sub.add_parser("list", help="the recorded runs, oldest first: id, start, result, preset, operator")
    ls.set_defaults(func=cmd_list)


def cmd_verify(args: argparse.Namespace) -> int:
    path = resolve_run(args.run)  # InputError (exit 2) names what it looked for
    ok, bad, message = verify_run(path)
    run = path.parent.name
    if ok:
        print(f"run {run}: verified: {message}")
        return 0
    where = f" (first bad record: {bad})" if bad else ""
    print(f"run {run}: DOES NOT VERIFY{where}: {message}\n  log: {path}")
    return 1


def cmd_list(args: argparse.Namespace) -> int:
    runs = list_runs()
    if not runs:
        print(f"no runs in {runs_dir()}")
        return 0
    for r in runs:
        result = r.status or "-"
        print(f"{r.run_id}  {(r.started or '?')[:19]:19}  {result:22}  {r.preset_name or '?'}  {r.operator or '?'}")
    print(f"{len(runs)} run(s) in {runs_dir()}; hawizard audit verify RUN checks one")
    return 0
