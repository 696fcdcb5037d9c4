"""A persistent shell on a node, driven through a pty with pexpect: the driver and its recovery.

Why a pty: some steps need a terminal (sudo with ``requiretty``, programs that behave
differently on a tty), and going through the operator's own ``ssh`` (openssh.py) makes
~/.ssh/config, agents and jump hosts work as they expect; a local node (local.py) gets the
very same driver. The shell is prepared once:

* no line editing (``set +o emacs +o vi``: bash reads its input without readline, so there is no
  bracketed paste and no echo of its own) on a terminal without echo and without canonical input
  (``stty -echo -icanon``: no line of the tty's 4096-byte limit either); ``TERM=dumb``,
  ``LC_ALL=C``, no history, no PROMPT_COMMAND, a wide window. Why no readline: it handles every
  byte it reads as a key press, and every command, every file written (its content travels
  base64-encoded in the command's text) and every batch of commands reaches the shell as text:
  a command with 4 KB of text took 37 ms with readline and 3.5 ms without (a local session,
  issue 15), and an emulated CPU multiplies both. Each frame sets the mode again after its
  command (frames.py ``MODE``);
* a prompt set from a split literal (``PS1='__HWP_''<tag>__# '``) so the echo of the
  setup line can never match it; ``PS2=''``;
* then every command travels in a frame (frames.py), one at a time.

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

import logging
import os
import secrets
import signal
import time
from collections.abc import Sequence

import pexpect

from hawizard.sessions import sudo
from hawizard.sessions.base import (
    EXIT_CANCELLED,
    EXIT_TIMEOUT,
    EXIT_UNKNOWN,
    BatchCommand,
    BatchFinished,
    BatchStarted,
    CommandResult,
    ConnectFailed,
    ConnectionLost,
    OutputCallback,
    SessionError,
    SudoPassword,
)
from hawizard.sessions.frames import ANSI, CRLF, FrameReader, batch_frame, frame, parses
from hawizard.sessions.live import LiveSession

log = logging.getLogger("hawizard.sessions")

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


class PtyShellSession(LiveSession):
    """Common driver; subclasses define ``_start``, which calls ``_open`` with the argv to spawn."""

    kind = "pty"
    batches = True  # run_batch: the whole batch in one write (frames.batch_frame)

    def __init__(
        self,
        name: str,
        *,
        who: str,
        user: str,
        become_root: bool = False,
        sudo_password: SudoPassword | None = None,
    ) -> None:
        super().__init__(name, who=who, user=user, become_root=become_root, sudo_password=sudo_password)
        self._tag = secrets.token_hex(6)
        self._ps1 = f"__HWP_{self._tag}__# "
        self._child: pexpect.spawn | None = None
        self._pending = ""
        self._dead_reason: str | None = None
        self.recover_limit = RECOVER_LIMIT

    # -- start-up -------------------------------------------------------------------------------
    def _start(self) -> None:
        """Spawn the child and bring it to our prompt (login included); subclasses define it."""
        raise NotImplementedError

    def _open(self, argv: list[str], *, ready_limit: float, setup_limit: float, failure: str,
              on_text=None) -> None:
        """Spawn ``argv``, wait for its ready marker, set the shell up; on failure nothing is left running.

        ``on_text`` may act on (and raise for) login prompts; ``failure`` starts the message
        when the child ends meanwhile.
        """
        self._spawn(argv, self._spawn_env())
        try:
            self._wait_for_ready(ready_limit, on_text=on_text)
            self._setup_shell(setup_limit)
        except _Eof:
            self._kill()
            raise ConnectFailed(f"{failure}: {self._tail()}") from None
        except BaseException:
            self._kill()
            raise

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
            # bash(1) SHELL BUILTIN COMMANDS, set -o emacs / vi: "Use an emacs-style (vi-style) line editing
            # interface"; with neither, an interactive bash reads its input without readline
            "stty -echo -icanon; set +o emacs +o vi; set +o history; "
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

    def _pending_text(self) -> str:
        """What the child printed and nobody consumed yet, with CR LF as LF."""
        return CRLF.sub("\n", self._pending)

    def _tail(self, n: int = 600) -> str:
        text = ANSI.sub("", self._pending_text()).strip()
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

    def _drain_until_eof(self, limit: float = 5.0) -> None:
        """Keep what the child still prints until it ends (or ``limit`` seconds pass)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                self._pending += self._read()
            except _Eof:
                return

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

    # -- one command ----------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._dead_reason is not None:
            raise SessionError(f"the session to {self.who} is closed ({self._dead_reason})")

    def _run_locked(self, command: str, timeout: float | None, on_output: OutputCallback | None,
                    stdin: bytes | None, use_sudo: bool) -> CommandResult:
        m = secrets.token_hex(6)
        nonce = sudo.new_nonce() if use_sudo else None
        body = sudo.wrap(command, nonce, password_on_stdin=False) if nonce else command
        log.debug("%s: run %s", self.name, command)
        started = time.monotonic()
        deadline = started + timeout if timeout is not None else None
        run = FrameReader(m, on_output, sudo_nonce=nonce)
        interrupted: str | None = None  # 'timeout' | 'cancel' | 'sudo'
        try:
            self._pending = ""
            self._send(frame(m, body, stdin))
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
            raise self._sudo_error(run.sudo_failure, run.sudo_text)
        if interrupted == "timeout":
            return run.result(command, EXIT_TIMEOUT, duration, timed_out=True)
        if interrupted == "cancel":
            return run.result(command, EXIT_CANCELLED, duration)
        return run.result(command, run.exit_status, duration)

    def _run_batch_locked(self, commands: Sequence[BatchCommand], on_start: BatchStarted | None,
                          on_finish: BatchFinished | None, use_sudo: bool) -> list[CommandResult]:
        """The commands in one round trip (frames.batch_frame), each read back by its own frame reader.

        Per command exactly what ``_run_locked`` does for one: its output streamed, its exit
        status, its own timeout (counted from the end of the one before), Ctrl-C and recovery on a
        timeout or a cancel, sudo's prompt answered, ``ConnectionLost`` on end of file. The shell
        skips the rest after a failure; the session then waits for its prompt as after one command.
        """
        if len(commands) < 2:
            return super()._run_batch_locked(commands, on_start, on_finish, use_sudo)
        readers: list[FrameReader] = []
        frames: list[tuple[str, str]] = []
        for c in commands:
            m = secrets.token_hex(6)
            nonce = sudo.new_nonce() if use_sudo else None
            frames.append((m, sudo.wrap(c.command, nonce, password_on_stdin=False) if nonce else c.command))
            readers.append(FrameReader(m, c.on_output, sudo_nonce=nonce))
        text = batch_frame(frames)
        if not parses(text):  # one command that does not parse would stop them all: each alone, as before
            log.debug("%s: a batch of %d commands does not parse; sent one by one", self.name, len(commands))
            return super()._run_batch_locked(commands, on_start, on_finish, use_sudo)
        for c in commands:
            log.debug("%s: run %s (batched)", self.name, c.command)
        results: list[CommandResult] = []
        i, started = 0, time.monotonic()
        try:
            self._pending = ""
            if on_start is not None:
                on_start(0)
            started = time.monotonic()
            self._send(text)
            for i, (c, run) in enumerate(zip(commands, readers, strict=True)):
                try:
                    if i:
                        if on_start is not None:
                            on_start(i)
                        started = time.monotonic()
                    deadline = started + c.timeout if c.timeout is not None else None
                    interrupted = self._follow(run, deadline)
                except _Eof:
                    raise
                except BaseException:
                    # an error of ours (no sudo password, a failing listener): the rest of the batch is
                    # already on its way, so stop it at once and get the shell back before going up
                    self._interrupt()
                    self._recover()
                    raise
                if interrupted is not None:
                    self._interrupt()
                    self._recover(c.on_output)
                duration = time.monotonic() - started
                if interrupted == "sudo" or (run.done and run.sudo_nonce and not run.sudo_started):
                    if run.done and not self._wait_for_prompt(self.recover_limit):
                        self._interrupt()
                        self._recover(c.on_output)
                    raise self._sudo_error(run.sudo_failure, run.sudo_text)
                if interrupted == "timeout":
                    result = run.result(c.command, EXIT_TIMEOUT, duration, timed_out=True)
                elif interrupted == "cancel":
                    result = run.result(c.command, EXIT_CANCELLED, duration)
                else:
                    result = run.result(c.command, run.exit_status, duration)
                results.append(result)
                last = interrupted is not None or not result.ok or i == len(commands) - 1
                if last and interrupted is None and not self._wait_for_prompt(self.recover_limit):
                    # after the last command that ran, the prompt; a missing one means the shell is in trouble
                    self._interrupt()
                    self._recover(c.on_output)
                if on_finish is not None:
                    try:
                        on_finish(i, result)
                    except BaseException:
                        if not last:
                            self._interrupt()
                            self._recover()
                        raise
                if last:
                    break
        except _Eof:
            self._mark_dead("connection lost")
            run = readers[i]
            result = run.result(commands[i].command, EXIT_UNKNOWN, time.monotonic() - started)
            raise ConnectionLost(
                f"the connection to {self.who} was lost while a command ran; its outcome is unknown",
                result,
            ) from None
        return results

    def _follow(self, run: FrameReader, deadline: float | None) -> str | None:
        """Read the command's output until its end marker, or say why we stopped early."""
        first = True
        while not run.done:
            if self._cancel.is_set():
                return "cancel"
            if deadline is not None and time.monotonic() > deadline:
                return "timeout"
            # in a batch, the frame may be here already, behind the one before it: read it first
            fresh = "" if first and self._pending else self._read()
            first = False
            self._pending = run.feed(self._pending + fresh)
            if run.sudo_prompts == 1 and not run.password_sent:
                password = self._sudo.get()  # may raise SudoError: no way to ask
                self._send(password + "\n")  # to sudo's tty: echo is off
                run.password_sent = True
            elif run.sudo_failure is not None:
                return "sudo"
        return None

    # -- life cycle -----------------------------------------------------------------------------
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
