"""A real IPMI BMC for each lab node: OpenIPMI's ``ipmi_sim`` on 127.0.0.1, whose chassis power
acts on the node's qemu.

Why: hawizard renders ``fence_ipmilan`` devices, and the only proof that those parameters fence a
node is the real agent talking IPMI to a BMC that really cuts the power. A lab VM has no BMC, so
each node gets a simulated one on the host: the IPMI LAN protocol (RMCP+, what ``lanplus=1``
selects) is ipmi_sim's, the power is the lab's own -- status is "is the node's qemu alive",
off is a power loss (SIGKILL of the qemu, hawizard.lab.control.kill), on boots the node again on
its disks (hawizard.lab.control.start, in the background: the BMC answers at once, as a real one
does, and the node comes up while the fence agent polls its status); chassis.py is that power. Nothing runs in the guests
and nothing is added to the host's network: ipmi_sim binds 127.0.0.1 only.

How, per node, in ``<lab dir>/state/bmc/<node>/`` (mode 0700):
  lan.conf   ipmi_lan(5): ``startlan 1`` / ``addr 127.0.0.1 PORT`` / ``priv_limit admin`` /
             ``allowed_auths_*`` / ``endlan``, a ``user`` line, ``chassis_control "PROGRAM"``.
             It holds the password, so it is 0600 like the password file.
  node.emu   ipmi_sim_cmd(5): ``mc_setbmc``, ``mc_add``, and ``mc_enable`` -- without mc_enable
             ipmi_sim opens no LAN socket and every client times out (seen).
  chassis    the chassis_control program. ipmi_sim runs it through ``sh -c`` (seen: a path with
             a space breaks unquoted) as ``PROGRAM get power`` (answer ``power:1``/``power:0``),
             ``PROGRAM set power 0|1`` and ``PROGRAM set reset 1``; it runs chassis.py.
  password   made afresh at every start (16 letters and digits), 0600, never printed and never
             on a command line; a preset names it as ``fence_password_ref = "file:..."``.
  bmc.pid    ipmi_sim has no daemon mode: it is started in its own session with ``-n`` (no
             console) and its pid written here. As for qemu (vm.py), a pid is trusted only when
             /proc shows a live process whose command line names this node's lan.conf.
  ipmi_sim.log, chassis.log   what ipmi_sim said at start, and every chassis request with its
             outcome (the background boots write there too).

``start_command``, ``stop_command`` and ``status_command`` are ``hawizard lab bmc start|stop|status``;
``lab down`` and ``lab reset`` call ``stop_all`` first.

Measured on the project's machine (2 cores, loaded): with ``cipher=3`` fence_ipmilan's status
takes about 0.4 s, off and on about 3 s each (the agent waits for the new power state), and a
node is back on SSH 35-42 s after ``on``. Without an explicit cipher suite ipmitool first asks
for the channel's cipher suites, which ipmi_sim does not answer, and every call waits 10-14 s
for that; so the fence parameters carry ``cipher=3`` (fence_ipmilan's ``cipher`` is ipmitool's
``-C``; fence_ipmilan(8)). Without a ``guid`` line ipmi_sim refuses RMCP+ altogether.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hawizard.common.errors import EnvironmentProblem, OperationFailed
from hawizard.lab import network, vm
from hawizard.lab.layout import LabNode
from hawizard.lab.network import LOOPBACK
from hawizard.lab.paths import LabPaths
from hawizard.lab.state import Out, load_state, locked, node_of, nodes_of, print_line, require_state

IPMI_SIM = "ipmi_sim"
PACKAGE = "openipmi"  # Debian's package for ipmi_sim
FENCE_AGENT = "fence_ipmilan"
USER = "admin"
USER_NUMBER = 2  # user 1 is IPMI's anonymous user (ipmi_lan(5))
PASSWORD_LENGTH = 16  # IPMI 1.5 passwords are at most 16 bytes, 2.0 ones 20
CIPHER_SUITE = "3"  # RAKP-HMAC-SHA1 / HMAC-SHA1-96 / AES-CBC-128: the one every BMC and ipmitool speak
BMC_ADDRESS = "0x20"  # the BMC's IPMB address, the standard one
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
# characters a path may not hold inside a quoted lan.conf string (its parser has no escapes)
_LAN_CONF_UNSAFE = re.compile(r'["\\\n\r]')

@dataclass(frozen=True)
class BmcFiles:
    """The files of one node's BMC in the lab's state directory."""

    dir: Path

    @property
    def lan_conf(self) -> Path:
        return self.dir / "lan.conf"

    @property
    def emu(self) -> Path:
        return self.dir / "node.emu"

    @property
    def chassis(self) -> Path:
        return self.dir / "chassis"

    @property
    def password(self) -> Path:
        return self.dir / "password"

    @property
    def pidfile(self) -> Path:
        return self.dir / "bmc.pid"

    @property
    def sim_state(self) -> Path:
        return self.dir / "sim"

    @property
    def log(self) -> Path:
        return self.dir / "ipmi_sim.log"

    @property
    def events(self) -> Path:
        return self.dir / "chassis.log"


def files_of(paths: LabPaths, name: str) -> BmcFiles:
    return BmcFiles(paths.state / "bmc" / name)


# -- the configuration ------------------------------------------------------------------------


def generate_password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH))


def _lan_conf_string(path: Path, what: str) -> str:
    """A program for chassis_control: quoted for ``sh -c`` inside a quoted lan.conf string."""
    if _LAN_CONF_UNSAFE.search(str(path)):
        raise EnvironmentProblem(
            f"the {what} path {path} holds a quote, a backslash or a line break, which ipmi_sim's lan.conf "
            "cannot carry; use a lab directory (--dir) without them"
        )
    return shlex.quote(str(path))


def lan_conf_text(node: LabNode, files: BmcFiles, password: str) -> str:
    """ipmi_lan(5) for the node's BMC: RMCP+ and IPMI 1.5 (MD5 only) on 127.0.0.1:PORT."""
    return (
        f"# The BMC of lab node {node.name}: IPMI over LAN on {LOOPBACK} only (ipmi_lan(5)).\n"
        "# Written by 'hawizard lab bmc start'; it holds the BMC password (mode 0600).\n"
        f'name "hawizard-lab-{node.name}"\n'
        "startlan 1\n"
        f"  addr {LOOPBACK} {node.bmc_port}\n"
        "  priv_limit admin\n"
        # IPMI 1.5 sessions: MD5 only (no 'none', no 'straight' clear-text passwords; ipmi_sim(1) SECURITY)
        "  allowed_auths_callback md5\n"
        "  allowed_auths_user md5\n"
        "  allowed_auths_operator md5\n"
        "  allowed_auths_admin md5\n"
        # without a GUID ipmi_sim refuses RMCP+ ("Must have a GUID to do RMCP+", lanserv/lanserv_ipmi.c):
        # ipmitool -I lanplus then says "This BMC does not support IPMI v2 / RMCP+"
        f"  guid {uuid.uuid5(uuid.NAMESPACE_URL, f'hawizard-lab:{node.name}:{node.bmc_port}').hex}\n"
        "endlan\n"
        f'user {USER_NUMBER} true "{USER}" "{password}" admin 10 md5\n'
        f'chassis_control "{_lan_conf_string(files.chassis, "BMC chassis program")}"\n'
    )


