"""What a poll waits for: readers of a command's output, and conditions on what they read.

Why here and not in the runner: a poll in the plan says which command to run, how to read its
output (a ``Reader``) and what must hold (a ``Condition``); these classes know the output
formats and the states, so the runner only repeats the command until the condition holds. Each
has the wire name the plan's JSON has always carried (``reader``: ``drbd-cstate``, ``proc-drbd``,
``drbd9-events2``, ``crm-mon-xml``, ``crm-mon-text``; ``until``: ``connected``, ``synced``,
``nodes-online``, ``service-up:<group>``, ``group-on:<group>:<node>``).

A reader turns one answer (exit status and output) into a ``Reading``: the value a condition
judges (None when the node gave no usable answer), the state in words for the operator, and the
events that the answer carries for every sink: DRBD's sync progress (hawizard/readers/drbd/progress.py
``SyncProgress``: percent, speed, ETA) and the cluster as crm_mon saw it (``ClusterState``).

Pure: parses text, runs nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hawizard.events import Event
from hawizard.readers.crm_mon.model import ClusterStatus
from hawizard.readers.crm_mon.parse import parse_crm_mon
from hawizard.readers.drbd.model import SyncStatus
from hawizard.readers.drbd.progress import SyncProgress, parse_any

if TYPE_CHECKING:
    from hawizard.plan.types import Poll


@dataclass(frozen=True)
class Reading:
    """What one answer of a poll's command says."""

    value: Any  # what a condition judges; None = no usable answer yet
    words: str = ""  # the state as the operator reads it ("" = nothing to say)
    events: tuple[Event, ...] = ()  # for every sink: progress samples, the cluster's state


Read = Callable[[int, str], Reading]  # (exit status, stdout) -> Reading


# -- readers ------------------------------------------------------------------------------------

class Reader(ABC):
    """How to read a poll command's output; ``name`` is the ``reader`` in the plan's JSON."""

    name: ClassVar[str]

    @abstractmethod
    def start(self, step_id: str, node: str) -> Read:
        """The reading of one wait on ``node`` (a reader may keep samples from one answer to the next)."""


@dataclass(frozen=True)
class DrbdCState(Reader):
    """``drbdadm cstate RES``: the connection state, one word (Connected, WFConnection, StandAlone ...)."""

    name: ClassVar[str] = "drbd-cstate"

    def start(self, step_id: str, node: str) -> Read:
        def read(exit_status: int, stdout: str) -> Reading:
            cs = stdout.strip().splitlines()[0] if stdout.strip() else ""
            return Reading(cs if exit_status == 0 else None, cs)
        return read


@dataclass(frozen=True)
class DrbdSync(Reader):
    """DRBD's state and sync progress of resource ``resource``, with a ``Progress`` event per visible change."""

    name: ClassVar[str] = "drbd"
    resource: str

    def start(self, step_id: str, node: str) -> Read:
        progress = SyncProgress(step_id, node)

        def read(exit_status: int, stdout: str) -> Reading:
            # parse_any tells /proc/drbd, events2 and status --json apart; lines without a resource
            # name (/proc/drbd) are this resource's: the plan configures no other
            statuses = [s for s in parse_any(stdout) if s.resource in (None, self.resource)]
            events = tuple(progress.update(statuses))
            if not statuses:
                return Reading(None, "", events)
            return Reading(statuses[0], statuses[0].summary(), events)
        return read


@dataclass(frozen=True)
class ProcDrbd(DrbdSync):
    """``cat /proc/drbd`` (DRBD 8.3 and 8.4)."""

    name: ClassVar[str] = "proc-drbd"


@dataclass(frozen=True)
class Drbd9Events2(DrbdSync):
    """``drbdsetup events2 --now --statistics RES`` (DRBD 9)."""

    name: ClassVar[str] = "drbd9-events2"


@dataclass(frozen=True)
class CrmMon(Reader):
    """crm_mon's one-shot status; a ``ClusterState`` event for every answer."""

    name: ClassVar[str] = "crm-mon"

    def start(self, step_id: str, node: str) -> Read:
        def read(exit_status: int, stdout: str) -> Reading:
            if exit_status != 0 or not stdout.strip():
                return Reading(None, "cluster not answering yet")
            status = parse_crm_mon(stdout)  # XML or text, whichever it is
            return Reading(status, cluster_summary(status), (status.to_event(step_id, node),))
        return read


