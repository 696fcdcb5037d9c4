"""Samples of any DRBD dialect into ``Progress`` events: what the runner calls while DRBD syncs.

Why apart from the parsers: recognising the dialect and turning successive samples into a
speed, an ETA and a short event stream is one job, whatever printed the sample.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from hawizard.events import Progress
from hawizard.readers.drbd.events2 import looks_like_events2, parse_events2
from hawizard.readers.drbd.model import SyncStatus
from hawizard.readers.drbd.proc import parse_proc_drbd
from hawizard.readers.drbd.status_json import looks_like_status_json, parse_status_json


def parse_any(text: str) -> list[SyncStatus]:
    """Recognise the dialect of a sample and parse it."""
    if looks_like_status_json(text):
        return parse_status_json(text)
    if looks_like_events2(text):
        return parse_events2(text)
    return parse_proc_drbd(text)


class SyncProgress:
    """Turns successive samples into ``Progress`` events for one step on one node.

    Fills what a sample lacks from the previous one: a speed from the change in out-of-sync
    KiB over time, an ETA from that speed. Emits an event only when something visible changed
    (percent to 0.1, state, ETA), so the audit log holds the curve, not thousands of copies.
    """

    def __init__(self, step_id: str, node: str, *, source: str = "drbd", clock=time.monotonic) -> None:
        self.step_id = step_id
        self.node = node
        self.source = source
        self._clock = clock
        self._last: dict[str, tuple[float, SyncStatus]] = {}
        self._emitted: dict[str, tuple[Any, ...]] = {}

    def feed(self, text: str, now: float | None = None) -> list[Progress]:
        return self.update(parse_any(text), now)

    def update(self, statuses: Iterable[SyncStatus], now: float | None = None) -> list[Progress]:
        now = self._clock() if now is None else now
        events: list[Progress] = []
        for st in statuses:
            key = st.label
            prev = self._last.get(key)
            speed = st.speed_kib_s
            if speed is None and prev is not None and st.out_of_sync_kib is not None and not st.synced:
                t0, p = prev
                if p.out_of_sync_kib is not None and now > t0 and p.out_of_sync_kib >= st.out_of_sync_kib:
                    speed = (p.out_of_sync_kib - st.out_of_sync_kib) / (now - t0)
            eta = st.eta_s
            if eta is None and speed and st.out_of_sync_kib and st.syncing:
                eta = int(st.out_of_sync_kib / speed)
            percent = st.percent
            if st.synced:
                percent, eta = 100.0, 0
            elif percent is None and st.total_kib and st.out_of_sync_kib is not None:
                percent = round(100.0 * (1 - st.out_of_sync_kib / st.total_kib), 1)
            self._last[key] = (now, st)
            state = "synced" if st.synced else (st.state or "unknown")
            sig = (None if percent is None else round(percent, 1), state, eta, st.stalled)
            if self._emitted.get(key) == sig:
                continue
            self._emitted[key] = sig
            events.append(
                Progress(
                    step_id=self.step_id,
                    node=self.node,
                    source=self.source,
                    percent=percent,
                    speed_kib_s=round(speed, 1) if speed is not None else None,
                    eta_s=eta,
                    state=state,
                    detail=st.summary() + (f" [{st.note}]" if st.note else ""),
                )
            )
        return events
