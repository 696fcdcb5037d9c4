"""A real OpenSSH ``sshd`` on a loopback port, for tests that must talk to a real server.

Why a real server rather than a mock: the bugs that matter in node sessions (prompts, echo,
pty line discipline, channel windows, host-key naming, sudo) live in the real programs.
A throwaway sshd on loopback, its host key and client key generated at start.

Usage::

    with SshServer(tmp_dir) as srv:          # starts on a free 127.0.0.1 port
        srv.port, srv.client_key, srv.host_fingerprint, srv.known_hosts_line()
        srv.restart(new_host_key=True)       # same port, another host key
        srv.kill_sessions()                  # drop every live connection, keep listening

Also ``SudoUser``: a temporary Unix user with a password and a sudoers drop-in that
requires it (root only), removed on exit.
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def sshd_available() -> str | None:
    """None if a test sshd can run here, else the reason (for pytest.skip)."""
    if not os.path.exists(SSHD):
        return f"{SSHD} is not installed (Debian package openssh-server)"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen is not installed (Debian package openssh-client)"
    if os.geteuid() != 0:
        return "the test sshd runs as root (privilege separation, login as other users)"
    return None


def free_port() -> int:
    """A port that was free a moment ago (sshd cannot listen on port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path, comment: str = "hawizard-test") -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    os.chmod(path, 0o600)
    return path


def fingerprint_of_pub(pub_path: Path) -> str:
    """'SHA256:...' of an OpenSSH public key file, computed like ssh-keygen -l."""
    blob = base64.b64decode(pub_path.read_text().split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the process that started us dies (a killed test run)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def descendants(pid: int) -> list[int]:
    """All live descendants of ``pid`` (read from /proc), parents before children."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop(0)
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


class SshServer:
    """One sshd -D on 127.0.0.1:<port>, configured from scratch (no system config)."""

    def __init__(self, base_dir: Path | str | None = None, port: int | None = None) -> None:
        # World-readable directory: sshd reads authorized_keys as the logging-in user.
        self.dir = Path(tempfile.mkdtemp(prefix="hw-sshd-", dir=base_dir))
        os.chmod(self.dir, 0o755)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.client_key = keygen(self.dir / "client_key")
        self.authorized_keys = self.dir / "authorized_keys"
        shutil.copy(self.dir / "client_key.pub", self.authorized_keys)
        os.chmod(self.authorized_keys, 0o644)
        self._host_key_no = 0
        self.host_key = self._new_host_key()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.dir / "sshd.log"

    # -- host keys -------------------------------------------------------------------------
    def _new_host_key(self) -> Path:
        self._host_key_no += 1
        return keygen(self.dir / f"host_key_{self._host_key_no}", comment="hawizard-test-host")

    @property
    def host_fingerprint(self) -> str:
        return fingerprint_of_pub(Path(f"{self.host_key}.pub"))

    @property
    def label(self) -> str:
        """How known_hosts names this server: '[127.0.0.1]:PORT'."""
        return f"[{self.host}]:{self.port}" if self.port != 22 else self.host

    def known_hosts_line(self) -> str:
        kind, blob = Path(f"{self.host_key}.pub").read_text().split()[:2]
        return f"{self.label} {kind} {blob}\n"

    # -- life cycle ------------------------------------------------------------------------
    def _write_config(self) -> Path:
        conf = self.dir / "sshd_config"
        conf.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    f"ListenAddress {self.host}",
                    f"HostKey {self.host_key}",
                    f"PidFile {self.dir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {self.authorized_keys}",
                    "UsePAM no",
                    "StrictModes no",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PrintMotd no",
                    "PrintLastLog no",
                    "UseDNS no",
                    "MaxStartups 100",
                    "MaxSessions 100",
                    "ClientAliveInterval 0",
                    "Subsystem sftp internal-sftp",
                    # Debian's bash sources ~/.bashrc for ssh commands when SHLVL < 2: keep the
                    # developer's root rc files (slow, noisy) out of the test server's shells
                    "SetEnv SHLVL=1",
                    "LogLevel VERBOSE",
                    "",
                ]
            )
        )
        return conf

    def start(self) -> SshServer:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation dir
        for attempt in range(5):
            conf = self._write_config()
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # no listener outlives a killed test run
            )
            log.close()
            if self._wait_ready():
                return self
            self.stop()
            if attempt < 4:
                self.port = free_port()  # lost the race for the port: try another
        raise RuntimeError(f"sshd did not start; log:\n{self.log_path.read_text()[-3000:]}")

    def _wait_ready(self, limit: float = 10.0) -> bool:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def kill_sessions(self) -> list[int]:
        """SIGKILL every per-connection sshd (and then what they ran); the listener stays.

        sshd processes go first so that none of them can report an exit status for the
        command that dies next: the client must see a dropped connection, nothing else.
        """
        if self.proc is None:
            return []
        pids = descendants(self.proc.pid)
        ordered = [p for p in pids if _comm(p).startswith("sshd")] + [
            p for p in pids if not _comm(p).startswith("sshd")
        ]
        for p in ordered:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return ordered

    def stop(self) -> None:
        if self.proc is None:
            return
        self.kill_sessions()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self, *, new_host_key: bool = False) -> SshServer:
        self.stop()
        if new_host_key:
            self.host_key = self._new_host_key()
        return self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> SshServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


class SudoUser:
    """A throw-away user whose sudo asks for a password (needs root; removed on exit)."""

    def __init__(self) -> None:
        self.name = "hwt" + secrets.token_hex(3)
        self.password = "pw-" + secrets.token_urlsafe(12)
        self.sudoers = Path(f"/etc/sudoers.d/hawizard-test-{self.name}")
        self._created = False

    GECOS = "hawizard-test pid="

    @classmethod
    def sweep_stale(cls) -> None:
        """Remove test users left by a run that was killed (their creating process is gone)."""
        for entry in pwd.getpwall():
            if entry.pw_gecos.startswith(cls.GECOS) and entry.pw_name.startswith("hwt"):
                pid = entry.pw_gecos[len(cls.GECOS):]
                if pid.isdigit() and not _pid_alive(int(pid)):
                    Path(f"/etc/sudoers.d/hawizard-test-{entry.pw_name}").unlink(missing_ok=True)
                    subprocess.run(["userdel", "-r", "-f", entry.pw_name], check=False,
                                   stderr=subprocess.DEVNULL)

    def create(self) -> SudoUser:
        self.sweep_stale()
        subprocess.run(["useradd", "-m", "-s", "/bin/bash", "-c", f"{self.GECOS}{os.getpid()}",
                        self.name], check=True)
        self._created = True
        subprocess.run(
            ["chpasswd"], input=f"{self.name}:{self.password}\n".encode(), check=True
        )
        tmp = self.sudoers.with_name(self.sudoers.name + ".tmp")
        tmp.write_text(f"{self.name} ALL=(ALL:ALL) ALL\n")
        os.chmod(tmp, 0o440)
        subprocess.run(["visudo", "-c", "-q", "-f", str(tmp)], check=True)
        os.replace(tmp, self.sudoers)
        return self

    def remove(self) -> None:
        self.sudoers.unlink(missing_ok=True)
        if self._created:
            subprocess.run(["userdel", "-r", "-f", self.name], check=False,
                           stderr=subprocess.DEVNULL)
            self._created = False

    def __enter__(self) -> SudoUser:
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.remove()
