"""Lint rules written from the guides (drbd.conf(5), the DRBD user's guides, Pacemaker Explained,
votequorum(5), corosync.conf(5)): each rule with a design that triggers it and one that does not.

Every design here starts from a shipped modern preset (clean of warnings, tests/test_lint.py) and
changes only what the rule is about, so a finding can only come from that change.
"""

from __future__ import annotations

import pytest

from hawizard.design import lint
from hawizard.design.model import Interconnect
from hawizard.design.preset_file import load_preset
from hawizard.render.renderer import render


def found(design, code, severity=None):
    return [p for p in lint.check(design) if p.code == code and (severity is None or p.severity == severity)]


@pytest.fixture
def debian():
    return load_preset("debian12")


# -- split-brain recovery ---------------------------------------------------------------------------

@pytest.mark.parametrize("key, value, code, says", [
    ("after_sb_0pri", "discard-least-changes", "split-brain-discard", "changed fewer blocks"),
    ("after_sb_0pri", "discard-younger-primary", "split-brain-discard", "became Primary last"),
    ("after_sb_0pri", "discard-older-primary", "split-brain-discard", "was Primary first"),
    ("after_sb_1pri", "discard-secondary", "split-brain-discard", "may have been Primary"),
    ("after_sb_1pri", "call-pri-lost-after-sb", "split-brain-handler", "hawizard writes none"),
    ("after_sb_2pri", "call-pri-lost-after-sb", "split-brain-handler", "hawizard writes none"),
])
def test_policies_that_lose_writes_or_call_a_missing_handler_warn(debian, key, value, code, says):
    setattr(debian.drbd, key, value)
    (p,) = found(debian, code, "warning")
    assert p.path == f"drbd.{key}" and says in p.message
    assert "Use disconnect" in p.message
    assert "resolved by hand" in p.message or code == "split-brain-handler"  # the design's answer is manual


@pytest.mark.parametrize("key", ["after_sb_1pri", "after_sb_2pri"])
def test_violently_as0p_can_crash_the_node(debian, key):
    setattr(debian.drbd, key, "violently-as0p")
    assert not found(debian, "split-brain-crash")  # after-sb-0pri disconnect: it never decides anything
    debian.drbd.after_sb_0pri = "discard-zero-changes"
    (p,) = found(debian, "split-brain-crash", "warning")
    assert p.path == f"drbd.{key}" and "crash" in p.message and "are lost" not in p.message
    debian.drbd.after_sb_0pri = "discard-least-changes"
    (p,) = found(debian, "split-brain-crash", "warning")
    assert "changed fewer blocks" in p.message


def test_discard_zero_changes_is_not_reported_as_losing_data(debian):
    """drbd.conf(5): discard-zero-changes syncs only towards a node that wrote nothing; it loses nothing."""
    debian.drbd.after_sb_0pri = "discard-zero-changes"
    debian.drbd.after_sb_1pri = "consensus"  # follows 0pri: safe with a safe 0pri
    problems = [p for p in lint.check(debian) if p.code.startswith("split-brain")]
    assert [(p.severity, p.code) for p in problems] == [("info", "split-brain-auto")]
    assert "loses nothing" in problems[0].message
    assert not [p for p in lint.check(debian) if p.severity == "warning"]


def test_consensus_follows_a_losing_0pri_policy(debian):
    debian.drbd.after_sb_1pri = "consensus"
    assert not found(debian, "split-brain-discard")
    debian.drbd.after_sb_0pri = "discard-least-changes"
    assert {p.path for p in found(debian, "split-brain-discard", "warning")} == {"drbd.after_sb_0pri",
                                                                                "drbd.after_sb_1pri"}


def test_discard_secondary_that_the_design_asks_for_is_a_note(debian):
    debian.answers.split_brain = "auto-discard-secondary"
    assert [p.path for p in found(debian, "split-brain-intent", "warning")] == ["drbd.after_sb_1pri"]
    debian.drbd.after_sb_1pri = "discard-secondary"
    assert not found(debian, "split-brain-intent")
    assert [p.severity for p in found(debian, "split-brain-discard")] == ["info"]


# -- replication ---------------------------------------------------------------------------------------

