"""Fencing as a design decision: what each method renders, plans, lints and refuses, and how it is timed.

The real validators (crm_verify, pcs -f, crm_simulate) check the same designs in tests/validators;
here each rule is checked on its own, so that a broken one is named by the test that fails.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from support.designs import with_ipmi, with_pdu, with_sbd, without_fencing

from hawizard.common.errors import InputError
from hawizard.design import lint, timing, validate
from hawizard.design.preset_file import load_preset, read_preset
from hawizard.plan.prepare import prepare
from hawizard.render.renderer import render

FIXTURES = Path(__file__).parent / "fixtures" / "schema1"


def warnings(design) -> set[str]:
    return {p.code for p in lint.check(design) if p.severity == "warning"}


def errors(design) -> dict[str, str]:
    return {p.path: p.code for p in validate.check(design) if p.severity == "error"}


def file_of(rendering, fid: str) -> str:
    return next(f.content for f in rendering.files if f.id == fid)


def config_of(rendering) -> str:
    return next(f.content for f in rendering.files if f.path.endswith((".crm", ".pcs.sh")))


# -- the shipped presets ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["debian12", "debian12-pcs", "el9"])
def test_modern_presets_fence_and_lint_without_a_fencing_warning(name):
    d = load_preset(f"presets/{name}.toml")
    assert d.fenced
    fencing_codes = {"fencing-off", "fence-race", "fence-power", "fence-path", "stonith-timeout", "drbd-fencing",
                     "sbd-watchdog", "quorum-ignored"}
    assert not warnings(d) & fencing_codes, [p for p in lint.check(d) if p.code in fencing_codes]


def test_the_article_keeps_its_choice_and_lint_says_why_it_is_risky():
    d = load_preset("presets/article.toml")
    assert d.fencing.method == "none"
    problem = next(p for p in lint.check(d) if p.code == "fencing-off")
    assert problem.severity == "warning" and "split brain" in problem.message


# -- lint: each fencing risk named, with its fix --------------------------------------------------

def test_no_race_protection_is_a_warning_and_priority_clears_it():
    d = with_ipmi(load_preset("presets/debian12.toml"), race="none")
    assert "fence-race" in warnings(d)
    assert "fence-race" not in warnings(with_ipmi(load_preset("presets/debian12.toml"), race="priority"))


def test_an_onboard_bmc_with_failover_on_power_loss_is_a_warning_and_a_pdu_is_not():
    d = with_ipmi(load_preset("presets/debian12.toml"))
    assert d.answers.power_loss == "failover"
    p = next(p for p in lint.check(d) if p.code == "fence-power")
    assert p.path.startswith("nodes[") and "sbd" in p.message  # the fix is named
    assert "fence-power" not in warnings(with_pdu(load_preset("presets/debian12.toml")))


def test_a_fence_device_on_an_interconnect_is_a_warning():
    d = with_ipmi(load_preset("presets/debian12.toml"))
    ic = d.nodes[1].interconnects[0].address.split("/")[0]
    d.nodes[0].fence_params["ip"] = ic.rsplit(".", 1)[0] + ".77"
    found = [p for p in lint.check(d) if p.code == "fence-path"]
    assert [p.path for p in found] == ["nodes[0].fence_params.ip"]


def test_a_stonith_timeout_shorter_than_the_fencing_path_is_a_warning():
    d = with_sbd(load_preset("presets/debian12.toml"))
    path = timing.fence_path_s(d)  # 15 s delay + 30 s msgwait
    assert path == 45
    d.fencing.stonith_timeout_s = int(path)
    assert "stonith-timeout" in warnings(d)
    d.fencing.stonith_timeout_s = 0  # derived
    assert "stonith-timeout" not in warnings(d)


def test_drbd_not_waiting_for_the_fence_is_a_warning():
    d = with_sbd(load_preset("presets/debian12.toml"))
    d.drbd.fencing = "resource-only"
    assert "drbd-fencing" in warnings(d)


def test_a_short_sbd_watchdog_is_a_warning():
    d = with_sbd(load_preset("presets/debian12.toml"))
    d.fencing.watchdog_timeout_s, d.fencing.msgwait_timeout_s = 5, 10
    assert "sbd-watchdog" in warnings(d)


# -- validate: what cannot work is refused, named at its field ------------------------------------

def test_drbd_waiting_for_a_fence_that_never_comes_is_refused():
    d = without_fencing(load_preset("presets/debian12.toml"))
    d.drbd.fencing = "resource-and-stonith"
    assert errors(d).get("drbd.fencing") == "drbd-fencing"


def test_fence_as_the_answer_without_fencing_is_refused():
    d = without_fencing(load_preset("presets/debian12.toml"))
    d.answers.switchover_failure = "fence"
    assert errors(d).get("fencing.method") == "fence-intent"


@pytest.mark.parametrize("devices, path", [([], "fencing.sbd_devices"), (["/dev/sdb"], "fencing.sbd_devices[0]")])
def test_sbd_needs_a_third_disk_of_its_own(devices, path):
    d = with_sbd(load_preset("presets/debian12.toml"), devices=tuple(devices))
    assert errors(d).get(path) == "sbd-device"


def test_msgwait_below_twice_the_watchdog_is_refused():
    d = with_sbd(load_preset("presets/debian12.toml"))
    d.fencing.msgwait_timeout_s = 2 * d.fencing.watchdog_timeout_s - 1
    assert errors(d).get("fencing.msgwait_timeout_s") == "sbd-timeouts"


def test_heartbeat_cannot_run_sbd_nor_delay_a_fence():
    d = with_sbd(load_preset("presets/article.toml"))
    d.drbd.fencing = "resource-and-stonith"
    found = errors(d)
    assert found.get("fencing.method") == "sbd-stack" and found.get("fencing.race") == "fence-race"


# -- timing: the fence is in the worst case -------------------------------------------------------

def test_the_derived_stonith_timeout_covers_delay_and_fence_with_a_margin():
    sbd = with_sbd(load_preset("presets/debian12.toml"))
    assert timing.derived_stonith_timeout_s(sbd) == 60  # 1.2 x (15 + 30) = 54, never below 60
    sbd.fencing.msgwait_timeout_s, sbd.fencing.watchdog_timeout_s = 60, 30
    assert timing.derived_stonith_timeout_s(sbd) == 90  # 1.2 x (15 + 60)
    ipmi = with_ipmi(load_preset("presets/debian12.toml"))
    assert timing.derived_stonith_timeout_s(ipmi) == 90  # 1.2 x (15 + 60 for the agent's action)


def test_the_node_loss_worst_case_includes_the_fence():
    fenced = with_sbd(load_preset("presets/debian12.toml"))
    open_ = without_fencing(load_preset("presets/debian12.toml"))
    e_fenced, e_open = timing.estimate(fenced), timing.estimate(open_)
    assert e_fenced.fence_s == 45 and e_open.fence_s == 0
    assert e_fenced.node_loss_s >= e_fenced.detection_s + e_fenced.fence_s


# -- rendering: each method and race as the stack ships it -----------------------------------------

def test_sbd_on_debian_renders_the_settings_file_and_external_sbd():
    d = with_sbd(load_preset("presets/debian12.toml"))
    r = render(d)
    conf = file_of(r, "sbd-config")
    assert re.search(r"^SBD_DEVICE=.?/dev/disk/by-id/wwn-0x6001405a1b2c3d4e5f60718293a4b5c6", conf, re.M)
    assert re.search(r"^SBD_WATCHDOG_DEV=.?/dev/watchdog", conf, re.M)
    assert re.search(r"^SBD_WATCHDOG_TIMEOUT=15$", conf, re.M)
    cfg = config_of(r)
    assert "stonith:external/sbd" in cfg and "stonith-enabled=true" in cfg
    assert "priority-fencing-delay=15s" in cfg and re.search(r"ms\S* .*priority=1", cfg)


def test_sbd_on_el9_uses_fence_sbd_and_the_sysconfig_file():
    d = with_sbd(load_preset("presets/el9.toml"), race="static")
    r = render(d)
    assert next(f.path for f in r.files if f.id == "sbd-config") == "/etc/sysconfig/sbd"
    cfg = config_of(r)
    assert "stonith create fence_sbd fence_sbd devices=" in cfg
    assert "pcmk_delay_base=srv1:15s;srv2:0s" in cfg and "priority-fencing-delay" not in cfg


@pytest.mark.parametrize("preset, spelled", [("debian12", 'pcmk_host_list="srv1 srv2"'),
                                             ("el9", "'pcmk_host_list=srv1 srv2'")])
def test_the_sbd_device_names_the_nodes_it_fences(preset, spelled):
    """A static host list: no `list` action (a Python start for fence_sbd, 13 s on the lab) before each fence,
    which would eat the race delay (render/fencing.py)."""
    cfg = config_of(render(with_sbd(load_preset(f"presets/{preset}.toml"))))
    [line] = [ln for ln in cfg.splitlines() if "sbd" in ln and ("primitive fence_" in ln or "stonith create" in ln)]
    assert spelled in line, line


def test_a_static_race_delays_only_the_first_nodes_device():
    r = render(with_ipmi(load_preset("presets/debian12.toml"), race="static"))
    lines = {ln.split()[1]: ln for ln in config_of(r).splitlines() if ln.startswith("primitive fence_")}
    assert "pcmk_delay_base=15s" in lines["fence_srv1"] and "pcmk_delay" not in lines["fence_srv2"]


def test_a_random_race_delays_both_by_up_to_the_delay():
    r = render(with_ipmi(load_preset("presets/debian12.toml"), race="random"))
    lines = [ln for ln in config_of(r).splitlines() if ln.startswith("primitive fence_")]
    assert len(lines) == 2 and all("pcmk_delay_max=15s" in ln for ln in lines)


@pytest.mark.parametrize("answer, on_fail", [("fence", "on-fail=fence"), ("manual", "on-fail=block")])
def test_a_failed_stop_does_what_the_design_answered(answer, on_fail):
    d = with_sbd(load_preset("presets/debian12.toml"))
    d.answers.switchover_failure = answer
    stops = [ln for ln in config_of(render(d)).split(" op ") if ln.startswith("stop ")]
    assert stops and all(on_fail in s for s in stops), stops


def test_without_fencing_nothing_fences_and_stonith_is_off():
    cfg = config_of(render(without_fencing(load_preset("presets/debian12.toml"))))
    assert "stonith-enabled=false" in cfg and "primitive fence_" not in cfg and "on-fail=fence" not in cfg


# -- the plan: the disk initialised once, confirmed; sbd enabled before the cluster starts ----------

def test_the_sbd_disk_is_initialised_by_a_confirmed_step_before_the_cluster_starts():
    p = prepare(with_sbd(load_preset("presets/debian12.toml"))).plan
    ids = list(p.step_ids)
    step = next(s for s in p.steps if s.id == "sbd-device")
    assert step.destructive and step.confirm == "sbd create"
    assert step.probe and "dump" in next(iter(step.probe.values()))  # an initialised disk is left alone
    assert ids.index("sbd-device") < ids.index("sbd-config") < ids.index("cluster-start")


def test_agent_and_none_have_no_sbd_steps():
    for d in (with_ipmi(load_preset("presets/debian12.toml")), without_fencing(load_preset("presets/debian12.toml"))):
        assert not {"sbd-device", "sbd-config"} & set(prepare(d).plan.step_ids)


# -- schema 1 presets still load ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["article", "debian12", "debian12-pcs", "el9"])
def test_a_schema_1_preset_is_read_as_schema_2_with_a_note(name, tmp_path):
    src = tmp_path / f"{name}.toml"
    shutil.copy(FIXTURES / f"{name}.toml", src)
    loaded = read_preset(src)
    was_on = "stonith_enabled = true" in src.read_text()
    assert loaded.design.fencing.method == ("agent" if was_on else "none")
    assert any("schema_version 1" in n for n in loaded.source.notes)


def test_a_schema_1_value_of_the_wrong_type_is_named_at_its_own_line(tmp_path):
    text = (FIXTURES / "debian12.toml").read_text()
    text = text.replace("stonith_enabled = true", 'stonith_enabled = "yes"')
    src = tmp_path / "old.toml"
    src.write_text(text)
    with pytest.raises(InputError) as err:
        read_preset(src)
    line = text.splitlines().index('stonith_enabled = "yes"') + 1
    assert f"old.toml:{line}" in str(err.value) and "cluster.stonith_enabled" in str(err.value)



def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def test_the_sbd_start_check_waits_for_an_activating_sbd_and_quotes_its_journal_when_it_never_comes(tmp_path):
    """sbd-start's check, run by a real sh against stand-ins for systemctl and journalctl (named as such):
    a unit that becomes active on the third look passes; one that never does fails with sbd's own words."""
    import subprocess

    from hawizard.plan.steps.fencing import _sbd_came_up

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    counter = tmp_path / "looks"
    _stub(bin_dir, "systemctl", f'n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}\n'
                                f'[ -n "$ACTIVE_AT" ] && [ $n -ge "$ACTIVE_AT" ]\n')
    _stub(bin_dir, "journalctl", 'echo "sbd[812]: error: open_any_device: No devices found"\n'
                                 'echo "systemd[1]: sbd.service: Failed with result exit-code."\n')
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    command = _sbd_came_up("systemctl is-active sbd >/dev/null 2>&1", wait_s=4)

    up = subprocess.run(["sh", "-c", command], env={**env, "ACTIVE_AT": "3"}, capture_output=True, text=True,
                        timeout=60)
    # active at the third look, then once more to decide
    assert up.returncode == 0 and counter.read_text().strip() == "4", up.stderr

    counter.unlink()
    down = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=60)
    assert down.returncode != 0
    last = down.stderr.strip().splitlines()[-1]
    assert last.startswith("sbd is not active; its journal ends: ") and "No devices found" in last
    assert "sbd journal: sbd[812]" in down.stderr


