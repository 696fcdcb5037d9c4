"""Commands over paramiko exec channels (no pty), reads over SFTP.

Why: one exec channel per command gives the real exit status and stdout/stderr apart,
with no prompt, echo or colour to strip. The
pitfalls handled here:

* both streams are drained together in one loop (stdout and stderr > 2 MiB each deadlock
  a reader that reads one after the other: paramiko#448, #1778), stdin is fed from its own
  thread, and the exit status is taken only once both streams are empty;
* ``recv_exit_status()`` has no timeout (paramiko#1815): we poll ``exit_status_ready()``
  against our own deadline; on timeout or cancel the command's process group gets INT,
  TERM, then KILL from a second channel (its shell announces its pid on stderr; that line
  is stripped); a root command under sudo gets INT/TERM relayed by sudo, not KILL;
* a channel closed without an exit status on a dead transport is ``ConnectionLost``;
* keepalives via ``Transport.set_keepalive`` for long silent waits (DRBD initial sync).

Connecting (host keys, ~/.ssh/config, a jump host) is paramiko_connect.py's job. What is left
here is one unit, the life of a command on a channel: the read loop, the two filters that sit
in it (the pid line on stderr, the sudo gate) and stopping the command from a second channel
all act on the same channel and the same buffers, so they stay together.

Writes go through the shared ``filewrite`` script fed on the channel's stdin, not through
SFTP: SFTP cannot sudo and ``SFTPClient.open`` cannot give the initial mode (the server's
umask decides), which would leave an empty temp file at 0644 for an instant.
"""

from __future__ import annotations

import codecs
import logging
import re
import secrets
import select
import threading
import time

import paramiko

from hawizard.sessions import filewrite, sudo
from hawizard.sessions.base import (
    EXIT_CANCELLED,
    EXIT_TIMEOUT,
    EXIT_UNKNOWN,
    CommandResult,
    ConnectionLost,
    HostKeyConfirm,
    LineSplitter,
    OutputCallback,
    ReadFailed,
    SessionError,
    SudoPassword,
)
from hawizard.sessions.live import LiveSession
from hawizard.sessions.paramiko_connect import connect_client
from hawizard.sessions.target import SshTarget

log = logging.getLogger("hawizard.sessions")

READ_SLICE = 0.2
CHUNK = 65536


class ParamikoSession(LiveSession):
    kind = "paramiko"

    def __init__(self, target: SshTarget, *, confirm_host_key: HostKeyConfirm | None = None,
                 sudo_password: SudoPassword | None = None) -> None:
        super().__init__(target.name, who=target.describe(), user=target.user,
                         become_root=target.become_root, sudo_password=sudo_password)
        self.target = target
        self._client = connect_client(target, confirm_host_key)
        self._sftp: paramiko.SFTPClient | None = None
        self._closed = False

    # -- commands -------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise SessionError(f"the session to {self.who} is closed")

    def _open_channel(self) -> paramiko.Channel:
        transport = self._client.get_transport()
        try:
            if transport is None or not transport.is_active():
                raise paramiko.SSHException("transport closed")
            return transport.open_session(timeout=self.target.connect_timeout)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            self._closed = True
            raise ConnectionLost(f"the connection to {self.who} is lost: {exc}") from None

    def _run_locked(self, command: str, timeout: float | None, on_output: OutputCallback | None,
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
            raise self._sudo_error(gate.failure, gate.text)
        stdout, stderr = out.finish(), err.finish()
        if interrupted == "timeout":
            return CommandResult(command, EXIT_TIMEOUT, stdout, stderr, duration, True)
        if interrupted == "cancel":
            return CommandResult(command, EXIT_CANCELLED, stdout, stderr, duration)
        return CommandResult(command, status, stdout, stderr, duration)

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

    # -- files (writes: LiveSession, through filewrite) -------------------------------------------
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
