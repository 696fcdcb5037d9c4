"""The console sink: what `hawizard apply` shows while it runs.

On a terminal: one line per step and node, command output indented under it, and the DRBD
sync as a redrawn progress bar with speed and ETA. Piped: plain lines only, a progress line
at most every 10 % or 15 s, so a log file stays readable.

Every line is cleaned of terminal controls before it is redacted and shown
(hawizard/common/terminal_text.py): a node's output must not retitle, clear or beep the operator's
terminal, and a secret split by an escape sequence is caught once the sequence is gone.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from hawizard.common.redact import Redactor
from hawizard.common.terminal_text import clean
from hawizard.common.timefmt import fmt_eta
from hawizard.events import (
    ClusterState,
    CommandStarted,
    ConfirmationNeeded,
    Event,
    FileWritten,
    OutputLine,
    Progress,
    RunFinished,
    StepFinished,
    StepStarted,
)

SYMBOL = {"done": "ok", "already-done": "already done", "failed": "FAILED", "cancelled": "cancelled",
          "skipped": "skipped"}


def progress_bar(percent: float | None, width: int = 24) -> str:
    p = max(0.0, min(100.0, percent or 0.0))
    full = int(width * p / 100)
    return "[" + "#" * full + "-" * (width - full) + "]"


class ConsoleSink:
    def __init__(self, out: TextIO | None = None, *, tty: bool | None = None, verbose: bool = False,
                 redactor: Redactor | None = None):
        self.out = out or sys.stdout
        self.tty = self.out.isatty() if tty is None else tty
        self.verbose = verbose
        self.redactor = redactor or Redactor()
        self._bar_open = False
        self._last_plain: dict[tuple[str, str], tuple[float, float]] = {}

    def _line(self, text: str) -> None:
        if self._bar_open:
            self.out.write("\n")
            self._bar_open = False
        self.out.write(self.redactor.redact_text(clean(text)) + "\n")
        self.out.flush()

    def handle(self, event: Event) -> None:
        if isinstance(event, StepStarted):
            self._line(f"[{event.node}] {event.step_id}: {event.title}")
        elif isinstance(event, CommandStarted):
            if self.verbose:
                self._line(f"[{event.node}]   $ {event.command}")
        elif isinstance(event, OutputLine):
            if event.stream == "status" or self.verbose:
                self._line(f"[{event.node}]   {event.text}")
        elif isinstance(event, FileWritten):
            what = "written" if event.changed else "unchanged"
            backup = f", previous kept as {event.backup_path}" if event.backup_path else ""
            self._line(f"[{event.node}]   {event.path} ({event.mode}) {what}{backup}")
        elif isinstance(event, Progress):
            self._progress(event)
        elif isinstance(event, ConfirmationNeeded):
            self._line(f"[{event.node}] {event.step_id} destroys data: {event.prompt}")
        elif isinstance(event, StepFinished):
            msg = f" ({event.message})" if event.message and event.status != "already-done" else ""
            self._line(f"[{event.node}] {event.step_id}: {SYMBOL.get(event.status, event.status)} "
                       f"in {event.duration:.1f} s{msg}")
        elif isinstance(event, ClusterState) and self.verbose:
            self._line(f"[{event.node}]   cluster: online {' '.join(event.nodes_online)}")
        elif isinstance(event, RunFinished):
            why = f" ({event.message})" if event.message else ""
            self._line(f"run {event.run_id}: {event.status} in {event.duration:.0f} s{why}")

    def _progress(self, ev: Progress) -> None:
        speed = f"{ev.speed_kib_s / 1024:.1f} MiB/s" if ev.speed_kib_s else "-- MiB/s"
        pct = f"{ev.percent:5.1f}%" if ev.percent is not None else "  ?  %"
        text = f"[{ev.node}] {ev.step_id} {progress_bar(ev.percent)} {pct} {speed} ETA {fmt_eta(ev.eta_s)} {ev.state}"
        text = self.redactor.redact_text(clean(text))
        if self.tty:
            self.out.write("\r" + text.ljust(100)[:110])
            self.out.flush()
            self._bar_open = True
            return
        key = (ev.node, ev.step_id)
        now = time.monotonic()
        last_t, last_p = self._last_plain.get(key, (0.0, -100.0))
        if (ev.percent or 0) - last_p >= 10 or now - last_t >= 15 or (ev.percent or 0) >= 100:
            self._last_plain[key] = (now, ev.percent or 0)
            self._line(text)
