"""``hawizard adopt --from-dir DIR -o PRESET``: a preset from a running cluster's collected files.

The engine (hawizard/adopt/) reads the files; this command writes the preset and the report
next to it (PRESET.adopt.txt), atomically, and prints the report. Exit codes: 0 written; 2 bad
input (a missing or unreadable file, a file a tool refuses, a cluster that is not two-node
active/standby: named); 3 a tool this machine lacks (drbdadm, cibadmin).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hawizard.adopt import report
from hawizard.adopt.engine import adopt
from hawizard.common.errors import InputError
from hawizard.common.localfiles import atomic_write
from hawizard.design.model import STACKS
from hawizard.design.preset_file import dump_preset

DESCRIPTION = """\
Read a two-node Pacemaker + DRBD cluster's configuration from a directory of collected files and
write a preset of it. DIR holds copies of the nodes' files at their paths (DIR/etc/..., or one
DIR/NODE/etc/... per node, as an unpacked crm_report): etc/corosync/corosync.conf or
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
