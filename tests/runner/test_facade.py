"""The run facade both front ends use: start, connect, run, skip, pause, close — over real local shells.

What each front end used to wire by hand is checked once here: a run's records and lock, the
secrets resolved once with their warnings shown to the operator, a failed connect recorded as
failed (never left "running"), a skip recorded in the journal, pause holding every node, and a
close that releases the nodes for the next run.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time

import pytest

from hawizard.audit import chain, runs
from hawizard.audit.lock import RunLocked
from hawizard.common.errors import HawizardError
from hawizard.design.model import Design
from hawizard.events import ListSink, OutputLine
from hawizard.plan.types import Plan, Run, Step, Where
from hawizard.render.renderer import RenderedFile, Rendering, SecretSpec
from hawizard.run.facade import RunRequest, RunSession
from hawizard.run.journal import Journal
from hawizard.sessions import SshTarget, open_session

NODES = ("srv1", "srv2")


class Yes:
    """An Operator that confirms everything (the tests' --yes)."""

    asked: list[str]

    def __init__(self) -> None:
        self.asked = []

    def confirm_step(self, step, phrase):
        self.asked.append(phrase)
        return True

    def confirm_host_key(self, label, key_type, fingerprint):
        return False

    def sudo_password(self, who):
        raise AssertionError("no sudo here")


def _design(tmp_path) -> Design:
    d = Design()
    for i, n in enumerate(d.nodes, 1):
        n.ssh_host, n.ssh_port = "127.0.0.1", 40000 + i  # only names for the lock; nothing connects there
    return d


def _plan(tmp_path, secret_ref: str) -> Plan:
    marker = tmp_path / "ran"
    files = (RenderedFile("key", str(tmp_path / "key"), "key @@SECRET:k@@\n", 0o600, nodes=NODES, secrets=("k",)),)
    rendering = Rendering(files, {"k": SecretSpec("k", secret_ref, "alnum", "test secret")})
    steps = (
        Step("one", "first", "t", Where.EACH, {n: (Run(f"echo {n} >> {marker}"),) for n in NODES}),
        Step("fails", "fails once", "t", Where.PRIMARY,
             {"srv1": (Run(f"test -f {tmp_path / 'fixed'}"),)}),
        Step("last", "last", "t", Where.PRIMARY, {"srv1": (Run(f"echo last >> {marker}"),)}),
    )
    return Plan("facade-test", "debian12-crmsh", "srv1", "srv2", steps, rendering)


def _local(name: str):
    return open_session(dataclasses.replace(SshTarget(name="x", host="localhost"), name=name), "local")


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


def test_a_run_records_warns_about_a_readable_secret_retries_skips_and_releases_the_nodes(state, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("Ab12Cd34Ef56\n")
    secret_file.chmod(0o644)  # readable by others: the operator must hear of it
    design, plan = _design(tmp_path), _plan(tmp_path, f"file:{secret_file}")
    seen = ListSink()
    run = RunSession(RunRequest(design, plan, "test"), Yes(), sinks=[seen], session_factory=_local)
    try:
        run.start()
        first = run.run()
        assert first.status == "failed" and "fails" in first.message
        warnings = [e.text for e in seen.events if isinstance(e, OutputLine) and e.stream == "status"
                    and "warning" in e.text]
        assert any(str(secret_file) in w and "0644" in w for w in warnings), warnings
        assert run.journal.status == "failed" and run.journal.steps["fails"]["srv1"] == "failed"
        # the operator skips the failed step: recorded, and the run goes on
        run.skip(plan.step("fails"), "checked by hand", ["srv1"])
        assert run.journal.steps["fails"]["srv1"] == "skipped"
        second = run.run({"last"})
        assert second.status == "finished"
        with pytest.raises(RunLocked):  # the nodes are held while the run lives
            RunSession(RunRequest(design, plan, "test"), Yes(), session_factory=_local).start()
    finally:
        run.close()
        run.close()  # twice is harmless
    assert (tmp_path / "ran").read_text().split() == ["srv1", "srv2", "last"]
    assert Journal.load(run.run_id).status == "finished"
    ok, _, why = chain.verify_run(runs.run_dir(run.run_id) / runs.AUDIT_FILE)
    assert ok, why
    again = RunSession(RunRequest(design, plan, "test"), Yes(), session_factory=_local)
    again.start()  # released by close()
    again.close()


def test_a_connect_that_fails_is_recorded_as_failed_not_running(state, tmp_path, monkeypatch):
    monkeypatch.delenv("HAWIZARD_FACADE_MISSING", raising=False)
    design, plan = _design(tmp_path), _plan(tmp_path, "env:HAWIZARD_FACADE_MISSING")
    run = RunSession(RunRequest(design, plan, "test"), Yes(), session_factory=_local)
    run.start()
    with pytest.raises(HawizardError, match="HAWIZARD_FACADE_MISSING"):
        run.connect()
    run.close()
    assert Journal.load(run.run_id).status == "failed"
    assert not any(p.exists() for p in (tmp_path / "ran",))


def test_pause_holds_every_node_until_unpaused(state, tmp_path, monkeypatch):
    monkeypatch.setenv("HAWIZARD_FACADE_SECRET", "Zz98Yy76")
    (tmp_path / "fixed").touch()
    design, plan = _design(tmp_path), _plan(tmp_path, "env:HAWIZARD_FACADE_SECRET")
    run = RunSession(RunRequest(design, plan, "test"), Yes(), session_factory=_local)
    run.start()
    run.connect()
    run.pause()
    result: list = []
    worker = threading.Thread(target=lambda: result.append(run.run()))
    worker.start()
    time.sleep(1.5)
    assert not (tmp_path / "ran").exists(), "a paused run sent a command"
    assert run.paused
    run.unpause()
    worker.join(60)
    run.close()
    assert result and result[0].status == "finished"
    assert os.path.getsize(tmp_path / "ran") > 0


def test_a_run_through_the_facade_sends_a_steps_commands_together_and_pause_holds_the_batch(state, tmp_path):
    """The facade's sessions (behind the pause gate) keep the runner's batches (issue 15): a step's three
    commands reach the shell in one write; a paused run sends no batch until unpaused."""
    sent: list[str] = []

    def counting(name: str):
        session = _local(name)
        real_send = session._send
        session._send = lambda text: (sent.append(text), real_send(text))[1]
        return session

    design = _design(tmp_path)
    marker = tmp_path / "batch"
    steps = (Step("three", "three commands", "t", Where.PRIMARY,
                  {"srv1": tuple(Run(f"echo {i} >> {marker}") for i in range(3))}),)
    plan = Plan("facade-batch", "debian12-crmsh", "srv1", "srv2", steps, Rendering((), {}))
    run = RunSession(RunRequest(design, plan, "test"), Yes(), session_factory=counting)
    run.start()
    run.connect()
    run.pause()
    result: list = []
    worker = threading.Thread(target=lambda: result.append(run.run()))
    worker.start()
    time.sleep(1.5)
    assert not marker.exists(), "a paused run sent a batch"
    before = len(sent)
    run.unpause()
    worker.join(60)
    run.close()
    assert result and result[0].status == "finished"
    assert marker.read_text().split() == ["0", "1", "2"]
    assert len([t for t in sent[before:] if str(marker) in t]) == 1  # the three commands in one write
