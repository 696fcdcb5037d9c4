"""The real ``hawizard`` entry point on what a new user types: help, presets, no terminal, --only,
export and render into hostile places. Exit codes and messages, never a traceback (issue 10)."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hawizard.design.preset_file import load_preset, shipped_presets

ROOT = Path(__file__).resolve().parent.parent
PRESET_COMMANDS = ("validate", "render", "plan", "apply", "status")


@pytest.fixture
def env(tmp_path):
    """The environment of a fresh user: private HOME and XDG state, 80 columns, no terminal."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "COLUMNS", "LINES"))}
    e.update(HOME=str(tmp_path / "home"), XDG_STATE_HOME=str(tmp_path / "state"), COLUMNS="80", LINES="24")
    (tmp_path / "home").mkdir()
    return e


def hawizard(*args: str, env: dict, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("stdin", subprocess.DEVNULL)
    r = subprocess.run([sys.executable, "-m", "hawizard", *args], capture_output=True, text=True, env=env,
                       timeout=timeout, **kw)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def loopback_preset(path: Path, *, port: int, name: str = "lo", hosts=("127.0.0.1", "127.0.0.2")) -> Path:
    """The debian12 preset with its nodes on loopback (a closed port unless a test server listens)."""
    text = (ROOT / "presets" / "debian12.toml").read_text()
    text = text.replace('name = "debian12"', f'name = "{name}"', 1)
    text = text.replace('ssh_host = "192.168.0.101"', f'ssh_host = "{hosts[0]}"')
    text = text.replace('ssh_host = "192.168.0.102"', f'ssh_host = "{hosts[1]}"')
    text = text.replace("ssh_port = 22", f"ssh_port = {port}")
    assert "192.168.0.10" not in re.sub(r"(?m)^(?!ssh_host).*$", "", text)
    path.write_text(text)
    return path


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- help ------------------------------------------------------------------------------------------


def test_help_says_that_no_arguments_opens_the_wizard(env):
    r = hawizard("--help", env=env)
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    assert "Without a COMMAND, hawizard opens the wizard" in text and "needs a terminal" in text
    assert "audit" in r.stdout and "Exit codes" in r.stdout


@pytest.mark.parametrize("command", PRESET_COMMANDS)
def test_every_preset_argument_has_help(env, command):
    r = hawizard(command, "--help", env=env)
    assert r.returncode == 0
    positional = r.stdout.split("positional arguments:", 1)[1].split("options:", 1)[0]
    assert "PRESET a preset file, or the name of a shipped preset" in " ".join(positional.split()), r.stdout


# --- presets ---------------------------------------------------------------------------------------


def test_presets_listing_is_readable_at_80_columns(env):
    r = hawizard("presets", env=env)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    flat = " ".join(r.stdout.split())
    for name in shipped_presets():
        d = load_preset(name)
        # the name, at least two spaces, then the stack: never run together
        assert re.search(rf"(?m)^{re.escape(name)} {{2,}}{re.escape(d.stack)}$", r.stdout), (name, r.stdout)
        assert " ".join(d.description.split()) in flat, name  # the whole description, not cut


# --- no terminal -----------------------------------------------------------------------------------


def test_no_arguments_without_a_terminal_says_so_and_exits_2(env):
    r = hawizard(env=env, timeout=60)
    assert r.returncode == 2
    assert "needs a terminal" in r.stderr and "standard input is not a terminal" in r.stderr
    for cmd in ("validate", "apply", "export", "audit"):
        assert cmd in r.stderr
    # stdin a terminal but stdout a pipe: the same
    master, slave = pty.openpty()
    try:
        r = hawizard(env=env, timeout=60, stdin=slave)
    finally:
        os.close(slave)
        os.close(master)
    assert r.returncode == 2 and "standard output is not a terminal" in r.stderr


# --- apply --only ----------------------------------------------------------------------------------


@pytest.mark.parametrize("only", ["", ",", " , ", "preflight,", "preflight,,install", "no-such-step"])
def test_only_with_an_empty_or_unknown_step_is_an_error(env, only):
    r = hawizard("apply", "debian12", "--dry-run", "--only", only, env=env)
    assert r.returncode == 2, r.stdout[-2000:]
    assert "--only" in r.stderr and "preflight" in r.stderr  # names the option and the steps there are
    assert "dry run" not in r.stdout


def test_only_empty_on_a_real_run_touches_nothing(env, tmp_path):
    preset = loopback_preset(tmp_path / "lo.toml", port=closed_port())
    r = hawizard("apply", str(preset), "--yes", "--only", "", env=env)
    assert r.returncode == 2 and "names no step" in r.stderr
    assert not (tmp_path / "state" / "hawizard" / "runs").exists()  # no run was started
    r = hawizard("apply", "debian12", "--dry-run", "--only", "preflight", env=env)
    assert r.returncode == 0 and "1 step(s)" in r.stdout


# --- export ----------------------------------------------------------------------------------------


def test_export_latest_without_runs_says_there_are_none(env, tmp_path):
    r = hawizard("export", "latest", env=env, cwd=tmp_path)
    assert r.returncode == 2
    assert "no runs yet" in r.stderr and str(tmp_path / "state" / "hawizard" / "runs") in r.stderr
    assert str(tmp_path / "latest") not in r.stderr  # it did not look for a file named 'latest'


def _make_run(env) -> str:
    code = textwrap.dedent("""
        from hawizard.audit.log import AuditSink
        from hawizard.audit.runs import new_run_id
        from hawizard.events import EventBus, RunFinished, RunStarted
        rid = new_run_id()
        bus = EventBus()
        bus.subscribe(AuditSink.for_run(rid), critical=True)
        bus.emit(RunStarted(rid, "article", "a" * 64, "alice", "heartbeat", ["s1"]))
        bus.emit(RunFinished(rid, "finished", 1.0))
        bus.close()
        print(rid)
    """)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return r.stdout.strip()


def test_export_output_never_follows_a_symlink_and_is_0600(env, tmp_path):
    rid = _make_run(env)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    victim.chmod(0o644)
    link = tmp_path / "report.md"
    link.symlink_to(victim)
    r = hawizard("export", rid, "-o", str(link), env=env)
    assert r.returncode == 2 and str(link) in r.stderr and "symbolic link" in r.stderr
    assert victim.read_text() == "precious\n" and stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert link.is_symlink()
    # an existing report is replaced atomically, at 0600, the old one kept
    old = tmp_path / "old.md"
    old.write_text("old report\n")
    old.chmod(0o644)
    r = hawizard("export", rid, "-o", str(old), env=env)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(old.stat().st_mode) == 0o600 and old.read_text().startswith(f"# hawizard run {rid}")
    backups = list(tmp_path.glob("old.md.*.hawizard~"))
    assert len(backups) == 1 and backups[0].read_text() == "old report\n"
    new = tmp_path / "sub" / "new.html"
    assert hawizard("export", rid, "-f", "html", "-o", str(new), env=env).returncode == 0
    assert stat.S_IMODE(new.stat().st_mode) == 0o600


# --- render into hostile places --------------------------------------------------------------------


def test_render_never_writes_through_a_symlinked_subdirectory(env, tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "srv1").symlink_to(outside)
    r = hawizard("render", "debian12", "-o", str(out), env=env)
    assert r.returncode == 2
    assert str(out / "srv1") in r.stderr and "symbolic link" in r.stderr
    assert list(outside.rglob("*")) == []
    # a link deeper down is refused too; a real directory tree is fine
    (out / "srv1").unlink()
    (out / "srv1" / "etc").mkdir(parents=True)
    (out / "srv1" / "etc" / "drbd.d").symlink_to(outside)
    r = hawizard("render", "debian12", "-o", str(out), env=env)
    assert r.returncode == 2 and "drbd.d" in r.stderr and list(outside.rglob("*")) == []
    (out / "srv1" / "etc" / "drbd.d").unlink()
    r = hawizard("render", "debian12", "-o", str(out), env=env)
    assert r.returncode == 0, r.stderr
    assert not any(p.is_symlink() for p in out.rglob("*"))
    # a rendered file that is a link to somewhere else is refused, its target left alone
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    some = next(p for p in (out / "srv2").rglob("*") if p.is_file())
    some.unlink()
    some.symlink_to(victim)
    r = hawizard("render", "debian12", "-o", str(out), env=env)
    assert r.returncode == 2 and str(some) in r.stderr and victim.read_text() == "keep\n"


def test_render_into_places_that_cannot_be_written_is_exit_2(env, tmp_path):
    plain = tmp_path / "plain-file"
    plain.write_text("x")
    for target in (plain / "out", Path("/proc/hawizard-render-test"), Path("/proc/self/hawizard")):
        r = hawizard("render", "debian12", "-o", str(target), env=env)
        assert r.returncode == 2, (target, r.stderr)
        assert "cannot write" in r.stderr or "not a directory" in r.stderr, r.stderr


def test_render_onto_a_read_only_filesystem_is_exit_2(env, tmp_path):
    """A private mount namespace (unshare -m) with a read-only tmpfs: nothing outside the test sees it."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs unshare(1) and root for a private read-only mount")
    ro = tmp_path / "ro"
    ro.mkdir()
    script = (f"mount -t tmpfs -o ro,size=1m tmpfs {ro} || exit 77; "
              f"exec {sys.executable} -m hawizard render debian12 -o {ro}/out")
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], env=env,
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if r.returncode == 77:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 2 and "Read-only file system" in r.stderr and f"{ro}/out" in r.stderr


def test_a_damaged_log_export_keeps_the_terminal_safe(env, tmp_path):
    """A line of the log that is not JSON is shown in jsonl with its controls escaped."""
    rid = _make_run(env)
    log = tmp_path / "state" / "hawizard" / "runs" / rid / "audit.jsonl"
    with open(log, "a", encoding="utf-8") as fh:
        fh.write("garbage \x1b]0;title\x07 \x9b2J\n")
    r = hawizard("export", rid, "-f", "jsonl", env=env)
    assert r.returncode == 1  # it does not verify
    assert "\x1b" not in r.stdout and "\x9b" not in r.stdout and "\\u001b]0;title" in r.stdout
    assert json.loads(r.stdout.splitlines()[0])["kind"] == "run-started"
