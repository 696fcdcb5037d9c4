"""The run event stream: one vocabulary shared by the console, the Textual UI and the audit log.

Why a single stream: the issue asks that "the console, the Textual UI and the audit log all
see the same stream", so that what the operator saw and what the audit file says cannot
drift apart. The runner emits these events to an ``EventBus``; each consumer is a ``Sink``.

Every event is a frozen dataclass with a class-level ``kind`` (its name on the wire), a
``time`` (UTC, ISO 8601, set when the event is created) and ``to_dict()``/``from_dict()`` so
that the audit log can store it and ``export`` can read it back. Fields hold only JSON
types (str, int, float, bool, None, tuples/lists and dicts of those).

This module is engine core: standard library only.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable

log = logging.getLogger(__name__)


class StepStatus(StrEnum):
    """How a step ended on one node (``StepFinished.status``, and each node's entry in the journal).

    The values are the strings the audit log and the journal have always held; they do not change.
    """

    DONE = "done"
    ALREADY_DONE = "already-done"  # its probe said so: nothing was run
    SKIPPED = "skipped"  # by the operator, with a reason (the wizard's skip)
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def settled(self) -> bool:
        """Nothing is left to do for the step on that node: a resume goes on after it."""
        return self in SETTLED


#: The step statuses after which a run goes on with the next step.
SETTLED = frozenset({StepStatus.DONE, StepStatus.ALREADY_DONE, StepStatus.SKIPPED})


class RunStatus(StrEnum):
    """How a run ended (``RunFinished.status``): the runner's words, and ``interrupted`` for a run whose
    record was closed before the runner said how it ended (hawizard/run/record.py)."""

    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


#: The same words as tuples, for messages and for readers that take plain strings.
STEP_STATUSES = tuple(s.value for s in StepStatus)
RUN_STATUSES = tuple(s.value for s in RunStatus)


def utc_now() -> str:
    """The current time as UTC ISO 8601 with microseconds, e.g. ``2026-11-24T20:21:50.123456Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str | None) -> datetime | None:
    """Read back a ``time`` field (tolerates a missing or malformed value: returns None)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


_REGISTRY: dict[str, type[Event]] = {}


@dataclass(frozen=True)
class Event:
    """Base of all run events. ``time`` is keyword-only so subclasses keep positional fields."""

    kind: ClassVar[str] = "event"
    time: str = field(default_factory=utc_now, kw_only=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if isinstance(kind, str):
            _REGISTRY[kind] = cls

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"kind": ..., "time": ..., <fields>}`` (tuples become lists)."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            out[f.name] = _to_json(getattr(self, f.name))
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Event:
        """Rebuild an event from ``to_dict()`` output.

        Unknown keys are ignored (a newer writer may add fields); missing optional fields take
        their defaults. An unknown ``kind`` or a missing required field raises ValueError.
        """
        kind = data.get("kind")
        cls = _REGISTRY.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise ValueError(f"unknown event kind: {kind!r}")
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name in data:
                value = data[f.name]
                if isinstance(value, list):
                    value = tuple(value)
                kwargs[f.name] = value
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ValueError(f"bad {kind} event: {exc}") from None


def _to_json(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    return value


def _member(enum: type[StrEnum], value: Any, what: str) -> Any:
    """``value`` as a member of ``enum``; ValueError naming the words allowed (an event read back from a log)."""
    try:
        return enum(value)
    except ValueError:
        raise ValueError(f"{what} status must be one of {tuple(m.value for m in enum)}, not {value!r}") from None


def _tuple(value: Iterable[Any] | None) -> tuple[Any, ...]:
    return tuple(value) if value is not None else ()


# --- the events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunStarted(Event):
    """A run begins: who, what preset (by name and hash), which stack, which steps in which order."""

    kind: ClassVar[str] = "run-started"
    run_id: str
    preset_name: str
    preset_sha256: str
    operator: str
    stack: str
    plan: tuple[str, ...] = ()
    dry_run: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "plan", _tuple(self.plan))


@dataclass(frozen=True)
class StepStarted(Event):
    kind: ClassVar[str] = "step-started"
    step_id: str
    title: str
    node: str


@dataclass(frozen=True)
class CommandStarted(Event):
    kind: ClassVar[str] = "command-started"
    step_id: str
    node: str
    command: str


@dataclass(frozen=True)
class OutputLine(Event):
    """One line of a command's output; ``stream`` is ``stdout`` or ``stderr`` (``pty`` when merged)."""

    kind: ClassVar[str] = "output"
    step_id: str
    node: str
    stream: str
    text: str


@dataclass(frozen=True)
class CommandFinished(Event):
    kind: ClassVar[str] = "command-finished"
    step_id: str
    node: str
    command: str
    exit_status: int | None
    duration: float
    timed_out: bool = False