def test_reused_data_under_internal_metadata(debian):
    debian.answers.reuse_data = True
    (p,) = found(debian, "reuse-internal-md", "warning")
    assert p.path == "drbd.meta_disk" and "Shrink the filesystem" in p.message
    debian.drbd.meta_disk = "/dev/sdc"  # external metadata leaves the data where it is
    assert not found(debian, "reuse-internal-md")
    debian.drbd.meta_disk, debian.answers.reuse_data = "internal", False  # new disks: nothing to keep
    assert not found(debian, "reuse-internal-md")


def test_no_peer_authentication_on_a_switched_network(debian):
    assert debian.drbd.shared_secret_ref == "" and debian.network.interconnect_direct
    assert not found(debian, "drbd-no-auth")  # a direct cable: no other host can connect
    debian.network.interconnect_direct = False
    (p,) = found(debian, "drbd-no-auth", "warning")
    assert p.path == "drbd.shared_secret_ref" and '"generate"' in p.message and "7789" in p.message
    debian.drbd.shared_secret_ref = "generate"
    assert not found(debian, "drbd-no-auth")


@pytest.mark.parametrize("rate, mbps, warns", [
    ("30M", 1000, False),  # 25% of a 1 Gbit/s link: the guides' 30%
    ("50M", 1000, True),  # 42%
    ("110M", 10000, False),  # 9% of 10 Gbit/s
    ("500M", 10000, True),  # 42% of 10 Gbit/s
])
def test_resync_rate_above_the_guides_share(debian, rate, mbps, warns):
    debian.drbd.resync_rate, debian.network.replication_link_mbps = rate, mbps
    got = found(debian, "resync-rate-share")
    assert bool(got) == warns
    if warns:
        assert got[0].severity == "warning" and "about 30%" in got[0].message
        assert f"({int(0.3 * mbps * 1_000_000 / 8 / 1024**2)}M here)" in got[0].message


def test_knet_prefers_a_link_drbd_does_not_use(debian):
    """corosync.conf(5) link_mode passive: the highest knet_link_priority carries the membership."""
    def priorities(d):
        text = render(d).get("corosync-conf").content
        return [int(line.split(":")[1]) for line in text.splitlines() if "knet_link_priority" in line]

    assert priorities(debian) == [1, 2]  # replication on link 0: membership prefers link 1
    for n, last in zip(debian.nodes, ("1", "2"), strict=True):
        n.replication_address = f"10.2.0.{last}"
    assert priorities(debian) == [2, 1]
    for n, last in zip(debian.nodes, ("1", "2"), strict=True):
        n.interconnects.append(Interconnect("eth3", f"10.3.0.{last}/24"))
    assert priorities(debian) == [3, 1, 2]
    assert not found(debian, "membership-on-replication-link")


def test_a_single_link_shares_membership_with_replication(debian):
    for n in debian.nodes:
        n.interconnects = n.interconnects[:1]
    (p,) = found(debian, "membership-on-replication-link", "warning")
    assert p.path == "nodes[0].interconnects[0]" and "Add an interconnect" in p.message
    article = load_preset("article")  # Heartbeat sends on every link at once: no preferred link
    for n in article.nodes:
        n.interconnects = n.interconnects[:1]
    assert not found(article, "membership-on-replication-link")


# -- resource defaults and quorum -------------------------------------------------------------------

def test_zero_stickiness_fails_back(debian):
    debian.cluster.stickiness = 0
    (p,) = found(debian, "fail-back", "warning")
    assert p.path == "cluster.stickiness"
    debian.cluster.stickiness = 1
    assert not found(debian, "fail-back")


def test_failures_that_expire_before_the_threshold(debian):
    # migration-threshold 3: two restart cycles (monitor interval + timeout, stop, start) must fit
    debian.cluster.failure_timeout_s = 60
    (p,) = found(debian, "failure-expiry", "warning")
    assert p.path == "cluster.failure_timeout_s" and "restarted in place forever" in p.message
    debian.cluster.failure_timeout_s = 3600
    assert not found(debian, "failure-expiry")
    debian.cluster.failure_timeout_s = 60
    debian.cluster.migration_threshold, debian.answers.restart_attempts = 1, 0  # moves at the first failure
    debian.answers.process_failure = "failover"
    assert not found(debian, "failure-expiry")


