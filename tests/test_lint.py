"""Design lint: the article's real risks are named; changes to a design move the findings as they should."""

from __future__ import annotations

import copy

import pytest
from support.designs import with_ipmi

from hawizard.design import lint
from hawizard.design.model import Interconnect
from hawizard.design.preset_file import load_preset


def codes(design, severity=None):
    return {p.code for p in lint.check(design) if severity is None or p.severity == severity}


@pytest.fixture
def article():
    return load_preset("presets/article.toml")


@pytest.fixture
def debian():
    return load_preset("presets/debian12.toml")


def test_article_risks_are_named(article):
    found = codes(article, "warning")
    # each of these is a real mistake or risk of the article's own configuration
    assert {
        "fencing-off",  # stonith-enabled=false with replicated data
        "quorum-ignored",  # no-quorum-policy=ignore without fencing
        "io-error-handler",  # local-io-error handler without on-io-error call-local-io-error: never runs
        "resync-rate-link",  # 200M (MiB/s) on a 1 Gbit/s link
        "resync-starves-membership",  # the resync shares eth1 with heartbeat
        "check-intent",  # "PID only" but the apache agent checks server-status over HTTP
        "restart-intent",  # restart then fail over, but no migration-threshold
        "promoted-unmonitored",  # one monitor op on the ms resource: the Master is not monitored
        "target-node-loss",  # 240 s per operation cannot meet the 5-minute target
        "target-service",
    } <= found
    assert not codes(article, "error")


def test_article_io_error_message_says_what_happens():
    from hawizard.design.preset_file import read_preset

    loaded = read_preset("article")
    (p,) = [p for p in loaded.source.place(lint.check(loaded.design)) if p.code == "io-error-handler"]
    assert "never runs" in p.message and "shut down" in p.message
    assert p.path == "drbd.on_io_error" and p.line is not None
    assert loaded.source.lines[p.line - 1].startswith("on_io_error")


def test_fixing_the_io_error_setting_clears_the_warning(article):
    article.drbd.on_io_error = "call-local-io-error"
    assert "io-error-handler" not in codes(article)
    assert "io-error-intent" not in codes(article)


def test_rate_within_link_is_fine(article):
    article.drbd.resync_rate = "30M"
    assert "resync-rate-link" not in codes(article)
    assert "resync-starves-membership" not in codes(article)
    article.network.replication_link_mbps = 10000
    article.drbd.resync_rate = "200M"
    assert "resync-rate-link" not in codes(article)


def test_restart_intent_matches_threshold(article):
    article.cluster.migration_threshold = 3  # 2 restarts, the third failure moves it
    assert "restart-intent" not in codes(article)
    article.cluster.migration_threshold = 5
    assert "restart-intent" in codes(article)


def test_promoted_monitor_fix(article):
    article.cluster.drbd_promoted_monitor_interval_s = 10
    assert "promoted-unmonitored" not in codes(article)
    article.cluster.drbd_promoted_monitor_interval_s = 20  # same as the other monitor: an error
    assert "monitor-intervals" in codes(article, "error")


def test_a_target_the_agents_timeouts_miss_is_reported_with_what_would_meet_it(article):
    # without the article's blanket each operation gets its agent's value: node loss fits 300 s, a
    # service failure (three stops, demote, promote, three starts) does not, and nothing is cut to fit
    article.timing.default_action_timeout_s = 0
    found = {p.code: p for p in lint.check(article)}
    assert "target-node-loss" not in found
    msg = found["target-service"].message
    assert "480 s" in msg and "a target of at least 480 s" in msg
    assert "faster detection cannot" in msg and "fewer resources on the path" in msg
    article.answers.switchover_target_s = 480
    found = codes(article)
    assert "target-node-loss" not in found and "target-service" not in found


def test_faster_detection_is_offered_when_it_alone_would_meet_the_target(debian):
    debian.answers.switchover_target_s = 470  # the operations take 440 s, detection 20 s + 20 s
    (p,) = [p for p in lint.check(debian) if p.code == "target-service"]
    assert "faster detection (the monitor interval: 40 s now, 30 s at most)" in p.message


def test_the_articles_blanket_timeout_is_explained_and_the_fix_named(article):
    found = {p.code: p for p in lint.check(article)}
    blanket = found["blanket-timeout"].message
    assert "240 s" in blanket and "990 s" in blanket and "240 s and 480 s with each agent's own values" in blanket
    node = found["target-node-loss"].message
    assert "up to 990 s" in node and "timing.default_action_timeout_s = 0 (240 s)" in node


def test_unreachable_target_is_reported(debian):
    debian.answers.switchover_target_s = 60
    assert {"target-node-loss", "target-service"} & codes(debian)


def test_crc_off_a_direct_cable_is_a_warning(article):
    assert "crc-auth" in codes(article, "info")
    article.network.interconnect_direct = False
    assert "crc-auth" in codes(article, "warning")


def test_modern_presets_are_clean():
    for name in ("debian12", "debian12-pcs", "el9"):
        assert not codes(load_preset(name), "warning"), name
        assert not codes(load_preset(name), "error"), name