@dataclass(frozen=True)
class FileWritten(Event):
    """A file was written (or found already correct: ``changed=False``); never carries the content."""

    kind: ClassVar[str] = "file-written"
    step_id: str
    node: str
    path: str
    mode: str
    owner: str
    sha256: str
    changed: bool
    backup_path: str | None = None


@dataclass(frozen=True)
class Progress(Event):
    """A progress sample from a long wait (``source``: ``drbd``, ``crm_mon``, ``apt`` ...)."""

    kind: ClassVar[str] = "progress"
    step_id: str
    node: str
    source: str
    percent: float | None = None
    speed_kib_s: float | None = None
    eta_s: float | None = None
    state: str = ""
    detail: str = ""


@dataclass(frozen=True)
class ConfirmationNeeded(Event):
    kind: ClassVar[str] = "confirmation-needed"
    step_id: str
    node: str
    prompt: str
    expected_phrase: str


@dataclass(frozen=True)
class Confirmed(Event):
    """The operator confirmed a destructive step; ``by`` is who (or ``--yes``)."""

    kind: ClassVar[str] = "confirmed"
    step_id: str
    by: str


@dataclass(frozen=True)
class StepFinished(Event):
    kind: ClassVar[str] = "step-finished"
    step_id: str
    node: str
    status: StepStatus
    duration: float
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", _member(StepStatus, self.status, "step"))


@dataclass(frozen=True)
class ClusterState(Event):
    """The cluster as crm_mon saw it: ``resources`` are dicts with id, agent, role, node, parent."""

    kind: ClassVar[str] = "cluster-state"
    step_id: str
    node: str
    nodes_online: tuple[str, ...] = ()
    nodes_offline: tuple[str, ...] = ()
    resources: tuple[Mapping[str, Any], ...] = ()
    nodes_standby: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes_online", _tuple(self.nodes_online))
        object.__setattr__(self, "nodes_offline", _tuple(self.nodes_offline))
        object.__setattr__(self, "nodes_standby", _tuple(self.nodes_standby))
        object.__setattr__(self, "resources", tuple(dict(r) for r in self.resources or ()))


@dataclass(frozen=True)
class RunFinished(Event):
    """The run ended; ``duration`` is the runner's own time (from its first step to this event).

    ``message`` says why a run that did not finish stopped, when the writer knows it.
    """

    kind: ClassVar[str] = "run-finished"
    run_id: str
    status: RunStatus
    duration: float
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", _member(RunStatus, self.status, "run"))


# --- sinks and the bus -------------------------------------------------------------------------


@runtime_checkable
class Sink(Protocol):
    """Anything that consumes events. ``close()`` is optional (called by ``EventBus.close``)."""

    def handle(self, event: Event) -> None: ...


class ListSink:
    """Keeps every event in memory: for tests and for the UI's scroll-back."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def handle(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)


class EventBus:
    """Fans events out to sinks, one event at a time, in one global order.

    The runner drives two nodes from two threads; the bus serialises ``emit`` with a lock so
    that every sink (above all the hash-chained audit log) sees the same total order. The lock
    is re-entrant so a sink may emit a follow-up event from ``handle``.

    A sink that raises must not silence the others. Sinks registered as ``critical`` (the
    audit log: a run that cannot be recorded must stop) re-raise after all sinks have had the
    event; the failures of other sinks are logged and kept in ``errors``.
    """

    def __init__(self, sinks: Iterable[Sink] = ()) -> None:
        self._lock = threading.RLock()
        self._sinks: list[tuple[Sink, bool]] = [(s, False) for s in sinks]
        self.errors: list[tuple[Sink, Event, BaseException]] = []

    def subscribe(self, sink: Sink, *, critical: bool = False) -> None:
        with self._lock:
            self._sinks.append((sink, critical))

    def unsubscribe(self, sink: Sink) -> None:
        with self._lock:
            self._sinks = [(s, c) for s, c in self._sinks if s is not sink]

    @property
    def sinks(self) -> list[Sink]:
        with self._lock:
            return [s for s, _ in self._sinks]

    def emit(self, event: Event) -> Event:
        if not isinstance(event, Event):
            raise TypeError(f"not an event: {event!r}")
        with self._lock:
            first_critical: BaseException | None = None
            for sink, critical in list(self._sinks):
                try:
                    sink.handle(event)
                except Exception as exc:  # a UI glitch must not stop the audit log, and vice versa
                    self.errors.append((sink, event, exc))
                    log.warning("event sink %r failed on %s: %s", sink, event.kind, exc)
                    if critical and first_critical is None:
                        first_critical = exc
            if first_critical is not None:
                raise first_critical
        return event

    def close(self) -> None:
        """Close every sink that has a ``close()`` (flushes batched audit output)."""
        with self._lock:
            for sink, _ in self._sinks:
                closer = getattr(sink, "close", None)
                if callable(closer):
                    try:
                        closer()
                    except Exception as exc:
                        log.warning("closing event sink %r failed: %s", sink, exc)
                        self.errors.append((sink, Event(), exc))
