"""The keys issue 13 adds so that designs the guides discuss can be expressed: each one is rendered
when set, leaves the files exactly as before at its default, and is refused (with a reason naming
it) on a stack that cannot carry it. The real tools check the rendered files in tests/validators."""

from __future__ import annotations

import re

import pytest

from hawizard.design import lint, validate
from hawizard.design.model import Design
from hawizard.design.preset_file import load_preset
from hawizard.render.renderer import render

PRESETS = ("article", "debian12", "debian12-pcs", "el9")


def _files(d: Design) -> dict[str, str]:
    return {f.id: f.content for f in render(d).files}


def _errors(d: Design) -> list:
    return [p for p in validate.check(d) if p.severity == "error"]


# -- cluster.recheck_interval_s -> cluster-recheck-interval -----------------------------------------

@pytest.mark.parametrize("preset", PRESETS)
def test_recheck_interval_is_rendered_as_the_property_when_set(preset):
    d = load_preset(preset)
    assert d.cluster.recheck_interval_s == 0
    before = _files(d)
    assert "cluster-recheck-interval" not in before["cluster-config"]
    d.cluster.recheck_interval_s = 300
    assert not _errors(d)
    after = _files(d)
    # the same property line (crm) or property set command (pcs) as no-quorum-policy
    line = next(ln for ln in after["cluster-config"].splitlines() if "no-quorum-policy=" in ln)
    assert re.search(r" cluster-recheck-interval=300s( |$)", line), line
    assert {k for k in after if after[k] != before[k]} == {"cluster-config"}


# -- corosync.wait_for_all -> votequorum's wait_for_all -----------------------------------------------

def _quorum(text: str) -> str:
    return re.search(r"^quorum \{\n(.*?)^\}", text, re.M | re.S).group(1)


@pytest.mark.parametrize("preset", ["debian12", "debian12-pcs", "el9"])
@pytest.mark.parametrize("value, line", [("on", "wait_for_all: 1"), ("off", "wait_for_all: 0")])
def test_wait_for_all_is_rendered_in_the_quorum_section_when_set(preset, value, line):
    d = load_preset(preset)
    assert d.corosync.wait_for_all == "auto"
    before = _files(d)
    assert "wait_for_all" not in before["corosync-conf"]  # auto: two_node alone decides, as before
    d.corosync.wait_for_all = value
    assert not _errors(d)
    after = _files(d)
    assert f"\t{line}\n" in _quorum(after["corosync-conf"])
    assert {k for k in after if after[k] != before[k]} == {"corosync-conf"}


@pytest.mark.parametrize("value", ["on", "off"])
def test_wait_for_all_is_refused_on_heartbeat(value):
    d = load_preset("article")
    assert not _errors(d)
    d.corosync.wait_for_all = value
    (p,) = _errors(d)
    assert p.path == "corosync.wait_for_all" and "Heartbeat has no votequorum" in p.message


def test_wait_for_all_off_with_two_node_warns():
    d = load_preset("debian12")
    assert d.fenced and d.corosync.two_node
    assert not [p for p in lint.check(d) if p.code == "two-node-no-wait"]
    d.corosync.wait_for_all = "off"
    (p,) = [p for p in lint.check(d) if p.code == "two-node-no-wait"]
    assert p.severity == "warning" and p.path == "corosync.wait_for_all" and "fences the peer" in p.message
    d.corosync.wait_for_all = "on"  # explicit, as two_node implies it: nothing to say
    assert not [p for p in lint.check(d) if p.code == "two-node-no-wait"]
    d.corosync.wait_for_all, d.corosync.two_node = "off", False  # no two_node: a lone node is not quorate anyway
    assert not [p for p in lint.check(d) if p.code == "two-node-no-wait"]


def test_wait_for_all_off_takes_back_what_lint_said_of_it():
    """The notes that rely on wait_for_all (two_node's wait after a full stop, the ignore warning's
    'withholds quorum') follow the explicit setting."""
    d = load_preset("debian12")
    d.fencing.method = "none"
    d.drbd.fencing = "dont-care"
    assert [p.path for p in lint.check(d) if p.code == "two-node-wait"] == ["corosync.two_node"]
    d.corosync.wait_for_all = "off"
    assert not [p for p in lint.check(d) if p.code == "two-node-wait"]
    assert [p for p in lint.check(d) if p.code == "two-node-no-wait" and "copies diverge" in p.message]
    d.cluster.no_quorum_policy = "ignore"
    (p,) = [p for p in lint.check(d) if p.code == "two-node-quorum"]
    assert "withholds quorum" not in p.message


