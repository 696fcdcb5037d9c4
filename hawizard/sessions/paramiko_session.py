"""Commands over paramiko exec channels (no pty), reads over SFTP.

Why: one exec channel per command gives the real exit status and stdout/stderr apart,
with no prompt, echo or colour to strip (shared/research/driving.md 0 and 2). The
pitfalls handled here:

* both streams are drained together in one loop (stdout and stderr > 2 MiB each deadlock
  a reader that reads one after the other: paramiko#448, #1778), stdin is fed from its own
  thread, and the exit status is taken only once both streams are empty;
* ``recv_exit_status()`` has no timeout (paramiko#1815): we poll ``exit_status_ready()``
  against our own deadline; on timeout or cancel the command's process group gets INT,
  TERM, then KILL from a second channel (its shell announces its pid on stderr; that line
  is stripped); a root command under sudo gets INT/TERM relayed by sudo, not KILL;
* a channel closed without an exit status on a dead transport is ``ConnectionLost``;
* keepalives via ``Transport.set_keepalive`` for long silent waits (DRBD initial sync);
* host keys: our own known_hosts (plus the operator's, read-only), a policy that refuses
  unknown keys unless pinned or confirmed (then appended to our file), and a changed key
  always refused with both fingerprints. paramiko never writes any known_hosts file.

Writes go through the shared ``filewrite`` script fed on the channel's stdin, not through
SFTP: SFTP cannot sudo and ``SFTPClient.open`` cannot give the initial mode (the server's
umask decides), which would leave an empty temp file at 0644 for an instant.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import secrets
import select
import socket
import threading
import time

import paramiko

from hawizard.sessions import filewrite, hostkeys, sudo
from hawizard.sessions.base import (
    EXIT_CANCELLED,
    EXIT_TIMEOUT,
    EXIT_UNKNOWN,
    CancelFlag,
    CommandResult,
    ConnectFailed,
    ConnectionLost,
    HostKeyConfirm,
    HostKeyRefused,
    LineSplitter,
    NodeSession,
    OutputCallback,
    ReadFailed,
    SessionError,
    SudoPassword,
    WriteResult,
)
from hawizard.sessions.target import SshTarget

log = logging.getLogger("hawizard.sessions")

READ_SLICE = 0.2
CHUNK = 65536


class _HostKeyPolicy(paramiko.MissingHostKeyPolicy):
    """Unknown key: accept only the pinned fingerprint or what the operator confirms."""

    def __init__(self, target: SshTarget, label: str, confirm: HostKeyConfirm | None) -> None:
        self.target, self.label, self.confirm = target, label, confirm

    def missing_host_key(self, client, hostname, key) -> None:
        fp = hostkeys.fingerprint(key.asbytes())
        t = self.target
        if t.pinned_fingerprint:
            pin = hostkeys.normalise_fingerprint(t.pinned_fingerprint)
            if pin != fp:
                raise hostkeys.pin_mismatch_error(self.label, t.name, pin, fp)
        elif not (self.confirm and self.confirm(self.label, key.get_name(), fp)):
            raise hostkeys.unknown_error(self.label, t.name, key.get_name(), fp)
        hostkeys.add_known_host(t.known_hosts_path, self.label, key.get_name(), key.asbytes())
        log.info("%s: host key %s %s accepted and saved", t.name, key.get_name(), fp)


def _resolve(target: SshTarget) -> tuple[str, list[str] | None]:
    """(hostname, identity files) after ~/.ssh/config, when the target allows it."""
    hostname, identities = target.host, [target.identity_file] if target.identity_file else None
    path = os.path.expanduser("~/.ssh/config")
    if target.ssh_config and os.path.exists(path):
        try:
            cfg = paramiko.SSHConfig.from_path(path).lookup(target.host)
        except Exception as exc:  # noqa: BLE001 - a broken config is the operator's to fix
            raise ConnectFailed(f"cannot read {path}: {exc}") from None
        hostname = cfg.get("hostname", hostname)
        if identities is None and cfg.get("identityfile"):
            identities = [os.path.expanduser(p) for p in cfg["identityfile"]]
    return hostname, identities


def connect_client(target: SshTarget, confirm: HostKeyConfirm | None) -> paramiko.SSHClient:
    """An authenticated SSHClient, host key checked as described in the module docstring."""
    hostname, identities = _resolve(target)
    label = hostname if target.port == 22 else f"[{hostname}]:{target.port}"
    own = target.known_hosts_path
    files = [own]
    user_file = os.path.expanduser("~/.ssh/known_hosts")
    if target.ssh_config and os.path.exists(user_file):
        files.append(user_file)
    known = hostkeys.entries_for(label, files)
    hostkeys.check_pin_against_record(label, target.name, target.pinned_fingerprint, known)

    client = paramiko.SSHClient()
    for e in known:
        if e.marker:
            continue
        try:
            client.get_host_keys().add(label, e.key_type, paramiko.PKey.from_type_string(e.key_type, e.blob))
        except Exception:  # noqa: BLE001 - a key type paramiko does not know: skip that line
            continue
    client.set_missing_host_key_policy(_HostKeyPolicy(target, label, confirm))

    sock = None
    jump_client = None
    if target.jump is not None:
        jump_client = connect_client(target.jump, None)
        try:
            sock = jump_client.get_transport().open_channel(
                "direct-tcpip", (hostname, target.port), ("127.0.0.1", 0),
                timeout=target.connect_timeout)
        except (paramiko.SSHException, OSError) as exc:
            jump_client.close()
            raise ConnectFailed(f"jump host {target.jump.describe()} cannot reach "
                                f"{hostname}:{target.port}: {exc}") from None
    try:
        client.connect(
            hostname, target.port, username=target.user, key_filename=identities,
            allow_agent=True, look_for_keys=identities is None, timeout=target.connect_timeout,
            banner_timeout=target.connect_timeout, auth_timeout=target.connect_timeout,
            sock=sock,
        )
    except HostKeyRefused:
        client.close()
        raise
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise hostkeys.changed_error(label, target.name, [e for e in known if not e.marker],
                                     hostkeys.fingerprint(exc.key.asbytes()), own) from None
    except paramiko.AuthenticationException:
        client.close()
        raise ConnectFailed(f"{target.describe()} refused our SSH key (install the public key "
                            f"for {target.user}, or load the right key into ssh-agent)") from None
    except paramiko.ssh_exception.NoValidConnectionsError as exc:
        client.close()
        reasons = sorted({getattr(e, "strerror", None) or str(e) for e in exc.errors.values()})
        raise ConnectFailed(f"cannot connect to {target.describe()}: {'; '.join(reasons)}") from None
    except (paramiko.SSHException, OSError, EOFError) as exc:
        client.close()
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ConnectFailed(f"cannot connect to {target.describe()}: {reason}") from None
    transport = client.get_transport()
    try:  # small request/reply messages (channel open, exec): no Nagle delay (~40 ms each)
        transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass  # a jump channel is not a socket
    if target.pinned_fingerprint:
        got = hostkeys.fingerprint(transport.get_remote_server_key().asbytes())
        pin = hostkeys.normalise_fingerprint(target.pinned_fingerprint)
        if got != pin:
            client.close()
            raise hostkeys.pin_mismatch_error(label, target.name, pin, got)
    if target.keepalive:
        transport.set_keepalive(target.keepalive)
    client._hawizard_jump = jump_client  # keep the jump alive as long as the client
    return client


class ParamikoSession(NodeSession):
    kind = "paramiko"

    def __init__(self, target: SshTarget, *, confirm_host_key: HostKeyConfirm | None = None,
                 sudo_password: SudoPassword | None = None) -> None:
        self.name = target.name
        self.target = target
        self.user = target.user
        self.become_root = target.become_root
        self.who = target.describe()
        self._sudo = sudo.SudoPasswordCache(sudo_password, f"{target.user}@{target.name}")
        self._client = connect_client(target, confirm_host_key)
        self._sftp: paramiko.SFTPClient | None = None
        self._cancel = CancelFlag()
        self._lock = threading.Lock()
        self._closed = False

    # -- commands -------------------------------------------------------------------------------
    def run(self, command: str, *, timeout: float | None = None,
            on_output: OutputCallback | None = None, stdin: bytes | None = None,
            sudo: bool = False) -> CommandResult:
        with self._lock:
            if self._closed:
                raise SessionError(f"the session to {self.who} is closed")
            self._cancel.clear()
            use_sudo = (sudo or self.become_root) and self.user != "root"
            return self._run(command, timeout, on_output, stdin, use_sudo)

    def _open_channel(self) -> paramiko.Channel:
        transport = self._client.get_transport()
        try:
            if transport is None or not transport.is_active():
                raise paramiko.SSHException("transport closed")
            return transport.open_session(timeout=self.target.connect_timeout)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            self._closed = True
            raise ConnectionLost(f"the connection to {self.who} is lost: {exc}") from None

    def _run(self, command: str, timeout: float | None, on_output: OutputCallback | None,
             stdin: bytes | None, use_sudo: bool) -> CommandResult:
        nonce = sudo.new_nonce() if use_sudo else None
        wire = sudo.wrap(command, nonce, password_on_stdin=True) if nonce else command
        pid_filter = _PidLine()
        wire = pid_filter.announce() + wire
        log.debug("%s: run %s", self.name, command)
        started = time.monotonic()
        deadline = started + timeout if timeout is not None else None
        chan = self._open_channel()
        out = LineSplitter("stdout", on_output)
        err = LineSplitter("stderr", on_output)
        gate = _SudoGate(nonce, out, err) if nonce else None
        dec_out = codecs.getincrementaldecoder("utf-8")("replace")
        dec_err = codecs.getincrementaldecoder("utf-8")("replace")
        writer: threading.Thread | None = None
        interrupted: str | None = None
        try:
            chan.exec_command(wire)
            fd = chan.fileno()
            if gate is None:
                writer = self._start_writer(chan, stdin)
            while True:
                got = False
                while chan.recv_ready():
                    got = True
                    text = dec_out.decode(chan.recv(CHUNK))
                    (gate.stdout if gate and not gate.started else out.feed)(text)
                while chan.recv_stderr_ready():
                    got = True
                    text = pid_filter.feed(dec_err.decode(chan.recv_stderr(CHUNK)))
                    (gate.stderr if gate and not gate.started else err.feed)(text)
                if gate is not None and gate.started_now():
                    writer = self._start_writer(chan, stdin)  # stdin data only after sudo
                elif gate is not None and not gate.started:
                    if gate.prompts == 1 and not gate.password_sent:
                        chan.sendall((self._sudo.get() + "\n").encode())
                        gate.password_sent = True
                    elif gate.failure:
                        interrupted = "sudo"
                        break
                # sshd may send the exit status before the last output: the end is EOF (sent
                # once stdout *and* stderr are drained) or close, plus the status, plus empty buffers
                if ((chan.eof_received or chan.closed) and chan.exit_status_ready()
                        and not chan.recv_ready() and not chan.recv_stderr_ready()):
                    break
                if self._cancel.is_set():
                    interrupted = "cancel"
                    break
                if deadline is not None and time.monotonic() > deadline:
                    interrupted = "timeout"
                    break
                if not got:
                    select.select([fd], [], [], READ_SLICE)
            if interrupted:
                self._stop_remote(chan, pid_filter.pid)
            out.feed(dec_out.decode(b"", final=True))
            err.feed(pid_filter.feed(dec_err.decode(b"", final=True)) + pid_filter.flush())
            status = chan.exit_status if chan.status_event.is_set() else EXIT_UNKNOWN
            duration = time.monotonic() - started
            if interrupted is None and status == EXIT_UNKNOWN and not self._transport_alive():
                self._closed = True
                raise ConnectionLost(
                    f"the connection to {self.who} was lost while a command ran; its outcome is "
                    f"unknown",
                    CommandResult(command, EXIT_UNKNOWN, out.finish(), err.finish(), duration),
                )
        except (ConnectionLost, sudo.SudoError):
            raise
        except BaseException:
            # an error of ours (a failing callback, ^C in hawizard): stop the remote command too
            self._stop_remote(chan, pid_filter.pid)
            raise
        finally:
            chan.close()
            if writer is not None:
                writer.join(timeout=5)
        if gate is not None and (interrupted == "sudo" or not gate.started):
            raise self._sudo_error(gate)
        stdout, stderr = out.finish(), err.finish()
        if interrupted == "timeout":
            return CommandResult(command, EXIT_TIMEOUT, stdout, stderr, duration, True)
        if interrupted == "cancel":
            return CommandResult(command, EXIT_CANCELLED, stdout, stderr, duration)
        return CommandResult(command, status, stdout, stderr, duration)

    def _sudo_error(self, gate: _SudoGate) -> Exception:
        if gate.failure == "wrong":
            return self._sudo.wrong()
        who = f"{self.user}@{self.name}"
        return sudo.refusal(who, gate.text) or sudo.SudoError(
            f"sudo on {who} failed: {gate.text.strip()[-300:] or 'no message'}")

    @staticmethod
    def _start_writer(chan: paramiko.Channel, data: bytes | None) -> threading.Thread | None:
        if not data:
            chan.shutdown_write()  # the command sees EOF on stdin, as with </dev/null
            return None

        def feed() -> None:
            try:
                chan.sendall(data)
                chan.shutdown_write()
            except (OSError, EOFError, paramiko.SSHException):
                pass  # the command stopped reading or the channel died: the reader reports it

        th = threading.Thread(target=feed, name="hawizard-stdin", daemon=True)
        th.start()
        return th

    def _transport_alive(self) -> bool:
        transport = self._client.get_transport()
        if transport is None or not transport.is_active():
            return False
        # The channel may close a moment before the transport notices its socket died:
        # a global request with a reply settles it (any reply, even 'failure', means alive).
        try:
            transport.global_request("keepalive@openssh.com", wait=True)
        except (paramiko.SSHException, OSError, EOFError):
            return False
        return transport.is_active()

    def _stop_remote(self, chan: paramiko.Channel, pid: int | None) -> None:
        """Ctrl-C, then TERM, then KILL to the command's process group, from a second channel.

        OpenSSH's 'signal' channel request is refused in many set-ups ("session signalling
        requires privilege separation"), and closing the channel does not stop a command
        that does not write. sshd made the command's shell a session leader, so its pid
        (announced on stderr) is the process group to signal. sudo relays INT and TERM.
        """
        if pid is None or chan.exit_status_ready():
            return
        script = (f"kill -INT -- -{pid} 2>/dev/null; i=0; while [ $i -lt 20 ]; do "
                  f"kill -0 -- -{pid} 2>/dev/null || exit 0; sleep 0.1; i=$((i+1)); done; "
                  f"kill -TERM -- -{pid} 2>/dev/null; sleep 0.5; kill -KILL -- -{pid} 2>/dev/null; "
                  f"exit 0")
        try:
            killer = self._client.get_transport().open_session(timeout=5)
            killer.exec_command(script)
            killer.shutdown_write()
            end = time.monotonic() + 5
            while time.monotonic() < end and not killer.exit_status_ready():
                while chan.recv_ready():
                    chan.recv(CHUNK)  # keep the window open so the command is not stuck writing
                while chan.recv_stderr_ready():
                    chan.recv_stderr(CHUNK)
                time.sleep(0.05)
            killer.close()
        except (paramiko.SSHException, OSError, EOFError):
            pass

    # -- files ----------------------------------------------------------------------------------
    def _needs_sudo_for(self, owner: str) -> bool:
        return self.user != "root" and (self.become_root or owner != self.user)

    def write_file(self, path: str, data: bytes, *, mode: int, owner: str = "root",
                   group: str = "root", backup: bool = True) -> WriteResult:
        return filewrite.write_file(self, path, data, mode=mode, owner=owner, group=group,
                                    backup=backup, sudo=self._needs_sudo_for(owner))

    def read_file(self, path: str) -> bytes | None:
        if self.user != "root":
            return filewrite.read_file(self, path, sudo=True)
        with self._lock:
            try:
                if self._sftp is None:
                    self._sftp = self._client.open_sftp()
                with self._sftp.open(path, "rb") as f:
                    f.prefetch()
                    return f.read()
            except FileNotFoundError:
                return None
            except (OSError, paramiko.SSHException, EOFError) as exc:
                if not self._transport_alive():
                    raise ConnectionLost(f"the connection to {self.who} was lost while reading "
                                         f"{path}") from None
                raise ReadFailed(f"cannot read {path} on {self.name}: {exc}") from None

    # -- life cycle -----------------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    def close(self) -> None:
        self._closed = True
        if self._sftp is not None:
            try:
                self._sftp.close()
            except Exception:  # noqa: BLE001
                pass
            self._sftp = None
        jump = getattr(self._client, "_hawizard_jump", None)
        self._client.close()
        if jump is not None:
            jump.close()


class _PidLine:
    """The command's shell first prints its pid on stderr (for killing it); strip that line."""

    def __init__(self) -> None:
        self.tag = secrets.token_hex(6)
        self.pid: int | None = None
        self._buf = ""
        self._done = False

    def announce(self) -> str:
        return f"printf '__HWPID_%s_%s__\\n' {self.tag} \"$$\" >&2; "

    def feed(self, text: str) -> str:
        if self._done:
            return text
        self._buf += text
        if "\n" not in self._buf:
            return ""
        line, rest = self._buf.split("\n", 1)
        self._done = True
        self._buf = ""
        m = re.fullmatch(rf"__HWPID_{self.tag}_(\d+)__", line)
        if m is None:
            return line + "\n" + rest  # a login shell that printed something first: keep it
        self.pid = int(m.group(1))
        return rest

    def flush(self) -> str:
        text, self._buf, self._done = self._buf, "", True
        return text