@dataclass(frozen=True)
class CrmMonXml(CrmMon):
    """``crm_mon -1 --output-as=xml`` (Pacemaker 2)."""

    name: ClassVar[str] = "crm-mon-xml"


@dataclass(frozen=True)
class CrmMonText(CrmMon):
    """``crm_mon -1`` (Pacemaker 1.0 has no XML output)."""

    name: ClassVar[str] = "crm-mon-text"


def cluster_summary(status: ClusterStatus) -> str:
    """The cluster in one line: nodes online and offline, where each resource runs, and why one failed."""
    parts = [f"online: {' '.join(status.nodes_online) or '-'}"]
    if status.nodes_offline:
        parts.append(f"offline: {' '.join(status.nodes_offline)}")
    active = [f"{r.id}={r.role}@{r.node}" for r in status.resources if r.node]
    if active:
        parts.append(" ".join(active))
    stopped = sorted({r.id for r in status.resources if not r.node})
    if stopped:
        parts.append("stopped: " + " ".join(stopped))
    for f in status.failures[:4]:  # the operator needs the reason, not only the symptom
        what = " ".join(str(x) for x in (f.operation, "on " + f.node if f.node else None, f.status, f.reason)
                        if x)
        parts.append(f"FAILED {f.resource}: {what}")
    return "; ".join(parts)


# -- conditions ---------------------------------------------------------------------------------

class Condition(ABC):
    """What must hold for a wait to end; ``wire`` is the ``until`` in the plan's JSON."""

    reads: ClassVar[type[Reader]]  # the reader whose values it judges

    @property
    @abstractmethod
    def wire(self) -> str: ...

    @abstractmethod
    def holds(self, value: Any) -> bool:
        """Whether the condition holds on a reader's value (never None)."""


@dataclass(frozen=True)
class Connected(Condition):
    """The DRBD peers are connected (or already syncing)."""

    reads: ClassVar[type[Reader]] = DrbdCState

    @property
    def wire(self) -> str:
        return "connected"

    def holds(self, value: str) -> bool:
        return value == "Connected" or value.startswith(("Sync", "Established"))


@dataclass(frozen=True)
class Synced(Condition):
    """Both disks UpToDate, the peers connected, no resync running."""

    reads: ClassVar[type[Reader]] = DrbdSync

    @property
    def wire(self) -> str:
        return "synced"

    def holds(self, value: SyncStatus) -> bool:
        return value.synced


@dataclass(frozen=True)
class NodesOnline(Condition):
    """Every node of the cluster is online."""

    reads: ClassVar[type[Reader]] = CrmMon
    nodes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.nodes:  # an empty set would hold at once
            raise ValueError("nodes-online needs the names of the nodes")

    @property
    def wire(self) -> str:
        return "nodes-online"

    def holds(self, value: ClusterStatus) -> bool:
        return set(self.nodes) <= set(value.nodes_online)


@dataclass(frozen=True)
class ServiceUp(Condition):
    """The DRBD clone is promoted on one node, and every member of the group is started there."""

    reads: ClassVar[type[Reader]] = CrmMon
    group: str
    clone: str

    @property
    def wire(self) -> str:
        return f"service-up:{self.group}"

    def holds(self, value: ClusterStatus) -> bool:
        promoted = value.promoted_node(self.clone)
        return promoted is not None and value.all_started_on(self.group) == promoted


@dataclass(frozen=True)
class GroupOn(Condition):
    """Every member of the group is started on ``node`` (a switch-over arrived)."""

    reads: ClassVar[type[Reader]] = CrmMon
    group: str
    node: str

    @property
    def wire(self) -> str:
        return f"group-on:{self.group}:{self.node}"

    def holds(self, value: ClusterStatus) -> bool:
        return value.all_started_on(self.group) == self.node


# -- one wait under way -------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """The verdict on one answer of a poll's command."""

    reached: bool
    state: str  # in words, for the operator ("" = nothing to say)
    events: tuple[Event, ...] = ()


class Watch:
    """One poll under way on one node: reads each answer and says whether its condition holds."""

    def __init__(self, poll: Poll, step_id: str, node: str) -> None:
        self._read = poll.reader.start(step_id, node)
        self._until = poll.until

    def check(self, exit_status: int, stdout: str) -> Answer:
        reading = self._read(exit_status, stdout)
        reached = reading.value is not None and self._until.holds(reading.value)
        return Answer(reached, reading.words, reading.events)
