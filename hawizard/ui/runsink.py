"""The wizard's end of the event stream: a thread-safe sink the UI thread drains on a timer.

Why a queue and not direct drawing: events arrive on the runner's threads, and Textual widgets
may only be touched from the UI thread. The sink formats and queues: output lines into bounded
per-node buffers (a flood of 100k lines costs the UI at most one buffer's worth per refresh;
every line is still in the audit log), state events into a short list.
"""

from __future__ import annotations

import threading
from collections import deque

from hawizard.common import terminal_text
from hawizard.common.redact import Redactor
from hawizard.events import (
    CommandFinished,
    CommandStarted,
    ConfirmationNeeded,
    Event,
    FileWritten,
    OutputLine,
    StepFinished,
    StepStarted,
)

LOG_LINES = 5000  # lines kept per node on screen (the audit log keeps them all)


def clean(text: str) -> str:
    """Remote output made safe to show: no escape sequences or control characters, tabs expanded."""
    return terminal_text.clean(text, tab_size=4)


class UiSink:
    """Receives events on runner threads; the UI thread takes them with ``drain``."""

    def __init__(self, redactor: Redactor, max_lines: int = LOG_LINES,
                 probes: dict[tuple[str, str], str] | None = None) -> None:
        self.redactor = redactor
        self.probes = probes or {}  # (step, node) -> the "already done?" command
        self.max_lines = max_lines
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._lines: dict[str, deque[str]] = {}
        self._dropped: dict[str, int] = {}

    def _add_line(self, node: str, text: str) -> None:
        buf = self._lines.get(node)
        if buf is None:
            buf = self._lines[node] = deque(maxlen=self.max_lines)
        if len(buf) == self.max_lines:
            self._dropped[node] = self._dropped.get(node, 0) + 1
        buf.append(text)

    def handle(self, event: Event) -> None:
        line = _log_line(event, self.probes)
        if line is not None:
            node, text = line
            text = self.redactor.redact_text(clean(text))
        with self._lock:
            if line is not None:
                for n in node.split(","):
                    if n:
                        self._add_line(n, text)
            if not isinstance(event, OutputLine | CommandStarted | CommandFinished | FileWritten):
                self._events.append(event)

    def drain(self) -> tuple[list[Event], dict[str, list[str]], dict[str, int]]:
        with self._lock:
            events, self._events = self._events, []
            lines = {n: list(buf) for n, buf in self._lines.items() if buf}
            self._lines = {}
            dropped, self._dropped = self._dropped, {}
        return events, lines, dropped


def _log_line(event: Event, probes: dict[tuple[str, str], str]) -> tuple[str, str] | None:
    """The line an event adds to a node's output pane, if any."""
    if isinstance(event, OutputLine):
        mark = {"stderr": "! ", "status": "» "}.get(event.stream, "")
        return event.node, mark + event.text
    is_probe = isinstance(event, CommandStarted | CommandFinished) and \
        probes.get((event.step_id, event.node)) == event.command
    if isinstance(event, CommandStarted):
        return event.node, f"{'? done already? ' if is_probe else '$ '}{event.command}"
    if isinstance(event, CommandFinished) and is_probe:
        return event.node, "  -> yes, nothing to do" if event.exit_status == 0 else "  -> not yet"
    if isinstance(event, CommandFinished) and (event.exit_status or event.timed_out):
        return event.node, f"  (exit status {event.exit_status}{', timed out' if event.timed_out else ''})"
    if isinstance(event, FileWritten):
        how = "written" if event.changed else "unchanged"
        return event.node, f"  {event.path} {how} ({event.mode} {event.owner})"
    if isinstance(event, StepStarted):
        return event.node, f"── {event.step_id}: {event.title}"
    if isinstance(event, StepFinished):
        note = f": {event.message}" if event.message else ""
        return event.node, f"── {event.step_id} {event.status}{note}"
    if isinstance(event, ConfirmationNeeded):
        return event.node, f"?? {event.step_id} waits for the operator to type '{event.expected_phrase}'"
    return None
