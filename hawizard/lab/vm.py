"""One node's qemu process: its command line, its disks, and its life by pid file.

Why these choices (measured on a 2-core host without usable KVM):
  * TCG with ``tb-size=128``: the default 1 GiB translation cache would double each qemu's
    memory; with 128 MiB and ``-m 768`` a node stays under 1 GB resident.
  * Direct kernel boot of the image's own kernel and trimmed initramfs: no bootloader.
  * ``-daemonize -pidfile``: qemu outlives the command that started it; the pid file is how
    every later command finds it. A pid is trusted only if /proc says that process is a
    qemu started with this very pid file, so a recycled pid is never signalled.
  * Power loss is SIGKILL to that pid; a clean stop is ``system_powerdown`` on the monitor
    socket (ACPI power button, the guest shuts down), with SIGKILL after a timeout.
  * Management NIC: user networking with ``restrict=on`` and only a forward from
    127.0.0.1 to the guest's port 22; the VM-to-VM links are UDP socket netdevs on 127.0.0.1.
  * Fencing hardware: a raw disk opened by both qemu processes (``share-rw=on``, which qemu's
    image locking otherwise refuses; ``cache=writethrough`` so that what one VM writes is in
    the host's page cache when the other reads, qemu-block-drivers(7) "Disk image file
    locking") for SBD, and an i6300esb watchdog whose expiry resets the VM.
  * A partition is ``set_link netN off`` on the monitor (the guest sees its carrier drop,
    nothing on the host changes); a hung node is SIGSTOP of its qemu.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from hawizard.common.errors import EnvironmentProblem, OperationFailed
from hawizard.lab.layout import SBD_SERIAL, LabNode
from hawizard.lab.network import LOOPBACK
from hawizard.lab.seed import SEED_SERIAL

MEMORY_MIB = 768
TB_SIZE_MIB = 128
_SOCKET_PATH_MAX = 107  # sun_path


@dataclass(frozen=True)
class NodeFiles:
    """The files of one node in the lab's state directory."""

    dir: Path

    @property
    def overlay(self) -> Path:
        return self.dir / "root.qcow2"

    @property
    def disk(self) -> Path:
        return self.dir / "drbd.img"

    @property
    def seed(self) -> Path:
        return self.dir / "seed.tar"

    @property
    def pidfile(self) -> Path:
        return self.dir / "qemu.pid"

    @property
    def monitor(self) -> Path:
        return self.dir / "monitor.sock"

    @property
    def console(self) -> Path:
        return self.dir / "console.log"

    @property
    def qemu_log(self) -> Path:
        return self.dir / "qemu.log"


def _opt(value: object) -> str:
    """A value inside a qemu -option list: commas are doubled."""
    return str(value).replace(",", ",,")


def kernel_cmdline(node: LabNode, machine_id: str) -> str:
    return (
        "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet panic=10 "
        f"systemd.hostname={node.name} systemd.machine_id={machine_id}"
    )


def qemu_argv(
    node: LabNode,
    files: NodeFiles,
    kernel: Path,
    initrd: Path,
    machine_id: str,
    memory_mib: int = MEMORY_MIB,
    sbd_disk: Path | None = None,
) -> list[str]:
    """The full qemu command line for one node (no shell is involved)."""
    argv = [
        "qemu-system-x86_64",
        "-name", f"hawizard-lab-{node.name}",
        "-machine", "pc",
        "-accel", f"tcg,tb-size={TB_SIZE_MIB}",
        "-smp", "1",
        "-m", str(memory_mib),
        "-nodefaults", "-no-user-config",
        "-display", "none",
        "-serial", f"file:{_opt(files.console)}",
        "-monitor", f"unix:{_opt(files.monitor)},server=on,wait=off",
        "-pidfile", str(files.pidfile),
        "-daemonize",
        "-kernel", str(kernel),
        "-initrd", str(initrd),
        "-append", kernel_cmdline(node, machine_id),
        # vda: the node's root overlay; vdb: the DRBD backing disk; vdc: the seed disk
        "-drive", f"if=none,id=root,file={_opt(files.overlay)},format=qcow2,cache=unsafe,discard=unmap",
        "-device", "virtio-blk-pci,drive=root",
        "-drive", f"if=none,id=drbd,file={_opt(files.disk)},format=raw,cache=unsafe",
        "-device", "virtio-blk-pci,drive=drbd",
        "-drive", f"if=none,id=seed,file={_opt(files.seed)},format=raw,readonly=on",
        "-device", f"virtio-blk-pci,drive=seed,serial={SEED_SERIAL}",
        "-device", "virtio-rng-pci",
        "-device", "i6300esb", "-action", "watchdog=reset",
    ]  # fmt: skip
    if sbd_disk is not None:
        argv += ["-drive", f"if=none,id=sbd,file={_opt(sbd_disk)},format=raw,cache=writethrough",
                 "-device", f"virtio-blk-pci,drive=sbd,share-rw=on,serial={SBD_SERIAL}"]
    for i, nic in enumerate(node.nics):
        if nic.local_port is None:
            netdev = f"user,id=net{i},restrict=on,hostfwd=tcp:{LOOPBACK}:{node.ssh_port}-:22"
        else:
            netdev = f"socket,id=net{i},udp={LOOPBACK}:{nic.peer_port},localaddr={LOOPBACK}:{nic.local_port}"
        argv += ["-netdev", netdev, "-device", f"virtio-net-pci,netdev=net{i},mac={nic.mac},romfile="]
    return argv


