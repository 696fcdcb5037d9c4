"""Pause and cancel between commands: a session wrapper that holds before each command while paused.

Why a wrapper: the runner drives the nodes from one thread per node and knows nothing of pausing;
holding at the session boundary pauses every node before its next command, lets the running
command finish, and lets a cancel release a paused run at once without sending anything more.
A batch (the consecutive commands of a step) that the transport sends in one round trip is held
before it as a whole: once sent, its commands run to their end or their first failure, as one
command would; a transport that runs a batch one by one passes each command through the gate.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from hawizard.sessions.base import (
    EXIT_CANCELLED,
    BatchCommand,
    BatchFinished,
    BatchStarted,
    CommandResult,
    NodeSession,
    WriteResult,
)


class GatedSession(NodeSession):
    """``inner`` behind a gate: commands wait while ``gate`` is clear; after ``stop`` none is sent."""

    def __init__(self, inner: NodeSession, gate: threading.Event, stop: threading.Event) -> None:
        self.inner, self.gate, self.stop = inner, gate, stop
        self.name = inner.name

    def _go_on(self) -> bool:
        """Wait while paused; False when the run was cancelled meanwhile (then nothing more is sent)."""
        while not self.gate.wait(0.1):
            if self.stop.is_set():
                break
        return not self.stop.is_set()

    def run(self, command: str, **kwargs: Any) -> CommandResult:
        if not self._go_on():
            return CommandResult(command, EXIT_CANCELLED, "", "", 0.0)
        return self.inner.run(command, **kwargs)

    def run_batch(self, commands: Sequence[BatchCommand], *, on_start: BatchStarted | None = None,
                  on_finish: BatchFinished | None = None) -> list[CommandResult]:
        if not self.inner.batches:  # one by one anyway: each command passes the gate, as with ``run``
            return NodeSession.run_batch(self, commands, on_start=on_start, on_finish=on_finish)
        if not self._go_on():  # as ``run``: the first command is answered "cancelled", nothing is sent
            cancelled = CommandResult(commands[0].command, EXIT_CANCELLED, "", "", 0.0)
            if on_start is not None:
                on_start(0)
            if on_finish is not None:
                on_finish(0, cancelled)
            return [cancelled]
        return self.inner.run_batch(commands, on_start=on_start, on_finish=on_finish)

    def write_file(self, path: str, data: bytes, **kwargs: Any) -> WriteResult:
        if not self._go_on():
            from hawizard.run.runner import RunCancelled

            raise RunCancelled("cancelled by the operator")
        return self.inner.write_file(path, data, **kwargs)

    def read_file(self, path: str) -> bytes | None:
        if not self._go_on():
            return None
        return self.inner.read_file(path)

    def close(self) -> None:
        self.inner.close()

    def cancel(self) -> None:
        self.inner.cancel()
