"""The one small interface through which hawizard touches a node, and its error types.

Why one interface: the runner, the dry run and the tests must not care whether a node is
reached through the OpenSSH client (pexpect), paramiko exec channels, a local shell, or
not at all (dry run). Everything a step needs is: run a command (streamed output, exit
status, timeout), write a file (mode and owner exact from the first byte), read a file.

Secrets (sudo password, file contents) never go into a command line, an exception
message, a log record or a ``CommandResult``.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hawizard.common.errors import EnvironmentProblem, InputError, OperationFailed

#: (stream 'stdout'|'stderr', one line without its newline)
OutputCallback = Callable[[str, str], None]
#: (host label as known_hosts names it, key type, 'SHA256:...') -> the operator trusts it
HostKeyConfirm = Callable[[str, str, str], bool]
#: (a description such as 'alice@srv1') -> the sudo password
SudoPassword = Callable[[str], str]

EXIT_TIMEOUT = 124
EXIT_CANCELLED = 130
EXIT_UNKNOWN = -1


@dataclass(frozen=True)
class CommandResult:
    command: str  # as given (already shell-quoted by the engine)
    exit_status: int  # -1 if unknown (connection lost), 124 on timeout, 130 cancelled
    stdout: str
    stderr: str  # '' where the transport merges streams (pty)
    duration: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_status == 0 and not self.timed_out


@dataclass(frozen=True)
class BatchCommand:
    """One command of a batch (``NodeSession.run_batch``): its text, its own timeout, its output's listener."""

    command: str
    timeout: float | None = None
    on_output: OutputCallback | None = None


#: (index of the command in the batch) -> None: called as command ``i`` is about to run
BatchStarted = Callable[[int], None]
#: (index, its result) -> None: called as soon as command ``i`` ended, before the next one starts
BatchFinished = Callable[[int, "CommandResult"], None]


@dataclass(frozen=True)
class WriteResult:
    path: str
    changed: bool  # False: same checksum (and mode/owner), nothing written
    sha256: str  # of the new content
    backup_path: str | None  # where the previous file was saved, if any


# -- errors ---------------------------------------------------------------------------------


class SessionError(OperationFailed):
    """A session-level failure that is not the command's own non-zero exit."""


class ConnectionLost(SessionError):
    """The connection to the node died while a command ran; its outcome is unknown."""

    def __init__(self, message: str, result: CommandResult | None = None) -> None:
        super().__init__(message)
        self.result = result
        self.exit_status = EXIT_UNKNOWN


class ConnectFailed(EnvironmentProblem):
    """The node could not be reached or refused our login (exit code 3)."""


class HostKeyRefused(EnvironmentProblem):
    """The node's host key is not trusted: unknown and not confirmed, or not the pinned one."""


class HostKeyChanged(HostKeyRefused):
    """The node's host key differs from the one on record: possibly a man in the middle."""


class SudoError(InputError):
    """sudo did not let us become root (wrong or missing password, not allowed)."""


class SudoAuthFailed(SudoError):
    """sudo rejected the password."""


class WriteFailed(SessionError):
    """A file write failed; the message names the path, never the content."""


class ReadFailed(SessionError):
    """A file could not be read (other than: it does not exist)."""


# -- the interface -------------------------------------------------------------------------


class NodeSession(abc.ABC):
    """A live way to act on one node. One command at a time; ``cancel`` from any thread."""

    name: str
    #: True where ``run_batch`` sends a whole batch in one round trip (the pty shell); False where it
    #: runs the commands one by one, as this class's ``run_batch`` does (a wrapper may then act between them)
    batches: bool = False

    @abc.abstractmethod
    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        on_output: OutputCallback | None = None,
        stdin: bytes | None = None,
        sudo: bool = False,
    ) -> CommandResult:
        """Run ``command`` (shell text) and wait for it.

        Raises ConnectionLost (with ``.result``, exit_status -1) if the link dies meanwhile;
        a timeout returns ``timed_out=True`` with exit status 124.
        """

    def run_batch(
        self,
        commands: Sequence[BatchCommand],
        *,
        on_start: BatchStarted | None = None,
        on_finish: BatchFinished | None = None,
    ) -> list[CommandResult]:
        """Run ``commands`` in order and stop after the first that does not succeed (exit 0, no timeout).

        Returns the results of the commands that ran, in order: the last one is the failure when
        there are fewer than ``commands``. Each command keeps its own exit status, output (streamed
        to its ``on_output``), duration and timeout, as if run alone with ``run``; ``on_start(i)``
        is called just before command ``i`` runs and ``on_finish(i, result)`` as soon as it ended,
        so a listener sees the same order of starts, output and ends as with ``run`` one by one.
        A ``ConnectionLost`` concerns the command last announced by ``on_start``. A ``cancel``
        stops the command under way (exit status 130) and with it the batch.

        This default costs one round trip per command; a transport that can send the whole batch
        at once (the pty shell, pty.py) overrides it.
        """
        results: list[CommandResult] = []
        for i, c in enumerate(commands):
            if on_start is not None:
                on_start(i)
            result = self.run(c.command, timeout=c.timeout, on_output=c.on_output)
            results.append(result)
            if on_finish is not None:
                on_finish(i, result)
            if not result.ok:
                break
        return results

    @abc.abstractmethod
    def write_file(
        self,
        path: str,
        data: bytes,
        *,
        mode: int,
        owner: str = "root",
        group: str = "root",
        backup: bool = True,
    ) -> WriteResult: ...

    @abc.abstractmethod
    def read_file(self, path: str) -> bytes | None:
        """The file's bytes, or None if it does not exist."""

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def cancel(self) -> None:
        """Interrupt the running command (best effort): it returns with exit status 130 or -1."""

    def __enter__(self) -> NodeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LineSplitter:
    """Turns decoded chunks into whole lines for an OutputCallback; keeps the full text too."""

    def __init__(self, stream: str, callback: OutputCallback | None) -> None:
        self.stream = stream
        self.callback = callback
        self.parts: list[str] = []
        self._pending = ""

    def feed(self, text: str) -> None:
        if not text:
            return
        self.parts.append(text)
        if self.callback is None:
            return
        text = self._pending + text
        *lines, self._pending = text.split("\n")
        for line in lines:
            self.callback(self.stream, line)

    def finish(self) -> str:
        if self.callback is not None and self._pending:
            self.callback(self.stream, self._pending)
        self._pending = ""
        return "".join(self.parts)


class CancelFlag:
    """A thread-safe flag set by ``cancel()`` and read by the running command's loop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()
