"""One run of a preset's nodes at a time (issue 10, 3.3), with real concurrent processes.

The first run is held where a real run waits for its operator: ``hawizard apply`` on a terminal
(a pty) asking whether to trust a real sshd's host key (tests/support/sshd.py, on loopback), or a
process that opened its run record the way the wizard does (hawizard/run/record.py) and waits.
The second run is the real ``hawizard`` entry point.
"""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    e.update(HOME=str(tmp_path / "home"), XDG_STATE_HOME=str(tmp_path / "state"))
    (tmp_path / "home").mkdir()
    return e


def hawizard(*args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "hawizard", *args], capture_output=True, text=True, env=env,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def preset_on(path: Path, port: int, *, name: str = "lo", identity: str = "", known_hosts: str = "") -> Path:
    """The debian12 preset with both nodes on loopback port ``port`` (127.0.0.1 and 127.0.0.2)."""
    text = (ROOT / "presets" / "debian12.toml").read_text()
    text = text.replace('name = "debian12"', f'name = "{name}"', 1)
    text = text.replace('ssh_host = "192.168.0.101"', 'ssh_host = "127.0.0.1"')
    text = text.replace('ssh_host = "192.168.0.102"', 'ssh_host = "127.0.0.2"')
    text = text.replace("ssh_port = 22", f"ssh_port = {port}")
    text = text.replace('ssh_identity_file = ""', f'ssh_identity_file = "{identity}"')
    text = text.replace('ssh_known_hosts = ""', f'ssh_known_hosts = "{known_hosts}"')
    path.write_text(text)
    return path


def read_until(fd: int, needle: str, timeout: float = 120) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{needle!r} did not appear in {timeout} s; output so far:\n{seen}")
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise AssertionError(f"the process ended before {needle!r}; output:\n{seen}")
            seen += chunk.decode("utf-8", "replace")
    return seen


def sigint_default() -> None:
    """In the child: SIGINT at its default, as an operator's terminal gives it. Run from a harness started in
    the background without job control, the suite inherits SIGINT ignored (POSIX, Shell Command Language
    2.11) and so would apply: Python installs no KeyboardInterrupt handler for an ignored SIGINT, and the
    12 Ctrl-C of the test below went nowhere (faulthandler showed apply still at the host-key question)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


class PtyDrain:
    """Reads a pseudo-terminal's output in a thread, so the process writing to it never blocks on a full
    buffer while the test is not reading (and the output is there to quote when it fails)."""

    def __init__(self, fd: int) -> None:
        self.fd, self.chunks, self._stop = fd, [], threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    return
                if not chunk:
                    return
                self.chunks.append(chunk)

    def text(self) -> str:
        time.sleep(0.3)  # the last words before the exit
        return b"".join(self.chunks).decode("utf-8", "replace")

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)


def only_run(tmp_path) -> Path:
    (run,) = sorted((tmp_path / "state" / "hawizard" / "runs").iterdir())
    return run


# --- the lock itself --------------------------------------------------------------------------------


def test_lock_keys_conflict_within_and_across_holders(tmp_path, monkeypatch):
    from hawizard.audit import lock as runlock

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    a = runlock.lock_run("run-a", [("Srv.Example", 22), ("10.0.0.2", 22)], preset="p1")
    try:
        assert runlock.holder_of_run("run-a")["pid"] == os.getpid()
        # another run of another preset naming one of the same nodes (host case does not matter)
        with pytest.raises(runlock.RunLocked) as err:
            runlock.lock_run("run-b", [("srv.example", 22)], preset="p2")
        assert f"pid {os.getpid()}" in str(err.value) and "run run-a" in str(err.value)
        assert "srv.example:22" in str(err.value) and err.value.exit_code == 3
        # the same run again (a second --resume)
        with pytest.raises(runlock.RunLocked):
            runlock.lock_run("run-a", [], preset="p1")
        # other nodes, or the same host on another port: free
        runlock.lock_run("run-c", [("srv.example", 2222)]).release()
    finally:
        a.release()
    assert runlock.holder_of_run("run-a") is None
    runlock.lock_run("run-b", [("srv.example", 22)]).release()  # free once released
    mode = (tmp_path / "state" / "hawizard" / "locks").stat().st_mode & 0o777
    assert mode == 0o700


# --- two real processes --------------------------------------------------------------------------------


HOLDER = textwrap.dedent("""
    import sys
    from hawizard.events import EventBus
    from hawizard.plan.build import build_plan
    from hawizard.design.preset_file import load_preset
    from hawizard.common.redact import Redactor
    from hawizard.run.record import open_run_record
    design = load_preset(sys.argv[1])
    plan = build_plan(design)
    bus = EventBus()
    record = open_run_record(design, plan, sys.argv[1], bus, Redactor())  # what the wizard calls
    print("HOLDING", record.run_id, flush=True)
    sys.stdin.readline()
    bus.close()  # the run ends: its record closes, the lock goes with it
    print("RELEASED", flush=True)
    sys.stdin.readline()
