"""``hawizard adopt`` and ``hawizard diff``: the brownfield commands.

adopt (``--node [USER@]HOST[:PORT]`` over SSH, or ``--from-dir DIR``): the engine (hawizard/adopt/) reads
the nodes' files (collected over SSH by hawizard/run/collect.py into a private directory of the same
layout); this command writes the preset and the report next to it (PRESET.adopt.txt), atomically,
and prints the report. Exit codes: 0 written; 2 bad input (a missing or unreadable file, a file a
tool refuses, a cluster that is not two-node active/standby, a node that cannot be reached or whose
host key is refused: named); 3 a tool this machine lacks (drbdadm, cibadmin).

diff (the preset's nodes over SSH, or ``--from-dir DIR``): every file the design renders against the
node's, as unified diffs with secrets masked, and the CIB objects hawizard would create against the
live CIB (hawizard/adopt/nodediff.py). Exit codes: 0 equal; 1 a file or object differs, is missing or
would be removed; 2 bad input or a node that cannot be read; 3 a tool this machine lacks.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hawizard.adopt import nodediff, report
from hawizard.adopt.collected import Collected
from hawizard.adopt.engine import Reach, adopt
from hawizard.cli.design import add_preset_argument, load_valid
from hawizard.cli.run import TerminalOperator
from hawizard.common.errors import InputError
from hawizard.common.localfiles import atomic_write
from hawizard.design.model import STACKS
from hawizard.design.preset_file import dump_preset
from hawizard.run import collect

DESCRIPTION = """\
Read a two-node Pacemaker + DRBD cluster's configuration and write a preset of it: from its
nodes over SSH (--node, the same host key rules and sudo as apply; read-only commands only; the
same files are read from each node, secrets cut on the node before they are sent, the CIB with
cibadmin -Q, the NICs with ip -o -4 addr show) or from a directory of collected files (--from-dir).