def create_disks(node: LabNode, files: NodeFiles, base: Path) -> None:
    """A fresh qcow2 overlay over the shared base image, and a fresh sparse DRBD disk."""
    files.dir.mkdir(parents=True, exist_ok=True)
    for path in (files.overlay, files.disk):
        path.unlink(missing_ok=True)
    result = subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "raw", str(files.overlay)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise OperationFailed(f"qemu-img could not create {files.overlay}: {result.stderr.strip()}")
    with open(files.disk, "wb") as fh:
        fh.truncate(node.disk_mib << 20)


# -- pid files ----------------------------------------------------------------------------


def read_pidfile(pidfile: Path) -> int | None:
    """The pid written in ``pidfile``, or None when there is no usable number in it."""
    try:
        text = pidfile.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def pid_is_ours(pid: int, pidfile: Path) -> bool:
    """True when ``pid`` is alive (not a zombie) and was started with this pid file."""
    state = proc_state(pid)
    if state is None or state in ("Z", "X"):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(pidfile).encode() in cmdline


def running_pid(files: NodeFiles) -> int | None:
    """The pid of this node's live qemu, or None (a stale pid file is removed)."""
    pid = read_pidfile(files.pidfile)
    if pid is None:
        return None
    if pid_is_ours(pid, files.pidfile):
        return pid
    files.pidfile.unlink(missing_ok=True)
    return None


def wait_gone(pid: int, pidfile: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_is_ours(pid, pidfile):
            return True
        time.sleep(0.2)
    return not pid_is_ours(pid, pidfile)


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


# -- start and stop -------------------------------------------------------------------------


def start(argv: list[str], files: NodeFiles) -> int:
    """Run qemu (it daemonizes) and return the pid it wrote; OperationFailed with its words if not."""
    if len(str(files.monitor)) > _SOCKET_PATH_MAX:
        raise EnvironmentProblem(
            f"the lab directory path is too long for a unix socket ({files.monitor}); use a shorter --dir"
        )
    files.pidfile.unlink(missing_ok=True)
    files.monitor.unlink(missing_ok=True)
    with open(files.qemu_log, "w") as log:
        try:
            result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, timeout=120)
        except FileNotFoundError as exc:
            raise EnvironmentProblem(f"{argv[0]} is missing (apt-get install qemu-system-x86)") from exc
        except subprocess.TimeoutExpired as exc:
            raise OperationFailed(f"qemu did not finish starting within 120s (log: {files.qemu_log})") from exc
    words = files.qemu_log.read_text(errors="replace").strip()
    if result.returncode != 0:
        raise OperationFailed(f"qemu failed to start (exit {result.returncode}): {words or 'no message'}")
    pid = read_pidfile(files.pidfile)
    if pid is None or not pid_is_ours(pid, files.pidfile):
        raise OperationFailed(f"qemu started but left no live pid in {files.pidfile}: {words or 'no message'}")
    return pid


def kill(files: NodeFiles) -> int | None:
    """Power loss: SIGKILL to the node's qemu by pid. Returns the pid killed, or None."""
    pid = running_pid(files)
    if pid is None:
        return None
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if not wait_gone(pid, files.pidfile, 10):
        raise OperationFailed(f"qemu pid {pid} survived SIGKILL")
    files.pidfile.unlink(missing_ok=True)
    files.monitor.unlink(missing_ok=True)
    return pid


def monitor_command(files: NodeFiles, command: str, timeout: float = 5.0) -> str:
    """Send one HMP command on the node's monitor socket; the text qemu answered."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(files.monitor))
        reply = b""
        try:
            reply += sock.recv(4096)  # banner and prompt
            sock.sendall(command.encode() + b"\n")
            time.sleep(0.3)
            reply += sock.recv(4096)
        except TimeoutError:
            pass
    return reply.decode(errors="replace")


def netdev_of(node: LabNode, role: str) -> str:
    """The qemu netdev id of the node's NIC with ``role`` (qemu_argv names them net0, net1, ...)."""
    for i, nic in enumerate(node.nics):
        if nic.role == role:
            return f"net{i}"
    raise KeyError(role)


def set_link(files: NodeFiles, netdev: str, up: bool) -> None:
    """Carrier on or off for one NIC: frames are dropped both ways while it is off."""
    reply = monitor_command(files, f"set_link {netdev} {'on' if up else 'off'}")
    if "not found" in reply.lower() or "error" in reply.lower():
        raise OperationFailed(f"qemu refused set_link {netdev}: {reply.strip()[-200:]}")


def signal_qemu(files: NodeFiles, sig: signal.Signals) -> int | None:
    """Send ``sig`` to the node's qemu (SIGSTOP freezes the whole VM, SIGCONT thaws it)."""
    pid = running_pid(files)
    if pid is None:
        return None
    os.kill(pid, sig)
    return pid


def is_frozen(files: NodeFiles) -> bool:
    pid = running_pid(files)
    return pid is not None and proc_state(pid) == "T"


def powerdown(files: NodeFiles, timeout: float) -> tuple[str, float]:
    """Clean stop: ACPI power button, then SIGKILL after ``timeout``. ('clean'|'killed'|'stopped', s)."""
    start_t = time.monotonic()
    pid = running_pid(files)
    if pid is None:
        return "stopped", 0.0
    try:
        monitor_command(files, "system_powerdown")
    except OSError:
        pass  # no monitor: fall through to the timeout and SIGKILL
    if wait_gone(pid, files.pidfile, timeout):
        files.pidfile.unlink(missing_ok=True)
        files.monitor.unlink(missing_ok=True)
        return "clean", round(time.monotonic() - start_t, 1)
    kill(files)
    return "killed", round(time.monotonic() - start_t, 1)


def console_tail(files: NodeFiles, lines: int = 12) -> str:
    try:
        text = files.console.read_text(errors="replace").splitlines()
    except OSError:
        return f"  (no console log at {files.console})"
    tail = "\n".join("    " + line for line in text[-lines:])
    return f"  last lines of {files.console}:\n{tail}"
