"""Design lint: the risks of a design, each explained in one or two sentences.

The lint reads the design answers (the operator's intent) next to the values that will be
rendered, and knows what those values do on the chosen stack. It reports where the rendered
configuration would not do what the design says (the article's own configuration has several
such places), values the stated hardware cannot deliver, timeouts that cannot meet the
switch-over target, and the known risks of two-node clusters.

``check(design)`` returns every problem: the cross-field errors of hawizard/design/validate.py and
the warnings and notes found here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from hawizard.design import stacks, stackswitch, timing, validate
from hawizard.design.fieldcheck import parse_rate
from hawizard.design.model import Corosync, Design
from hawizard.design.problems import INFO, WARNING, Problem, sort_problems


def _warn(code: str, path: str, message: str) -> Problem:
    return Problem(WARNING, code, path, message)


def _info(code: str, path: str, message: str) -> Problem:
    return Problem(INFO, code, path, message)


def check(design: Design, stack: stacks.Stack | None = None) -> list[Problem]:
    """Every problem of a design: errors first, then warnings, then notes.

    ``stack`` is the design's stack when the caller has it (it is looked up otherwise)."""
    found = validate.check(design)
    if not any(p.code == "node-count" for p in found):
        found += list(_lint(design, stack or stacks.get(design.stack)))
        found += stackswitch.foreign_values(design)  # another stack's path left in the design
    return sort_problems(found)


