"""``hawizard lab ...``: the argparse wiring, and nothing else.

hawizard/cli/main.py calls ``add_parser``; each handler takes the parsed Namespace and returns an
exit code. Errors are raised as hawizard.common.errors exceptions, which the top-level CLI turns into
one line and an exit code (2 bad input, 3 missing tool/port/image, 1 failed operation).
"""

from __future__ import annotations

import argparse

from hawizard.common.errors import InputError
from hawizard.lab import bmc, control, faults, snapshot
from hawizard.lab import image as image_mod
from hawizard.lab.layout import DEFAULT_DISK_MIB, NODE_NAMES, STACK, STACKS
from hawizard.lab.paths import LabPaths


def _paths(args: argparse.Namespace) -> LabPaths:
    return LabPaths.resolve(getattr(args, "lab_dir", None))


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def _node_name(text: str) -> str:
    if text not in NODE_NAMES:
        raise argparse.ArgumentTypeError(f"unknown lab node {text!r} (the nodes are {', '.join(NODE_NAMES)})")
    return text


def cmd_build(args: argparse.Namespace) -> int:
    image_mod.build(_paths(args), force=args.force, mirror=args.mirror)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    overrides = {name: getattr(args, f"disk_mib_{name}") for name in NODE_NAMES}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if args.nodes < 1 or args.nodes > len(NODE_NAMES):
        raise InputError(f"--nodes must be 1 or {len(NODE_NAMES)}, not {args.nodes}")
    control.up(
        _paths(args),
        count=args.nodes,
        port_base=args.port_base,
        disk_mib=args.disk_mib,
        disk_mib_by_node=overrides,
        timeout=args.timeout,
        memory_mib=args.memory_mib,
        stack=args.stack,
        from_snapshot=args.from_snapshot,
        fencing=args.fencing,
    )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    return control.status(_paths(args), probe=not args.no_probe)


def cmd_ssh(args: argparse.Namespace) -> int:
    words = list(args.command)
    if words and words[0] == "--":
        words = words[1:]
    return control.ssh_command(_paths(args), args.node, words)


def cmd_kill(args: argparse.Namespace) -> int:
    control.kill(_paths(args), args.node)
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    control.start(_paths(args), args.node, timeout=args.timeout)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    control.down(_paths(args), timeout=args.timeout)
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    control.reset(_paths(args), timeout=args.timeout)
    return 0


def cmd_cut(args: argparse.Namespace) -> int:
    faults.set_links(_paths(args), up=False)
    return 0


def cmd_heal(args: argparse.Namespace) -> int:
    faults.set_links(_paths(args), up=True)
    return 0


def cmd_freeze(args: argparse.Namespace) -> int:
    faults.freeze(_paths(args), args.node, frozen=True)
    return 0


def cmd_thaw(args: argparse.Namespace) -> int:
    faults.freeze(_paths(args), args.node, frozen=False)
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    if args.name is None:
        snapshot.list_command(_paths(args))
    else:
        snapshot.save_command(_paths(args), args.name)
    return 0


def cmd_bmc_start(args: argparse.Namespace) -> int:
    bmc.start_command(_paths(args), args.nodes)
    return 0


def cmd_bmc_stop(args: argparse.Namespace) -> int:
    bmc.stop_command(_paths(args), args.nodes)
    return 0


def cmd_bmc_status(args: argparse.Namespace) -> int:
    bmc.status_command(_paths(args))
    return 0


def _node_command(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, name: str, summary: str,
                  func) -> argparse.ArgumentParser:
    """``lab NAME NODE``: a sub-command that acts on one node."""
    p = sub.add_parser(name, parents=[common], help=summary)
    p.add_argument("node", type=_node_name, help=" or ".join(NODE_NAMES))
    p.set_defaults(func=func)
    return p


