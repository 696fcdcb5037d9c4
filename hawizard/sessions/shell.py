"""A persistent shell on a node, driven through a pty with pexpect (OpenSSH client or local bash).

Why: some steps need a terminal (sudo with ``requiretty``, programs that behave differently
on a tty), and going through the operator's own ``ssh`` makes ~/.ssh/config, agents and
jump hosts work as they expect. The recipe (shared/research/driving.md 1.2, verified there):

* ``TERM=dumb`` (readline then turns bracketed paste off; we also ``bind`` it off),
  ``stty -echo``, ``LC_ALL=C``, no history, no PROMPT_COMMAND, a wide window;
* a prompt set from a split literal (``PS1='__HWP_''<tag>__# '``) so the echo of the
  setup line can never match it; ``PS2=''``;
* each command framed by a start marker and an end marker that carries ``$?``; markers
  are printed by ``printf`` from split formats, so an echoed command never looks like one;
* the command runs in a subshell ``( ... )`` so ``exit 3`` or ``set -e`` cannot end the
  session, with stdin from /dev/null (a stray question gets EOF instead of eating the next
  frame) or from the ``stdin`` bytes, sent base64-encoded in a here-document (short lines,
  so the tty's 4096-byte line limit never bites; the data is never in any argv).

A pty has one output stream: stderr arrives merged into ``stdout`` and
``CommandResult.stderr`` is ``''``. Use the paramiko transport where the streams must be
apart. ANSI escape sequences are removed from output lines.

Timeouts and ``cancel()`` send Ctrl-C and wait for the prompt. A slow node (emulated CPUs,
a loaded server) may take many seconds to answer, so the wait is long (``recover_limit``),
Ctrl-C is repeated now and then, and the operator is told on the command's output callback
(stream ``status``) what the session is waiting for. Only when the shell stays silent for the
whole limit is it replaced by a new login (the interrupted command may still run on the
node; the message says so); if that fails too, later calls raise. End of file from the pty
while a command runs means the connection died: ``ConnectionLost`` with exit status -1.

The child starts with default signal dispositions and an empty signal mask: a process that
inherits SIGINT ignored (any program started in the background by a shell without job
control, as CI does) would pass that on to every command of the session, and Ctrl-C would
then never stop anything.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import secrets
import signal
import threading
import time

import pexpect

from hawizard.sessions import filewrite, sudo
from hawizard.sessions.base import (
    EXIT_CANCELLED,
    EXIT_TIMEOUT,
    EXIT_UNKNOWN,
    CancelFlag,
    CommandResult,
    ConnectFailed,
    ConnectionLost,
    NodeSession,
    OutputCallback,
    SessionError,
    SudoPassword,
    WriteResult,
)

log = logging.getLogger("hawizard.sessions")

# an OSC string (ESC ] ... BEL, e.g. a window title) first: its opening "ESC ]" also matches the
# two-character escape branch, which would leave the title and the BEL in the text
ANSI = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
CRLF = re.compile(r"\r+\n")
READ_SLICE = 0.2  # seconds per read: how quickly cancel() and timeouts are noticed
RECOVER_LIMIT = 60.0  # seconds to get the prompt back after Ctrl-C before the shell is replaced
RECOVER_TELL_AFTER = 3.0  # seconds of silence after Ctrl-C before the operator is told about the wait
INTERRUPT_EVERY = (2.0, 5.0, 10.0, 20.0, 40.0)  # Ctrl-C again at these seconds of silence
# What the shell's child gets from hawizard's environment: what logging in and the operator's
# ssh set-up need, nothing else. A secret given by env:NAME lives in hawizard's environment and
# must not travel on to ssh (SendEnv), a ProxyCommand or the commands of a local session.
ENV_KEEP = ("HOME", "USER", "LOGNAME", "PATH", "SHELL", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "DISPLAY",
            "XAUTHORITY", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "KRB5CCNAME", "KRB5_CONFIG",
            "XDG_RUNTIME_DIR", "TMPDIR", "TZ")


class _Eof(Exception):
    pass


def _default_signals() -> None:
    """The child's signals as a login gives them: default dispositions, nothing blocked.

    Python ignores SIGPIPE and pexpect passes that on (``yes | head`` would print 'Broken pipe'
    instead of stopping); a parent started in the background by a shell without job control
    ignores SIGINT and SIGQUIT (POSIX, Shell Command Language 2.11), which every command of a
    local session would inherit, so that Ctrl-C never stops a timed-out command.
    """
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM,
                signal.SIGHUP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


class PtyShellSession(NodeSession):
    """Common driver; subclasses give the argv to spawn and handle login prompts."""

    kind = "pty"

    def __init__(
        self,
        name: str,
        *,
        who: str,
        user: str,
        become_root: bool = False,
        sudo_password: SudoPassword | None = None,
    ) -> None:
        self.name = name
        self.who = who  # 'user@host:port' for messages
        self.user = user
        self.become_root = become_root
        self._sudo = sudo.SudoPasswordCache(sudo_password, f"{user}@{name}")
        self._tag = secrets.token_hex(6)
        self._ps1 = f"__HWP_{self._tag}__# "
        self._child: pexpect.spawn | None = None
        self._pending = ""
        self._lock = threading.Lock()
        self._cancel = CancelFlag()
        self._dead_reason: str | None = None
        self.recover_limit = RECOVER_LIMIT

    # -- start-up -------------------------------------------------------------------------------
    def _spawn(self, argv: list[str], env: dict[str, str]) -> None:
        self._child = pexpect.spawn(
            argv[0],
            argv[1:],
            env=env,
            encoding="utf-8",
            codec_errors="replace",
            dimensions=(50, 1000),
            echo=False,
            timeout=READ_SLICE,
            preexec_fn=_default_signals,
        )
        # pexpect sleeps 50 ms before every send by default: that alone doubled a run of short commands.
        self._child.delaybeforesend = None
        # Never record what we send (passwords, file contents): no logfile, no logfile_send.
        self._child.logfile = None
        self._child.logfile_send = None

    @staticmethod
    def _spawn_env() -> dict[str, str]:
        """The child's environment: ENV_KEEP from ours (never a secret's variable), C locale, dumb tty."""
        env = {k: os.environ[k] for k in ENV_KEEP if k in os.environ}
        env.setdefault("PATH", os.defpath)
        env.update(TERM="dumb", LC_ALL="C")
        return env

    def _start(self) -> None:
        """Spawn the child and bring it to our prompt (login included); subclasses define it."""
        raise NotImplementedError

    def _restart(self) -> bool:
        """Replace a shell that does not answer by a new one; False when that fails too."""
        self._kill()
        self._pending = ""
        self._tag = secrets.token_hex(6)
        self._ps1 = f"__HWP_{self._tag}__# "
        try:
            self._start()
        except Exception as exc:  # noqa: BLE001 - the reason goes into the session's dead reason
            log.warning("%s: a new shell could not be opened: %s", self.name, exc)
            self._kill()
            return False
        return True

    def _ready_command(self) -> str:
        """What the login shell runs: print a ready marker, then become a clean bash."""
        return f"printf '__HWR_%s__\\n' {self._tag}; exec bash --noprofile --norc -i"

    def _setup_shell(self, limit: float) -> None:
        setup = (
            "stty -echo; bind 'set enable-bracketed-paste off' >/dev/null 2>&1; set +o history; "
            "unset PROMPT_COMMAND HISTFILE; "
            "export LC_ALL=C TERM=dumb PAGER=cat SYSTEMD_PAGER= SYSTEMD_COLORS=0 "
            "SYSTEMD_URLIFY=0 DEBIAN_FRONTEND=noninteractive; "
            f"PS0=''; PS2=''; PS1='__HWP_''{self._tag}__# '"
        )
        self._send(setup + "\n")
        if not self._wait_for_prompt(limit):
            raise ConnectFailed(f"the shell on {self.who} did not take our prompt: {self._tail()}")

    def _wait_for_ready(self, limit: float, on_text=None) -> None:
        """Read until the ready marker; ``on_text`` may act on (and raise for) login prompts."""
        marker = f"__HWR_{self._tag}__"
        deadline = time.monotonic() + limit
        while marker not in self._pending:
            if time.monotonic() > deadline:
                raise ConnectFailed(f"timed out logging in to {self.who}: {self._tail()}")
            try:
                self._pending += self._read()
            except _Eof:
                if on_text is not None:
                    on_text()  # ssh's last words may explain (a refused host key)
                self._kill()
                raise ConnectFailed(f"cannot open a shell on {self.who}: {self._tail()}") from None
            if on_text is not None:
                on_text()
        self._pending = self._pending.split(marker, 1)[1]

    def _tail(self, n: int = 600) -> str:
        text = ANSI.sub("", CRLF.sub("\n", self._pending)).strip()
        return text[-n:] or "(no output)"

    # -- low-level I/O --------------------------------------------------------------------------
    def _read(self, timeout: float = READ_SLICE) -> str:
        assert self._child is not None
        try:
            return self._child.read_nonblocking(65536, timeout)
        except pexpect.TIMEOUT:
            return ""
        except pexpect.EOF:
            raise _Eof() from None

    def _send(self, text: str) -> None:
        assert self._child is not None
        try:
            self._child.send(text)
        except OSError:
            raise _Eof() from None

    def _interrupt(self) -> None:
        assert self._child is not None
        try:
            os.write(self._child.child_fd, b"\x03")
        except OSError:
            pass

    def _wait_for_prompt(self, limit: float) -> bool:
        """Read until our PS1; drop everything up to and including it. False on time-out."""
        deadline = time.monotonic() + limit
        while True:
            i = self._pending.find(self._ps1)
            if i >= 0:
                self._pending = self._pending[i + len(self._ps1):]
                return True
            if time.monotonic() > deadline:
                return False
            self._pending = self._pending[-4096:] + self._read()

    def _recover(self, tell: OutputCallback | None = None) -> bool:
        """After Ctrl-C: wait for the prompt, patiently; else replace the shell; else give it up.

        ``tell(stream, line)`` hears, on the ``status`` stream, what the session waits for.
        """
        started = time.monotonic()
        resend = list(INTERRUPT_EVERY)
        told = False

        def say(text: str) -> None:
            if tell is not None:
                try:
                    tell("status", text)
                except Exception:  # noqa: BLE001 - a failing listener must not end the recovery
                    log.debug("status callback failed", exc_info=True)
        try:
            while True:
                waited = time.monotonic() - started
                if waited >= self.recover_limit:
                    break
                step = min(1.0, self.recover_limit - waited)
                if resend:
                    step = min(step, max(0.05, resend[0] - waited))
                if self._wait_for_prompt(step):
                    if told:
                        say(f"the shell on {self.who} is back after {time.monotonic() - started:.0f} s")
                    return True
                waited = time.monotonic() - started
                if not told and waited >= RECOVER_TELL_AFTER:
                    say(f"waiting for the shell on {self.who} to come back after Ctrl-C "
                        f"(up to {self.recover_limit:.0f} s; a slow or loaded node takes a while)")
                    told = True
                if resend and waited >= resend[0]:
                    resend.pop(0)
                    self._interrupt()
        except _Eof:
            self._mark_dead("the connection was lost after Ctrl-C")
            return False
        say(f"the shell on {self.who} did not come back within {self.recover_limit:.0f} s of Ctrl-C; "
            "opening a new one (the interrupted command may still be running on the node)")
        if self._restart():
            say(f"a new shell on {self.who} is ready")
            return False
        self._mark_dead(f"the shell did not come back after Ctrl-C within {self.recover_limit:.0f} s, "
                        "and a new one could not be opened")
        return False

    def _mark_dead(self, reason: str) -> None:
        self._dead_reason = reason
        self._kill()

    def _kill(self) -> None:
        if self._child is not None:
            try:
                self._child.close(force=True)
            except Exception:  # noqa: BLE001 - closing a dead pty may fail in many ways
                pass

    def _check_alive(self) -> None:
        if self._dead_reason is not None:
            raise SessionError(f"the session to {self.who} is closed ({self._dead_reason})")

    # -- the interface --------------------------------------------------------------------------
    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        on_output: OutputCallback | None = None,
        stdin: bytes | None = None,
        sudo: bool = False,
    ) -> CommandResult:
        with self._lock:
            self._check_alive()
            self._cancel.clear()
            return self._run_locked(command, timeout, on_output, stdin,
                                    sudo or self.become_root)

    def _run_locked(self, command: str, timeout: float | None, on_output: OutputCallback | None,
                    stdin: bytes | None, use_sudo: bool) -> CommandResult:
        m = secrets.token_hex(6)
        nonce = sudo.new_nonce() if use_sudo and self.user != "root" else None
        body = sudo.wrap(command, nonce, password_on_stdin=False) if nonce else command
        frame = (
            f"stty -echo 2>/dev/null; printf '__HWS_%s__\\n' {m}; ( {body}\n) "
            + self._stdin_redirect(m, stdin)
            + f"; printf '\\n__HWE_%s_%d__\\n' {m} \"$?\"\n"
        )
        log.debug("%s: run %s", self.name, command)
        started = time.monotonic()
        deadline = started + timeout if timeout is not None else None
        run = _FrameReader(m, on_output, sudo_nonce=nonce)
        interrupted: str | None = None  # 'timeout' | 'cancel' | 'sudo'
        try:
            self._pending = ""
            self._send(frame)
            try:
                interrupted = self._follow(run, deadline)
            except _Eof:
                raise
            except BaseException:
                # an error of ours (no sudo password, a failing callback, ^C in hawizard):
                # stop the command and get the shell back before the error goes up
                self._interrupt()
                self._recover()
                raise
            if run.done:
                # the prompt follows the end marker; a missing one means the shell is in trouble
                if not self._wait_for_prompt(self.recover_limit):
                    self._interrupt()
                    self._recover(on_output)
            else:
                self._interrupt()
                self._recover(on_output)
        except _Eof:
            self._mark_dead("connection lost")
            result = run.result(command, EXIT_UNKNOWN, time.monotonic() - started)
            raise ConnectionLost(
                f"the connection to {self.who} was lost while a command ran; its outcome is "
                f"unknown",
                result,
            ) from None
        duration = time.monotonic() - started
        if interrupted == "sudo" or (run.done and nonce and not run.sudo_started):
            raise self._sudo_error(run)
        if interrupted == "timeout":
            return run.result(command, EXIT_TIMEOUT, duration, timed_out=True)
        if interrupted == "cancel":
            return run.result(command, EXIT_CANCELLED, duration)
        return run.result(command, run.exit_status, duration)

    def _follow(self, run: _FrameReader, deadline: float | None) -> str | None:
        """Read the command's output until its end marker, or say why we stopped early."""
        while not run.done:
            if self._cancel.is_set():
                return "cancel"
            if deadline is not None and time.monotonic() > deadline:
                return "timeout"
            self._pending = run.feed(self._pending + self._read())
            if run.sudo_prompts == 1 and not run.password_sent:
                password = self._sudo.get()  # may raise SudoError: no way to ask
                self._send(password + "\n")  # to sudo's tty: echo is off
                run.password_sent = True
            elif run.sudo_failure is not None:
                return "sudo"
        return None

    def _sudo_error(self, run: _FrameReader) -> Exception:
        if run.sudo_failure == "wrong":
            return self._sudo.wrong()
        return sudo.refusal(f"{self.user}@{self.name}", run.sudo_text) or sudo.SudoError(
            f"sudo on {self.user}@{self.name} failed: {run.sudo_text.strip()[-300:] or 'no message'}"
        )

    @staticmethod
    def _stdin_redirect(m: str, data: bytes | None) -> str:
        if data is None:
            return "</dev/null"
        encoded = base64.encodebytes(data).decode()  # 76-column lines
        return f"< <(base64 -d <<'__HWD_{m}__'\n{encoded}__HWD_{m}__\n)"

    def write_file(self, path: str, data: bytes, *, mode: int, owner: str = "root",
                   group: str = "root", backup: bool = True) -> WriteResult:
        return filewrite.write_file(self, path, data, mode=mode, owner=owner, group=group,
                                    backup=backup, sudo=self._needs_sudo_for(owner))

    def read_file(self, path: str) -> bytes | None:
        return filewrite.read_file(self, path, sudo=self.user != "root")

    def _needs_sudo_for(self, owner: str) -> bool:
        return self.user != "root" and (self.become_root or owner != self.user)

    def cancel(self) -> None:
        self._cancel.set()

    def close(self) -> None:
        if self._child is None:
            return
        if self._dead_reason is None and self._child.isalive():
            try:
                self._child.send("exit\n")
                self._child.expect(pexpect.EOF, timeout=2)
            except (pexpect.ExceptionPexpect, OSError):
                pass
        self._dead_reason = self._dead_reason or "closed"
        self._kill()
        self._child = None