# -- corosync.link_mode -> totem.link_mode (knet) -----------------------------------------------------

def _totem(text: str) -> str:
    return re.search(r"^totem \{\n(.*?)^\}", text, re.M | re.S).group(1)


@pytest.mark.parametrize("preset", ["debian12", "debian12-pcs", "el9"])
@pytest.mark.parametrize("mode", ["active", "rr"])
def test_link_mode_is_rendered_in_totem_for_knet(preset, mode):
    d = load_preset(preset)
    assert d.corosync.transport == "knet" and d.corosync.link_mode == "passive"
    before = _files(d)
    assert "link_mode" not in before["corosync-conf"]  # passive: knet's default, written as before
    d.corosync.link_mode = mode
    assert not _errors(d)
    after = _files(d)
    assert f"\tlink_mode: {mode}\n" in _totem(after["corosync-conf"])
    assert "passive mode" not in after["corosync-conf"]  # the comment no longer claims the priorities decide
    assert {k for k in after if after[k] != before[k]} == {"corosync-conf"}


@pytest.mark.parametrize("preset, setup, says", [
    ("article", None, "Heartbeat has no knet links"),
    ("debian12", "udpu", "udpu carries one link only"),
])
@pytest.mark.parametrize("mode", ["active", "rr"])
def test_link_mode_is_refused_without_knet(preset, setup, says, mode):
    d = load_preset(preset)
    if setup == "udpu":
        d.corosync.transport, d.corosync.crypto_cipher, d.corosync.crypto_hash = "udpu", "none", "none"
        for n in d.nodes:
            n.interconnects = n.interconnects[:1]
    assert not _errors(d)
    d.corosync.link_mode = mode
    (p,) = _errors(d)
    assert p.path == "corosync.link_mode" and says in p.message


def test_round_robin_puts_membership_on_the_replication_link():
    """passive keeps the membership off the replication link (it has the lowest priority); rr sends
    part of it there; active sends every packet on every link."""
    d = load_preset("debian12")
    assert len(d.nodes[0].interconnects) > 1

    def warned(mode):
        d.corosync.link_mode = mode
        return [p for p in lint.check(d) if p.code == "membership-on-replication-link"]
    assert not warned("passive") and not warned("active")
    (p,) = warned("rr")
    assert p.severity == "warning" and p.path == "corosync.link_mode"


# -- drbd.c_plan_ahead, c_fill_target, c_max_rate, c_min_rate: the dynamic resync controller -----------

def _disk(text: str) -> str:
    return re.search(r"^\tdisk \{\n(.*?)^\t\}", text, re.M | re.S).group(1)


CONTROLLER = {"c_plan_ahead": (40, "c-plan-ahead 40;"), "c_fill_target": (200, "c-fill-target 200;"),
              "c_max_rate": ("60M", "c-max-rate 60M;"), "c_min_rate": ("1M", "c-min-rate 1M;")}


@pytest.mark.parametrize("preset", ["debian12", "el9"])  # DRBD 8.4 and 9
@pytest.mark.parametrize("key", sorted(CONTROLLER))
def test_resync_controller_keys_are_rendered_in_the_disk_section(preset, key):
    d = load_preset(preset)
    assert getattr(d.drbd, key) in (-1, "")
    before = _files(d)
    disk = _disk(before["drbd-global"])
    # not set: today's rendering, resync_rate as the controller's cap and nothing else of the controller
    assert f"c-max-rate {d.drbd.resync_rate};" in disk
    assert not re.search(r"^\t\tc-(plan-ahead|fill-target|min-rate) ", disk, re.M)
    value, line = CONTROLLER[key]
    setattr(d.drbd, key, value)
    assert not _errors(d)
    after = _files(d)
    disk = _disk(after["drbd-global"])
    assert line in disk
    if key == "c_max_rate":  # the explicit key wins over resync_rate
        assert f"c-max-rate {d.drbd.resync_rate};" not in disk and f"resync-rate {d.drbd.resync_rate};" in disk
    assert {k for k in after if after[k] != before[k]} == {"drbd-global"}


