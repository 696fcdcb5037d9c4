"""The lab's life cycle: up, start, kill, down, reset, status, ssh.

This is where the pieces meet: the layout gives the plan, ``lab.json`` (state.py) remembers it
(ports, disk sizes, which image, each node's machine-id) so that later commands act on the same
lab, the image cache gives the disks' base, ssh and seed give each node its identity, and vm runs
qemu. Every command that changes the lab holds a lock on its state directory, so two of them
never interleave. The faults (faults.py), snapshots (snapshot.py) and BMCs (bmc.py) are verbs of
their own modules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from hawizard.common.errors import EnvironmentProblem, InputError, OperationFailed
from hawizard.lab import bmc, network, snapshot, ssh, tools, vm
from hawizard.lab import image as image_mod
from hawizard.lab.layout import DEFAULT_DISK_MIB, DEFAULT_PORT_BASE, SBD_DISK_MIB, STACK, LabNode, plan_nodes
from hawizard.lab.paths import LabPaths
from hawizard.lab.preset import make_lab_preset
from hawizard.lab.seed import write_seed
from hawizard.lab.state import (
    STATE_VERSION,
    Out,
    files_of,
    load_state,
    locked,
    node_of,
    nodes_of,
    print_line,
    require_state,
    save_state,
)

ENV_PORT_BASE = "HAWIZARD_LAB_PORT_BASE"
DEFAULT_BOOT_TIMEOUT = 300.0
DEFAULT_DOWN_TIMEOUT = 60.0


def default_port_base() -> int:
    value = os.environ.get(ENV_PORT_BASE)
    if not value:
        return DEFAULT_PORT_BASE
    if not value.isdigit():
        raise InputError(f"${ENV_PORT_BASE} must be a port number, not {value!r}")
    return int(value)


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
    out: Out = print_line,
    stack: str = STACK,
    from_snapshot: str | None = None,
    fencing: str = "sbd",
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
                        stack=stack, fencing=fencing)
    boot_s = round(time.monotonic() - t_boot, 1)
    rss = {n.name: vm.rss_mib(vm.running_pid(files_of(paths, n)) or 0) for n in nodes}
    out(f"lab is up: {len(nodes)} node(s), SSH on all after {boot_s:.1f}s "
        f"(qemu RSS: {', '.join(f'{k} {v} MiB' for k, v in rss.items())})")
    out(f"  preset:       {paths.preset}")
    out(f"  operator key: {paths.operator_key}")
    out(f"  known_hosts:  {paths.known_hosts}")
    out("  try:          hawizard lab ssh srv1 hostname")
    return {"ready": ready, "boot_seconds": boot_s, "total_seconds": round(time.monotonic() - t0, 1), "rss_mib": rss}


def start(paths: LabPaths, name: str, timeout: float = DEFAULT_BOOT_TIMEOUT, out: Out = print_line) -> dict:
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


def kill(paths: LabPaths, name: str, out: Out = print_line) -> int | None:
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


def down(paths: LabPaths, timeout: float = DEFAULT_DOWN_TIMEOUT, out: Out = print_line) -> dict[str, str]:
    """Stop every node (clean power-down, SIGKILL after ``timeout``); the disks stay."""
    state = load_state(paths)
    if state is None:
        out(f"no lab in {paths.root}; nothing to stop")
        return {}
    with locked(paths):
        bmc.stop_all(paths, state, out)  # first: no fence request powers a node on again meanwhile
        result = _stop_all(paths, state, timeout, out)
    if not result:
        out("no lab node was running")
    else:
        out("lab is down; the disks are kept ('hawizard lab start NODE' resumes a node, 'hawizard lab up' "
            "starts afresh)")
    return result


def reset(paths: LabPaths, timeout: float = DEFAULT_DOWN_TIMEOUT, out: Out = print_line) -> None:
    """Stop the nodes, then give each fresh overlays, DRBD disks and machine-ids (left powered off)."""
    state = load_state(paths)
    if state is None:
        out(f"no lab in {paths.root}; nothing to reset")
        return
    with locked(paths):
        bmc.stop_all(paths, state, out)
        _stop_all(paths, state, timeout, out)
        img = image_mod.require_image(paths)
        state["image"] = {"hash": img.manifest["recipe_hash"], "build_id": img.build_id}
        for node in nodes_of(state):
            _fresh_node(paths, state, node, img.base)
        _fresh_sbd_disk(paths)
        save_state(paths, state)
    out("lab reset: fresh disks for every node, all powered off; boot with 'hawizard lab up' "
        "or 'hawizard lab start NODE'")


def status(paths: LabPaths, probe: bool = True, out: Out = print_line) -> int:
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
