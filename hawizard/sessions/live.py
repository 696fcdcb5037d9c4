"""What the transports that reach a real node share: the pty shell (pty.py) and paramiko.

Why one base: both run one command at a time under a lock, take ``cancel()`` from any thread,
decide once per command whether it goes through sudo, ask the sudo password once per node
(sudo.py) and tell a wrong password from a refusal the same way, and write and read files
with the same scripts (filewrite.py). Written once here, the transports keep only what
differs: how a command reaches the node and how its output comes back.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from hawizard.sessions import filewrite, sudo
from hawizard.sessions.base import (
    BatchCommand,
    BatchFinished,
    BatchStarted,
    CancelFlag,
    CommandResult,
    NodeSession,
    OutputCallback,
    SudoPassword,
    WriteResult,
)


class LiveSession(NodeSession):
    """A session to a real node; subclasses give ``_check_open`` and ``_run_locked``."""

    def __init__(self, name: str, *, who: str, user: str, become_root: bool,
                 sudo_password: SudoPassword | None) -> None:
        self.name = name
        self.who = who  # 'node (user@host:port)' or the like, for messages
        self.user = user
        self.become_root = become_root
        self._sudo = sudo.SudoPasswordCache(sudo_password, f"{user}@{name}")
        self._cancel = CancelFlag()
        self._lock = threading.Lock()

    # -- commands -------------------------------------------------------------------------------
    def run(self, command: str, *, timeout: float | None = None, on_output: OutputCallback | None = None,
            stdin: bytes | None = None, sudo: bool = False) -> CommandResult:
        with self._lock:
            self._check_open()
            self._cancel.clear()
            use_sudo = (sudo or self.become_root) and self.user != "root"
            return self._run_locked(command, timeout, on_output, stdin, use_sudo)

    def run_batch(self, commands: Sequence[BatchCommand], *, on_start: BatchStarted | None = None,
                  on_finish: BatchFinished | None = None) -> list[CommandResult]:
        with self._lock:  # the whole batch, as one command: nothing of another thread comes between
            self._check_open()
            self._cancel.clear()
            use_sudo = self.become_root and self.user != "root"
            return self._run_batch_locked(commands, on_start, on_finish, use_sudo)

    def _run_batch_locked(self, commands: Sequence[BatchCommand], on_start: BatchStarted | None,
                          on_finish: BatchFinished | None, use_sudo: bool) -> list[CommandResult]:
        """A batch (the lock is held): one round trip per command, unless the transport does better."""
        results: list[CommandResult] = []
        for i, c in enumerate(commands):
            if i and self._cancel.is_set():
                break  # cancelled after the one before ended: the next one is not started
            if on_start is not None:
                on_start(i)
            result = self._run_locked(c.command, c.timeout, c.on_output, None, use_sudo)
            results.append(result)
            if on_finish is not None:
                on_finish(i, result)
            if not result.ok:
                break
        return results

    def _check_open(self) -> None:
        """Raise SessionError when the session can run nothing any more."""
        raise NotImplementedError

    def _run_locked(self, command: str, timeout: float | None, on_output: OutputCallback | None,
                    stdin: bytes | None, use_sudo: bool) -> CommandResult:
        """Run one command (the lock is held, the cancel flag cleared)."""
        raise NotImplementedError

    def cancel(self) -> None:
        self._cancel.set()

    def _sudo_error(self, failure: str | None, text: str) -> Exception:
        """The error for a sudo that did not start the command; ``text`` is sudo's own output."""
        if failure == "wrong":
            return self._sudo.wrong()
        who = f"{self.user}@{self.name}"
        return sudo.refusal(who, text) or sudo.SudoError(
            f"sudo on {who} failed: {text.strip()[-300:] or 'no message'}")

    # -- files ----------------------------------------------------------------------------------
    def write_file(self, path: str, data: bytes, *, mode: int, owner: str = "root",
                   group: str = "root", backup: bool = True) -> WriteResult:
        return filewrite.write_file(self, path, data, mode=mode, owner=owner, group=group,
                                    backup=backup, sudo=self._needs_sudo_for(owner))

    def read_file(self, path: str) -> bytes | None:
        return filewrite.read_file(self, path, sudo=self.user != "root")

    def _needs_sudo_for(self, owner: str) -> bool:
        return self.user != "root" and (self.become_root or owner != self.user)
