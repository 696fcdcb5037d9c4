"""The audit log: permissions, hash chain, tamper detection, batching, redaction before writing."""

from __future__ import annotations

import base64
import json
import os
import stat
import textwrap
import threading

import pytest

from hawizard.audit import chain, runs
from hawizard.audit.chain import verify_chain
from hawizard.audit.log import AuditSink
from hawizard.audit.runs import list_runs, new_run_id, runs_dir
from hawizard.common.errors import InputError, OperationFailed
from hawizard.common.redact import Redactor
from hawizard.events import (
    ClusterState,
    CommandFinished,
    CommandStarted,
    EventBus,
    FileWritten,
    OutputLine,
    Progress,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
)

pytestmark = pytest.mark.usefixtures("state_home")  # tests/conftest.py


def make_run(n_cmds: int = 3, redactor: Redactor | None = None) -> AuditSink:
    rid = new_run_id()
    sink = AuditSink.for_run(rid, redactor=redactor)
    bus = EventBus()
    bus.subscribe(sink, critical=True)
    bus.emit(RunStarted(rid, "article", "a" * 64, "alice", "heartbeat", ["s1"]))
    bus.emit(StepStarted("s1", "Install", "srv1"))
    for i in range(n_cmds):
        bus.emit(CommandStarted("s1", "srv1", f"echo {i}"))
        bus.emit(OutputLine("s1", "srv1", "stdout", str(i)))
        bus.emit(CommandFinished("s1", "srv1", f"echo {i}", 0, 0.01))
    bus.emit(StepFinished("s1", "srv1", "done", 0.1))
    bus.emit(RunFinished(rid, "finished", 0.2))
    bus.close()
    return sink