""")


def test_a_run_record_opened_like_the_wizard_holds_the_nodes_until_it_closes(env, tmp_path):
    port = closed_port()
    preset = preset_on(tmp_path / "lo.toml", port)
    other = preset_on(tmp_path / "other.toml", port, name="other")  # another preset, the same nodes
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(preset)], env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = holder.stdout.readline()
        assert line.startswith("HOLDING"), (line, holder.stderr.read() if holder.poll() is not None else "")
        run_id = line.split()[1]
        for p in (preset, other):
            r = hawizard("apply", str(p), "--yes", env=env)
            assert r.returncode == 3, r.stderr
            assert "in use by another hawizard run" in r.stderr
            assert f"pid {holder.pid}" in r.stderr and f"run {run_id}" in r.stderr and "since 20" in r.stderr
        r = hawizard("apply", str(preset), "--resume", run_id, env=env)
        assert r.returncode == 3 and f"pid {holder.pid}" in r.stderr
        assert len(list((tmp_path / "state" / "hawizard" / "runs").iterdir())) == 1  # no run was recorded
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "RELEASED"
        # the holder process is still alive, its run has ended: the nodes are free
        assert holder.poll() is None
        r = hawizard("apply", str(other), "--yes", env=env)
        assert r.returncode == 3 and "in use" not in r.stderr and "127.0.0.1" in r.stderr  # it tried to connect
        v = hawizard("audit", "verify", run_id, env=env)
        assert v.returncode == 0, v.stdout
    finally:
        holder.kill()
        holder.wait(timeout=30)


@pytest.mark.sshd
def test_two_cli_runs_on_the_same_nodes_exclude_each_other(env, tmp_path):
    """Run A waits on a terminal for the operator's word on a host key; B, C and D are turned away."""
    from tests.support.sshd import SshServer, sshd_available

    why = sshd_available()
    if why:
        pytest.skip(why)
    known = tmp_path / "known_hosts"
    known.write_text("")
    with SshServer(tmp_path) as srv:
        preset = preset_on(tmp_path / "lo.toml", srv.port, identity=str(srv.client_key), known_hosts=str(known))
        other = preset_on(tmp_path / "other.toml", srv.port, name="other", identity=str(srv.client_key),
                          known_hosts=str(known))
        master, slave = pty.openpty()
        a = subprocess.Popen([sys.executable, "-m", "hawizard", "apply", str(preset), "--yes"], env=env,
                             stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        try:
            read_until(master, "Trust this key?")
            run = only_run(tmp_path)
            records_before = (run / "audit.jsonl").read_text()
            # B: a new run of the same preset; C: the same run resumed; D: another preset, same nodes
            for args in (("apply", str(preset), "--yes"), ("apply", str(preset), "--resume", run.name),
                         ("apply", str(preset), "--resume"), ("apply", str(other), "--yes")):
                r = hawizard(*args, env=env)
                assert r.returncode == 3, (args, r.stderr)
                assert f"pid {a.pid}" in r.stderr and f"run {run.name}" in r.stderr, (args, r.stderr)
            assert (run / "audit.jsonl").read_text() == records_before  # nobody wrote into A's log
            assert only_run(tmp_path) == run
            os.write(master, b"no\n")
            assert a.wait(timeout=120) == 3
        finally:
            if a.poll() is None:
                a.kill()
                a.wait(timeout=30)
            os.close(master)
        assert json.loads((run / "journal.json").read_text())["status"] == "failed"
        assert hawizard("audit", "verify", run.name, env=env).returncode == 0
        # A has ended: resuming its run now gets past the lock (and stops at the untrusted key: no terminal)
        r = hawizard("apply", str(preset), "--resume", run.name, env=env)
        assert r.returncode == 3 and "in use" not in r.stderr and "host key" in r.stderr, r.stderr
        v = hawizard("audit", "verify", run.name, env=env)
        assert v.returncode == 0, v.stdout


@pytest.mark.sshd
def test_ctrl_c_while_asking_ends_the_run_as_interrupted_and_frees_the_nodes(env, tmp_path):
    """Ctrl-C at the host-key question: exit 130, the journal and the log say "interrupted", the lock is gone."""
    import signal

    from tests.support.sshd import SshServer, sshd_available

    why = sshd_available()
    if why:
        pytest.skip(why)
    known = tmp_path / "known_hosts"
    known.write_text("")
    with SshServer(tmp_path) as srv:
        preset = preset_on(tmp_path / "lo.toml", srv.port, identity=str(srv.client_key), known_hosts=str(known))
        master, slave = pty.openpty()
        # faulthandler: if the process ever hangs, SIGABRT makes it print every thread's stack
        a = subprocess.Popen([sys.executable, "-m", "hawizard", "apply", str(preset), "--yes"],
                             env={**env, "PYTHONFAULTHANDLER": "1"}, preexec_fn=sigint_default,
                             stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        drain = None
        try:
            read_until(master, "Trust this key?")
            drain = PtyDrain(master)  # what it prints from now on never fills the terminal and blocks it
            # the prompt is written by input() itself just before it blocks reading the terminal: a
            # SIGINT in that gap is only noticed at the next key or the next signal (CPython's readline
            # loop checks signals when its select() is interrupted), so, as a person would when nothing
            # happens, Ctrl-C is pressed again; on a loaded machine the gap is wider than any fixed wait
            time.sleep(0.5)
            for _ in range(12):
                a.send_signal(signal.SIGINT)
                try:
                    a.wait(timeout=10)
                    break
                except subprocess.TimeoutExpired:
                    continue
            if a.poll() is None:
                a.send_signal(signal.SIGABRT)
                a.wait(timeout=30)
                raise AssertionError(f"apply did not end after 12 Ctrl-C; its stacks:\n{drain.text()}")
            assert a.returncode == 130, drain.text()
        finally:
            if a.poll() is None:
                a.kill()
                a.wait(timeout=30)
            if drain is not None:
                drain.stop()
            os.close(master)
        run = only_run(tmp_path)
        assert json.loads((run / "journal.json").read_text())["status"] == "interrupted"
        last = json.loads((run / "audit.jsonl").read_text().splitlines()[-1])
        assert last["kind"] == "run-finished" and last["data"]["status"] == "interrupted"
        assert hawizard("audit", "verify", run.name, env=env).returncode == 0
        r = hawizard("apply", str(preset), "--resume", run.name, env=env)
        assert r.returncode == 3 and "in use" not in r.stderr and "host key" in r.stderr, r.stderr
