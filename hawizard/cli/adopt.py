"""``hawizard adopt --from-dir DIR -o PRESET`` and ``hawizard diff PRESET --from-dir DIR``: brownfield commands.

adopt: the engine (hawizard/adopt/) reads the collected files; this command writes the preset and
the report next to it (PRESET.adopt.txt), atomically, and prints the report. Exit codes: 0
written; 2 bad input (a missing or unreadable file, a file a tool refuses, a cluster that is not
two-node active/standby: named); 3 a tool this machine lacks (drbdadm, cibadmin).

diff: every file the design renders against the collected copy, as unified diffs with secrets
masked. Exit codes: 0 every file equal; 1 a file differs or is missing; 2 bad preset or directory.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hawizard.adopt import filediff, report
from hawizard.adopt.collected import Collected
from hawizard.adopt.engine import adopt
from hawizard.cli.design import add_preset_argument, load_valid
from hawizard.common.errors import InputError
from hawizard.common.localfiles import atomic_write
from hawizard.design.model import STACKS
from hawizard.design.preset_file import dump_preset

DESCRIPTION = """\
Read a two-node Pacemaker + DRBD cluster's configuration from a directory of collected files and
write a preset of it. DIR holds copies of the nodes' files at their paths (DIR/etc/..., or one
DIR/NODE/etc/... per node, as `hawizard render -o DIR` writes): etc/corosync/corosync.conf or
etc/ha.d/ha.cf + etc/ha.d/authkeys, etc/drbd.d/*.res + global_common.conf (or etc/drbd.conf),
the CIB (cib.xml from `cibadmin -Q > cib.xml`, or var/lib/pacemaker/cib/cib.xml), etc/default/sbd
or etc/sysconfig/sbd, the Apache configuration, and optionally etc/hosts.

DRBD files are read by drbdadm and the CIB upgraded offline by cibadmin, on this machine.
Everything the preset cannot say is listed in the report (printed, and written next to the
preset as PRESET.adopt.txt). Secrets are never copied: the preset holds references."""

EPILOG = """\
Exit codes: 0 preset written; 2 bad input (a missing or unreadable file, a file drbdadm or
cibadmin refuses, a cluster that is not two-node active/standby); 3 drbdadm or cibadmin missing."""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("adopt", help="write a preset from a running cluster's collected files",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from-dir", metavar="DIR", required=True, help="the directory of collected files")
    p.add_argument("-o", "--output", metavar="PRESET", required=True, help="the preset file to write")
    p.add_argument("--stack", choices=STACKS, help="the target stack, when the files do not tell it")
    p.add_argument("--name", help="the design's name (default: the directory's name)")
    p.set_defaults(func=cmd_adopt)

    p = sub.add_parser("diff", help="every file the design would write, against a collected copy (unified diff)",
                       description=DIFF_DESCRIPTION, epilog=DIFF_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_preset_argument(p)
    p.add_argument("--from-dir", metavar="DIR", required=True,
                   help="the collected files (DIR/NODE/<path> per node, or one copy at DIR/<path>)")
    p.set_defaults(func=cmd_diff)


DIFF_DESCRIPTION = """\
Compare every file hawizard would write for PRESET with the copy collected from the nodes, and
print a unified diff (collected -> hawizard) for each one that differs or is missing. A line that
holds a secret is compared with the secret masked, and shown masked: no secret is printed; the
corosync authkey (a file that is one secret) is checked for presence only. File modes and owners
are not compared. Reading the nodes over SSH, and the CIB objects, are not built yet."""

DIFF_EPILOG = """\
Exit codes: 0 every file equal; 1 a file differs or is missing; 2 bad preset or directory."""


def report_path(preset: Path) -> Path:
    return preset.with_name(preset.name + ".adopt.txt")


def cmd_adopt(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.is_dir():
        raise InputError(f"{out}: is a directory; -o names the preset file to write")
    adoption = adopt(args.from_dir, stack_name=args.stack, name=args.name)
    text = report.text(adoption, str(out))
    atomic_write(out, dump_preset(adoption.design).encode(), mode=0o644, backup=True)
    atomic_write(report_path(out), text.encode(), mode=0o644, backup=True)
    sys.stdout.write(text)
    print(f"wrote {out} and {report_path(out)}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    prepared = load_valid(args.preset)
    col = Collected.open(args.from_dir)
    results = filediff.compare(prepared.rendering, col)
    for r in results:
        if r.diff:
            sys.stdout.write(r.diff if r.diff.endswith("\n") else r.diff + "\n")
    differ = [r for r in results if r.state in ("differs", "missing", "secret-missing")]
    for r in results:
        where = f"{r.node + ':' if r.node else ''}{r.path}"
        if r.state == "secret-missing":
            print(f"{where}: missing (a secret: only its presence is checked)")
        elif r.state == "missing":
            print(f"{where}: missing from the collected files")
    print(f"{len(results) - len(differ)} file(s) the same, {len(differ)} differ or missing "
          f"({args.preset} against {args.from_dir})")
    return 1 if differ else 0
