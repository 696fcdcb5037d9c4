"""bench/build_three_ways.py without the lab: its --dry-run (what it would run, in order) and its input checks.

The benchmark itself boots VMs (the lead runs it); here the order of its commands is pinned: the
post-install snapshot made first when the lab has none, fresh VMs from it before every build,
the export before the sh and Ansible builds, `hawizard status` after each, the ways taking turns.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "build_three_ways.py"


def _bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HAWIZARD_LAB_CACHE=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          timeout=120, stdin=subprocess.DEVNULL)


def _commands(out: str) -> list[str]:
    """The printed commands, with the interpreter's path shortened to 'hawizard'."""
    cmds = []
    for line in out.splitlines():
        if line.startswith("$ "):
            cmds.append(re.sub(r"^\S+ -m hawizard", "hawizard", line[2:]))
    return cmds


def test_dry_run_prints_every_build_in_turn_and_starts_nothing(tmp_path):
    work = tmp_path / "work"
    r = _bench(tmp_path, "--dry-run", "--repeats", "2", "--port-base", "30000", "--work", str(work))
    assert r.returncode == 0, r.stderr
    assert not work.exists() and not (tmp_path / "cache").exists()  # nothing was made, nothing booted
    cmds = _commands(r.stdout)
    preset = f"{work / 'lab' / 'state' / 'lab.toml'}"
    # the lab has no post-install snapshot: one install run makes it, untimed, before the builds
    assert cmds[:5] == [
        "hawizard lab down --timeout 60",
        "hawizard lab up --nodes 2 --port-base 30000",
        f"hawizard apply {preset} --yes --only preflight,install,post-install",
        "hawizard lab down --timeout 90",
        "hawizard lab snapshot post-install",
    ]
    builds = [c for c in cmds if c.startswith(("hawizard apply", "sh run.sh", "ansible-playbook"))][1:]
    assert builds == [
        f"hawizard apply {preset} --yes",
        f"sh run.sh --yes  (in {work / 'export-1-sh'})",
        f"ansible-playbook site.yml -e hw_yes=true  (in {work / 'export-1-ansible'})",
        f"sh run.sh --yes  (in {work / 'export-2-sh'})",
        f"ansible-playbook site.yml -e hw_yes=true  (in {work / 'export-2-ansible'})",
        f"hawizard apply {preset} --yes",
    ]
    # every build on VMs booted again from the snapshot, checked with hawizard status afterwards
    assert cmds.count("hawizard lab up --nodes 2 --port-base 30000 --from-snapshot post-install") == 6
    assert cmds.count(f"hawizard status {preset}") == 6
    for i, c in enumerate(cmds):
        if c.startswith(("sh run.sh", "ansible-playbook")):
            fmt = "sh" if c.startswith("sh") else "ansible"
            assert cmds[i - 1].startswith(f"hawizard export-plan {preset} --format {fmt} -o "), cmds[i - 1]
            assert cmds[i - 2].endswith("--from-snapshot post-install")
    assert cmds[-1] == "hawizard lab down --timeout 60"


def test_dry_run_with_fresh_disks_makes_no_snapshot(tmp_path):
    r = _bench(tmp_path, "--dry-run", "--fresh", "--ways", "sh,apply", "--port-base", "30000",
               "--work", str(tmp_path / "w"))
    assert r.returncode == 0, r.stderr
    cmds = _commands(r.stdout)
    assert not any("snapshot" in c for c in cmds)
    assert [c for c in cmds if c.startswith(("hawizard apply", "sh run.sh"))] == [
        f"sh run.sh --yes  (in {tmp_path / 'w' / 'export-1-sh'})",
        f"hawizard apply {tmp_path / 'w' / 'lab' / 'state' / 'lab.toml'} --yes",
    ]
    assert "fresh disks" in r.stdout


def test_an_existing_snapshot_is_used_as_it_is(tmp_path):
    lab_dir = tmp_path / "lab"
    snap = lab_dir / "state" / "snapshots" / "post-install"
    snap.mkdir(parents=True)
    (snap / "snapshot.json").write_text("{}\n")
    r = _bench(tmp_path, "--dry-run", "--ways", "apply", "--lab-dir", str(lab_dir), "--port-base", "30000",
               "--work", str(tmp_path / "w"))
    assert r.returncode == 0, r.stderr
    cmds = _commands(r.stdout)
    assert not any(c.startswith("hawizard lab snapshot") or "--only" in c for c in cmds)
    assert "hawizard lab up --nodes 2 --port-base 30000 --from-snapshot post-install" in cmds


@pytest.mark.parametrize("args, word", [
    (["--repeats", "0"], "--repeats"),
    (["--ways", "apply,chef"], "--ways"),
    (["--ways", "sh,sh"], "--ways"),
    (["--port-base", "80"], "--port-base"),
])
def test_bad_options_are_exit_2_naming_the_option(tmp_path, args, word):
    r = _bench(tmp_path, "--dry-run", *args)
    assert r.returncode == 2 and word in r.stderr and "Traceback" not in r.stderr


def test_a_real_run_without_the_lab_image_stops_at_once_with_exit_3(tmp_path):
    """Not a dry run, no image in the cache: exit 3 naming `hawizard lab build`, before any VM starts."""
    work = tmp_path / "w"
    r = _bench(tmp_path, "--ways", "apply", "--port-base", "30000", "--work", str(work))
    assert r.returncode == 3 and "hawizard lab build" in r.stderr
    assert not (work / "logs").exists()