class _SudoGate:
    """Holds output back until the escalated command announces itself; answers the prompt once."""

    def __init__(self, nonce: str, out: LineSplitter, err: LineSplitter) -> None:
        self.prompt = sudo.prompt_for(nonce)
        self.marker = sudo.started_marker(nonce) + "\n"
        self.out, self.err = out, err
        self.started = False
        self._announced = False
        self.prompts = 0
        self.password_sent = False
        self.failure: str | None = None
        self.text = ""  # sudo's own messages (never the password: it is not echoed)
        self._out_buf = ""

    def stderr(self, text: str) -> None:
        self.text += text
        while self.prompt in self.text:
            self.text = self.text.replace(self.prompt, "", 1)
            self.prompts += 1
        if self.prompts > 1 or sudo.WRONG_PASSWORD.search(self.text):
            self.failure = "wrong"
        elif sudo.NOT_ALLOWED.search(self.text):
            self.failure = "refused"

    def stdout(self, text: str) -> None:
        self._out_buf += text
        i = self._out_buf.find(self.marker)
        if i >= 0:
            self.started = True
            rest = self._out_buf[i + len(self.marker):]
            self._out_buf = ""
            self.out.feed(rest)

    def started_now(self) -> bool:
        if self.started and not self._announced:
            self._announced = True
            return True
        return False

    def __repr__(self) -> str:  # never show buffered text
        return f"_SudoGate(started={self.started}, prompts={self.prompts})"
