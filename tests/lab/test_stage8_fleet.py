"""End to end on the lab (issue 15): the exported plan builds the cluster without hawizard's runner.

Two builds of the lab's design (lab.toml: debian12-crmsh, fenced with sbd), each on VMs booted
again: from the ``post-install`` snapshot that tests/lab/test_stage2_cluster.py takes after its
install step when the lab has it (the packages are there; every other step still runs), else on
fresh disks (the export then installs the packages too).

1. ``hawizard export-plan --format ansible``, then ``ansible-playbook site.yml -e hw_yes=true``
   (ansible-core from PyPI, pyproject's [test] extra). Then hawizard's own ``status`` and its
   ``verify`` step pass against what Ansible built; ``hawizard apply`` finds every step already
   done (the export keeps the plan's probes and completion markers); a second playbook run and
   a ``--check --diff`` run report ``changed=0`` on both nodes.
2. ``hawizard export-plan --format sh``, then ``sh run.sh --yes`` on VMs booted again: the same
   cluster (status, verify, the page through the VIP), and a second run changes nothing.

The wall times go to the lab timings; bench/build_three_ways.py compares them with
``hawizard apply`` over repeats.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from support.lab_apply import PAGE, hawizard, serving_node, wait_page

from hawizard.design.preset_file import load_preset

# two more builds of the design (about 25 min on the lab) do not fit the CI budget with the other stages:
# left out of the README's test command, run with `python3 -m pytest -p no:cacheprovider -m lab_fleet -rs`
pytestmark = [pytest.mark.lab, pytest.mark.lab_fleet, pytest.mark.uses_post_install_snapshot]

SNAPSHOT = "post-install"  # taken by test_stage2_cluster.py after the crmsh build's install step
BUILD_LIMIT_S = 3600
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
# the steps with a probe or a completion marker in the lab's plan (`hawizard plan lab.toml --json`); the others
# (file writes, preflight, verify) run again and find their files unchanged
STEPS_ALREADY_DONE = ("install", "hosts", "sbd-device", "create-md", "drbd-up", "initial-sync", "mkfs", "rehearsal",
                      "drbd-down", "cluster-start", "cluster-config")


def _fresh_vms(lab, label: str) -> str:
    """Boot the lab again (from the post-install snapshot when there is one); says which."""
    lab.cli("down", "--timeout", "60", check=False)
    snapshots = lab.cli("snapshot", check=False).stdout.split()
    origin = ["--from-snapshot", SNAPSHOT] if SNAPSHOT in snapshots else []
    t0 = time.monotonic()
    lab.cli("up", "--nodes", "2", "--port-base", str(lab.port_base), *origin)
    where = f"from {SNAPSHOT}" if origin else "fresh disks"
    lab.timings[f"{label}: lab up"] = f"{time.monotonic() - t0:.1f}s ({where})"
    return where


def _export(lab, fmt: str, where: Path, env: dict) -> Path:
    out = where / f"export-{fmt}"
    r = hawizard("export-plan", str(lab.preset), "--format", fmt, "-o", str(out), env=env, timeout=300)
    assert r.returncode == 0, f"export-plan --format {fmt} failed"
    return out


def _run(argv: list[str], cwd: Path, env: dict, timeout: float = BUILD_LIMIT_S) -> subprocess.CompletedProcess:
    r = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    print(f"$ {' '.join(argv)}  (in {cwd}) -> {r.returncode}\n{r.stdout[-20000:]}\n{r.stderr[-5000:]}")
    return r


def _playbook(project: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    assert shutil.which("ansible-playbook"), "ansible-playbook is missing: pip install '.[test]' (ansible-core)"
    return _run(["ansible-playbook", "site.yml", *args], project, dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP lines -> {host: {ok, changed, unreachable, failed}}."""
    got = {}
    for m in RECAP.finditer(output):
        got[m.group(1)] = {"ok": int(m.group(2)), "changed": int(m.group(3)), "unreachable": int(m.group(4)),
                           "failed": int(m.group(5))}
    return got


def _hawizard_sees_the_design(lab, env: dict) -> None:
    """hawizard's status and its verify step, from a state directory that never ran a build."""
    design = load_preset(str(lab.preset))
    promoted = serving_node(lab, "srv1")
    s = hawizard("status", str(lab.preset), env=env, timeout=120)
    assert s.returncode == 0 and f"{design.cluster.ids.group} on: {promoted}" in s.stdout
    v = hawizard("apply", str(lab.preset), "--yes", "--only", "verify", env=env, timeout=900)
    assert v.returncode == 0, "hawizard's verify step failed on the exported build"
    for node in ("srv1", "srv2"):
        assert re.search(rf"^\[{node}\] verify: ok", v.stdout, re.M), node
    wait_page(lab, "srv2" if promoted == "srv1" else "srv1", "", PAGE, 60)


