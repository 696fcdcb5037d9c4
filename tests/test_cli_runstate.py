"""The state a run leaves on this machine, through the real ``hawizard`` entry point: journals that are
not journals, a run whose nodes cannot be reached, ``status`` with no node answering, a relative
XDG_STATE_HOME, and ``hawizard audit verify|list`` (issue 10: 3.10, 3.11, 3.12)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    e.update(HOME=str(tmp_path / "home"), XDG_STATE_HOME=str(tmp_path / "state"))
    (tmp_path / "home").mkdir()
    return e


def hawizard(*args: str, env: dict, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "hawizard", *args], capture_output=True, text=True, env=env,
                       timeout=timeout, stdin=subprocess.DEVNULL, **kw)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_preset(path: Path, *, port: int) -> Path:
    """The debian12 preset with its nodes on loopback ports where nothing listens."""
    text = (ROOT / "presets" / "debian12.toml").read_text()
    text = text.replace('ssh_host = "192.168.0.101"', 'ssh_host = "127.0.0.1"')
    text = text.replace('ssh_host = "192.168.0.102"', 'ssh_host = "127.0.0.2"')
    text = text.replace("ssh_port = 22", f"ssh_port = {port}")
    path.write_text(text)
    return path


def runs(tmp_path) -> list[Path]:
    base = tmp_path / "state" / "hawizard" / "runs"
    return sorted(base.iterdir()) if base.is_dir() else []


# --- journals that are not journals (3.10) -----------------------------------------------------------


@pytest.mark.parametrize("content", ["[]", '{"plan": 5}', "not json", '{"run_id": 1}', ""])
def test_a_malformed_journal_is_exit_2_naming_the_file(env, tmp_path, content):
    preset = loopback_preset(tmp_path / "lo.toml", port=closed_port())
    rid = "20260101T000000Z-abcdef"
    run = tmp_path / "state" / "hawizard" / "runs" / rid
    run.mkdir(parents=True)
    (run / "journal.json").write_text(content)
    r = hawizard("apply", str(preset), "--resume", rid, env=env)
    assert r.returncode == 2, r.stderr
    assert str(run / "journal.json") in r.stderr
    # the newest unfinished run: a broken journal is not one (and is no traceback)
    r = hawizard("apply", str(preset), "--resume", env=env)
    assert r.returncode == 2 and "no unfinished run" in r.stderr


def test_journal_load_names_the_key(tmp_path, monkeypatch):
    from hawizard.common.errors import InputError
    from hawizard.run.journal import Journal

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    good = Journal("20260101T000000Z-abcdef", "p", "sha", ["a", "b"], {"a": {"srv1": "done"}})
    good.save()
    assert Journal.load(good.run_id).steps == {"a": {"srv1": "done"}}
    data = json.loads(good.path.read_text())
    for key, value, words in (("plan", 5, "'plan'"), ("steps", {"a": 1}, "'steps'"), ("status", "done", "'status'"),
                              ("started", "x", "'started'"), ("run_id", "20990101T000000Z-000000", "'run_id'")):
        good.path.write_text(json.dumps({**data, key: value}))
        with pytest.raises(InputError) as err:
            Journal.load(good.run_id)
        assert words in str(err.value) and str(good.path) in str(err.value)


# --- a run whose nodes cannot be reached (3.12) ------------------------------------------------------


def test_a_failed_connect_ends_the_run_as_failed_not_running(env, tmp_path):
    preset = loopback_preset(tmp_path / "lo.toml", port=closed_port())
    r = hawizard("apply", str(preset), "--yes", env=env)
    assert r.returncode == 3, r.stderr
    (run,) = runs(tmp_path)
    journal = json.loads((run / "journal.json").read_text())
    assert journal["status"] == "failed"  # not "running": nothing runs
    assert "srv1" in r.stderr and "--resume" in r.stderr
    records = [json.loads(x) for x in (run / "audit.jsonl").read_text().splitlines()]
    assert records[0]["kind"] == "run-started" and records[-1]["kind"] == "run-finished"
    assert records[-1]["data"]["status"] == "failed" and "srv1" in records[-1]["data"]["message"]
    v = hawizard("audit", "verify", run.name, env=env)
    assert v.returncode == 0 and "verified" in v.stdout
    # and it can be resumed: same run, the log goes on and still verifies
    r = hawizard("apply", str(preset), "--resume", env=env)
    assert r.returncode == 3 and f"resuming run {run.name}" in r.stdout
    assert runs(tmp_path) == [run]
    assert json.loads((run / "journal.json").read_text())["status"] == "failed"
    assert hawizard("audit", "verify", run.name, env=env).returncode == 0


def test_status_with_no_node_answering_is_exit_3_naming_each_node(env, tmp_path):
    preset = loopback_preset(tmp_path / "lo.toml", port=closed_port())
    for transport in ("ssh", "paramiko"):
        r = hawizard("status", str(preset), "--transport", transport, env=env)
        assert r.returncode == 3, (transport, r.stderr)
        assert "no node answered" in r.stderr
        assert "srv1" in r.stderr and "srv2" in r.stderr, r.stderr  # both were tried


# --- one state directory (3.12) ---------------------------------------------------------------------


def test_a_relative_xdg_state_home_is_ignored_by_runs_and_known_hosts_alike(tmp_path, monkeypatch):
    from hawizard.audit import lock as runlock
    from hawizard.audit import runs as audit
    from hawizard.common import statedir
    from hawizard.sessions.target import SshTarget, default_known_hosts

    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    for value in ("relative/state", "./state", "state"):
        monkeypatch.setenv("XDG_STATE_HOME", value)
        want = home / ".local" / "state" / "hawizard"
        assert statedir.state_dir() == audit.state_dir() == want
        assert audit.runs_dir() == want / "runs" and runlock.locks_dir() == want / "locks"
        assert default_known_hosts() == want / "known_hosts"
        assert SshTarget(name="n", host="h").known_hosts_path == want / "known_hosts"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "abs"))
    assert audit.state_dir() == default_known_hosts().parent == tmp_path / "abs" / "hawizard"


def test_a_run_with_a_relative_xdg_state_home_keeps_everything_under_home(env, tmp_path):
    preset = loopback_preset(tmp_path / "lo.toml", port=closed_port())
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {**env, "XDG_STATE_HOME": "rel-state"}
    r = hawizard("apply", str(preset), "--yes", env=env, cwd=cwd)
    assert r.returncode == 3
    state = tmp_path / "home" / ".local" / "state" / "hawizard"
    assert len(list((state / "runs").iterdir())) == 1
    assert (state / "known_hosts").is_file()  # the ssh session made hawizard's own known_hosts there
    assert list(cwd.iterdir()) == []


# --- hawizard audit verify | list (3.11) ---------------------------------------------------------------


def _recorded_run(env) -> Path:
    code = (
        "from hawizard.audit.log import AuditSink\n"
        "from hawizard.audit.runs import new_run_id\n"
        "from hawizard.events import *\n"
        "rid = new_run_id()\n"
        "bus = EventBus(); sink = AuditSink.for_run(rid); bus.subscribe(sink, critical=True)\n"
        "bus.emit(RunStarted(rid, 'article', 'a' * 64, 'alice', 'heartbeat', ['s1']))\n"
        "bus.emit(StepStarted('s1', 'Install', 'srv1'))\n"
        "bus.emit(CommandStarted('s1', 'srv1', 'true'))\n"
        "bus.emit(CommandFinished('s1', 'srv1', 'true', 0, 0.1))\n"
        "bus.emit(StepFinished('s1', 'srv1', 'done', 0.2))\n"
        "bus.emit(RunFinished(rid, 'finished', 0.3))\n"
        "bus.close()\n"
        "print(sink.path)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return Path(r.stdout.strip())


def test_audit_verify_exit_codes(env, tmp_path):
    log = _recorded_run(env)
    rid = log.parent.name
    r = hawizard("audit", "verify", rid, env=env)
    assert r.returncode == 0 and "verified" in r.stdout and "chain intact: 6 records" in r.stdout
    assert hawizard("audit", "verify", "latest", env=env).returncode == 0
    r = hawizard("audit", "list", env=env)
    assert r.returncode == 0 and rid in r.stdout and "finished" in r.stdout and "article" in r.stdout
    # cut the end and delete the head: does not verify, and says why
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:-2]))
    log.with_name("audit.head").unlink()
    r = hawizard("audit", "verify", rid, env=env)
    assert r.returncode == 1 and "DOES NOT VERIFY" in r.stdout and "audit.head" in r.stdout
    # an empty log
    log.write_text("")
    r = hawizard("audit", "verify", rid, env=env)
    assert r.returncode == 1 and "empty" in r.stdout
    # an unknown run
    r = hawizard("audit", "verify", "20990101T000000Z-000000", env=env)
    assert r.returncode == 2 and "no run" in r.stderr
    r = hawizard("audit", env=env)
    assert r.returncode == 2  # an action is required


def test_audit_list_without_runs(env):
    r = hawizard("audit", "list", env=env)
    assert r.returncode == 0 and "no runs in" in r.stdout