def _add_bmc(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``lab bmc start|stop|status``: the IPMI BMC simulators (bmc.py)."""
    parser = sub.add_parser(
        "bmc", parents=[common],
        help="IPMI BMC simulators on 127.0.0.1 (ipmi_sim) whose power acts on the nodes' qemu",
        description="One IPMI-over-LAN BMC per node (OpenIPMI's ipmi_sim, 127.0.0.1 only): chassis power "
                    "status is the node's qemu alive, off is a power loss (SIGKILL), on boots the node again. "
                    "For fence_ipmilan from the host; nothing changes in the guests.",
    )  # fmt: skip
    parser.set_defaults(func=lambda _args: (parser.print_help(), 2)[1])
    bsub = parser.add_subparsers(dest="bmc_command", metavar="COMMAND")
    p = bsub.add_parser("start", parents=[common],
                        help="start the BMC of each NODE (default: all); prints address, user, password file")
    p.add_argument("nodes", nargs="*", type=_node_name, metavar="NODE")
    p.set_defaults(func=cmd_bmc_start)
    p = bsub.add_parser("stop", parents=[common], help="stop the BMC of each NODE (default: all)")
    p.add_argument("nodes", nargs="*", type=_node_name, metavar="NODE")
    p.set_defaults(func=cmd_bmc_stop)
    p = bsub.add_parser("status", parents=[common], help="each node's BMC: running or not, address, user")
    p.set_defaults(func=cmd_bmc_status)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``lab`` and its sub-commands to the top-level parser."""
    # --dir is accepted both before and after the sub-command
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dir", dest="lab_dir", metavar="DIR", default=argparse.SUPPRESS,
        help="lab directory (default: $HAWIZARD_LAB_DIR, else $XDG_CACHE_HOME/hawizard/lab); "
             "the image cache is DIR/cache unless $HAWIZARD_LAB_CACHE is set",
    )  # fmt: skip
    lab = subparsers.add_parser(
        "lab",
        parents=[common],
        help="two disposable Debian 12 VMs (qemu) with real DRBD, to practise on",
        description="A two-node lab under qemu (software emulation): Debian 12, DRBD 8.4 module, "
        "the cluster packages in a local apt repository, SSH on 127.0.0.1 only.",
    )
    lab.set_defaults(func=lambda _args: (lab.print_help(), 2)[1])
    sub = lab.add_subparsers(dest="lab_command", metavar="COMMAND")

    p = sub.add_parser("build", parents=[common], help="build the base image once (needs root; cached)")
    p.add_argument("--force", action="store_true", help="rebuild even if the cached image is current")
    p.add_argument("--mirror", help="Debian mirror URL (default: the one the host's apt uses)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("up", parents=[common], help="boot the nodes from fresh disks and wait for SSH")
    p.add_argument("--nodes", type=int, default=2, help="number of nodes, 1 or 2 (default 2)")
    p.add_argument("--disk-mib", type=_positive, default=DEFAULT_DISK_MIB,
                   help=f"size of each node's DRBD backing disk /dev/vdb (default {DEFAULT_DISK_MIB})")
    for name in NODE_NAMES:
        p.add_argument(f"--disk-mib-{name}", type=_positive, default=None, metavar="MIB",
                       help=f"a different backing disk size for {name} only")
    p.add_argument("--port-base", type=int, default=None,
                   help="first of the loopback ports the lab uses (default $HAWIZARD_LAB_PORT_BASE or 2220: "
                        "SSH on base+1, base+2)")
    p.add_argument("--memory-mib", type=_positive, default=768, help="memory of each VM (default 768)")
    p.add_argument("--fencing", choices=("sbd", "none"), default="sbd",
                   help="lab.toml's fencing: sbd on the shared disk with the watchdog (default), or none "
                        "(the source article's unfenced design)")
    p.add_argument("--stack", choices=STACKS, default=STACK,
                   help=f"the stack lab.toml is written for (default {STACK}; the image carries both)")
    p.add_argument("--timeout", type=float, default=control.DEFAULT_BOOT_TIMEOUT,
                   help="seconds to wait for SSH (default %(default).0f)")
    p.set_defaults(func=cmd_up)

    p.add_argument("--from-snapshot", metavar="NAME", default=None,
                   help="boot from the disks of a snapshot (hawizard lab snapshot NAME) instead of fresh ones")

    p = sub.add_parser("status", parents=[common], help="the image and each node: running or not, ports, SSH")
    p.add_argument("--no-probe", action="store_true", help="do not try SSH on running nodes")
    p.set_defaults(func=cmd_status)

    p = _node_command(sub, common, "ssh", "SSH into a node as root (the lab's key, strict host keys)", cmd_ssh)
    p.add_argument("command", nargs=argparse.REMAINDER,
                   help="command to run; one word is a shell command line, several are quoted one by one")
    _node_command(sub, common, "kill", "power loss: SIGKILL to the node's qemu", cmd_kill)
    p = _node_command(sub, common, "start", "power a node on again (same disks) and wait for SSH", cmd_start)
    p.add_argument("--timeout", type=float, default=control.DEFAULT_BOOT_TIMEOUT)

    p = sub.add_parser("down", parents=[common], help="clean power-down of every node (SIGKILL after --timeout)")
    p.add_argument("--timeout", type=float, default=control.DEFAULT_DOWN_TIMEOUT)
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("cut", parents=[common],
                       help="partition: carrier off on both cluster links of both nodes (qemu set_link; "
                            "the service network and the host stay as they are)")
    p.set_defaults(func=cmd_cut)
    p = sub.add_parser("heal", parents=[common], help="carrier back on for the cluster links cut by 'cut'")
    p.set_defaults(func=cmd_heal)
    _node_command(sub, common, "freeze", "a hung node: SIGSTOP to its qemu (every vCPU and device)", cmd_freeze)
    _node_command(sub, common, "thaw", "SIGCONT to a frozen node's qemu", cmd_thaw)
    p = sub.add_parser("snapshot", parents=[common],
                       help="save the stopped nodes' disks as NAME (no NAME: list the snapshots)")
    p.add_argument("name", nargs="?", metavar="NAME")
    p.set_defaults(func=cmd_snapshot)

    _add_bmc(sub, common)

    p = sub.add_parser("reset", parents=[common], help="stop the nodes and give them fresh disks")
    p.add_argument("--timeout", type=float, default=control.DEFAULT_DOWN_TIMEOUT)
    p.set_defaults(func=cmd_reset)
    return lab