DIR holds copies of the nodes' files at their paths (DIR/etc/..., or one DIR/NODE/etc/... per
node, as `hawizard render -o DIR` writes): etc/corosync/corosync.conf or etc/ha.d/ha.cf +
etc/ha.d/authkeys, etc/drbd.d/*.res + global_common.conf (or etc/drbd.conf), the CIB (cib.xml from
`cibadmin -Q > cib.xml`, or var/lib/pacemaker/cib/cib.xml), etc/default/sbd or etc/sysconfig/sbd,
the Apache configuration, and optionally etc/hosts and ip-addr.txt (ip -o -4 addr show).

DRBD files are read by drbdadm and the CIB upgraded offline by cibadmin, on this machine.
Everything the preset cannot say is listed in the report (printed, and written next to the
preset as PRESET.adopt.txt). Secrets are never copied: the preset holds references."""

EPILOG = """\
Exit codes: 0 preset written; 2 bad input (a missing or unreadable file, a file drbdadm or
cibadmin refuses, a cluster that is not two-node active/standby, a node that cannot be reached
or whose host key is refused); 3 drbdadm or cibadmin missing on this machine."""


def _add_ssh_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--transport", choices=("ssh", "paramiko"), default="ssh",
                   help="ssh: the OpenSSH client (uses ~/.ssh/config, agents, jump hosts); paramiko: in-process")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("adopt", help="write a preset from a running cluster (its nodes over SSH, or collected files)",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from-dir", metavar="DIR", help="the directory of collected files")
    src.add_argument("--node", metavar="[USER@]HOST[:PORT]", action="append",
                     help="a node to read over SSH (give each of the two nodes, or one: the files are the same); "
                          "a user other than root reads through sudo")
    p.add_argument("-o", "--output", metavar="PRESET", required=True, help="the preset file to write")
    p.add_argument("--stack", choices=STACKS, help="the target stack, when the files do not tell it")
    p.add_argument("--name", help="the design's name (default: the directory's name, or the nodes' names: srv1-srv2)")
    p.add_argument("-i", "--identity-file", metavar="FILE", default="",
                   help="the SSH private key (default: the agent or ~/.ssh/config); written to the preset")
    p.add_argument("--known-hosts", metavar="FILE", default="",
                   help="a known_hosts file with the nodes' host keys (default: hawizard's own); written to the preset")
    _add_ssh_options(p)
    p.set_defaults(func=cmd_adopt)

    p = sub.add_parser("diff", help="every file and CIB object the design would write, against the nodes",
                       description=DIFF_DESCRIPTION, epilog=DIFF_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_preset_argument(p)
    p.add_argument("--from-dir", metavar="DIR",
                   help="the collected files (DIR/NODE/<path> per node, or one copy at DIR/<path>) instead of the "
                        "nodes over SSH")
    p.add_argument("--files-only", action="store_true", help="compare the files only, not the CIB objects")
    _add_ssh_options(p)
    p.set_defaults(func=cmd_diff)


DIFF_DESCRIPTION = """\
Compare every file hawizard would write for PRESET with the file on each node, and the cluster
configuration's objects hawizard would create with the live CIB. The nodes are read over SSH
(the preset's ssh_* keys, the same host key rules and sudo as apply; read-only commands only),
or, with --from-dir, a directory of collected files is read instead.

Files: a unified diff (node -> hawizard) for each one that differs or is missing. A line that
holds a secret is compared with the secret masked, and shown masked: no secret is printed; the
corosync authkey (a file that is one secret) is checked for presence only. File modes and owners
are not compared.

CIB objects: hawizard's script is loaded offline into an empty file CIB by crmsh or pcs (this
machine needs cibadmin and crm or pcs), and its resources, constraints, properties, rsc_defaults
and op_defaults are compared by id with the live CIB (cibadmin -Q): added, changed (each
attribute named), removed, and the objects hawizard does not own, left alone.

Running resources: when objects differ and the CIB holds the cluster's status, hawizard's script is
also loaded into a copy of the live CIB, as apply would load it, and Pacemaker's scheduler
(crm_simulate, offline) names what the re-apply would restart, stop, start, move, promote or
demote. A CIB without status (a cib.xml copied from disk) gets no prediction."""

DIFF_EPILOG = """\
Exit codes: 0 the nodes match the design; 1 a file or CIB object differs, is missing or would be
removed; 2 bad input (a bad preset or directory, a node that cannot be reached or whose host key
is refused, a file that cannot be read); 3 a tool this machine lacks (cibadmin, crm, pcs, crm_simulate)."""


def report_path(preset: Path) -> Path:
    return preset.with_name(preset.name + ".adopt.txt")


def cmd_adopt(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.is_dir():
        raise InputError(f"{out}: is a directory; -o names the preset file to write")
    if args.node:
        adoption = _adopt_over_ssh(args)
    elif args.identity_file or args.known_hosts:
        raise InputError("-i/--identity-file and --known-hosts are for --node (reading the nodes over SSH)")
    else:
        adoption = adopt(args.from_dir, stack_name=args.stack, name=args.name)
    text = report.text(adoption, str(out))
    atomic_write(out, dump_preset(adoption.design).encode(), mode=0o644, backup=True)
    atomic_write(report_path(out), text.encode(), mode=0o644, backup=True)
    sys.stdout.write(text)
    print(f"wrote {out} and {report_path(out)}")
    return 0


def _adopt_over_ssh(args: argparse.Namespace):
    if len(args.node) > 2:
        raise InputError(f"--node given {len(args.node)} times: hawizard adopts two-node clusters (give one or both)")
    addrs = [collect.NodeAddress.parse(n) for n in args.node]
    # the preset keeps them: absolute, so it works from any directory
    args.identity_file = os.path.abspath(args.identity_file) if args.identity_file else ""
    args.known_hosts = os.path.abspath(args.known_hosts) if args.known_hosts else ""
    targets = [collect.target(a, identity_file=args.identity_file, known_hosts=args.known_hosts) for a in addrs]
    op = TerminalOperator(yes=False)
    access = collect.Access(args.transport, op.confirm_host_key, op.sudo_password)
    with collect.private_dir() as tmp:
        reached = collect.collect_for_adopt(targets, tmp, access)
        how = {r.name: Reach(r.target.host, r.target.port, r.target.user, args.identity_file, args.known_hosts)
               for r in reached}
        source = ", ".join(f"{r.name} ({a})" for r, a in zip(reached, addrs, strict=True))
        adoption = adopt(tmp, stack_name=args.stack, name=args.name or "-".join(r.name for r in reached),
                         reached=how, source=source)
    unknown = sorted(set(how) - set(adoption.design.node_names))
    if unknown:
        raise InputError(f"{', '.join(unknown)} answered over SSH but is not a node of the cluster it holds "
                         f"({', '.join(adoption.design.node_names)})")
    return adoption


def cmd_diff(args: argparse.Namespace) -> int:
    prepared = load_valid(args.preset)
    design, rendering = prepared.design, prepared.rendering
    if args.from_dir:
        col = Collected.open(args.from_dir)
        result = nodediff.diff_collected(design, rendering, col, with_cib=not args.files_only)
        return _print_diff(result, f"{args.preset} against {args.from_dir}")
    op = TerminalOperator(yes=False)
    access = collect.Access(args.transport, op.confirm_host_key, op.sudo_password)
    result = collect.diff_nodes(design, rendering, access, with_cib=not args.files_only)
    return _print_diff(result, f"{args.preset} against {', '.join(design.node_names)} over SSH")


def _print_diff(result: nodediff.NodeDiff, what: str) -> int:
    for line in result.file_lines():
        sys.stdout.write(line)
    print(f"{result.files_summary()} ({what})")
    sys.stdout.write(result.cib_text())
    return 1 if result.differs else 0