def test_resync_controller_off_says_so():
    d = load_preset("el9")
    d.drbd.c_plan_ahead = 0
    disk = _disk(_files(d)["drbd-global"])
    assert "c-plan-ahead 0;" in disk and "controller is on" not in disk


@pytest.mark.parametrize("key", sorted(CONTROLLER))
def test_resync_controller_keys_are_refused_on_drbd_83(key):
    d = load_preset("article")
    assert not _errors(d)
    setattr(d.drbd, key, CONTROLLER[key][0])
    (p,) = _errors(d)
    assert p.path == f"drbd.{key}" and "8.3" in p.message


@pytest.mark.parametrize("key, value, ok", [
    ("c_max_rate", "249K", False), ("c_max_rate", "250K", True), ("c_max_rate", "4G", True),
    ("c_max_rate", "5G", False), ("c_min_rate", "4G", True), ("c_min_rate", "5G", False),
])
def test_resync_controller_rates_are_checked_against_drbd_limits(key, value, ok):
    d = load_preset("debian12")
    setattr(d.drbd, key, value)
    assert [p.path for p in _errors(d)] == ([] if ok else [f"drbd.{key}"])


def test_an_explicit_cap_lifts_the_resync_rate_minimum_and_is_what_lint_weighs():
    d = load_preset("debian12")
    d.drbd.resync_rate = "100K"  # below c-max-rate's 250K: refused while it is the cap
    assert [p.path for p in _errors(d)] == ["drbd.resync_rate"]
    d.drbd.c_max_rate = "30M"
    assert not _errors(d)
    d.drbd.c_max_rate = "1G"  # more than the 1000 Mbit/s link: the cap is what the lint measures
    assert [p.path for p in lint.check(d) if p.code == "resync-rate-link"] == ["drbd.c_max_rate"]
    d.drbd.c_plan_ahead = 0  # the controller off: resync_rate is the rate again
    assert not [p for p in lint.check(d) if p.code == "resync-rate-link"]


# -- corosync.qdevice -> quorum { device { ... } } ------------------------------------------------------

def _with_qdevice(preset: str, **settings) -> Design:
    d = load_preset(preset)
    d.corosync.qdevice.host, d.corosync.two_node = "192.168.0.50", False
    for key, value in settings.items():
        setattr(d.corosync.qdevice, key, value)
    return d


def _device(text: str) -> str:
    return re.search(r"^\tdevice \{\n(.*?)^\t\}", _quorum(text), re.M | re.S).group(1)


@pytest.mark.parametrize("preset", ["debian12", "debian12-pcs", "el9"])
def test_quorum_device_is_rendered_in_the_quorum_section(preset):
    d = load_preset(preset)
    assert d.corosync.qdevice.host == ""
    before = _files(d)
    assert "device" not in _quorum(before["corosync-conf"])  # no host: the quorum section as before
    d = _with_qdevice(preset)
    assert not _errors(d)
    after = _files(d)
    quorum = _quorum(after["corosync-conf"])
    # votequorum refuses two_node together with a device: the line is gone, not set to 0
    assert "two_node" not in quorum.replace("# two_node", "")
    device = _device(after["corosync-conf"])
    # corosync-qdevice(8): model net; ffsplit needs votes: 1; net.host, algorithm, tls, tie_breaker
    for line in ("model: net", "votes: 1", "host: 192.168.0.50", "algorithm: ffsplit", "tls: on",
                 "tie_breaker: lowest"):
        assert f"\t{line}\n" in device, line
    assert "port:" not in device  # 5403 is qnetd's default
    assert {k for k in after if after[k] != before[k]} == {"corosync-conf"}


def test_quorum_device_settings_reach_the_file():
    d = _with_qdevice("el9", port=5404, algorithm="lms", tls="off", tie_breaker="highest")
    assert not _errors(d)
    device = _device(_files(d)["corosync-conf"])
    for line in ("port: 5404", "algorithm: lms", "tls: off", "tie_breaker: highest"):
        assert f"\t{line}\n" in device, line
    assert "votes:" not in device  # corosync-qdevice(8): lms wants the default number of votes


