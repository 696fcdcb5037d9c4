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