def _lint(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    yield from _fencing_and_quorum(d, stack)
    yield from _membership(d, stack)
    yield from _drbd(d, stack)
    yield from _monitoring(d, stack)
    yield from _switchover(d, stack)


def _fencing_and_quorum(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    c = d.cluster
    if not c.stonith_enabled:
        yield _warn("fencing-off", "cluster.stonith_enabled",
                    "Fencing is disabled while data is replicated: if the nodes lose sight of each other but both "
                    "stay up, each can promote DRBD and take writes, and the two copies diverge (split brain). "
                    "A hung node that still answers heartbeats is never powered off either.")
        if c.no_quorum_policy == "ignore":
            yield _warn("quorum-ignored", "cluster.no_quorum_policy",
                        "no-quorum-policy=ignore without fencing lets both halves of a split cluster run the "
                        "service at once, with the same VIP on the network.")
    else:
        for i, n in enumerate(d.nodes):
            if n.fence_agent and not n.fence_password_ref:
                yield _info("fence-no-password", f"nodes[{i}].fence_password_ref",
                            f"{n.fence_agent} on {n.name} gets no password (fence_password_ref is empty); "
                            "right for an agent that authenticates otherwise, e.g. with an identity_file.")
    if c.stonith_enabled and d.drbd.fencing == "dont-care":
        yield _info("drbd-fencing", "drbd.fencing",
                    "Fencing is on in the cluster but DRBD does not use it; 'resource-and-stonith' makes DRBD "
                    "freeze I/O until the peer is fenced, closing the last split-brain window.")
    two_node_quorum = stack.membership == "corosync" and d.corosync.two_node
    if not two_node_quorum and c.no_quorum_policy in ("stop", "freeze", "demote") and \
            ("failover" in (d.design.power_loss, d.design.kernel_panic)):
        how = ("Heartbeat has no two-node quorum" if stack.membership == "heartbeat"
               else "corosync.two_node is off")
        yield _warn("two-node-quorum", "cluster.no_quorum_policy",
                    f"The design fails over on node loss, but {how}: the survivor of a two-node cluster loses "
                    f"quorum and no-quorum-policy={c.no_quorum_policy} stops it from taking over.")
    if two_node_quorum and c.no_quorum_policy == "ignore":
        yield _info("two-node-quorum", "cluster.no_quorum_policy",
                    "With corosync two_node the survivor keeps quorum; no-quorum-policy=ignore is not needed "
                    "and only widens the split-brain window.")
    if two_node_quorum and not c.stonith_enabled:
        yield _info("two-node-wait", "corosync.two_node",
                    "two_node implies wait_for_all: after both nodes stop, the cluster starts only when both are "
                    "back.")


def _membership(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    a = d.nodes[0]
    if len(a.interconnects) == 1:
        yield _warn("single-interconnect", "nodes[0].interconnects",
                    "Only one interconnect: a single cable or NIC failure splits the cluster, and each node then "
                    "believes the other is dead.")
    if stack.membership == "heartbeat":
        hb = d.heartbeat
        if hb.auth == "crc":
            if d.network.interconnect_direct:
                yield _info("crc-auth", "heartbeat.auth",
                            "crc only detects corruption, it does not authenticate; acceptable here because the "
                            "interconnects are direct cables (network.interconnect_direct).")
            else:
                yield _warn("crc-auth", "heartbeat.auth",
                            "crc authentication on a switched network: anyone on that network can forge "
                            "heartbeats and make a node give up or take over the service. Use sha1.")
        if hb.deadtime_s < 10 or hb.deadtime_s < 4 * hb.keepalive_s:
            yield _warn("tight-deadtime", "heartbeat.deadtime_s",
                        f"deadtime {hb.deadtime_s} s is so short that a busy node (a resync, a load spike) misses "
                        "it and is declared dead: the HA layer itself causes the failover.")
        if hb.warntime_s >= hb.deadtime_s:
            yield _warn("warntime", "heartbeat.warntime_s", "warntime should be below deadtime, or the warning "
                        "comes only after the node is declared dead.")
        if hb.initdead_s < 2 * hb.deadtime_s:
            yield _warn("initdead", "heartbeat.initdead_s",
                        "initdead below twice deadtime: a node booting slowly is declared dead at start-up.")
        if hb.pacemaker_directive == "crm yes":
            yield _info("crm-yes", "heartbeat.pacemaker_directive",
                        "'crm yes' is the pre-3.0.4 spelling; Heartbeat 3.0.4 keeps it as an alias of "
                        "'pacemaker respawn'.")
    else:
        cs = d.corosync
        yield from _corosync_crypto(cs)
        if cs.token_ms < 1000:
            yield _warn("tight-token", "corosync.token_ms",
                        f"A {cs.token_ms} ms token is so short that a busy node misses it and is declared lost: "
                        "the HA layer itself causes the failover.")


def _corosync_crypto(cs: Corosync) -> Iterator[Problem]:
    """What each combination of transport, crypto_cipher and crypto_hash does to cluster traffic.

    corosync.conf(5): crypto_hash authenticates every message (HMAC), crypto_cipher encrypts it,
    a cipher requires a hash, and both are supported by the knet transport only (hawizard writes
    neither for udpu). A cipher without a hash is an error (hawizard/design/validate.py): corosync refuses it.
    """
    if cs.transport != "knet":
        yield _warn("corosync-crypto", "corosync.transport",
                    f"The {cs.transport} transport has no crypto (corosync supports it with knet only), so "
                    "crypto_cipher and crypto_hash are not written: cluster traffic is neither authenticated nor "
                    "encrypted. Anyone on the interconnect can join or disturb the membership and read the "
                    "cluster's messages.")
    elif cs.crypto_hash == "none" and cs.crypto_cipher == "none":
        yield _warn("corosync-crypto", "corosync.crypto_hash",
                    "Cluster traffic is neither authenticated nor encrypted (crypto_hash and crypto_cipher are "
                    "none): anyone on the interconnect can join or disturb the membership and read the cluster's "
                    "messages.")
    elif cs.crypto_cipher == "none" and cs.crypto_hash != "none":
        yield _warn("corosync-crypto", "corosync.crypto_cipher",
                    f"Cluster traffic is authenticated ({cs.crypto_hash}) but not encrypted (crypto_cipher none): "
                    "forged messages are refused, but anyone on the interconnect can read the cluster's messages, "
                    "the configuration with the fence devices' parameters and passwords among them.")


def _drbd(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    dr = d.drbd
    # the I/O-error intent against what the disk section and handler do
    wanted = d.design.io_error
    if dr.local_io_error_handler and dr.on_io_error != "call-local-io-error":
        yield _warn("io-error-handler", "drbd.on_io_error",
                    f"A local-io-error handler is configured but on-io-error is '{dr.on_io_error}': DRBD calls "
                    "the handler only with on-io-error call-local-io-error, so it never runs."
                    + (" The design's 'shut down on an I/O error' does not happen." if wanted == "shutdown" else ""))
    elif wanted == "shutdown" and dr.on_io_error != "call-local-io-error":
        yield _warn("io-error-intent", "drbd.on_io_error",
                    "The design says to shut the node down on a disk I/O error, but nothing in the DRBD "
                    "configuration does that.")
    if wanted == "shutdown" and dr.on_io_error == "call-local-io-error" and \
            not re.search(r"halt|poweroff|shutdown|sysrq", dr.local_io_error_handler):
        yield _warn("io-error-intent", "drbd.local_io_error_handler",
                    "The design says to shut the node down on an I/O error, but the handler does not halt it.")
    if wanted == "detach" and dr.on_io_error not in ("detach",):
        yield _warn("io-error-intent", "drbd.on_io_error",
                    f"The design says to detach the failed disk, but on-io-error is '{dr.on_io_error}'.")
    if wanted == "pass-on" and dr.on_io_error not in ("pass_on",):
        yield _warn("io-error-intent", "drbd.on_io_error",
                    f"The design says to pass I/O errors on, but on-io-error is '{dr.on_io_error}'.")
    if dr.on_io_error == "unset":
        default = {"8.3": "pass_on", "8.4": "detach", "9": "detach"}[stack.drbd]
        yield _info("io-error-default", "drbd.on_io_error",
                    f"on-io-error is left to DRBD {stack.drbd}'s default ({default}).")
    # split brain intent
    sb = (dr.after_sb_0pri, dr.after_sb_1pri, dr.after_sb_2pri)
    if d.design.split_brain == "manual" and sb != ("disconnect", "disconnect", "disconnect"):
        yield _warn("split-brain-intent", "drbd.after_sb_0pri",
                    "The design says split brain is resolved by hand, but an after-sb policy discards one side's "
                    "changes automatically.")
    if d.design.split_brain == "auto-discard-secondary" and dr.after_sb_1pri != "discard-secondary":
        yield _warn("split-brain-intent", "drbd.after_sb_1pri",
                    "The design says to discard the secondary's changes after a split brain, but "
                    f"after-sb-1pri is '{dr.after_sb_1pri}'.")
    if dr.protocol != "C":
        yield _warn("drbd-protocol", "drbd.protocol",
                    f"Protocol {dr.protocol} acknowledges a write before it is on the peer's disk: writes the "
                    "service already confirmed can be lost in a failover.")
    # what the hardware can deliver
    try:
        rate = parse_rate(dr.resync_rate)
    except ValueError:
        return
    link_bytes = d.network.replication_link_mbps * 1_000_000 / 8
    rate_mbps = rate * 8 / 1_000_000
    if rate > link_bytes:
        yield _warn("resync-rate-link", "drbd.resync_rate",
                    f"{dr.resync_rate} is {rate / 1024**2:.0f} MiB/s ({rate_mbps:.0f} Mbit/s), more than the "
                    f"{d.network.replication_link_mbps} Mbit/s replication link can carry "
                    f"({link_bytes / 1024**2:.0f} MiB/s): the rate is never reached and a resync takes the whole "
                    "link from the service's own writes.")
    elif rate > 0.3 * link_bytes:
        yield _info("resync-rate-share", "drbd.resync_rate",
                    f"{dr.resync_rate} is {100 * rate / link_bytes:.0f}% of the replication link; a resync at "
                    "that rate slows the service's writes (about 30% leaves room for them).")
    rep_link = _replication_link(d)
    if rep_link is not None and rate >= 0.9 * link_bytes:
        yield _warn("resync-starves-membership", "drbd.resync_rate",
                    f"The resync can fill interconnect {rep_link}, which also carries the membership traffic: "
                    "heartbeats delayed behind it make the peer look dead during a resync.")
    if dr.usage_count:
        yield _info("usage-count", "drbd.usage_count", "Each node reports its install to LINBIT over the internet.")


def _replication_link(d: Design) -> int | None:
    a = d.nodes[0]
    for j, ic in enumerate(a.interconnects):
        if ic.address.split("/")[0] == a.replication_address:
            return j
    return None


def _monitoring(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    s, c, t = d.service, d.cluster, d.timing
    http_check = s.apache_agent == "ocf:heartbeat:apache"
    if d.design.process_check == "pid" and http_check:
        yield _warn("check-intent", "service.apache_agent",
                    "The design says to check the PID only, but ocf:heartbeat:apache fetches the server-status "
                    "page on every monitor: a slow or saturated Apache fails the check although its process is "
                    "alive, and is restarted or moved under load.")
    if d.design.process_check == "http-status" and not http_check:
        yield _warn("check-intent", "service.apache_agent",
                    f"The design asks for a server-status check, but {s.apache_agent} checks only that the "
                    "process runs: a hung Apache goes unnoticed.")
    # restart-then-failover
    pf = d.design.process_failure
    want = {"restart-then-failover": d.design.restart_attempts + 1, "failover": 1, "restart": 0}[pf]
    default_mt = "0, which disables it" if stack.pacemaker == "1.0" else "INFINITY, which is never reached"
    if pf != "restart" and c.migration_threshold == 0:
        yield _warn("restart-intent", "cluster.migration_threshold",
                    f"The design says a failing service moves to the other node after {want - 1} restart(s), but "
                    f"migration-threshold is not set (Pacemaker {stack.pacemaker}'s default is {default_mt}): "
                    "a service that keeps failing its monitor is restarted on the same node forever. It moves "
                    "only if a start itself fails.")
    elif pf != "restart" and c.migration_threshold != want:
        yield _warn("restart-intent", "cluster.migration_threshold",
                    f"The design says {d.design.restart_attempts if pf != 'failover' else 0} restart(s) then fail "
                    f"over, which is migration-threshold={want}; it is {c.migration_threshold}.")
    if pf == "restart" and c.migration_threshold:
        yield _warn("restart-intent", "cluster.migration_threshold",
                    f"The design says to restart in place only, but migration-threshold={c.migration_threshold} "
                    "moves the service after that many failures.")
    # the promoted DRBD instance
    if not c.drbd_promoted_monitor_interval_s:
        yield _warn("promoted-unmonitored", "cluster.drbd_promoted_monitor_interval_s",
                    f"DRBD has one monitor operation without a role: Pacemaker runs it on the "
                    f"{stack.unpromoted} instance only, so a failure of DRBD on the active node goes unnoticed. "
                    f"Add a second monitor with role={stack.promoted} and a different interval.")
    # too sensitive: the article's own warning
    if t.monitor_interval_s < 10:
        yield _warn("tight-monitor", "timing.monitor_interval_s",
                    f"Monitoring every {t.monitor_interval_s} s loads the node it protects; under load the checks "
                    "themselves slow the service.")
    if t.monitor_timeout_s and t.monitor_timeout_s < 20:
        yield _warn("tight-monitor", "timing.monitor_timeout_s",
                    f"A {t.monitor_timeout_s} s monitor timeout is shorter than a busy Apache or disk may take "
                    "to answer: load alone fails the check and triggers a restart or failover.")
    if t.default_action_timeout_s and t.default_action_timeout_s < 20:
        yield _warn("tight-monitor", "timing.default_action_timeout_s",
                    f"Operations given {t.default_action_timeout_s} s fail under load; starting DRBD alone can "
                    "take minutes.")
    if t.default_action_timeout_s and stack.pacemaker != "1.0":
        yield _info("action-timeout", "timing.default_action_timeout_s",
                    "Pacemaker 2 has no default-action-timeout property; it is rendered as op_defaults timeout.")
    if s.status_url and http_check:
        m = re.match(r"^https?://([^/:]+)(?::(\d+))?", s.status_url)
        if m and m.group(1) not in ("localhost", "127.0.0.1", s.status_allow):
            yield _warn("status-url", "service.status_url",
                        f"The monitor fetches {s.status_url}, but server-status is allowed from {s.status_allow} only.")
        if m and int(m.group(2) or 80) != s.port:
            yield _warn("status-url", "service.status_url",
                        f"The status URL's port differs from the port Apache listens on ({s.port}).")


def _switchover(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    est = timing.estimate(d, stack)
    target = d.design.switchover_target_s
    fails_over = "failover" in (d.design.power_loss, d.design.kernel_panic)
    if fails_over and est.node_loss_s > target:
        why = (f" (every operation waits up to timing.default_action_timeout_s = "
               f"{d.timing.default_action_timeout_s} s)" if d.timing.default_action_timeout_s else "")
        yield _warn("target-node-loss", "design.switchover_target_s",
                    f"After a node is lost the switch-over can take up to {est.node_loss_s:.0f} s{why}, longer than "
                    f"the {target} s target: detection {est.detection_s:.0f} s, then promote and three starts at "
                    "their timeouts.")
    if d.design.process_failure != "restart" and est.service_failure_s > target:
        yield _warn("target-service", "design.switchover_target_s",
                    f"After a service failure the move can take up to {est.service_failure_s:.0f} s (monitor "
                    f"interval and timeout, three stops, demote, promote, three starts), longer than the {target} s "
                    "target.")