def test_ignore_undoes_two_node(debian):
    debian.cluster.no_quorum_policy = "ignore"
    (p,) = found(debian, "two-node-quorum", "warning")
    assert "wait_for_all" in p.message and "no_quorum_policy = stop" in p.message
    debian.cluster.no_quorum_policy = "stop"
    assert not found(debian, "two-node-quorum")


def test_manual_node_loss_against_a_cluster_that_fails_over(debian):
    """Nothing renders answers.power_loss/kernel_panic = manual: the lint says when the cluster acts anyway."""
    debian.answers.power_loss = "manual"
    (p,) = found(debian, "node-loss-intent", "warning")
    assert p.path == "answers.power_loss" and "two_node" in p.message and "fences the lost node" in p.message
    debian.corosync.two_node = False  # one node of two has no quorum: no-quorum-policy=stop makes it wait
    assert not found(debian, "node-loss-intent")


def test_manual_power_loss_with_an_onboard_fence_device(debian):
    from support.designs import with_ipmi

    with_ipmi(debian)  # the BMC dies with the node's power: the fence cannot complete, the survivor waits
    debian.answers.power_loss = "manual"
    assert not found(debian, "node-loss-intent")
    debian.answers.kernel_panic = "manual"  # a panicked node's BMC still answers: the fence completes
    assert [p.path for p in found(debian, "node-loss-intent", "warning")] == ["answers.kernel_panic"]


@pytest.mark.parametrize("preset, controller", [("article", False), ("debian12", True), ("debian12-pcs", True),
                                                ("el9", True)])
def test_resync_rate_is_the_cap_of_the_dynamic_controller(preset, controller):
    """DRBD 8.4 and 9 resync under the dynamic controller by default, which resync-rate does not bound:
    the design's rate is rendered as c-max-rate there (and refused below its 250K minimum)."""
    d = load_preset(preset)
    d.drbd.resync_rate = "40M"
    text = render(d).get("drbd-global").content
    assert ("c-max-rate 40M;" in text) == controller
    d.drbd.resync_rate = "100K"
    refused = [p for p in lint.check(d) if p.severity == "error"]
    assert [p.path for p in refused] == (["drbd.resync_rate"] if controller else [])
    d.drbd.resync_rate = "250K"
    assert not [p for p in lint.check(d) if p.severity == "error"]


def test_a_resync_starves_membership_only_where_membership_uses_its_link(debian):
    debian.drbd.resync_rate = "110M"  # 92% of the 1 Gbit/s replication link
    assert not found(debian, "resync-starves-membership")  # knet prefers the other link
    for n in debian.nodes:
        n.interconnects = n.interconnects[:1]
    assert [p.path for p in found(debian, "resync-starves-membership", "warning")] == ["drbd.resync_rate"]


def test_settings_the_chosen_method_does_not_use_are_named(debian):
    assert not found(debian, "unused-setting")
    debian.nodes[1].fence_agent = "fence_ipmilan"  # debian12 fences with sbd
    debian.heartbeat.auth_secret_ref = "env:X"  # not read on a Corosync stack: no note
    assert [(p.severity, p.path) for p in found(debian, "unused-setting")] == [("info", "nodes[1].fence_agent")]
    el9 = load_preset("el9")  # fences through agents
    el9.fencing.sbd_devices = ["/dev/disk/by-id/wwn-0x6001405a1b2c3d4e5f60718293a4b5c7"]
    assert [p.path for p in found(el9, "unused-setting")] == ["fencing.sbd_devices"]
    article = load_preset("article")  # no fencing, crc authkeys
    article.fencing.race, article.heartbeat.auth_secret_ref = "priority", "env:X"
    assert {p.path for p in found(article, "unused-setting")} == {"fencing.race", "heartbeat.auth_secret_ref"}
    article.heartbeat.auth = "sha1"
    assert {p.path for p in found(article, "unused-setting")} == {"fencing.race"}


def test_pacemaker_1_expires_failures_at_the_recheck():
    article = load_preset("article")
    article.cluster.failure_timeout_s = 600
    (p,) = found(article, "failure-recheck", "info")
    assert "15-minute cluster-recheck-interval" in p.message
    debian = load_preset("debian12")  # Pacemaker 2 rechecks when a failure expires
    debian.cluster.failure_timeout_s = 600
    assert not found(debian, "failure-recheck")
