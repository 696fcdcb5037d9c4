"""Ctrl-C while a run is writing its last records must not leave them half written.

The CLI closes a run (its sessions, the audit log's last record, the journal's status, then the
run's lock) after a Ctrl-C more often than after anything else, and an operator who sees no
prompt come back presses Ctrl-C again. A second KeyboardInterrupt raised inside that cleanup
could stop it between "the journal says interrupted" and "the lock is released". While the block
runs, the first Ctrl-C only says what is happening; a second one, as the operator insists,
interrupts it as before.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

FINISHING = "hawizard: finishing the run's records (Ctrl-C again to abandon them)"


@contextmanager
def sigint_deferred(note: str = FINISHING) -> Iterator[None]:
    """Run the block with the first SIGINT noted, not raised (only the main thread can set a handler)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen: list[int] = []

    def handler(signum, frame):  # noqa: ARG001 - the signal module's signature
        if seen:
            raise KeyboardInterrupt
        seen.append(signum)
        print(note, file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