def emu_text(node: LabNode) -> str:
    """ipmi_sim_cmd(5): one management controller, the BMC, enabled (else no LAN socket is opened)."""
    return (
        f"# The management controller of lab node {node.name}'s BMC (ipmi_sim_cmd(5)).\n"
        f"mc_setbmc {BMC_ADDRESS}\n"
        # address, device id, no device SDRs, device revision, firmware 9.08, IPMI support bits
        # (0x9f: chassis, bridge, event generator/receiver, FRU, SEL, SDR, sensor), manufacturer, product
        f"mc_add {BMC_ADDRESS} 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\n"
        f"mc_enable {BMC_ADDRESS}\n"
    )


def _package_root() -> Path:
    """The directory that holds the ``hawizard`` package this code was loaded from."""
    return Path(__file__).resolve().parents[2]


def chassis_argv(paths: LabPaths, name: str) -> list[str]:
    """The command the chassis program runs (ipmi_sim appends its words, e.g. ``get power``)."""
    return [sys.executable, "-m", "hawizard.lab.chassis", "--root", str(paths.root),
            "--cache", str(paths.cache), "--node", name]


def chassis_program_text(paths: LabPaths, name: str) -> str:
    words = " ".join(shlex.quote(w) for w in chassis_argv(paths, name))
    return (
        "#!/bin/sh\n"
        f"# The chassis of lab node {name}, for ipmi_sim (lan.conf chassis_control): it is called as\n"
        "# 'get power', 'set power 0|1' or 'set reset 1' and calls back into hawizard's lab control.\n"
        "# Written by 'hawizard lab bmc start'.\n"
        f"PYTHONPATH={shlex.quote(str(_package_root()))}\n"
        "export PYTHONPATH\n"
        f'exec {words} "$@"\n'
    )