def test_quorum_device_is_refused_on_heartbeat():
    d = load_preset("article")
    d.corosync.qdevice.host = "192.168.0.50"
    (p,) = _errors(d)
    assert p.path == "corosync.qdevice.host" and "Heartbeat has no votequorum" in p.message


def test_quorum_device_refuses_two_node_and_a_node_as_host():
    d = load_preset("debian12")
    d.corosync.qdevice.host = "192.168.0.50"
    (p,) = _errors(d)
    assert p.path == "corosync.two_node" and "set two_node = false" in p.message
    d.corosync.two_node = False
    assert not _errors(d)
    for own in (d.nodes[1].service_address.split("/")[0], d.nodes[0].name, d.service.vip,
                d.nodes[0].interconnects[0].address.split("/")[0]):
        d.corosync.qdevice.host = own
        assert [p.path for p in _errors(d)] == ["corosync.qdevice.host"], own


def test_quorum_device_is_installed_and_its_needs_are_said():
    from hawizard.plan.build import build_plan
    d = _with_qdevice("debian12")
    install = next(s for s in build_plan(d).steps if s.id == "install")
    assert "corosync-qdevice" in install.explain
    assert "corosync-qdevice" not in next(s for s in build_plan(load_preset("debian12")).steps
                                          if s.id == "install").explain
    (p,) = [p for p in lint.check(d) if p.code == "quorum-device"]
    assert p.severity == "info" and "corosync-qnetd must run on 192.168.0.50" in p.message
    assert "corosync-qdevice-net-certutil -Q -n hacluster 192.168.0.50 srv1 srv2" in p.message
    d.corosync.qdevice.tls = "off"
    (p,) = [p for p in lint.check(d) if p.code == "quorum-device"]
    assert "certificate" not in p.message


def test_quorum_device_keeps_the_survivor_quorate_for_the_lint():
    """Without two_node, lint warns that the survivor loses quorum; a quorum device's vote prevents that."""
    d = load_preset("debian12")
    d.corosync.two_node = False
    assert [p.path for p in lint.check(d) if p.code == "two-node-quorum"] == ["cluster.no_quorum_policy"]
    d.corosync.qdevice.host = "192.168.0.50"
    assert not [p for p in lint.check(d) if p.code == "two-node-quorum"]


# -- drbd.quorum, drbd.on_no_quorum -> DRBD 9 options ---------------------------------------------------

def _options(text: str) -> str:
    m = re.search(r"^\toptions \{\n(.*?)^\t\}", text, re.M | re.S)
    return m.group(1) if m else ""


@pytest.mark.parametrize("quorum", ["majority", "all"])
@pytest.mark.parametrize("on_no_quorum", ["suspend-io", "io-error"])
def test_drbd_quorum_is_rendered_in_the_options_section_on_drbd9(quorum, on_no_quorum):
    d = load_preset("el9")
    before = _files(d)
    assert not _options(before["drbd-global"])
    d.drbd.quorum, d.drbd.on_no_quorum = quorum, on_no_quorum
    assert not _errors(d)
    after = _files(d)
    options = _options(after["drbd-global"])
    for line in (f"quorum {quorum};", f"on-no-quorum {on_no_quorum};", f"on-no-data-accessible {on_no_quorum};"):
        assert f"\t\t{line}\n" in options, line
    assert {k for k in after if after[k] != before[k]} == {"drbd-global"}


@pytest.mark.parametrize("preset", ["article", "debian12", "debian12-pcs"])  # DRBD 8.3 and 8.4
@pytest.mark.parametrize("key, value", [("quorum", "majority"), ("on_no_quorum", "io-error")])
def test_drbd_quorum_is_refused_before_drbd9(preset, key, value):
    d = load_preset(preset)
    setattr(d.drbd, key, value)
    (p,) = _errors(d)
    assert p.path == f"drbd.{key}" and "came with DRBD 9" in p.message


def test_drbd_quorum_on_two_nodes_warns_that_losing_the_peer_loses_quorum():
    d = load_preset("el9")
    assert not [p for p in lint.check(d) if p.code == "drbd-quorum-two-nodes"]
    d.drbd.quorum = "majority"
    (p,) = [p for p in lint.check(d) if p.code == "drbd-quorum-two-nodes"]
    assert p.severity == "warning" and p.path == "drbd.quorum"
    assert "freezes every write" in p.message and "tiebreaker" in p.message and "failover" in p.message
    d.drbd.on_no_quorum = "io-error"
    (p,) = [p for p in lint.check(d) if p.code == "drbd-quorum-two-nodes"]
    assert "fails every write" in p.message


