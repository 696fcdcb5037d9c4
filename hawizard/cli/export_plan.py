"""``hawizard export-plan PRESET --format sh|ansible -o DIR [--force]``: the plan for other tools.

Why a command of its own (not ``export``, which reports a run's audit log): it writes a checked
design's plan down as shell scripts (hawizard/export/shell.py) or an Ansible project
(hawizard/export/ansible.py) that do what ``hawizard apply`` does, for operators who build many
clusters with their own tools (issue 15, docs/fleet.md).

Exit codes: 0 written; 2 an invalid preset, an unknown format, or an output directory that is not
empty (without --force) or cannot be written (hawizard.common.errors).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hawizard.cli.design import add_preset_argument, load_valid
from hawizard.common.errors import InputError
from hawizard.common.localfiles import atomic_write
from hawizard.export.ansible import export_ansible
from hawizard.export.shell import export_sh

FORMATS = {"sh": export_sh, "ansible": export_ansible}


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export-plan",
        help="write the plan as shell scripts or an Ansible project (no node is touched)",
        description=(
            "Write the design's plan as POSIX shell scripts (one per node and a driver, --format sh) "
            "or as an Ansible project (--format ansible) that perform what hawizard apply performs: the "
            "same files, commands, probes, waits and confirmations. No secret is written: they are read "
            "at run time where the preset's references say. See docs/fleet.md."
        ),
    )
    add_preset_argument(p)
    # no argparse choices: an unknown format is said with the known ones, exit 2, like every input error
    p.add_argument("--format", "-f", default="sh", metavar="FORMAT", help="sh or ansible (default: sh)")
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="directory to write into; created if needed, must be empty unless --force")
    p.add_argument("--force", action="store_true", help="write into a directory that is not empty "
                   "(files of the same name are replaced, the old ones kept as backups)")
    p.set_defaults(func=run_export_plan)


def run_export_plan(args: argparse.Namespace) -> int:
    exporter = FORMATS.get(args.format)
    if exporter is None:
        raise InputError(f"--format {args.format!r}: unknown; the formats are {', '.join(FORMATS)}")
    out = Path(args.output)
    if out.exists() or out.is_symlink():
        if not out.is_dir() or out.is_symlink():
            raise InputError(f"{out}: exists and is not a directory")
        if any(out.iterdir()) and not args.force:
            raise InputError(f"{out}: is not empty; name an empty or new directory, or add --force")
    prepared = load_valid(args.preset)
    export = exporter(prepared.design, prepared.plan)
    for f in export.files:
        # root=out: no symbolic link below DIR is followed; atomic, with its final mode
        atomic_write(out / f.path, f.content.encode("utf-8"), mode=f.mode, backup=True, root=out)
    print(f"hawizard: wrote {len(export.files)} file(s) of the {args.format} export of {prepared.design.name} "
          f"under {out}; start with {out / 'README.md'}")
    return 0
