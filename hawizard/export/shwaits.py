"""What a poll waits for, as the words of a call of one of the script's check functions.

Why a table: hawizard/plan/waits.py judges an answer in Python; the node script has sh and awk
only, so each (reader, condition) pair the plan can hold has its check in hawizard/export/shlib.py.
A pair without one is a bug of the export, raised here (tests/test_export_plan.py exports every
shipped preset), never a wait that silently holds.
"""

from __future__ import annotations

from hawizard.common.shellquote import sq
from hawizard.plan.types import Poll
from hawizard.plan.waits import (
    Connected,
    CrmMon,
    CrmMonText,
    Drbd9Events2,
    DrbdCState,
    GroupOn,
    NodesOnline,
    ProcDrbd,
    ServiceUp,
    Synced,
)


def check_argv(poll: Poll) -> list[str]:
    """The check's function and its arguments (unquoted), for ``hw_poll ... CHECK ARGS`` and hw_wait.sh."""
    reader, until = poll.reader, poll.until
    if isinstance(until, Connected) and isinstance(reader, DrbdCState):
        return ["hw_until_connected"]
    if isinstance(until, Synced) and isinstance(reader, ProcDrbd):
        return ["hw_until_synced_proc"]
    if isinstance(until, Synced) and isinstance(reader, Drbd9Events2):
        return ["hw_until_synced_events2"]
    if isinstance(reader, CrmMon):
        fmt = "text" if isinstance(reader, CrmMonText) else "xml"
        if isinstance(until, NodesOnline):
            return ["hw_until_cluster", fmt, "online", " ".join(until.nodes)]
        if isinstance(until, ServiceUp):
            return ["hw_until_cluster", fmt, "service", until.group, until.clone]
        if isinstance(until, GroupOn):
            return ["hw_until_cluster", fmt, "group", until.group, until.node]
    raise ValueError(f"the export has no check for a wait until {until.wire} on {reader.name}")


def check_words(poll: Poll) -> str:
    """The check's function and its quoted arguments, for ``hw_poll ... CHECK ARGS``."""
    argv = check_argv(poll)
    return " ".join([argv[0]] + [sq(a) for a in argv[1:]])