# -- cluster.on_fail -> on-fail of each operation -------------------------------------------------------

def _ops(text: str) -> list[str]:
    """Each operation of hawizard's four resources (not the fence devices, which cluster.on_fail leaves
    alone) as 'resource op words...', crm or pcs alike."""
    out = []
    for line in text.splitlines():
        m = re.match(r"(?:primitive (\S+) \S+|\$PCS -f \"\$CIB\" resource create (\S+) \S+)(.*)", line)
        if not m:
            continue
        rsc = m.group(1) or m.group(2)
        if "stonith:" in line or " stonith create " in line:
            continue
        body = re.sub(r" --group \S+", "", m.group(3))
        ops = body.split(" op ", 1)[1] if " op " in body else ""
        # crm: "op a ... op b ..."; pcs: "op a ... b ...": split before each operation name
        for part in re.split(r"(?:^| op | )(?=(?:monitor|start|stop|promote|demote|notify) )", ops):
            if part.strip():
                out.append(f"{rsc} {part.strip()}")
    return out


ON_FAIL_OPS = {"monitor": 4 + 1, "start": 4, "stop": 4, "promote": 1, "demote": 1}  # drbd has two monitors


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("op", sorted(ON_FAIL_OPS))
def test_on_fail_is_written_on_every_operation_of_its_name(preset, op):
    d = load_preset(preset)
    before = _files(d)
    d.cluster.on_fail.stop = "default"
    value = "standby" if op != "stop" else "restart"
    setattr(d.cluster.on_fail, op, value)
    assert not _errors(d)
    after = _files(d)
    ops = [o for o in _ops(after["cluster-config"]) if o.split()[1] == op]
    with_it = [o for o in ops if f" on-fail={value}" in o]
    promoted = [o for o in ops if "role=Promoted" in o or "role=Master" in o]
    assert with_it == ops and len(ops) == ON_FAIL_OPS[op] - (op == "monitor" and not promoted), ops
    others = [o for o in _ops(after["cluster-config"]) if o.split()[1] not in (op, "stop")]
    assert not [o for o in others if "on-fail=" in o], others
    assert {k for k in after if after[k] != before[k]} == {"cluster-config"}


@pytest.mark.parametrize("preset", ["debian12", "debian12-pcs", "el9"])
def test_on_fail_demote_goes_on_the_promoted_monitor_only(preset):
    d = load_preset(preset)
    d.cluster.on_fail.promoted_monitor = "demote"
    d.cluster.on_fail.promote = "demote"
    assert not _errors(d)
    ops = _ops(_files(d)["cluster-config"])
    assert [o.split()[0] + " " + o.split()[1] for o in ops if "on-fail=demote" in o] == \
        [f"{d.cluster.ids.drbd} monitor", f"{d.cluster.ids.drbd} promote"]
    assert any("role=Promoted" in o and "on-fail=demote" in o for o in ops)


def test_stop_on_fail_key_wins_over_the_switchover_answer():
    d = load_preset("debian12")
    assert d.answers.switchover_failure == "fence"
    stops = [o for o in _ops(_files(d)["cluster-config"]) if o.split()[1] == "stop"]
    assert all("on-fail=fence" in o for o in stops)
    d.cluster.on_fail.stop = "block"
    stops = [o for o in _ops(_files(d)["cluster-config"]) if o.split()[1] == "stop"]
    assert stops and all("on-fail=block" in o and "on-fail=fence" not in o for o in stops)