class _FrameReader:
    """Parses one framed command's output from the pty stream (see the module docstring)."""

    def __init__(self, m: str, on_output: OutputCallback | None, sudo_nonce: str | None) -> None:
        self.start = f"__HWS_{m}__\n"
        self.end = re.compile(rf"__HWE_{m}_(\d+)__")
        self.on_output = on_output
        self.seen_start = False
        self.done = False
        self.exit_status = EXIT_UNKNOWN
        self.lines: list[str] = []
        self._held_empty = False
        # sudo
        self.sudo_nonce = sudo_nonce
        self.sudo_started = sudo_nonce is None
        self.sudo_prompt = sudo.prompt_for(sudo_nonce) if sudo_nonce else ""
        self.sudo_marker = sudo.started_marker(sudo_nonce) if sudo_nonce else ""
        self.sudo_prompts = 0
        self.password_sent = False
        self.sudo_text = ""
        self.sudo_failure: str | None = None

    def feed(self, pending: str) -> str:
        """Consume what can be consumed; return the unconsumed rest."""
        pending = CRLF.sub("\n", pending)
        if pending.endswith("\r"):
            return pending  # maybe half of a CR LF
        if not self.seen_start:
            i = pending.find(self.start)
            if i < 0:
                return pending[-len(self.start):]
            self.seen_start = True
            pending = pending[i + len(self.start):]
        if not self.sudo_started:
            pending = self._feed_sudo(pending)
            if not self.sudo_started and not self.done:
                return pending
        *complete, rest = pending.split("\n")
        for line in complete:
            if self.done:
                continue  # after the end marker: the prompt follows
            if line.startswith("__HWE_"):
                mm = self.end.fullmatch(line)
                if mm:
                    self.done = True
                    self.exit_status = int(mm.group(1))
                    continue
            self._line(ANSI.sub("", line))
        return rest

    def _feed_sudo(self, pending: str) -> str:
        """Before the command starts: answer sudo's prompt once; catch its refusals."""
        while True:
            marker_at = pending.find(self.sudo_marker + "\n")
            prompt_at = pending.find(self.sudo_prompt)
            end = self.end.search(pending)
            if prompt_at >= 0 and (marker_at < 0 or prompt_at < marker_at):
                self.sudo_text += pending[:prompt_at]
                pending = pending[prompt_at + len(self.sudo_prompt):]
                self.sudo_prompts += 1
                if self.sudo_prompts > 1:
                    self.sudo_failure = "wrong"
                continue
            if marker_at >= 0:
                self.sudo_text += pending[:marker_at]
                self.sudo_started = True
                pending = pending[marker_at + len(self.sudo_marker) + 1:]
                break
            if end is not None:  # sudo ended without running the command
                self.sudo_text += pending[: end.start()]
                self.done = True
                self.exit_status = int(end.group(1))
                return ""
            break
        if self.sudo_failure is None and sudo.WRONG_PASSWORD.search(self.sudo_text):
            self.sudo_failure = "wrong"
        elif self.sudo_failure is None and sudo.NOT_ALLOWED.search(self.sudo_text):
            self.sudo_failure = "refused"
        return pending

    def _line(self, line: str) -> None:
        self.lines.append(line)
        if self.on_output is None:
            return
        # The end marker is preceded by one '\n' of ours: hold an empty line back until we
        # know it is not that one.
        if self._held_empty:
            self.on_output("stdout", "")
            self._held_empty = False
        if line == "":
            self._held_empty = True
        else:
            self.on_output("stdout", line)

    def result(self, command: str, status: int, duration: float, timed_out: bool = False
               ) -> CommandResult:
        return CommandResult(command, status, "\n".join(self.lines), "", duration, timed_out)