def test_two_node_quorum(debian):
    debian.corosync.two_node = False
    assert "two-node-quorum" in codes(debian, "warning")


def test_tight_timing_is_the_articles_warning(debian):
    debian.timing.monitor_interval_s = 5
    debian.corosync.token_ms = 300
    found = codes(debian, "warning")
    assert {"tight-monitor", "tight-token"} <= found


def test_a_monitor_timeout_below_an_agents_value_is_written_as_set_and_warned(debian):
    debian.timing.monitor_timeout_s = 30  # the Filesystem agent advertises 40 s for its monitor
    (p,) = [p for p in lint.check(debian) if p.code == "timeout-below-agent"]
    assert p.path == "timing.monitor_timeout_s" and "Filesystem 40 s" in p.message and "apache" not in p.message
    debian.timing.monitor_timeout_s = 40
    assert "timeout-below-agent" not in codes(debian)


def test_fencing_needs_agents(debian):
    with_ipmi(debian)  # fencing.method agent: a fence device per node
    debian.nodes[1].fence_agent = ""
    errs = [p for p in lint.check(debian) if p.severity == "error"]
    assert [p.path for p in errs] == ["nodes[1].fence_agent"]


@pytest.mark.parametrize("mutate, path", [
    (lambda d: setattr(d.service, "vip", "10.9.9.9"), "service.vip"),
    (lambda d: setattr(d.service, "vip", "192.168.0.101"), "service.vip"),
    (lambda d: setattr(d.nodes[1], "name", "srv1"), "nodes[1].name"),
    (lambda d: setattr(d.nodes[1], "service_address", "192.168.1.102/24"), "nodes[1].service_address"),
    (lambda d: setattr(d.nodes[1].interconnects[0], "address", "10.1.0.1/24"), "nodes[1].interconnects[0].address"),
    (lambda d: setattr(d.nodes[0].interconnects[1], "address", "10.1.0.9/24"), "nodes[0].interconnects[1].address"),
    (lambda d: setattr(d.nodes[0], "replication_address", "10.7.0.1"), "nodes[0].replication_address"),
    # docs/presets.md: "one of the interconnect addresses"; the service address is the node's, but refused
    (lambda d: setattr(d.nodes[0], "replication_address", "192.168.0.101"), "nodes[0].replication_address"),
    (lambda d: setattr(d.service, "document_root", "/srv/www"), "service.document_root"),
    (lambda d: setattr(d.service, "mount_point", "/var"), "service.mount_point"),
    (lambda d: setattr(d.service, "vip_nic", "eth9"), "service.vip_nic"),
    (lambda d: d.nodes[1].interconnects.append(Interconnect("eth3", "10.3.0.2/24")), "nodes[1].interconnects"),
    (lambda d: setattr(d.service, "apache_agent", "lsb:httpd"), "service.apache_agent"),
])
def test_cross_field_errors(debian, mutate, path):
    d = copy.deepcopy(debian)
    mutate(d)
    errs = [p for p in lint.check(d) if p.severity == "error"]
    assert path in [p.path for p in errs], [p.format() for p in errs]


@pytest.mark.parametrize("transport, cipher, hash_, severity, path, says, never", [
    ("knet", "none", "sha256", "warning", "corosync.crypto_cipher", "authenticated (sha256) but not encrypted",
     "not authenticated"),
    ("knet", "none", "none", "warning", "corosync.crypto_hash", "neither authenticated nor encrypted", None),
    ("knet", "aes256", "none", "error", "corosync.crypto_hash", "corosync refuses to start", None),
    ("udpu", "none", "none", "warning", "corosync.transport", "neither authenticated nor encrypted", None),
    # udpu cannot carry the crypto asked for: refused, naming the field, instead of rendered without it
    ("udpu", "aes256", "sha256", "error", "corosync.crypto_cipher", "knet transport only", None),
    ("udpu", "none", "sha256", "error", "corosync.crypto_hash", "knet transport only", None),
])
def test_corosync_crypto_messages_are_exact(debian, transport, cipher, hash_, severity, path, says, never):
    debian.corosync.transport, debian.corosync.crypto_cipher, debian.corosync.crypto_hash = transport, cipher, hash_
    if transport == "udpu":
        for n in debian.nodes:
            n.interconnects = n.interconnects[:1]
    found = [p for p in lint.check(debian) if p.code == "corosync-crypto"]
    assert [(p.severity, p.path) for p in found] == [(severity, path)], [p.format() for p in found]
    assert says in found[0].message
    if never:
        assert never not in found[0].message


def test_corosync_crypto_on_is_quiet(debian):
    assert debian.corosync.crypto_cipher != "none" and debian.corosync.crypto_hash != "none"
    assert "corosync-crypto" not in codes(debian)


def test_a_blanket_below_an_agents_value_is_said_to_leave_that_operation_alone(debian):
    debian.timing.default_action_timeout_s = 120
    (p,) = [p for p in lint.check(debian) if p.code == "blanket-timeout"]
    assert "op_defaults" in p.message and "drbd start keeps the agent's longer value" in p.message