@pytest.mark.parametrize("preset, op, value, says", [
    ("article", "monitor", "demote", "does not exist in Pacemaker 1.0"),  # since 2.0.5
    ("article", "start", "restart-container", "does not exist in Pacemaker 1.0"),
    ("debian12", "start", "restart-container", "hawizard's resources run in none"),
    ("debian12", "monitor", "demote", "promote and the promoted monitor only"),
    ("el9", "start", "demote", "promote and the promoted monitor only"),
    ("el9", "demote", "demote", "promote and the promoted monitor only"),
    ("debian12-pcs", "stop", "standby", "refuses standby for a stop"),
    ("el9", "stop", "stop", "refuses stop for a stop"),
    ("debian12", "stop", "demote", "promote and the promoted monitor only"),
    ("article", "promoted_monitor", "restart", "no promoted-role monitor"),
])
def test_on_fail_values_the_stack_lacks_are_refused(preset, op, value, says):
    d = load_preset(preset)
    assert not _errors(d)
    setattr(d.cluster.on_fail, op, value)
    errors = _errors(d)
    assert [p.path for p in errors] == [f"cluster.on_fail.{op}"] and says in errors[0].message, errors


@pytest.mark.parametrize("op", ["monitor", "start", "stop", "promote", "demote"])
def test_on_fail_fence_without_fencing_is_refused(op):
    """Pacemaker 2.1 resets on-fail=fence to stop when fencing is disabled and crm_verify calls it an error."""
    d = load_preset("article")
    assert not d.fenced
    setattr(d.cluster.on_fail, op, "fence")
    (p,) = _errors(d)
    assert p.path == f"cluster.on_fail.{op}" and "fencing.method is none" in p.message
    d = load_preset("debian12")
    assert d.fenced
    setattr(d.cluster.on_fail, op, "fence")
    assert not _errors(d)


def test_on_fail_ignore_and_block_on_stop_are_explained():
    d = load_preset("debian12")
    assert d.answers.switchover_failure == "fence"
    d.cluster.on_fail.stop = "ignore"
    (p,) = [p for p in lint.check(d) if p.path == "cluster.on_fail.stop"]
    assert p.severity == "warning" and p.code == "on-fail-ignore" and "mounted on both nodes" in p.message
    d.cluster.on_fail.stop = "block"
    (p,) = [p for p in lint.check(d) if p.path == "cluster.on_fail.stop"]
    assert p.severity == "warning" and p.code == "on-fail-intent" and "service down" in p.message
    d.answers.switchover_failure = "manual"  # block is then what the design asked for: a note
    (p,) = [p for p in lint.check(d) if p.path == "cluster.on_fail.stop"]
    assert p.severity == "info" and "service down" in p.message
    d.cluster.on_fail.stop = "fence"
    (p,) = [p for p in lint.check(d) if p.path == "cluster.on_fail.stop"]
    assert p.severity == "warning" and p.code == "on-fail-intent"
    d.cluster.on_fail.stop = "default"
    assert not [p for p in lint.check(d) if p.path == "cluster.on_fail.stop"]


# -- the command line: a refused combination exits 2, naming the key and its line -----------------------

@pytest.mark.parametrize("preset, old, new, key", [
    ("el9", '\nhost = ""', '\nhost = "192.168.0.50"', "corosync.two_node"),  # two_node stays true
    ("article", '\nmonitor = "default"', '\nmonitor = "demote"', "cluster.on_fail.monitor"),
    ("debian12", '\nquorum = "off"', '\nquorum = "majority"', "drbd.quorum"),
])
def test_cli_refuses_with_exit_2_and_the_key(preset, old, new, key, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    import hawizard
    text = (Path(hawizard.__file__).parent / "presets" / f"{preset}.toml").read_text()
    assert text.count(old) == 1
    path = tmp_path / "p.toml"
    path.write_text(text.replace(old, new))
    r = subprocess.run([sys.executable, "-m", "hawizard", "validate", str(path)], capture_output=True, text=True)
    out = r.stdout + r.stderr
    assert r.returncode == 2 and "Traceback" not in out
    line = next(i for i, ln in enumerate(path.read_text().splitlines(), 1)
                if ln.startswith(key.rsplit(".", 1)[1] + " "))
    assert f"{path}:{line}: {key}: error" in out, out


def test_on_fail_stop_retrying_and_node_loss_intent_with_a_quorum_device():
    d = load_preset("debian12")
    d.cluster.on_fail.stop = "restart"
    (p,) = [p for p in lint.check(d) if p.path == "cluster.on_fail.stop"]
    assert p.severity == "warning" and p.code == "on-fail-stop"
    d = _with_qdevice("debian12")
    d.answers.power_loss = "manual"
    (p,) = [p for p in lint.check(d) if p.code == "node-loss-intent"]
    assert "quorum device's vote" in p.message
