"""The run event stream: serialisation round trips and the thread-safe bus."""

from __future__ import annotations

import json
import threading

import pytest

from hawizard import events as ev
from hawizard.events import (
    ClusterState,
    CommandFinished,
    CommandStarted,
    ConfirmationNeeded,
    Confirmed,
    Event,
    EventBus,
    FileWritten,
    ListSink,
    OutputLine,
    Progress,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
    parse_time,
)

ALL = [
    RunStarted("r1", "article", "a" * 64, "alice", "heartbeat", ["s1", "s2"], True),
    StepStarted("s1", "Install", "srv1"),
    CommandStarted("s1", "srv1", "apt-get install -y drbd-utils"),
    OutputLine("s1", "srv1", "stdout", "Setting up drbd-utils"),
    CommandFinished("s1", "srv1", "apt-get install -y drbd-utils", 0, 1.5),
    FileWritten("s1", "srv1", "/etc/ha.d/authkeys", "0600", "root:root", "b" * 64, True, "/etc/ha.d/authkeys.x~"),
    Progress("s2", "srv1", "drbd", 13.8, 10080.0, 244, "SyncSource", "r0"),
    ConfirmationNeeded("s2", "srv1", "Wipe /dev/sdb1?", "wipe srv1"),
    Confirmed("s2", "alice"),
    StepFinished("s1", "srv1", "done", 2.0),
    ClusterState("s3", "srv1", ["srv1", "srv2"], [], [{"id": "res_ip", "role": "Started", "node": "srv1"}]),
    RunFinished("r1", "finished", 12.5),
]


@pytest.mark.parametrize("event", ALL, ids=lambda e: e.kind)
def test_round_trip(event):
    d = event.to_dict()
    assert d["kind"] == event.kind and d["time"].endswith("Z")
    assert Event.from_dict(d) == event
    assert parse_time(d["time"]) is not None


def test_kinds_are_unique_and_frozen():
    assert len({e.kind for e in ALL}) == len(ALL)
    with pytest.raises(AttributeError):
        ALL[1].title = "x"  # type: ignore[misc]


def test_lists_become_tuples_and_json_lists():
    e = RunStarted("r", "p", "h", "op", "corosync", ["a", "b"])
    assert e.plan == ("a", "b") and e.to_dict()["plan"] == ["a", "b"]


def test_from_dict_rejects_unknown_and_ignores_extra():
    with pytest.raises(ValueError):
        Event.from_dict({"kind": "nope"})
    with pytest.raises(ValueError):
        Event.from_dict({"kind": "step-started"})  # missing fields
    e = Event.from_dict({**ALL[1].to_dict(), "added_later": 1})
    assert e == ALL[1]


def test_step_status_is_checked():
    with pytest.raises(ValueError):
        StepFinished("s", "n", "ok", 1.0)
    for status in ev.STEP_STATUSES:
        StepFinished("s", "n", status, 1.0)


def test_run_status_is_one_vocabulary_and_checked():
    """The statuses a run finishes with are one enum whose strings are the ones the logs hold; anything else is
    refused."""
    with pytest.raises(ValueError):
        RunFinished("r", "done", 1.0)  # the old list said "done"; the runner has always said "finished"
    assert ev.RUN_STATUSES == ("finished", "failed", "cancelled", "interrupted")  # the wire strings do not change
    assert ev.STEP_STATUSES == ("done", "already-done", "skipped", "failed", "cancelled")
    for status in ev.RUN_STATUSES:
        assert RunFinished("r", status, 1.0).to_dict()["status"] == status
    # the runner says how a run ended in these words and no others (hawizard/run/runner.py)
    from typing import get_type_hints

    from hawizard.run import runner

    assert get_type_hints(runner.RunResult)["status"] is ev.RunStatus
    finished = RunFinished("r", ev.RunStatus.FINISHED, 1.0)
    assert finished.status is ev.RunStatus.FINISHED and json.dumps(finished.to_dict()["status"]) == '"finished"'
    assert Event.from_dict(finished.to_dict()) == finished
    with pytest.raises(ValueError):
        Event.from_dict({**RunFinished("r", "finished", 1.0).to_dict(), "status": "ok"})
    assert RunFinished("r", "failed", 1.0, message="no node").to_dict()["message"] == "no node"


def test_settled_step_statuses():
    """A resume goes on after a step that is done, already done or skipped on every node; not after the others."""
    assert {s.value for s in ev.StepStatus if s.settled} == {"done", "already-done", "skipped"}
    assert "done" in ev.SETTLED and "failed" not in ev.SETTLED  # plain strings from a journal file too


def test_bus_fans_out_and_isolates_failing_sinks():
    a, b = ListSink(), ListSink()

    class Broken:
        def handle(self, event):
            raise RuntimeError("ui crashed")

    bus = EventBus([a])
    bus.subscribe(Broken())
    bus.subscribe(b)
    bus.emit(ALL[0])
    assert a.events == [ALL[0]] and b.events == [ALL[0]]
    assert len(bus.errors) == 1


def test_critical_sink_failure_reaches_the_runner_after_fan_out():
    seen = ListSink()

    class Audit:
        def handle(self, event):
            raise OSError("disk full")

    bus = EventBus()
    bus.subscribe(Audit(), critical=True)
    bus.subscribe(seen)
    with pytest.raises(OSError):
        bus.emit(ALL[0])
    assert seen.events == [ALL[0]]


def test_bus_is_thread_safe_and_orders_globally():
    order_a, order_b = [], []

    class Recorder:
        def __init__(self, out):
            self.out = out

        def handle(self, event):
            self.out.append(event)

    bus = EventBus([Recorder(order_a), Recorder(order_b)])

    def worker(node):
        for i in range(500):
            bus.emit(OutputLine("s", node, "stdout", str(i)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("srv1", "srv2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(order_a) == 1000 and order_a == order_b  # every sink saw the same total order


def test_reentrant_emit_and_close():
    bus = EventBus()
    got = ListSink()

    class Echo:
        closed = False

        def handle(self, event):
            if isinstance(event, StepStarted):
                bus.emit(OutputLine(event.step_id, event.node, "stdout", "echo"))

        def close(self):
            Echo.closed = True

    bus.subscribe(Echo())
    bus.subscribe(got)
    bus.emit(ALL[1])
    assert [e.kind for e in got.events] == ["output", "step-started"]
    bus.close()
    assert Echo.closed