# -- 1. Ansible ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ansible_built(lab_session, tmp_path_factory):
    lab = lab_session
    origin = _fresh_vms(lab, "fleet ansible")
    where = tmp_path_factory.mktemp("fleet-ansible")
    env = dict(os.environ, XDG_STATE_HOME=str(where / "state"))
    project = _export(lab, "ansible", where, env)
    t0 = time.monotonic()
    r = _playbook(project, env, "-e", "hw_yes=true")
    lab.timings["fleet: ansible-playbook build"] = f"{time.monotonic() - t0:.1f}s ({origin})"
    assert r.returncode == 0, "ansible-playbook did not build the design"
    yield lab, env, project, r.stdout
    lab.cli("down", "--timeout", "60", check=False)


def test_ansible_playbook_builds_the_design(ansible_built):
    lab, _, _, output = ansible_built
    hosts = recap(output)
    assert set(hosts) == {"srv1", "srv2"}
    assert all(h["failed"] == 0 and h["unreachable"] == 0 for h in hosts.values()), hosts
    assert all(h["changed"] > 0 for h in hosts.values()), "a build from scratch changed nothing?"
    # fenced with sbd as the design says, the service where the DRBD clone is promoted
    assert "fence_sbd" in lab.ssh("srv1", "stonith_admin --list-registered").stdout
    assert lab.ssh("srv2", "systemctl is-active sbd").stdout.strip() == "active"


def test_hawizard_status_and_verify_pass_on_the_ansible_build(ansible_built):
    lab, env, _, _ = ansible_built
    _hawizard_sees_the_design(lab, env)


def test_hawizard_apply_finds_the_ansible_build_done(ansible_built):
    """The same probes and completion markers: hawizard's own run has nothing left to do."""
    lab, env, _, _ = ansible_built
    r = hawizard("apply", str(lab.preset), "--yes", env=env)
    assert r.returncode == 0
    assert " written" not in r.stdout
    for step in STEPS_ALREADY_DONE:
        assert re.search(rf"^\[srv1\] {step}: already done", r.stdout, re.M), step


def test_a_second_playbook_run_changes_nothing(ansible_built):
    lab, env, project, _ = ansible_built
    t0 = time.monotonic()
    r = _playbook(project, env, "-e", "hw_yes=true")
    lab.timings["fleet: ansible-playbook again"] = f"{time.monotonic() - t0:.1f}s"
    assert r.returncode == 0
    hosts = recap(r.stdout)
    assert set(hosts) == {"srv1", "srv2"}
    assert {n: h["changed"] for n, h in hosts.items()} == {"srv1": 0, "srv2": 0}, hosts
    assert all(h["failed"] == 0 for h in hosts.values())


def test_check_diff_on_the_built_cluster_reports_no_change(ansible_built):
    _, env, project, _ = ansible_built
    r = _playbook(project, env, "--check", "--diff")
    assert r.returncode == 0
    hosts = recap(r.stdout)
    assert {n: h["changed"] for n, h in hosts.items()} == {"srv1": 0, "srv2": 0}, hosts


# -- 2. the plain script ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sh_built(lab_session, tmp_path_factory):
    lab = lab_session
    origin = _fresh_vms(lab, "fleet sh")
    where = tmp_path_factory.mktemp("fleet-sh")
    env = dict(os.environ, XDG_STATE_HOME=str(where / "state"))
    scripts = _export(lab, "sh", where, env)
    t0 = time.monotonic()
    r = _run(["sh", "run.sh", "--yes"], scripts, env)
    lab.timings["fleet: plain script build"] = f"{time.monotonic() - t0:.1f}s ({origin})"
    assert r.returncode == 0, "the exported script did not build the design"
    yield lab, env, scripts
    lab.cli("down", "--timeout", "60", check=False)


def test_the_plain_script_builds_the_same_design(sh_built):
    lab, env, _ = sh_built
    assert "fence_sbd" in lab.ssh("srv1", "stonith_admin --list-registered").stdout
    _hawizard_sees_the_design(lab, env)


def test_the_plain_script_run_again_changes_nothing(sh_built):
    lab, env, scripts = sh_built
    r = _run(["sh", "run.sh", "--yes"], scripts, env)
    assert r.returncode == 0
    out = r.stdout + r.stderr
    assert not re.search(r"^hawizard\[\S+\]: wrote ", out, re.M), "a file was written again"
    r2 = hawizard("apply", str(lab.preset), "--yes", env=env)
    assert r2.returncode == 0 and " written" not in r2.stdout
    for step in STEPS_ALREADY_DONE:
        assert re.search(rf"^\[srv1\] {step}: already done", r2.stdout, re.M), step
