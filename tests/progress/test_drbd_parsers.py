"""DRBD progress parsers against real and format-exact samples.

Where each sample comes from is in samples/README.md; in short:
- article-8.3.8-syncing.txt: the article's own `cat /proc/drbd` (DRBD 8.3.8, `delay_probe:`);
- lab-8.4.11-*.txt: /proc/drbd seen in this project's qemu lab (hawizard lab, DRBD 8.4.11);
- synth-8.*: built from the seq_printf formats of drbd_proc.c (drbd-8.3 / drbd-8.4);
- upstream-events2-sync-statistics.txt: drbd-utils' own fixture tests/v9/events2-sync.test;
- synth-events2-* and synth-status-json-*: built from drbd-utils user/v9/drbdsetup.c formats.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hawizard.events import Progress
from hawizard.readers.drbd.events2 import Events2State, parse_events2
from hawizard.readers.drbd.model import SyncStatus
from hawizard.readers.drbd.proc import parse_proc_drbd, proc_drbd_version
from hawizard.readers.drbd.progress import SyncProgress, parse_any
from hawizard.readers.drbd.status_json import parse_status_json

SAMPLES = Path(__file__).parent / "samples" / "drbd"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


# --- /proc/drbd ---------------------------------------------------------------------------------


def test_article_838_first_number_is_still_out_of_sync():
    (st,) = parse_proc_drbd(sample("article-8.3.8-syncing.txt"))
    assert st.version == "8.3.8"
    assert st.minor == 0
    assert (st.connection_state, st.role_local, st.role_peer) == ("SyncSource", "Primary", "Secondary")
    assert (st.disk_local, st.disk_peer, st.protocol) == ("UpToDate", "Inconsistent", "C")
    # 13.8% done: 2539220 KiB of 2939764 KiB are still to copy, not done
    assert st.percent == pytest.approx(13.8)
    assert st.out_of_sync_kib == 2539220
    assert st.total_kib == 2939764
    assert 100 * (1 - st.out_of_sync_kib / st.total_kib) == pytest.approx(13.6, abs=0.3)
    assert st.speed_kib_s == 10080 and st.avg_speed_kib_s == 19072  # thousands commas
    assert st.eta_s == 4 * 60 + 4
    assert st.extra["delay_probe"] == 48
    assert st.syncing and not st.synced and not st.stalled


def test_lab_8411_syncing_and_synced():
    (st,) = parse_proc_drbd(sample("lab-8.4.11-syncing.txt"))
    assert st.percent == pytest.approx(43.8)
    assert (st.out_of_sync_kib, st.total_kib) == (74456, 131032)
    assert st.speed_kib_s == 4712 and st.eta_s == 15
    assert st.extra["flags"] == "r-----"
    (done,) = parse_proc_drbd(sample("lab-8.4.11-synced.txt"))
    assert done.connection_state == "Connected" and done.synced and not done.syncing


def test_over_4gib_uses_mib_and_finish_on_same_line():
    (st,) = parse_proc_drbd(sample("synth-8.4-over-4GiB.txt"))
    assert proc_drbd_version(sample("synth-8.4-over-4GiB.txt")) == "8.4.11"
    assert st.total_kib == 10240 * 1024
    assert st.extra["left_kib"] == 8434 * 1024
    assert st.out_of_sync_kib == 8637476  # the exact oos: counter wins over the MiB-rounded pair
    assert st.percent == pytest.approx(17.6)
    assert st.eta_s == 14 * 60 + 35  # "...)Mfinish: 0:14:35" glued on one line
    assert st.speed_kib_s == 9860 and st.avg_speed_kib_s == 10120 and st.want_kib_s == 102400
    assert (st.role_local, st.disk_local) == ("Secondary", "Inconsistent")


def test_stalled_proc_details_and_verify():
    a, b = parse_proc_drbd(sample("synth-8.4-stalled-details-verify.txt"))
    assert a.stalled and a.speed_kib_s == 0
    assert a.extra["speed_3s_kib_s"] == 1 and a.avg_speed_kib_s == 4  # "(1 -- 4)" with proc_details
    assert a.want_kib_s == 10240
    assert a.eta_s == 290 * 3600 + 43 * 60 + 36
    assert a.percent == pytest.approx(0.2)
    assert b.verifying and b.connection_state == "VerifyS"
    assert b.speed_kib_s == 1234567 and b.avg_speed_kib_s == 1002003  # GB/s grouping: 1,234,567
    assert b.percent == pytest.approx(12.5)


def test_several_minors_hole_unconfigured_standalone():
    sts = parse_proc_drbd(sample("synth-8.4-several-minors.txt"))
    assert [s.minor for s in sts] == [0, 1, 2, 4, 10]
    by = {s.minor: s for s in sts}
    assert by[0].synced
    assert by[1].connection_state == "StandAlone" and by[1].protocol is None and by[1].disk_peer == "DUnknown"
    assert by[2].connection_state == "Unconfigured" and by[2].role_local is None and not by[2].synced
    assert by[4].percent == pytest.approx(15.0) and by[4].out_of_sync_kib == 55688
    assert by[10].connection_state == "WFConnection" and by[10].extra["flags"] == "r----s"


def test_pre_83_st_roles():
    (st,) = parse_proc_drbd(sample("synth-8.2-st.txt"))
    assert (st.role_local, st.role_peer) == ("Primary", "Secondary")
    assert st.synced and st.version == "8.2.6"


def test_drbd9_proc_has_no_devices():
    text = sample("synth-9-proc.txt")
    assert parse_proc_drbd(text) == []
    assert proc_drbd_version(text) == "9.2.4"


def test_garbled_sample_gives_unknowns_not_exceptions():
    sts = parse_proc_drbd(sample("synth-garbled.txt"))
    assert len(sts) == 1
    st = sts[0]
    assert st.connection_state == "SyncSource"
    assert st.disk_local is None and st.percent is None and st.eta_s is None and st.out_of_sync_kib is None
    assert not st.synced
    assert "SyncSource" in st.summary()


@pytest.mark.parametrize(
    "junk",
    ["", "\n\n", "0:", "0: cs:", "x" * 10000, "\x00\xff", "[==>] sync'ed: 1e9% (a/b)K", "0: cs:A ro:/ ds:/ Z"],
)
def test_no_input_raises(junk):
    for parse in (parse_proc_drbd, parse_events2, parse_status_json, parse_any):
        result = parse(junk)
        assert isinstance(result, list)
        assert all(isinstance(s, SyncStatus) for s in result)


# --- DRBD 9 ---------------------------------------------------------------------------------------


def test_upstream_events2_sync_fixture():
    (st,) = parse_events2(sample("upstream-events2-sync-statistics.txt"))
    assert st.resource == "some-resource" and st.peer == "some-peer" and st.minor == 1000
    assert st.connection_state == "Connected" and st.replication_state == "SyncSource"
    assert (st.role_local, st.role_peer) == ("Secondary", "Secondary")
    assert (st.disk_local, st.disk_peer) == ("UpToDate", "Inconsistent")
    assert st.percent == pytest.approx(37.5)
    assert st.out_of_sync_kib == 2500
    assert st.speed_kib_s == pytest.approx(0.24 * 1024)
    assert st.eta_s == 10
    assert st.syncing and not st.synced


def test_events2_now_statistics_r0():
    text = sample("synth-events2-now-statistics-r0.txt")
    (st,) = parse_any(text)
    assert st.source == "events2"
    assert st.label == "r0 -> srv2"
    assert st.percent == pytest.approx(43.18) and st.total_kib == 131032 and st.eta_s == 15


def test_events2_stream_with_timestamps_ends_synced_and_forgets_stale_stats():
    state = Events2State()
    lines = sample("synth-events2-timestamps-stream.txt").splitlines()
    for line in lines[:5]:
        state.feed(line)
    assert state.initial_state_done
    (mid,) = state.statuses()
    assert mid.percent == pytest.approx(90.0) and mid.eta_s is None  # eta:nan -> unknown
    for line in lines[5:]:
        state.feed(line)
    (end,) = state.statuses()
    assert end.synced and end.percent is None and end.out_of_sync_kib is None


def test_events2_destroy_and_rename():
    state = Events2State()
    for line in sample("upstream-events2-sync-statistics.txt").splitlines():
        state.feed(line)
    state.feed("rename resource name:some-resource new_name:r9")
    assert [s.resource for s in state.statuses()] == ["r9"]
    state.feed("destroy resource name:r9")
    assert state.statuses() == []


def test_status_json_syncing_units():
    (st,) = parse_status_json(sample("synth-status-json-syncing.txt"))
    assert st.resource == "r0" and st.peer == "srv2" and st.minor == 0
    assert st.percent == pytest.approx(17.63)
    assert st.total_kib == 20971520 // 2  # rs-total is in sectors
    assert st.out_of_sync_kib == 8637476
    assert st.speed_kib_s == pytest.approx(9.63 * 1024)
    assert st.eta_s == 876
    assert not st.synced and st.syncing


def test_status_json_synced_and_garbled():
    (st,) = parse_status_json(sample("synth-status-json-synced.txt"))
    assert st.synced and st.percent == 100.0 and st.role_peer == "Primary"
    broken = sample("synth-status-json-syncing.txt")[:300]
    (bad,) = parse_status_json(broken)
    assert bad.note.startswith("unparsable") and bad.percent is None and not bad.synced


def test_parse_any_detects_dialects():
    assert parse_any(sample("synth-status-json-synced.txt"))[0].source == "status-json"
    assert parse_any(sample("upstream-events2-sync-statistics.txt"))[0].source == "events2"
    assert parse_any(sample("lab-8.4.11-syncing.txt"))[0].source == "proc-drbd"


# --- Progress events ----------------------------------------------------------------------------


def _proc(left: int, total: int = 131032, cs: str = "SyncSource", peer: str = "Inconsistent") -> str:
    pct = 100 * (1 - left / total)
    lines = [f" 0: cs:{cs} ro:Primary/Secondary ds:UpToDate/{peer} C r-----"]
    if cs.startswith("Sync"):
        lines.append(f"\t[>...................] sync'ed: {pct:4.1f}% ({left}/{total})K")
    return "\n".join(lines) + "\n"


def test_sync_progress_events_from_successive_samples():
    tracker = SyncProgress("drbd-initial-sync", "srv1")
    ev1 = tracker.feed(_proc(131032 - 1000), now=0.0)
    ev2 = tracker.feed(_proc(131032 - 1000), now=2.0)  # nothing changed: no event
    ev3 = tracker.feed(_proc(65516), now=10.0)
    ev4 = tracker.feed(_proc(0, cs="Connected", peer="UpToDate"), now=18.0)
    assert len(ev1) == 1 and ev2 == [] and len(ev3) == 1 and len(ev4) == 1
    assert all(isinstance(e, Progress) and e.source == "drbd" and e.node == "srv1" for e in ev1 + ev3 + ev4)
    mid = ev3[0]
    assert mid.percent == pytest.approx(50.0, abs=0.1)
    # no speed in the sample: derived from the change in out-of-sync KiB since the last sample (t=2)
    assert mid.speed_kib_s == pytest.approx((131032 - 1000 - 65516) / 8, rel=0.01)
    assert mid.eta_s == pytest.approx(65516 / mid.speed_kib_s, abs=1)
    assert ev4[0].percent == 100.0 and ev4[0].state == "synced" and ev4[0].eta_s == 0


def test_sync_progress_uses_source_speed_when_given():
    (ev,) = SyncProgress("s", "srv1").feed(sample("article-8.3.8-syncing.txt"), now=0)
    assert ev.speed_kib_s == 10080 and ev.eta_s == 244 and ev.percent == pytest.approx(13.8)
    assert "13.8%" in ev.detail and "2,539,220 KiB left" in ev.detail