# -- over the OpenSSH client ----------------------------------------------------------------------

HOSTKEY_QUESTION = re.compile(r"continue connecting \(yes/no[^)]*\)\? ?")
HOSTKEY_OFFERED = re.compile(r"(\S+) key fingerprint is (SHA256:[A-Za-z0-9+/]+)")
HOSTKEY_CHANGED = re.compile(r"REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed")
HOSTKEY_NEW_FP = re.compile(r"sent by the remote host is\s*(SHA256:[A-Za-z0-9+/]+)")
HOSTKEY_OFFENDING = re.compile(r"Offending \S+ key in (\S+?):(\d+)")
ASKS_PASSPHRASE = re.compile(r"Enter passphrase for key")


def _ssh_option_path(path: str) -> str:
    return f'"{path}"' if any(c.isspace() for c in path) else path


class SshShellSession(PtyShellSession):
    """``ssh -tt`` to the node, host keys checked by ssh against hawizard's known_hosts.

    ssh runs with ``StrictHostKeyChecking=ask`` and this class answers its question: "yes"
    only for the pinned fingerprint or when ``confirm_host_key`` says so (ssh then saves the
    key in hawizard's file, the first ``UserKnownHostsFile``); otherwise "no" and a
    HostKeyRefused naming the fingerprint. Asking (rather than ``=yes``) is what lets the
    operator see the fingerprint; a *changed* key is refused by ssh itself in ask mode.
    Login is by key or agent only (password and keyboard-interactive auth are off).
    """

    kind = "ssh"

    def __init__(self, target, *, confirm_host_key=None, sudo_password=None) -> None:
        from hawizard.sessions import hostkeys

        super().__init__(
            target.name,
            who=target.describe(),
            user=target.user,
            become_root=target.become_root,
            sudo_password=sudo_password,
        )
        self.target = target
        self._confirm = confirm_host_key
        own = target.known_hosts_path
        own.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(own, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))  # ssh would use 0644
        self._known_files = [own]
        user_file = os.path.expanduser("~/.ssh/known_hosts")
        if target.ssh_config and os.path.exists(user_file):
            self._known_files.append(user_file)
        hostkeys.check_pin_against_record(
            target.host_label, target.name, target.pinned_fingerprint,
            hostkeys.entries_for(target.host_label, [own, *self._known_files[1:]]),
        )
        self._start()

    def _start(self) -> None:
        t = self.target
        self._spawn(self.ssh_argv(), self._spawn_env())
        try:
            self._wait_for_ready(t.connect_timeout + 15, on_text=self._login_prompts)
            self._setup_shell(t.connect_timeout + 5)
        except _Eof:
            self._kill()
            raise ConnectFailed(f"cannot open a shell on {self.who}: {self._tail()}") from None
        except BaseException:
            self._kill()
            raise

    def ssh_argv(self) -> list[str]:
        t = self.target
        argv = ["ssh", "-tt", "-e", "none"]
        if not t.ssh_config:
            argv += ["-F", "/dev/null"]
        argv += ["-p", str(t.port), "-l", t.user]
        if t.identity_file:
            argv += ["-i", t.identity_file, "-o", "IdentitiesOnly=yes"]
        known = " ".join(_ssh_option_path(str(p)) for p in self._known_files)
        argv += [
            "-o", "StrictHostKeyChecking=ask",
            "-o", f"UserKnownHostsFile={known}",
            "-o", "HashKnownHosts=no",
            "-o", "UpdateHostKeys=no",
            "-o", f"ConnectTimeout={t.connect_timeout}",
            "-o", "PasswordAuthentication=no",
            "-o", "KbdInteractiveAuthentication=no",
            "-o", "LogLevel=ERROR",
        ]
        if t.keepalive:
            argv += ["-o", f"ServerAliveInterval={t.keepalive}", "-o", "ServerAliveCountMax=3"]
        if t.jump is not None:
            argv += ["-o", f"ProxyCommand={self._jump_command(t.jump)}"]
        argv += [t.host, self._ready_command()]
        return argv

    def _jump_command(self, j) -> str:
        """The jump host's own ssh: strict host key checking, no questions (BatchMode)."""
        from hawizard.common.shellquote import join

        inner = ["ssh", "-p", str(j.port), "-l", j.user, "-o", "BatchMode=yes",
                 "-o", "StrictHostKeyChecking=yes", "-o",
                 f"UserKnownHostsFile={_ssh_option_path(str(j.known_hosts_path))}"]
        if not j.ssh_config:
            inner += ["-F", "/dev/null"]
        if j.identity_file:
            inner += ["-i", j.identity_file, "-o", "IdentitiesOnly=yes"]
        return join(*inner) + " -W '[%h]:%p' " + join(j.host)

    def _login_prompts(self) -> None:
        from hawizard.sessions import hostkeys

        text = CRLF.sub("\n", self._pending)
        t = self.target
        if HOSTKEY_QUESTION.search(text):
            offered = HOSTKEY_OFFERED.search(text)
            if offered is None:
                self._send("no\n")
                raise ConnectFailed(f"ssh asked about the host key of {t.host_label} without "
                                    f"showing its fingerprint; refused")
            key_type, fp = offered.group(1), offered.group(2)
            if "keys of different type are already known" in text:
                # a new key type where another is on record: as suspicious as a changed key
                self._send("no\n")
                raise hostkeys.changed_error(
                    t.host_label, t.name, hostkeys.entries_for(t.host_label, self._known_files),
                    fp, t.known_hosts_path)
            if t.pinned_fingerprint:
                pin = hostkeys.normalise_fingerprint(t.pinned_fingerprint)
                if pin != fp:
                    self._send("no\n")
                    raise hostkeys.pin_mismatch_error(t.host_label, t.name, pin, fp)
                accept = True
            else:
                accept = bool(self._confirm and self._confirm(t.host_label, key_type, fp))
            if not accept:
                self._send("no\n")
                raise hostkeys.unknown_error(t.host_label, t.name, key_type, fp)
            log.info("%s: host key %s %s accepted and saved", t.name, key_type, fp)
            self._send("yes\n")
            self._pending = ""
            return
        if HOSTKEY_CHANGED.search(text):
            self._drain_until_eof()
            text = CRLF.sub("\n", self._pending)
            new = HOSTKEY_NEW_FP.search(text)
            offending = HOSTKEY_OFFENDING.search(text)
            old = hostkeys.entry_at(offending.group(1), int(offending.group(2))) if offending else None
            if new and old:
                raise hostkeys.changed_error(t.host_label, t.name, [old], new.group(1),
                                             t.known_hosts_path)
            raise ConnectFailed(f"ssh refused the host key of {t.host_label} ({t.name}): "
                                f"{self._tail()}")
        if ASKS_PASSPHRASE.search(text):
            raise ConnectFailed(f"the SSH key for {self.who} needs a passphrase: load it into "
                                f"ssh-agent (ssh-add) before running hawizard")

    def _drain_until_eof(self, limit: float = 5.0) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                self._pending += self._read()
            except _Eof:
                return
