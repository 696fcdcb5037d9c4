"""The lab's life cycle: up, start, kill, down, reset, status, ssh; and the faults a fenced
cluster must survive: cut/heal the cluster links, freeze/thaw a node; snapshots of the disks.

This is where the pieces meet: the layout gives the plan, ``lab.json`` remembers it (ports,
disk sizes, which image, each node's machine-id) so that later commands act on the same lab,
the image cache gives the disks' base, ssh and seed give each node its identity, and vm runs
qemu. Every command that changes the lab holds a lock on its state directory, so two of
them never interleave.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from hawizard.common.errors import EnvironmentProblem, InputError, OperationFailed
from hawizard.lab import bmc, network, snapshot, ssh, tools, vm
from hawizard.lab import image as image_mod
from hawizard.lab.layout import (
    CLUSTER_LINKS,
    DEFAULT_DISK_MIB,
    DEFAULT_PORT_BASE,
    SBD_DISK_MIB,
    STACK,
    LabNode,
    check_node_name,
    plan_nodes,
)
from hawizard.lab.paths import LabPaths
from hawizard.lab.preset import make_lab_preset
from hawizard.lab.seed import write_seed

STATE_VERSION = 1
ENV_PORT_BASE = "HAWIZARD_LAB_PORT_BASE"
DEFAULT_BOOT_TIMEOUT = 300.0
DEFAULT_DOWN_TIMEOUT = 60.0

Out = Callable[[str], None]


def _print(text: str) -> None:
    print(text, flush=True)


def default_port_base() -> int:
    value = os.environ.get(ENV_PORT_BASE)
    if not value:
        return DEFAULT_PORT_BASE
    if not value.isdigit():
        raise InputError(f"${ENV_PORT_BASE} must be a port number, not {value!r}")
    return int(value)


# -- state ------------------------------------------------------------------------------------


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


# -- pieces -------------------------------------------------------------------------------------


def _fresh_node(paths: LabPaths, state: dict, node: LabNode, base: Path) -> None:
    """New overlay and DRBD disk, new machine-id: the node as if just installed."""
    files = files_of(paths, node)
    if vm.running_pid(files) is not None:
        raise OperationFailed(f"{node.name} is running; stop it before its disks are replaced")
    if files.dir.exists():
        shutil.rmtree(files.dir)
    vm.create_disks(node, files, base)
    state["machine_ids"][node.name] = uuid.uuid4().hex


def _fresh_sbd_disk(paths: LabPaths) -> None:
    """An empty shared disk for SBD (hawizard's plan initialises it, as on a real cluster)."""
    paths.sbd_disk.unlink(missing_ok=True)
    with open(paths.sbd_disk, "wb") as fh:
        fh.truncate(SBD_DISK_MIB << 20)


def _boot(paths: LabPaths, state: dict, node: LabNode, img: image_mod.Image, out: Out) -> int:
    files = files_of(paths, node)
    write_seed(paths, node, files.seed)
    if not paths.sbd_disk.is_file():  # a lab made before the lab had fencing hardware
        _fresh_sbd_disk(paths)
    argv = vm.qemu_argv(node, files, img.kernel, img.initrd, state["machine_ids"][node.name], state["memory_mib"],
                        sbd_disk=paths.sbd_disk)
    pid = vm.start(argv, files)
    out(f"{node.name}: qemu started, pid {pid} (SSH forward 127.0.0.1:{node.ssh_port}, console {files.console})")
    return pid


def _wait(paths: LabPaths, nodes: Sequence[LabNode], timeout: float, out: Out) -> dict[str, float]:
    out(f"waiting for SSH on {', '.join(n.name for n in nodes)} (software-emulated CPU: about 20-60 s)...")

    def running(node: LabNode) -> bool:
        return vm.running_pid(files_of(paths, node)) is not None

    def ready(node: LabNode, seconds: float) -> None:
        out(f"{node.name}: SSH answers after {seconds:.1f}s")

    def explain(node: LabNode) -> str:
        return vm.console_tail(files_of(paths, node))

    return ssh.wait_for_ssh(paths, nodes, timeout, running, ready, explain)


def _image_for(paths: LabPaths, state: dict) -> image_mod.Image:
    img = image_mod.find_image(paths, state["image"]["hash"])
    if img is None or img.build_id != state["image"]["build_id"]:
        raise EnvironmentProblem(
            "the image this lab's disks were made from is gone or was rebuilt; make fresh disks with: "
            "hawizard lab reset (then hawizard lab up)"
        )
    return img


# -- commands ---------------------------------------------------------------------------------


def up(
    paths: LabPaths,
    count: int = 2,
    port_base: int | None = None,
    disk_mib: int = DEFAULT_DISK_MIB,
    disk_mib_by_node: dict[str, int] | None = None,
    timeout: float = DEFAULT_BOOT_TIMEOUT,
    memory_mib: int = vm.MEMORY_MIB,
    out: Out = _print,
    stack: str = STACK,
    from_snapshot: str | None = None,
) -> dict:
    """Fresh disks for every node (or the disks of a snapshot), boot them all, wait for SSH, write
    known_hosts and lab.toml (for ``stack``: the lab image carries the packages of each of
    layout.STACKS)."""
    tools.require(*tools.RUN_TOOLS)
    t0 = time.monotonic()
    base_port = default_port_base() if port_base is None else port_base
    nodes = plan_nodes(count, base_port, disk_mib, disk_mib_by_node)
    img = image_mod.require_image(paths)
    with locked(paths):
        old = load_state(paths)
        if old is not None:
            live = [(n.name, vm.running_pid(files_of(paths, n))) for n in nodes_of(old)]
            live = [(name, pid) for name, pid in live if pid is not None]
            if live:
                which = ", ".join(f"{name} (pid {pid})" for name, pid in live)
                raise EnvironmentProblem(
                    f"the lab is already up: {which}; use 'hawizard lab status', or 'hawizard lab down' first"
                )
        network.check_ports_free(nodes)
        ssh.ensure_keys(paths, nodes)
        ssh.write_known_hosts(paths, nodes)
        state = {
            "version": STATE_VERSION,
            "count": count,
            "port_base": base_port,
            "disk_mib": {n.name: n.disk_mib for n in nodes},
            "memory_mib": memory_mib,
            "image": {"hash": img.manifest["recipe_hash"], "build_id": img.build_id},
            "machine_ids": {},
        }
        if (paths.state / "nodes").exists():
            for stale in (paths.state / "nodes").iterdir():
                if stale.name not in {n.name for n in nodes}:
                    shutil.rmtree(stale, ignore_errors=True)
        if from_snapshot:
            snapshot.restore(paths, state, nodes, from_snapshot, img)
            out(f"lab: disks of {', '.join(n.name for n in nodes)} from snapshot {from_snapshot!r}")
        else:
            for node in nodes:
                _fresh_node(paths, state, node, img.base)
            _fresh_sbd_disk(paths)
            out(f"lab: fresh disks for {', '.join(n.name for n in nodes)} "
                f"({', '.join(f'{n.name} /dev/vdb {n.disk_mib} MiB' for n in nodes)}, shared SBD disk)")
        save_state(paths, state)
        t_boot = time.monotonic()
        try:
            for node in nodes:
                _boot(paths, state, node, img, out)
            ready = _wait(paths, nodes, timeout, out)
        except BaseException:
            for node in nodes:  # leave nothing running from a failed start
                vm.kill(files_of(paths, node))
            raise
        make_lab_preset(nodes, paths.preset, identity_file=paths.operator_key, known_hosts=paths.known_hosts,
                        stack=stack)
    boot_s = round(time.monotonic() - t_boot, 1)
    rss = {n.name: vm.rss_mib(vm.running_pid(files_of(paths, n)) or 0) for n in nodes}
    out(f"lab is up: {len(nodes)} node(s), SSH on all after {boot_s:.1f}s "
        f"(qemu RSS: {', '.join(f'{k} {v} MiB' for k, v in rss.items())})")
    out(f"  preset:       {paths.preset}")
    out(f"  operator key: {paths.operator_key}")
    out(f"  known_hosts:  {paths.known_hosts}")
    out("  try:          hawizard lab ssh srv1 hostname")
    return {"ready": ready, "boot_seconds": boot_s, "total_seconds": round(time.monotonic() - t0, 1), "rss_mib": rss}


def start(paths: LabPaths, name: str, timeout: float = DEFAULT_BOOT_TIMEOUT, out: Out = _print) -> dict:
    """Power a stopped node on again, on the disks it had."""
    tools.require(*tools.RUN_TOOLS)
    state = require_state(paths)
    node = node_of(state, name)
    with locked(paths):
        files = files_of(paths, node)
        pid = vm.running_pid(files)
        if pid is not None:
            raise EnvironmentProblem(f"{name} is already running (pid {pid})")
        if not files.overlay.is_file() or not files.disk.is_file():
            raise EnvironmentProblem(f"{name} has no disks; make fresh ones with: hawizard lab reset")
        img = _image_for(paths, state)
        network.check_ports_free([node])
        t0 = time.monotonic()
        _boot(paths, state, node, img, out)
        try:
            ready = _wait(paths, [node], timeout, out)
        except BaseException:
            vm.kill(files)
            raise
    return {"ready": ready, "boot_seconds": round(time.monotonic() - t0, 1)}


def kill(paths: LabPaths, name: str, out: Out = _print) -> int | None:
    """Power loss: SIGKILL to the node's qemu. Not locked: it must work while 'up' waits."""
    state = require_state(paths)
    node = node_of(state, name)
    pid = vm.kill(files_of(paths, node))
    if pid is None:
        out(f"{name} was not running")
    else:
        out(f"{name}: qemu pid {pid} killed (power loss); power it on again with: hawizard lab start {name}")
    return pid


def _stop_all(paths: LabPaths, state: dict, timeout: float, out: Out) -> dict[str, str]:
    """ACPI power-down of every running node at once, then SIGKILL to any still alive."""
    nodes = nodes_of(state)
    running = {}
    for node in nodes:
        files = files_of(paths, node)
        pid = vm.running_pid(files)
        if pid is None:
            continue
        if vm.is_frozen(files):  # a frozen VM answers no power button: it is switched off
            vm.kill(files)
            out(f"{node.name}: was frozen; qemu pid {pid} killed")
            continue
        running[node.name] = (files, pid)
        try:
            vm.monitor_command(files, "system_powerdown")
        except OSError:
            pass
    result = {}
    t0 = time.monotonic()
    for name, (files, pid) in running.items():
        left = max(0.0, timeout - (time.monotonic() - t0))
        if vm.wait_gone(pid, files.pidfile, left):
            files.pidfile.unlink(missing_ok=True)
            files.monitor.unlink(missing_ok=True)
            result[name] = "clean"
            out(f"{name}: powered off cleanly after {time.monotonic() - t0:.1f}s")
        else:
            vm.kill(files)
            result[name] = "killed"
            out(f"{name}: did not power off within {timeout:.0f}s; qemu pid {pid} killed")
    return result


def down(paths: LabPaths, timeout: float = DEFAULT_DOWN_TIMEOUT, out: Out = _print) -> dict[str, str]:
    """Stop every node (clean power-down, SIGKILL after ``timeout``); the disks stay."""
    state = load_state(paths)
    if state is None:
        out(f"no lab in {paths.root}; nothing to stop")
        return {}
    with locked(paths):
        _stop_bmcs(paths, state, out)  # first: no fence request powers a node on again meanwhile
        result = _stop_all(paths, state, timeout, out)
    if not result:
        out("no lab node was running")
    else:
        out("lab is down; the disks are kept ('hawizard lab start NODE' resumes a node, 'hawizard lab up' "
            "starts afresh)")
    return result


def reset(paths: LabPaths, timeout: float = DEFAULT_DOWN_TIMEOUT, out: Out = _print) -> None:
    """Stop the nodes, then give each fresh overlays, DRBD disks and machine-ids (left powered off)."""
    state = load_state(paths)
    if state is None:
        out(f"no lab in {paths.root}; nothing to reset")
        return
    with locked(paths):
        _stop_bmcs(paths, state, out)
        _stop_all(paths, state, timeout, out)
        img = image_mod.require_image(paths)
        state["image"] = {"hash": img.manifest["recipe_hash"], "build_id": img.build_id}
        for node in nodes_of(state):
            _fresh_node(paths, state, node, img.base)
        _fresh_sbd_disk(paths)
        save_state(paths, state)
    out("lab reset: fresh disks for every node, all powered off; boot with 'hawizard lab up' "
        "or 'hawizard lab start NODE'")


def status(paths: LabPaths, probe: bool = True, out: Out = _print) -> int:
    img = image_mod.find_image(paths)
    if img is None:
        out(f"image:  not built for the current recipe ({image_mod.recipe_hash()}); run: hawizard lab build")
    else:
        m = img.manifest
        out(f"image:  {m['recipe_hash']} built {m['built_at']} in {m.get('build_seconds', '?')}s, "
            f"kernel {m['kernel']}, {m['repo_packages']} packages in the local repository ({img.dir})")
    state = load_state(paths)
    if state is None:
        out(f"lab:    none in {paths.root}")
        return 0
    out(f"lab:    {paths.root} (ports from {state['port_base']}, preset {paths.preset})")
    for node in nodes_of(state):
        files = files_of(paths, node)
        pid = vm.running_pid(files)
        if pid is not None:
            rss = vm.rss_mib(pid)
            answer = ""
            if probe:
                answer = ", SSH answers" if ssh.probe(paths, node, timeout=10) else ", SSH not answering yet"
            line = f"running, pid {pid}, RSS {rss} MiB{answer}"
        elif files.overlay.is_file():
            line = "stopped (disks kept)"
        else:
            line = "no disks"
        out(f"{node.name}:   {line}; ssh 127.0.0.1:{node.ssh_port}, /dev/vdb {node.disk_mib} MiB, "
            f"{node.nic('service').address} {node.nic('interconnect1').address} {node.nic('interconnect2').address}")
    return 0


def ssh_command(paths: LabPaths, name: str, words: Sequence[str]) -> int:
    """Run OpenSSH's client against the node; its exit code is returned unchanged."""
    tools.require(*tools.SSH_TOOLS)
    state = require_state(paths)
    node = node_of(state, name)
    if vm.running_pid(files_of(paths, node)) is None:
        raise EnvironmentProblem(f"{name} is not running; power it on with: hawizard lab start {name}")
    return subprocess.run(ssh.ssh_argv(paths, node, words)).returncode


# -- faults -------------------------------------------------------------------------------------


def _running(paths: LabPaths, state: dict, name: str) -> tuple[LabNode, vm.NodeFiles]:
    node = node_of(state, name)
    files = files_of(paths, node)
    if vm.running_pid(files) is None:
        raise EnvironmentProblem(f"{name} is not running; power it on with: hawizard lab start {name}")
    return node, files


def set_links(paths: LabPaths, up: bool, roles: Sequence[str] = CLUSTER_LINKS, out: Out = _print) -> list[str]:
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


def freeze(paths: LabPaths, name: str, frozen: bool, out: Out = _print) -> int:
    """A hung node: SIGSTOP of its qemu stops every virtual CPU and device, its clock included."""
    state = require_state(paths)
    _node, files = _running(paths, state, name)
    pid = vm.signal_qemu(files, vm.signal.SIGSTOP if frozen else vm.signal.SIGCONT)
    assert pid is not None
    out(f"{name}: qemu pid {pid} {'frozen (SIGSTOP)' if frozen else 'thawed (SIGCONT)'}")
    return pid


# -- snapshots ----------------------------------------------------------------------------------


def snapshot_save(paths: LabPaths, name: str, out: Out = _print) -> Path:
    """Save the stopped nodes' disks as ``name`` (see snapshot.py); the nodes stay as they were."""
    state = require_state(paths)
    with locked(paths):
        target = snapshot.save(paths, state, nodes_of(state), name)
    out(f"snapshot {name!r} saved in {target}; boot a lab from it with: hawizard lab up --from-snapshot {name}")
    return target


def snapshot_list(paths: LabPaths, out: Out = _print) -> list[str]:
    found = snapshot.names(paths)
    out("\n".join(found) if found else f"no snapshots in {paths.snapshots}")
    return found


# -- BMC simulators (bmc.py) ----------------------------------------------------------------------


def _bmc_line(paths: LabPaths, node: LabNode) -> str:
    files = bmc.files_of(paths, node.name)
    where = (f"password in {files.password} (mode 0600)" if files.password.is_file()
             else "no password yet (made by 'hawizard lab bmc start')")
    return (f"IPMI over LAN (lanplus, cipher {bmc.CIPHER_SUITE}) at {network.LOOPBACK}:{node.bmc_port}/udp, "
            f"user {bmc.USER}, {where}")


def _stop_bmcs(paths: LabPaths, state: dict, out: Out, names: Sequence[str] | None = None) -> list[str]:
    stopped = []
    for node in nodes_of(state):
        if names and node.name not in names:
            continue
        pid = bmc.stop(bmc.files_of(paths, node.name))
        if pid is not None:
            stopped.append(node.name)
            out(f"{node.name}: BMC stopped (ipmi_sim pid {pid})")
    return stopped


def bmc_start(paths: LabPaths, names: Sequence[str] = (), out: Out = _print) -> dict[str, int]:
    """Start the BMC simulator of each named node (default: every node); {name: ipmi_sim pid}.

    A BMC already running is left as it is (its password does not change).
    """
    state = require_state(paths)
    nodes = [node_of(state, n) for n in names] if names else nodes_of(state)
    pids = {}
    with locked(paths):
        for node in nodes:
            pid, started = bmc.start(paths, node)
            pids[node.name] = pid
            out(f"{node.name}: BMC {'started' if started else 'already running'} (ipmi_sim pid {pid}): "
                f"{_bmc_line(paths, node)}")
    out("  its power acts on the node's qemu: status = qemu alive, off = power loss (SIGKILL), on = boot "
        "(same disks); fence parameters: see docs/lab.md")
    return pids


def bmc_stop(paths: LabPaths, names: Sequence[str] = (), out: Out = _print) -> list[str]:
    """Stop the BMC simulators (default: every node's); the nodes themselves are not touched."""
    state = load_state(paths)
    if state is None:
        out(f"no lab in {paths.root}; nothing to stop")
        return []
    for name in names:
        node_of(state, name)
    with locked(paths):
        stopped = _stop_bmcs(paths, state, out, names)
    if not stopped:
        out("no BMC was running")
    return stopped


def bmc_status(paths: LabPaths, out: Out = _print) -> dict[str, int | None]:
    """Each node's BMC: running (pid) or stopped, its address, user and password file."""
    state = require_state(paths)
    result = {}
    for node in nodes_of(state):
        pid = bmc.running_pid(bmc.files_of(paths, node.name))
        result[node.name] = pid
        what = f"BMC running, ipmi_sim pid {pid}" if pid is not None else "BMC stopped"
        out(f"{node.name}: {what}; {_bmc_line(paths, node)}")
    return result
