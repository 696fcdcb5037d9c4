"""A plan applied to a cluster that already runs (adopted, built by hand, or built without sbd) leaves it running.

Issue 14: an adopted cluster carries none of hawizard's markers, so the plan must read from the
cluster itself that DRBD is already the cluster's (the CIB has a resource for it), that a
cluster with resources is no install-time placeholder, and that sbd added to a running cluster
needs the stack restarted node by node with the cluster detached. The CIB probes run here
against real file CIBs made by the real crmsh and pcs (adopt/shadow.py, ``CIB_file``);
``systemctl`` and ``rm`` are replaced by recording stubs in the post-install test, because the
command would otherwise stop this machine's services and delete its CIB files (named fakes: a
running cluster cannot run here).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hawizard.adopt.shadow import desired_cib
from hawizard.design.preset_file import load_preset
from hawizard.plan.build import build_plan
from hawizard.plan.steps.drbd import in_cib
from hawizard.plan.types import Poll, Run
from hawizard.plan.waits import NodesOnline, ServiceUp
from hawizard.render.renderer import render

needs_cib_tools = pytest.mark.skipif(shutil.which("cibadmin") is None, reason="cibadmin (pacemaker-cli-utils)")


def _cib_file(tmp_path: Path, preset: str) -> Path:
    design = load_preset(preset)
    path = tmp_path / f"{preset}.xml"
    path.write_text(desired_cib(design, render(design)))
    return path


def _sh(command: str, env: dict[str, str]) -> int:
    return subprocess.run(["sh", "-c", command], env=env, capture_output=True, timeout=60).returncode


@needs_cib_tools
@pytest.mark.parametrize("preset", ["debian12", "debian12-pcs"])
def test_in_cib_finds_the_drbd_resource_in_what_crmsh_and_pcs_write(tmp_path, preset):
    if preset == "debian12-pcs" and shutil.which("pcs") is None:
        pytest.skip("pcs is not installed")
    cib = _cib_file(tmp_path, preset)
    env = dict(os.environ, CIB_file=str(cib))
    assert _sh(in_cib("r0"), env) == 0
    assert _sh(in_cib("r1"), env) == 1, "another resource's name must not match"
    empty = tmp_path / "empty.xml"
    empty.write_text(subprocess.run(["cibadmin", "--empty"], capture_output=True, text=True, check=True).stdout)
    assert _sh(in_cib("r0"), dict(os.environ, CIB_file=str(empty))) == 1


def test_the_manual_drbd_steps_are_done_once_the_cluster_runs_drbd():
    """create-md, drbd-up, initial-sync, mkfs, the rehearsal and drbd-down: each probe starts with 'the CIB has it'."""
    plan = build_plan(load_preset("debian12"))
    for sid in ("create-md", "drbd-up", "initial-sync", "mkfs", "rehearsal", "drbd-down"):
        for node, probe in plan.step(sid).probe.items():
            assert in_cib("r0") in probe, (sid, node)
            # the CIB test comes before anything that would act on DRBD's own state
            assert probe.index(in_cib("r0")) < len(probe) - 1


@needs_cib_tools
@pytest.mark.parametrize("has_resources", [True, False])
def test_post_install_stops_only_a_placeholder_cluster(tmp_path, has_resources):
    plan = build_plan(load_preset("debian12"))
    [cmd] = [a.command for a in plan.step("post-install").actions["srv1"]
             if isinstance(a, Run) and "placeholder" in a.description]
    stubs = tmp_path / "bin"
    stubs.mkdir()
    calls = tmp_path / "calls"
    for name in ("systemctl", "rm"):  # named fakes: record, change nothing on this machine
        (stubs / name).write_text(f'#!/bin/sh\necho "{name} $*" >> {calls}\n')
        (stubs / name).chmod(0o755)
    cib = _cib_file(tmp_path, "debian12") if has_resources else tmp_path / "empty.xml"
    if not has_resources:
        cib.write_text(subprocess.run(["cibadmin", "--empty"], capture_output=True, text=True, check=True).stdout)
    env = dict(os.environ, PATH=f"{stubs}:{os.environ['PATH']}", CIB_file=str(cib))
    assert _sh(cmd, env) == 0
    done = calls.read_text() if calls.exists() else ""
    if has_resources:
        assert done == "", "a cluster with resources was stopped"
    else:
        assert "systemctl stop pacemaker corosync" in done and "rm -f /var/lib/pacemaker/cib/cib" in done


def test_sbd_start_restarts_one_node_at_a_time_detached():
    plan = build_plan(load_preset("debian12"))
    step = plan.step("sbd-start")
    assert step.where.value == "each"
    assert list(plan.step_ids).index("cluster-start") < list(plan.step_ids).index("sbd-start") \
        < list(plan.step_ids).index("cluster-config")
    for node, acts in step.actions.items():
        assert step.probe[node] == "systemctl is-active sbd >/dev/null 2>&1"
        words = [a.command if isinstance(a, Run) else f"poll {a.until.wire}" for a in acts]
        at = -1
        for pat in (r"^poll nodes-online", r"maintenance-mode -v true", r"systemctl stop pacemaker",
                    r"systemctl stop corosync", r"systemctl start corosync", r"systemctl start pacemaker",
                    r"is-active sbd", r"^poll nodes-online", r"maintenance-mode -v false", r"^poll service-up"):
            at = next((i for i, w in enumerate(words) if i > at and re.search(pat, w)), None)
            assert at is not None, f"{pat} missing or out of order in {words}"
        # the second wait for both nodes is the one after the restart
        polls = [a for a in acts if isinstance(a, Poll)]
        assert isinstance(polls[0].until, NodesOnline) and isinstance(polls[-1].until, ServiceUp)


def test_no_sbd_start_without_sbd():
    assert "sbd-start" not in build_plan(load_preset("article")).step_ids
    design = load_preset("debian12")
    design.fencing.method = "none"
    assert "sbd-start" not in build_plan(design).step_ids


def test_drbd_adjust_only_where_the_resource_is_up_and_differs():
    plan = build_plan(load_preset("debian12"))
    step = plan.step("drbd-adjust")
    ids = list(plan.step_ids)
    assert ids.index("drbd-files") + 1 == ids.index("drbd-adjust")
    for node, probe in step.probe.items():
        assert probe.startswith("! (cs=$(drbdadm cstate r0")
        assert '{ hw_adj=$(drbdadm -d adjust r0 2>&1); test -z "$hw_adj"; }' in probe
        assert [a.command for a in step.actions[node]] == ["drbdadm adjust r0"]


def test_the_sites_own_page_is_neither_diffed_nor_looked_for_line_by_line():
    """An adopted cluster's index.html is the site's: verify wants any answer, and diff leaves the page alone."""
    from hawizard.adopt.nodediff import written_on

    design = load_preset("debian12")
    assert "index-html" in written_on(design, render(design))
    [fetch] = [a for a in build_plan(design).step("verify").actions["srv2"] if isinstance(a, Run)]
    assert "grep -qxF -e '<body><p>hawizard test page</p></body>'" in fetch.command
    design.service.verify_page = "any-answer"
    assert "index-html" not in written_on(design, render(design))
    [fetch] = [a for a in build_plan(design).step("verify").actions["srv2"] if isinstance(a, Run)]
    assert "grep -q ." in fetch.command and "grep -qxF" not in fetch.command
    # the rehearsal of a new build still checks the page it wrote itself
    rehearsal = " ".join(a.command for a in build_plan(design).step("rehearsal").actions["srv1"] if isinstance(a, Run))
    assert "grep -qxF" in rehearsal


@pytest.mark.parametrize("enabled", [True, False])
def test_boot_settings_are_changed_only_when_they_differ(tmp_path, enabled):
    """post-install's disables and sbd-config's enable run `systemctl enable/disable` (a daemon reload, some
    25 s each on the lab) only when `systemctl is-enabled` says the setting differs."""
    plan = build_plan(load_preset("debian12"))
    cmds = [a.command for a in plan.step("post-install").actions["srv1"] if isinstance(a, Run)
            and ("apache2" in a.command or "disable drbd" in a.command)]
    cmds += [a.command for a in plan.step("sbd-config").actions["srv1"] if isinstance(a, Run)
             and "|| systemctl enable sbd" in a.command]
    assert len(cmds) == 3, cmds
    stubs, calls = tmp_path / "bin", tmp_path / "calls"
    stubs.mkdir()
    # named fake: records its calls, answers is-enabled and is-active as told, changes nothing on this machine
    (stubs / "systemctl").write_text(
        f'#!/bin/sh\necho "systemctl $*" >> {calls}\n'
        f'case "$1" in is-enabled) exit {0 if enabled else 1};; is-active) exit 3;; esac\nexit 0\n')
    (stubs / "systemctl").chmod(0o755)
    env = dict(os.environ, PATH=f"{stubs}:{os.environ['PATH']}")
    for cmd in cmds:
        assert _sh(cmd, env) == 0, cmd
    changed = [c for c in calls.read_text().splitlines() if c.split()[1] in ("enable", "disable")]
    if enabled:  # apache2 and drbd get disabled, sbd is left as it is
        assert changed == ["systemctl disable apache2", "systemctl disable drbd"]
    else:
        assert changed == ["systemctl enable sbd"]


@pytest.mark.parametrize("running, design_change, refused", [
    ("", {}, False),  # corosync not running: a new build or a stopped cluster takes any file
    ("cluster_name=hacluster transport=knet crypto_cipher=aes256 crypto_hash=sha256", {}, False),
    ("cluster_name=hacluster secauth=on", {}, False),  # secauth: on implies aes256 and sha256
    ("cluster_name=hacluster transport=knet crypto_cipher=aes256 crypto_hash=sha256",
     {"crypto_cipher": "none", "crypto_hash": "none"}, True),
    ("cluster_name=webcluster transport=knet crypto_cipher=aes256 crypto_hash=sha256", {}, True),
    ("cluster_name=hacluster", {}, True),  # crypto unset: none, the design's aes256 would not talk to it
])
def test_a_running_corosync_is_not_given_another_transport_crypto_or_name(tmp_path, running, design_change,
                                                                           refused):
    """membership-files' first commands, run by a real sh against stand-ins (named as such) for systemctl
    and corosync-cmapctl that answer as a running corosync with the ``running`` totem keys would."""
    design = load_preset("debian12")
    design.corosync = dataclasses.replace(design.corosync, **design_change)
    step = build_plan(design).step("membership-files")
    checks = [a.command for a in step.actions["srv1"] if isinstance(a, Run)]
    assert checks and all("corosync-cmapctl" in c for c in checks)
    stubs = tmp_path / "bin"
    stubs.mkdir()
    keys = dict(kv.split("=") for kv in running.split())
    (stubs / "systemctl").write_text(f'#!/bin/sh\n[ "$1 $2" = "is-active corosync" ] && exit {0 if keys else 3}\n'
                                     'exit 1\n')
    lines = "\n".join(f'  totem.{k}) echo "totem.{k} (str) = {v}" ;;' for k, v in keys.items())
    (stubs / "corosync-cmapctl").write_text(f'#!/bin/sh\ncase "$2" in\n{lines}\n'
                                            '  *) echo "Can\'t get key $2. Error CS_ERR_NOT_EXIST" >&2; exit 1 ;;\n'
                                            'esac\n')
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    env = dict(os.environ, PATH=f"{stubs}:{os.environ['PATH']}")
    results = [subprocess.run(["sh", "-c", c], env=env, capture_output=True, text=True, timeout=30)
               for c in checks]
    failed = [r for r in results if r.returncode != 0]
    assert bool(failed) == refused, [r.stderr for r in results]
    for r in failed:
        assert "not rolled node by node" in r.stderr


def test_the_cib_digest_is_written_where_its_directory_may_not_exist_yet(tmp_path):
    """cluster-config writes its digest after the load; on a cluster built by hand no marker has made the
    directory yet (the by-hand lab run of 2026-12-08 failed there): the command makes it. Run by a real sh
    with the directory moved under tmp_path and a stand-in for cibadmin (named as such)."""
    from hawizard.plan.steps.cluster import CIB_DIGEST
    from hawizard.plan.types import DONE_DIR

    command = next(a.command for a in build_plan(load_preset("debian12")).step("cluster-config").actions["srv1"]
                   if isinstance(a, Run) and CIB_DIGEST in a.command)
    root = tmp_path / "root"
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "cibadmin").write_text("#!/bin/sh\necho '<group id=\"rg_httpd\"/>'\n")
    (stubs / "cibadmin").chmod(0o755)
    moved = command.replace(DONE_DIR, f"{root}{DONE_DIR}")
    assert moved != command
    env = dict(os.environ, PATH=f"{stubs}:{os.environ['PATH']}")
    assert _sh(moved, env) == 0
    assert (root / CIB_DIGEST.lstrip("/")).read_text().strip()