def ipmi_sim_argv(files: BmcFiles, program: str = IPMI_SIM) -> list[str]:
    """ipmi_sim in the foreground without console (-n), nothing persisted (-p): no password here."""
    return [program, "-c", str(files.lan_conf), "-f", str(files.emu), "-s", str(files.sim_state), "-n", "-p"]


def _write(path: Path, text: str, mode: int) -> None:
    """Write atomically, created with its final mode (never readable by others in between)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, mode)  # the umask may have taken bits away
    os.replace(tmp, path)


def write_config(paths: LabPaths, node: LabNode) -> BmcFiles:
    """Every file of the node's BMC, with a new password; the directory is 0700."""
    files = files_of(paths, node.name)
    paths.ensure(files.dir)
    os.chmod(files.dir, 0o700)
    paths.ensure(files.sim_state)
    password = generate_password()
    _write(files.password, password, 0o600)
    _write(files.lan_conf, lan_conf_text(node, files, password), 0o600)
    _write(files.emu, emu_text(node), 0o600)
    _write(files.chassis, chassis_program_text(paths, node.name), 0o700)
    return files


def fence_keys(paths: LabPaths, node: LabNode) -> dict[str, Any]:
    """The node's BMC as a preset's node would name its fence device (hawizard.design.model.Node's
    fence_agent, fence_params, fence_password_ref): merge it into a node of a preset dict."""
    return {
        "fence_agent": FENCE_AGENT,
        "fence_params": {
            "ip": LOOPBACK,
            "ipport": str(node.bmc_port),
            "username": USER,
            "lanplus": "1",
            "cipher": CIPHER_SUITE,
        },
        "fence_password_ref": f"file:{files_of(paths, node.name).password}",
    }


# -- the daemon -------------------------------------------------------------------------------


def running_pid(files: BmcFiles) -> int | None:
    """The pid of this node's live ipmi_sim, or None (a stale pid file is removed)."""
    pid = vm.read_pidfile(files.pidfile)
    if pid is None:
        return None
    if vm.pid_is_ours(pid, files.lan_conf):
        return pid
    files.pidfile.unlink(missing_ok=True)
    return None


def _sim_env() -> dict[str, str]:
    """ipmi_sim (and so the chassis program) gets no more of our environment than it needs:
    no secret that happens to sit in an operator's variables reaches it."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {k: os.environ[k] for k in keep if k in os.environ}


def udp_bound(port: int, host: str = LOOPBACK) -> bool:
    """True when a UDP socket is bound to host:port, read from /proc/net/udp: binding the port to
    find out (network.port_is_free) could itself take it from ipmi_sim at the wrong moment."""
    want = f"{socket.htonl(int(ipaddress.IPv4Address(host))):08X}:{port:04X}"
    try:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    except OSError:
        return not network.port_is_free(port, "udp", host)
    return any(line.split()[1] == want for line in lines if len(line.split()) > 1)


_children: dict[int, subprocess.Popen] = {}  # ipmi_sim processes started by this process (reaped at stop)


def start(paths: LabPaths, node: LabNode) -> tuple[int, bool]:
    """Start the node's BMC (a new password each time). (pid, started); started is False when it ran."""
    files = files_of(paths, node.name)
    pid = running_pid(files)
    if pid is not None and f"addr {LOOPBACK} {node.bmc_port}\n" in files.lan_conf.read_text():
        return pid, False
    if pid is not None:  # a BMC left from a lab on other ports: it goes
        stop(files)
    program = shutil.which(IPMI_SIM)
    if program is None:
        raise EnvironmentProblem(f"{IPMI_SIM} is missing on this machine; the lab's BMC needs it "
                                 f"(install with: apt-get install {PACKAGE})")
    network.check_ports_free([node], network.bmc_ports([node]))
    write_config(paths, node)
    with open(files.log, "w") as log:
        proc = subprocess.Popen(ipmi_sim_argv(files, program), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, cwd=files.dir, env=_sim_env(), start_new_session=True)
    _children[proc.pid] = proc
    _write(files.pidfile, f"{proc.pid}\n", 0o600)
    deadline = time.monotonic() + START_TIMEOUT
    while not udp_bound(node.bmc_port):  # bound once ipmi_sim has read both files and enabled the MC
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(files)
            if _children.pop(proc.pid, None) is not None and proc.poll() is None:
                proc.kill()  # not ours by its command line any more: still our child
                proc.wait(STOP_TIMEOUT)
            words = files.log.read_text(errors="replace").strip()[-500:]
            raise OperationFailed(f"ipmi_sim for {node.name} did not open 127.0.0.1:{node.bmc_port}/udp "
                                  f"(log {files.log}): {words or 'no message'}")
        time.sleep(0.1)
    return proc.pid, True