def lines_of(path):
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_paths_modes_and_ids(state_home):
    old = os.umask(0)  # even with a permissive umask
    try:
        sink = make_run()
    finally:
        os.umask(old)
    assert sink.path.parent.parent == runs_dir() == state_home / "hawizard" / "runs"
    assert stat.S_IMODE(sink.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(sink.head_path.stat().st_mode) == 0o600
    for d in (sink.path.parent, runs_dir(), runs_dir().parent):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
    a, b = new_run_id(), new_run_id()
    assert a != b and len(a) == len(b) and a[:8].isdigit()
    assert [r.run_id for r in list_runs()] == [sink.path.parent.name]
    assert list_runs()[0].status == "finished" and list_runs()[0].operator == "alice"


def test_created_exclusively_with_final_mode(tmp_path):
    path = tmp_path / "audit.jsonl"
    path.write_text("")
    with pytest.raises(InputError):
        AuditSink(path)
    with pytest.raises(InputError):
        runs.run_dir("../escape")


def test_chain_verifies_and_records_are_linked():
    sink = make_run()
    ok, bad, msg = verify_chain(sink.path)
    assert ok and bad is None and "intact" in msg
    recs = [json.loads(x) for x in lines_of(sink.path)]
    assert [r["seq"] for r in recs] == list(range(1, len(recs) + 1))
    assert recs[0]["prev"] == "0" * 64
    assert [r["kind"] for r in recs][:3] == ["run-started", "step-started", "command-started"]
    assert recs[0]["data"]["operator"] == "alice" and recs[0]["data"]["preset_sha256"] == "a" * 64
    # output batched before the end of its command
    kinds = [r["kind"] for r in recs]
    assert kinds[3:5] == ["output", "command-finished"]
    assert recs[3]["data"]["lines"][0][1:] == ["stdout", "0"]


def _rewrite(path, lines):
    path.write_text("".join(lines), encoding="utf-8")


def test_editing_one_byte_is_detected_at_its_seq():
    sink = make_run()
    lines = lines_of(sink.path)
    for target in range(len(lines)):
        for pos in (2, len(lines[target]) // 2, len(lines[target]) - 3):
            edited = list(lines)
            ch = edited[target][pos]
            edited[target] = edited[target][:pos] + ("1" if ch != "1" else "2") + edited[target][pos + 1 :]
            _rewrite(sink.path, edited)
            ok, bad, msg = verify_chain(sink.path)
            assert not ok and bad == target + 1, (target, pos, msg)
    _rewrite(sink.path, lines)
    assert verify_chain(sink.path)[0]


def test_deleting_a_line_is_detected():
    sink = make_run()
    lines = lines_of(sink.path)
    for k in range(len(lines) - 1):
        _rewrite(sink.path, lines[:k] + lines[k + 1 :])
        ok, bad, _ = verify_chain(sink.path)
        assert not ok and bad == k + 1


def test_swapping_two_lines_is_detected():
    sink = make_run()
    lines = lines_of(sink.path)
    swapped = list(lines)
    swapped[2], swapped[5] = swapped[5], swapped[2]
    _rewrite(sink.path, swapped)
    ok, bad, msg = verify_chain(sink.path)
    assert not ok and bad == 3 and "moved" in msg


def test_inserted_forged_record_is_detected():
    sink = make_run()
    lines = lines_of(sink.path)
    prev = json.loads(lines[1])
    forged = {"seq": 3, "time": prev["time"], "kind": "command-started", "data": {"step_id": "s1", "node": "srv1", "command": "rm -rf /"}}
    forged["prev"] = chain.line_hash(lines[1].rstrip("\n"))
    forged["hash"] = chain.record_hash(forged["prev"], forged)
    _rewrite(sink.path, lines[:2] + [chain.canonical_json(forged) + "\n"] + lines[2:])
    ok, bad, _ = verify_chain(sink.path)
    assert not ok and bad == 4  # the forged record chains, the next one does not


def test_truncation_is_detected():
    sink = make_run()
    data = sink.path.read_bytes()
    lines = lines_of(sink.path)
    # cut mid-line
    sink.path.write_bytes(data[: len(data) - 10])
    ok, bad, msg = verify_chain(sink.path)
    assert not ok and bad == len(lines) and "incomplete" in msg
    # whole records cut from the end: caught by audit.head
    _rewrite(sink.path, lines[:-2])
    ok, bad, msg = verify_chain(sink.path)
    assert not ok and bad == len(lines) - 1 and "removed from the end" in msg
    # without the head, the shortened chain alone still verifies - and says what it cannot see
    ok, bad, msg = verify_chain(sink.path, use_head=False)
    assert ok


def test_missing_head_fails_verification():
    """The sink writes the head with every record: a log of several records without it may have lost its end."""
    sink = make_run()
    sink.head_path.unlink()
    ok, _, msg = verify_chain(sink.path)
    assert not ok and "audit.head is missing" in msg
    assert not chain.verify_run(sink.path)[0]


def test_empty_log_does_not_verify():
    sink = make_run()
    sink.path.write_bytes(b"")
    ok, bad, msg = verify_chain(sink.path)
    assert not ok and bad == 1 and "empty" in msg
    sink.head_path.unlink()
    assert not verify_chain(sink.path)[0] and not chain.verify_run(sink.path)[0]


def _journal(sink, status):
    (sink.path.parent / "journal.json").write_text(json.dumps({"status": status}))


def test_records_cut_from_the_end_with_the_head_deleted_do_not_verify():
    sink = make_run()
    lines = lines_of(sink.path)
    assert chain.verify_run(sink.path) == (True, None, f"chain intact: {len(lines)} records")
    # cut the end (run-finished and more) and delete the head: the rest still chains...
    _rewrite(sink.path, lines[:-3])
    sink.head_path.unlink()
    assert verify_chain(sink.path, use_head=False)[0]
    # ...but the head is required, and the run's log must end with run-finished unless it is running
    ok, _, msg = verify_chain(sink.path)
    assert not ok and "audit.head is missing" in msg
    for status in (None, "finished", "failed", "cancelled"):
        if status:
            _journal(sink, status)
        ok, bad, msg = chain.verify_run(sink.path)
        assert not ok, (status, msg)
    # even with a forged head that matches the shortened log, the missing end shows
    sink.head_path.write_bytes(chain.head_line(len(lines) - 3, chain.line_hash(lines[-4].rstrip("\n"))))
    assert verify_chain(sink.path)[0]
    ok, bad, msg = chain.verify_run(sink.path)
    assert not ok and bad == len(lines) - 2 and "not with 'run-finished'" in msg and "journal says cancelled" in msg


def test_a_running_run_and_a_run_that_died_at_once_verify():
    rid = new_run_id()
    with AuditSink.for_run(rid) as died:
        died.handle(RunStarted(rid, "article", "a" * 64, "alice", "heartbeat", ["s1"]))
    # the process died between the record and its head: one record, no head - not a damaged log
    died.head_path.unlink()
    assert verify_chain(died.path)[0]

    rid = new_run_id()
    sink = AuditSink.for_run(rid)
    sink.handle(RunStarted(rid, "article", "a" * 64, "alice", "heartbeat", ["s1"]))
    sink.handle(StepStarted("s1", "Install", "srv1"))
    _journal(sink, "running")
    ok, _, msg = chain.verify_run(sink.path)
    assert ok and "has not finished" in msg
    _journal(sink, "failed")
    assert not chain.verify_run(sink.path)[0]  # says it ended, but its log has no end
    sink.close()


def test_a_log_that_does_not_start_with_run_started_is_not_a_run():
    sink = make_run()
    lines = lines_of(sink.path)
    other = AuditSink(sink.path.parent / "other.jsonl")
    other.handle(StepStarted("s1", "Install", "srv1"))
    other.handle(RunFinished("x", "finished", 1.0))
    other.close()
    ok, bad, msg = chain.verify_run(other.path)
    assert not ok and bad == 1 and "not 'run-started'" in msg
    assert len(lines) > 2


def test_resume_appends_and_refuses_a_broken_log():
    sink = make_run()
    n = sink.seq
    again = AuditSink.resume(sink.path)
    again.handle(StepStarted("s2", "More", "srv2"))
    again.close()
    ok, _, msg = verify_chain(sink.path)
    assert ok and f"{n + 2} records" in msg
    lines = lines_of(sink.path)
    _rewrite(sink.path, lines[:1] + lines[2:])
    with pytest.raises(OperationFailed):
        AuditSink.resume(sink.path)


def test_output_batching_loses_nothing_and_keeps_file_small():
    rid = new_run_id()
    sink = AuditSink.for_run(rid, max_batch_lines=100)
    sink.handle(CommandStarted("s", "srv1", "yes | head -n 250"))
    for i in range(250):
        sink.handle(OutputLine("s", "srv1", "stdout", f"y{i}"))
    sink.handle(OutputLine("s", "srv2", "stderr", "other node"))
    sink.handle(CommandFinished("s", "srv1", "yes | head -n 250", 0, 0.5))
    sink.close()
    recs = [json.loads(x) for x in lines_of(sink.path)]
    out = [t for r in recs if r["kind"] == "output" and r["data"]["node"] == "srv1" for _, _, t in r["data"]["lines"]]
    assert out == [f"y{i}" for i in range(250)]
    assert sum(1 for r in recs if r["kind"] == "output") == 4  # 100 + 100 + 50 for srv1, 1 for srv2
    assert [r["kind"] for r in recs][-2:] == ["output", "command-finished"] or recs[-1]["kind"] == "output"
    assert verify_chain(sink.path)[0]


def test_concurrent_nodes_keep_a_valid_chain():
    rid = new_run_id()
    sink = AuditSink.for_run(rid, max_batch_lines=7)
    bus = EventBus()
    bus.subscribe(sink, critical=True)

    def node(name):
        for c in range(20):
            bus.emit(CommandStarted("s", name, f"cmd {c}"))
            for i in range(15):
                bus.emit(OutputLine("s", name, "stdout", f"{name} {c} {i}"))
            bus.emit(CommandFinished("s", name, f"cmd {c}", 0, 0.1))

    ts = [threading.Thread(target=node, args=(n,)) for n in ("srv1", "srv2")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    bus.close()
    assert verify_chain(sink.path)[0]
    recs = [json.loads(x) for x in lines_of(sink.path)]
    lines = [t for r in recs if r["kind"] == "output" for _, _, t in r["data"]["lines"]]
    assert len(lines) == 2 * 20 * 15


# --- the end-to-end secret test: nothing of any secret in the log or in any export ---------------

SUDO = "Tr0ub4dor&3 x'y"
AUTHKEYS = "K8fz3QpL0s9VxYw2"
DRBD = "drbd-Sh4red-S3cret"
COROSYNC = bytes((i * 37 + 11) % 256 for i in range(128))


def secret_forms() -> list[str]:
    forms = [SUDO, AUTHKEYS, DRBD, COROSYNC.hex(), COROSYNC.hex().upper(), base64.b64encode(COROSYNC).decode()]
    for s in (SUDO, AUTHKEYS, DRBD):
        forms += [base64.b64encode(s.encode()).decode().rstrip("="), s.encode().hex()]
    return forms


def emit_secret_run() -> tuple[AuditSink, Redactor]:
    red = Redactor()
    red.add_secret(SUDO)
    red.add_secret(AUTHKEYS)
    red.add_secret(COROSYNC)
    red.add_secret(DRBD)
    rid = new_run_id()
    sink = AuditSink.for_run(rid, redactor=red)
    bus = EventBus()
    bus.subscribe(sink, critical=True)
    # long enough that its base64 wraps at 76 columns, with the secret past the first line
    authkeys_file = f"# written by hawizard for cluster 'article' - do not edit by hand\nauth 1\n1 sha1 {AUTHKEYS}\n"
    b64_file = "\n".join(textwrap.wrap(base64.b64encode(authkeys_file.encode()).decode(), 76))
    drbd_res = f'resource r0 {{\n  net {{ cram-hmac-alg sha1; shared-secret "{DRBD}"; }}\n}}\n'
    bus.emit(RunStarted(rid, "article", "c" * 64, "alice", "heartbeat", ["keys", "drbd"]))
    bus.emit(StepStarted("keys", f"Write authkeys ({AUTHKEYS})", "srv1"))
    cmds = [
        f"echo '{SUDO}' | sudo -S -p '' true",
        f"umask 077 && base64 -d > /etc/ha.d/.hw.tmp <<'__HW_EOF__'\n{b64_file}\n__HW_EOF__",
        f"printf %s {base64.b64encode(COROSYNC).decode()} | base64 -d > /etc/corosync/authkey",
        "xxd -p /etc/corosync/authkey",
        "cat /etc/ha.d/authkeys",
    ]
    outputs = {
        cmds[0]: [f"[sudo] password: {SUDO}"],
        cmds[3]: textwrap.wrap(COROSYNC.hex(), 60),
        cmds[4]: authkeys_file.splitlines(),
    }
    for c in cmds:
        bus.emit(CommandStarted("keys", "srv1", c))
        for line in outputs.get(c, []):
            bus.emit(OutputLine("keys", "srv1", "stdout", line))
        bus.emit(CommandFinished("keys", "srv1", c, 0, 0.1))
    bus.emit(FileWritten("keys", "srv1", "/etc/ha.d/authkeys", "0600", "root:root", "d" * 64, True, None))
    bus.emit(StepFinished("keys", "srv1", "done", 1.0, f"wrote {AUTHKEYS}"))
    bus.emit(StepStarted("drbd", "DRBD config", "srv2"))
    bus.emit(CommandStarted("drbd", "srv2", f"cat > /etc/drbd.d/r0.res <<'EOF'\n{drbd_res}EOF"))
    bus.emit(OutputLine("drbd", "srv2", "stderr", f"drbdadm: bad secret {DRBD}"))
    bus.emit(CommandFinished("drbd", "srv2", "cat > /etc/drbd.d/r0.res", 1, 0.1))
    bus.emit(Progress("drbd", "srv2", "drbd", 50.0, None, None, "SyncSource", f"note {DRBD}"))
    bus.emit(ClusterState("drbd", "srv2", ["srv1"], [], [{"id": "p", "role": "Started", "node": SUDO, "meta": {"x": [AUTHKEYS]}}]))
    bus.emit(StepFinished("drbd", "srv2", "failed", 1.0, f"secret was {DRBD}"))
    bus.emit(RunFinished(rid, "failed", 3.0))
    bus.close()
    return sink, red


def assert_no_secret(text: str, where: str) -> None:
    import html as html_mod

    variants = [text, html_mod.unescape(text), text.replace("\\n", "\n")]
    try:  # JSON-escaped strings: look at the decoded values too
        variants.append("\n".join(json.dumps(json.loads(x), ensure_ascii=False) for x in text.splitlines() if x.startswith("{")))
    except ValueError:
        pass
    squashed = [v.replace("\n", "") for v in variants]
    for form in secret_forms():
        for v in variants + squashed:
            assert form not in v, f"{form!r} leaked into {where}"
    # base64 blobs in the text must not decode to a secret
    import re

    for blob in re.findall(r"[A-Za-z0-9+/=]{16,}", text.replace("\n", "")):
        for k in range(4):
            try:
                dec = base64.b64decode(blob[k:] + "===")
            except ValueError:
                continue
            for s in (SUDO.encode(), AUTHKEYS.encode(), DRBD.encode(), COROSYNC[:16]):
                assert s not in dec, f"a base64 blob in {where} decodes to a secret"


def test_no_secret_in_the_audit_log_or_any_export():
    from hawizard.audit.report.export import export_run

    sink, _ = emit_secret_run()
    raw = sink.path.read_text(encoding="utf-8")
    assert "«redacted»" in raw
    assert_no_secret(raw, "audit.jsonl")
    assert verify_chain(sink.path)[0]
    for fmt in ("md", "html", "jsonl"):
        assert_no_secret(export_run(sink.path.parent.name, fmt), f"export {fmt}")