def test_sbd_config_reloads_systemd_when_corosync_does_not_yet_require_sbd(tmp_path):
    """sbd-config's last commands, run by a real sh against a stand-in for systemctl (named as such).

    The by-hand lab run of 2026-12-08: sbd installed into a running cluster was enabled on disk but
    systemd had not read the link, so corosync's restart never started sbd. The stand-in reports
    corosync's Requires= without sbd until a daemon-reload; one that never lists it fails the check."""
    import subprocess

    from hawizard.plan.types import Run

    plan = prepare(with_sbd(load_preset("presets/debian12.toml"))).plan
    for step_id in ("sbd-config", "sbd-start"):
        step = next(s for s in plan.steps if s.id == step_id)
        node = next(iter(step.actions))
        runs = [a.command for a in step.actions[node] if isinstance(a, Run)]
        assert any("systemctl show -p Requires corosync" in c for c in runs), step_id
    config = next(s for s in plan.steps if s.id == "sbd-config")
    runs = [a.command for a in config.actions[next(iter(config.actions))] if isinstance(a, Run)]
    tail = [c for c in runs if "Requires" in c]
    assert len(tail) == 2 and "daemon-reload" in tail[0] and "daemon-reload" not in tail[1]
    sbd_start = next(s for s in plan.steps if s.id == "sbd-start")
    start_runs = [a.command for a in sbd_start.actions[next(iter(sbd_start.actions))] if isinstance(a, Run)]
    first_stop = next(i for i, c in enumerate(start_runs) if c.startswith("systemctl stop"))
    assert any("Requires" in c for c in start_runs[:first_stop]), "checked before anything is restarted"

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    reloaded = tmp_path / "reloaded"
    _stub(bin_dir, "systemctl",
          f'case "$1" in\n'
          f'  daemon-reload) touch {reloaded} ;;\n'
          f'  show) if [ -f {reloaded} ] && [ -z "$NEVER" ]; then\n'
          f'          echo "Requires=sysinit.target sbd.service system.slice"\n'
          f'        else echo "Requires=sysinit.target system.slice"; fi ;;\n'
          f'esac\n')
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    both = " && ".join(tail)
    ok = subprocess.run(["sh", "-c", both], env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and reloaded.exists(), ok.stderr
    reloaded.unlink()
    never = subprocess.run(["sh", "-c", both], env={**env, "NEVER": "1"}, capture_output=True, text=True,
                           timeout=60)
    assert never.returncode != 0 and "corosync does not require sbd" in never.stderr
