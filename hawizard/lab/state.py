"""What every changing lab command shares: ``lab.json``, the lock on it, and the node lookups.

Why one module: the life cycle (control.py), the faults, the snapshots and the BMCs all act on
the same lab, and must agree on what it is (how many nodes, which ports, which image, each
node's machine-id) and never interleave: a changing command holds the lock on the state
directory for its whole run.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from hawizard.common.errors import EnvironmentProblem
from hawizard.lab import vm
from hawizard.lab.layout import DEFAULT_DISK_MIB, LabNode, check_node_name, plan_nodes
from hawizard.lab.paths import LabPaths

STATE_VERSION = 1

#: where a command's lines go (the terminal by default; the BMC's chassis log when it acts)
Out = Callable[[str], None]


def print_line(text: str) -> None:
    print(text, flush=True)


@contextmanager
def locked(paths: LabPaths) -> Iterator[None]:
    """Exclusive use of the lab's state for one changing command."""
    paths.ensure(paths.state)
    with open(paths.state / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise EnvironmentProblem(
                f"another 'hawizard lab' command is working on {paths.root}; wait for it to finish"
            ) from exc
        yield


def load_state(paths: LabPaths) -> dict | None:
    try:
        data = json.loads(paths.state_file.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise EnvironmentProblem(f"the lab's state file {paths.state_file} is unreadable ({exc}); run: hawizard lab reset") from exc
    return data if data.get("version") == STATE_VERSION else None


def save_state(paths: LabPaths, state: dict) -> None:
    tmp = paths.state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    os.replace(tmp, paths.state_file)


def require_state(paths: LabPaths) -> dict:
    state = load_state(paths)
    if state is None:
        raise EnvironmentProblem(f"there is no lab in {paths.root}; make one with: hawizard lab up")
    return state


def nodes_of(state: dict) -> list[LabNode]:
    return plan_nodes(state["count"], state["port_base"], DEFAULT_DISK_MIB, state["disk_mib"])


def node_of(state: dict, name: str) -> LabNode:
    check_node_name(name, state["count"])
    return next(n for n in nodes_of(state) if n.name == name)


def files_of(paths: LabPaths, node: LabNode) -> vm.NodeFiles:
    return vm.NodeFiles(paths.node_dir(node.name))
