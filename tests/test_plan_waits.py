"""What a poll waits for (hawizard/plan/waits.py), judged on real recorded output.

The crm_mon samples are crm_mon 2.1.5's XML and text for one cluster in four states (running, a
failed monitor, srv1 down, srv1 in standby) and the article's Pacemaker 1.0 text; the DRBD samples
are /proc/drbd of the article and of the lab, and DRBD 9's events2 and status --json (their
sources are listed in tests/progress/samples/README.md). A condition that judged any of them
differently would end a wait too early or never.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hawizard.events import ClusterState, Progress
from hawizard.plan.types import Poll
from hawizard.plan.waits import (
    Connected,
    CrmMonText,
    CrmMonXml,
    Drbd9Events2,
    DrbdCState,
    GroupOn,
    NodesOnline,
    ProcDrbd,
    ServiceUp,
    Synced,
)

SAMPLES = Path(__file__).parent / "progress" / "samples"
NODES = ("srv1", "srv2")
GROUP, CLONE = "rg_httpd", "ms_drbd0"  # tests/progress/samples/crm_mon/article.crm

# sample -> (nodes online, service up, group on srv1, group on srv2)
CLUSTER = {
    "pcmk21-running": (True, True, True, False),
    "pcmk21-failed": (True, False, False, False),  # res_httpd's monitor failed on srv1
    "pcmk21-failover": (False, True, False, True),  # srv1 down: everything on srv2
    "pcmk21-standby": (True, True, True, False),
}


def poll(reader, until, command="true") -> Poll:
    return Poll(command, reader, until)


def check(reader, until, text: str, exit_status: int = 0):
    return poll(reader, until).watch("verify", "srv1").check(exit_status, text)


@pytest.mark.parametrize("sample", sorted(CLUSTER))
@pytest.mark.parametrize("reader", [CrmMonXml(), CrmMonText()], ids=["xml", "text"])
def test_cluster_conditions_on_crm_mon_samples(sample, reader):
    text = (SAMPLES / "crm_mon" / f"{sample}.{'xml' if reader.name == 'crm-mon-xml' else 'txt'}").read_text()
    conditions = (NodesOnline(NODES), ServiceUp(GROUP, CLONE), GroupOn(GROUP, "srv1"), GroupOn(GROUP, "srv2"))
    answers = [check(reader, c, text) for c in conditions]
    assert tuple(a.reached for a in answers) == CLUSTER[sample]
    answer = answers[0]
    (event,) = answer.events  # every answer tells the sinks what the cluster looks like
    assert isinstance(event, ClusterState) and event.step_id == "verify" and event.node == "srv1"
    assert answer.state.startswith("online: ") and set(event.nodes_online) <= set(NODES)
    if sample == "pcmk21-failed":  # the reason is said, not only the symptom
        assert "FAILED res_httpd" in answer.state
    if sample == "pcmk21-failover":
        assert "offline: srv1" in answer.state and event.nodes_offline == ("srv1",)


@pytest.mark.parametrize("sample", ["article-pcmk10.txt", "pcmk10-indented.txt"])
def test_pacemaker_1_0_text_shows_the_service_on_srv2(sample):
    text = (SAMPLES / "crm_mon" / sample).read_text()
    assert check(CrmMonText(), ServiceUp(GROUP, CLONE), text).reached
    assert check(CrmMonText(), GroupOn(GROUP, "srv2"), text).reached
    assert not check(CrmMonText(), GroupOn(GROUP, "srv1"), text).reached
    assert check(CrmMonText(), NodesOnline(NODES), text).reached


def test_a_cluster_that_does_not_answer_is_not_up():
    text = (SAMPLES / "crm_mon" / "pcmk21-running.xml").read_text()
    for exit_status, out in ((1, text), (0, ""), (102, "")):  # crm_mon fails while the cluster starts
        answer = check(CrmMonXml(), NodesOnline(NODES), out, exit_status)
        assert not answer.reached and answer.state == "cluster not answering yet" and answer.events == ()


def test_another_clone_promoted_is_not_the_service():
    text = (SAMPLES / "crm_mon" / "pcmk21-running.xml").read_text()
    assert not check(CrmMonXml(), ServiceUp(GROUP, "ms_other"), text).reached
    assert not check(CrmMonXml(), NodesOnline(("srv1", "srv3")), text).reached


# -- DRBD ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("sample, synced", [
    ("article-8.3.8-syncing.txt", False), ("lab-8.4.11-syncing.txt", False), ("lab-8.4.11-synced.txt", True),
    ("synth-8.2-st.txt", True), ("synth-8.4-over-4GiB.txt", False), ("synth-events2-now-statistics-r0.txt", False),
    ("synth-events2-timestamps-stream.txt", True), ("synth-status-json-syncing.txt", False),
    ("synth-status-json-synced.txt", True), ("synth-9-proc.txt", False), ("synth-garbled.txt", False),
])
def test_synced_on_drbd_samples(sample, synced):
    reader = Drbd9Events2("r0") if "events2" in sample or "json" in sample else ProcDrbd("r0")
    answer = check(reader, Synced(), (SAMPLES / "drbd" / sample).read_text())
    assert answer.reached is synced
    if answer.events:
        assert all(isinstance(e, Progress) and e.source == "drbd" for e in answer.events)


def test_one_sync_wait_reports_its_progress_until_synced():
    """One wait, as the initial sync sees it: percent while it runs, then 100 % and the end of the wait."""
    watch = poll(ProcDrbd("r0"), Synced()).watch("initial-sync", "srv1")
    syncing = watch.check(0, (SAMPLES / "drbd" / "lab-8.4.11-syncing.txt").read_text())
    assert not syncing.reached and "43.8%" in syncing.state
    (first,) = syncing.events
    assert first.percent == 43.8 and first.state == "SyncSource" and first.step_id == "initial-sync"
    again = watch.check(0, (SAMPLES / "drbd" / "lab-8.4.11-syncing.txt").read_text())
    assert again.events == ()  # nothing visible changed: no second copy in the audit log
    done = watch.check(0, (SAMPLES / "drbd" / "lab-8.4.11-synced.txt").read_text())
    assert done.reached and [(e.percent, e.state) for e in done.events] == [(100.0, "synced")]


def test_sync_of_another_resource_does_not_count():
    text = (SAMPLES / "drbd" / "synth-events2-timestamps-stream.txt").read_text()
    assert check(Drbd9Events2("r0"), Synced(), text).reached
    other = check(Drbd9Events2("r1"), Synced(), text)
    assert not other.reached and other.events == ()


@pytest.mark.parametrize("out, exit_status, reached", [
    ("Connected\n", 0, True), ("SyncSource\n", 0, True), ("Established\n", 0, True),
    ("WFConnection\n", 0, False), ("StandAlone\n", 0, False), ("", 0, False),
    ("Connected\n", 10, False),  # drbdadm failed: whatever it printed, the wait goes on
])
def test_connected(out, exit_status, reached):
    answer = check(DrbdCState(), Connected(), out, exit_status)
    assert answer.reached is reached and answer.state == out.strip()


# -- the plan's vocabulary ------------------------------------------------------------------------

def test_wire_strings_are_the_plans():
    assert [c.wire for c in (Connected(), Synced(), NodesOnline(NODES), ServiceUp(GROUP, CLONE),
                             GroupOn(GROUP, "srv2"))] == \
        ["connected", "synced", "nodes-online", f"service-up:{GROUP}", f"group-on:{GROUP}:srv2"]
    assert [r.name for r in (DrbdCState(), ProcDrbd("r0"), Drbd9Events2("r0"), CrmMonXml(), CrmMonText())] == \
        ["drbd-cstate", "proc-drbd", "drbd9-events2", "crm-mon-xml", "crm-mon-text"]
    d = Poll("crm_mon -1", CrmMonText(), GroupOn(GROUP, "srv2"), interval_s=3, timeout_s=300).to_dict()
    assert d == {"kind": "poll", "command": "crm_mon -1", "reader": "crm-mon-text", "until": f"group-on:{GROUP}:srv2",
                 "interval_s": 3, "timeout_s": 300, "fatal": True}


def test_a_poll_refuses_a_condition_its_reader_cannot_judge():
    with pytest.raises(ValueError, match="synced"):
        Poll("drbdadm cstate r0", DrbdCState(), Synced())
    with pytest.raises(ValueError, match="connected"):
        Poll("crm_mon -1", CrmMonText(), Connected())
    with pytest.raises(ValueError):
        NodesOnline(())  # would hold at once
