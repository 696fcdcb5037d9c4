"""The faults a fenced cluster must survive: cut/heal the cluster links, freeze/thaw a node.

Why apart from the life cycle (control.py): these act on running VMs only, through qemu's
monitor and signals, change nothing on disk and take no lock (they must work while a test or
another command waits). A power loss is control.kill: it is also what the BMC's "off" does.
"""

from __future__ import annotations

from collections.abc import Sequence

from hawizard.common.errors import EnvironmentProblem
from hawizard.lab import vm
from hawizard.lab.layout import CLUSTER_LINKS, LabNode
from hawizard.lab.paths import LabPaths
from hawizard.lab.state import Out, files_of, node_of, nodes_of, print_line, require_state


def _running(paths: LabPaths, state: dict, name: str) -> tuple[LabNode, vm.NodeFiles]:
    node = node_of(state, name)
    files = files_of(paths, node)
    if vm.running_pid(files) is None:
        raise EnvironmentProblem(f"{name} is not running; power it on with: hawizard lab start {name}")
    return node, files


def set_links(paths: LabPaths, up: bool, roles: Sequence[str] = CLUSTER_LINKS,
              out: Out = print_line) -> list[str]:
    """Cut (or heal) the cluster links at both ends: a partition with both nodes up.

    Not locked, like kill: it acts on running VMs only and must work while a test waits.
    """
    state = require_state(paths)
    done = []
    for node in nodes_of(state):
        files = files_of(paths, node)
        if vm.running_pid(files) is None:
            out(f"{node.name}: not running, nothing to {'heal' if up else 'cut'}")
            continue
        if vm.is_frozen(files):
            raise EnvironmentProblem(f"{node.name} is frozen; thaw it first (hawizard lab thaw {node.name})")
        for role in roles:
            vm.set_link(files, vm.netdev_of(node, role), up)
            done.append(f"{node.name}:{node.nic(role).ifname}")
    out(f"{'healed' if up else 'cut'}: {' '.join(done) or 'nothing'}")
    return done


def freeze(paths: LabPaths, name: str, frozen: bool, out: Out = print_line) -> int:
    """A hung node: SIGSTOP of its qemu stops every virtual CPU and device, its clock included."""
    state = require_state(paths)
    _node, files = _running(paths, state, name)
    pid = vm.signal_qemu(files, vm.signal.SIGSTOP if frozen else vm.signal.SIGCONT)
    assert pid is not None
    out(f"{name}: qemu pid {pid} {'frozen (SIGSTOP)' if frozen else 'thawed (SIGCONT)'}")
    return pid