def stop(files: BmcFiles, timeout: float = STOP_TIMEOUT) -> int | None:
    """SIGTERM to the node's ipmi_sim by pid, SIGKILL after ``timeout``. The pid stopped, or None."""
    pid = running_pid(files)
    if pid is not None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            if vm.wait_gone(pid, files.lan_conf, timeout):
                break
        else:
            raise OperationFailed(f"ipmi_sim pid {pid} survived SIGKILL")
    files.pidfile.unlink(missing_ok=True)
    child = _children.pop(pid, None) if pid is not None else None
    if child is not None:
        child.wait(timeout)  # our own child: reaped, not left a zombie
    return pid


# -- the commands (every node of the lab, or the ones named) -------------------------------------


def _line(paths: LabPaths, node: LabNode) -> str:
    files = files_of(paths, node.name)
    where = (f"password in {files.password} (mode 0600)" if files.password.is_file()
             else "no password yet (made by 'hawizard lab bmc start')")
    return (f"IPMI over LAN (lanplus, cipher {CIPHER_SUITE}) at {LOOPBACK}:{node.bmc_port}/udp, "
            f"user {USER}, {where}")


def stop_all(paths: LabPaths, state: dict, out: Out, names: Sequence[str] | None = None) -> list[str]:
    """Stop the BMC of every node (or of the ones named); the lock is the caller's."""
    stopped = []
    for node in nodes_of(state):
        if names and node.name not in names:
            continue
        pid = stop(files_of(paths, node.name))
        if pid is not None:
            stopped.append(node.name)
            out(f"{node.name}: BMC stopped (ipmi_sim pid {pid})")
    return stopped


def start_command(paths: LabPaths, names: Sequence[str] = (), out: Out = print_line) -> dict[str, int]:
    """Start the BMC simulator of each named node (default: every node); {name: ipmi_sim pid}.

    A BMC already running is left as it is (its password does not change).
    """
    state = require_state(paths)
    nodes = [node_of(state, n) for n in names] if names else nodes_of(state)
    pids = {}
    with locked(paths):
        for node in nodes:
            pid, started = start(paths, node)
            pids[node.name] = pid
            out(f"{node.name}: BMC {'started' if started else 'already running'} (ipmi_sim pid {pid}): "
                f"{_line(paths, node)}")
    out("  its power acts on the node's qemu: status = qemu alive, off = power loss (SIGKILL), on = boot "
        "(same disks); fence parameters: see docs/lab.md")
    return pids


def stop_command(paths: LabPaths, names: Sequence[str] = (), out: Out = print_line) -> list[str]:
    """Stop the BMC simulators (default: every node's); the nodes themselves are not touched."""
    state = load_state(paths)
    if state is None:
        out(f"no lab in {paths.root}; nothing to stop")
        return []
    for name in names:
        node_of(state, name)
    with locked(paths):
        stopped = stop_all(paths, state, out, names)
    if not stopped:
        out("no BMC was running")
    return stopped


def status_command(paths: LabPaths, out: Out = print_line) -> dict[str, int | None]:
    """Each node's BMC: running (pid) or stopped, its address, user and password file."""
    state = require_state(paths)
    result = {}
    for node in nodes_of(state):
        pid = running_pid(files_of(paths, node.name))
        result[node.name] = pid
        what = f"BMC running, ipmi_sim pid {pid}" if pid is not None else "BMC stopped"
        out(f"{node.name}: {what}; {_line(paths, node)}")
    return result
