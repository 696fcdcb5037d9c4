"""Pause and cancel between commands: a session wrapper that holds before each command while paused.

Why a wrapper: the runner drives the nodes from one thread per node and knows nothing of pausing;
holding at the session boundary pauses every node before its next command, lets the running
command finish, and lets a cancel release a paused run at once without sending anything more.
"""

from __future__ import annotations

import threading
from typing import Any

from hawizard.sessions.base import EXIT_CANCELLED, CommandResult, NodeSession, WriteResult


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
