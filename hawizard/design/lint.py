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

import copy
import ipaddress
import re
from collections.abc import Iterator

from hawizard.design import agent_timeouts, links, stacks, stackswitch, timing, validate
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
    yield from _split_brain(d)
    yield from _replication(d, stack)
    yield from _resource_defaults(d, stack)
    yield from _node_loss_intent(d, stack)
    yield from _on_fail(d, stack)
    yield from _unused_settings(d, stack)


# Fence agents that talk to a management controller on the node's own board: when the node loses its
# power, so does its controller, and the fence cannot complete (fence-agents' own descriptions: IPMI,
# iDRAC, iLO, IMM, iRMC, AMT, Redfish are all "on-board" management interfaces).
ONBOARD_FENCE_AGENTS = ("fence_ipmilan", "fence_ipmilanplus", "fence_idrac", "fence_ilo", "fence_ilo2",
                        "fence_ilo3", "fence_ilo4", "fence_ilo5", "fence_ilo_ssh", "fence_imm", "fence_irmc",
                        "fence_amt", "fence_amt_ws", "fence_redfish", "fence_ipmilan_ssh")


def _fencing_and_quorum(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    c = d.cluster
    if not d.fenced:
        yield _warn("fencing-off", "fencing.method",
                    "Fencing is off while data is replicated: if the nodes lose sight of each other but both "
                    "stay up, each can promote DRBD and take writes, and the two copies diverge (split brain). "
                    "A hung node that still answers heartbeats is never powered off either. Choose sbd (a small "
                    "shared disk and the watchdog) or agent (a fence device per node).")
        if c.no_quorum_policy == "ignore":
            yield _warn("quorum-ignored", "cluster.no_quorum_policy",
                        "no-quorum-policy=ignore without fencing lets both halves of a split cluster run the "
                        "service at once, with the same VIP on the network.")
    else:
        yield from _fencing_on(d, stack)
    if d.fenced and d.drbd.fencing != "resource-and-stonith":
        # DRBD user's guide (8.4 and 9), "Fencing": resource-and-stonith suspends I/O on a Primary that lost
        # its peer until the cluster has fenced it, which closes the window in which both could write
        yield _warn("drbd-fencing", "drbd.fencing",
                    f"The cluster fences, but DRBD's fencing policy is {d.drbd.fencing}: a Primary that loses its "
                    "peer goes on writing before the peer is fenced, and a partition can still end in a split "
                    "brain. Set drbd.fencing = resource-and-stonith.")
    two_node_quorum = stack.membership == "corosync" and d.corosync.two_node
    # a quorum device's vote keeps the survivor quorate as long as it reaches the qnetd server
    # (corosync-qdevice(8), ffsplit and lms)
    qdevice = stack.membership == "corosync" and bool(d.corosync.qdevice.host)
    if qdevice:
        yield from _quorum_device(d)
    if not (two_node_quorum or qdevice) and c.no_quorum_policy in ("stop", "freeze", "demote") and \
            ("failover" in (d.answers.power_loss, d.answers.kernel_panic)):
        how = ("Heartbeat has no two-node quorum" if stack.membership == "heartbeat"
               else "corosync.two_node is off")
        yield _warn("two-node-quorum", "cluster.no_quorum_policy",
                    f"The design fails over on node loss, but {how}: the survivor of a two-node cluster loses "
                    f"quorum and no-quorum-policy={c.no_quorum_policy} stops it from taking over.")
    wfa = d.corosync.wait_for_all
    # votequorum(5): two_node turns wait_for_all on unless it is set to 0 explicitly
    waits = stack.membership == "corosync" and (wfa == "on" or (wfa == "auto" and d.corosync.two_node))
    if two_node_quorum and c.no_quorum_policy == "ignore":
        # votequorum(5): two_node implies wait_for_all, so a node that starts alone has no quorum until
        # it has seen its peer; Pacemaker Explained (no-quorum-policy): ignore runs resources without quorum
        withheld = "although wait_for_all withholds quorum" if waits else "as wait_for_all off would let it anyway"
        yield _warn("two-node-quorum", "cluster.no_quorum_policy",
                    "no-quorum-policy=ignore undoes two_node's protection: a node that starts while it cannot "
                    f"see its peer runs the service (and, with fencing on, fences the peer) {withheld}. "
                    "With two_node the survivor keeps quorum anyway: set no_quorum_policy = stop.")
    if two_node_quorum and wfa == "off":
        # votequorum(5), two_node and wait_for_all: two_node enables wait_for_all so that a node that starts
        # alone does not become quorate; with wait_for_all: 0 it does, while it cannot see its peer
        then = ("each fences the peer it cannot see, and a partition that outlasts the reboot fences them in turn"
                if d.fenced else "each starts the service, with the same VIP, and promotes DRBD on its own: the "
                "copies diverge")
        yield _warn("two-node-no-wait", "corosync.wait_for_all",
                    "wait_for_all is off with two_node: after both nodes were down, a node that starts alone (or "
                    f"both, while the interconnect is down) is quorate at once, so {then}. Leave wait_for_all at "
                    "auto: two_node then turns it on.")
    if waits and not d.fenced:
        implied = wfa == "auto"
        yield _info("two-node-wait", "corosync.two_node" if implied else "corosync.wait_for_all",
                    ("two_node implies wait_for_all" if implied else "wait_for_all is on") +
                    ": after both nodes stop, the cluster starts only when both are back.")


def _quorum_device(d: Design) -> Iterator[Problem]:
    """What a quorum device needs that hawizard does not build: the qnetd server, the certificates, the daemon.

    corosync-qdevice(8): "For model net to work using TLS, it's necessary to create the NSS database, import
    Qnetd CA certificate, and get/distribute a valid client certificate" (pcs does it; otherwise
    corosync-qdevice-net-certutil, "start with the -Q option"); tls off "is the only one which doesn't need a
    properly initialized NSS database". votequorum(5): expected votes count the device's vote, so until the
    device is registered a node alone is one vote of three and not quorate.
    """
    qd, cs = d.corosync.qdevice, d.corosync
    certs = ("" if qd.tls == "off" else
             f" With tls {qd.tls} each node needs a client certificate signed by the qnetd's CA: "
             f"'corosync-qdevice-net-certutil -Q -n {cs.cluster_name} {qd.host} "
             f"{' '.join(n.name for n in d.nodes)}' on a node makes and spreads them (root SSH to all three).")
    yield _info("quorum-device", "corosync.qdevice.host",
                f"hawizard writes the quorum device into corosync.conf and installs corosync-qdevice, but the qnetd "
                f"server is yours: corosync-qnetd must run on {qd.host} (port {qd.port}; with pcs there: 'pcs qdevice "
                f"setup model net --enable --start'), reachable from both nodes.{certs} Then start corosync-qdevice on both nodes (systemctl enable --now "
                "corosync-qdevice). Until it has registered, a node alone holds one vote of three and has no "
                "quorum, so a node loss stops the service instead of moving it.")


def _fencing_on(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """The risks of a fenced design: the race, the device's power, the path, the timeout."""
    fe = d.fencing
    if fe.race == "none" and stack.fence_delays:
        # pacemaker-schedulerd metadata (priority-fencing-delay): "especially meaningful under split-brain of
        # 2-node cluster"; without a delay both nodes shoot at once and may both die
        yield _warn("fence-race", "fencing.race",
                    "No fence-race protection: after a partition both nodes try to fence each other at once and "
                    "can both go down, taking the service with them. Set fencing.race = priority (fencing the "
                    "node that runs the service waits, so it is favoured).")
    elif fe.race == "none":
        yield _warn("fence-race", "fencing.race",
                    f"Pacemaker {stack.pacemaker} cannot delay a fence: after a partition both nodes fence each "
                    "other at once and can both go down. Only a stack with Pacemaker 2 can prevent it.")
    if fe.method == "agent":
        for i, n in enumerate(d.nodes):
            if n.fence_agent and not n.fence_password_ref:
                yield _info("fence-no-password", f"nodes[{i}].fence_password_ref",
                            f"{n.fence_agent} on {n.name} gets no password (fence_password_ref is empty); "
                            "right for an agent that authenticates otherwise, e.g. with an identity_file.")
        onboard = [(i, n) for i, n in enumerate(d.nodes) if n.fence_agent in ONBOARD_FENCE_AGENTS]
        if onboard and "failover" in (d.answers.power_loss,):
            i, n = onboard[0]
            yield _warn("fence-power", f"nodes[{i}].fence_agent",
                        f"{n.fence_agent} talks to {n.name}'s on-board management controller, which loses its "
                        "power with the node: after a power loss the fence cannot complete, and the survivor waits "
                        "instead of taking over, although the design fails over on power loss. Use sbd, or a "
                        "fence device with its own power (a switched PDU).")
        yield from _fence_path_on_interconnect(d)
    if fe.method == "sbd" and fe.watchdog_timeout_s < 10:
        yield _warn("sbd-watchdog", "fencing.watchdog_timeout_s",
                    f"A {fe.watchdog_timeout_s} s watchdog resets a node that is only slow (a load spike, a long "
                    "I/O stall): the HA layer itself causes the outage. 15 s is the usual value.")
    if fe.stonith_timeout_s and fe.stonith_timeout_s < timing.derived_stonith_timeout_s(d):
        yield _warn("stonith-timeout", "fencing.stonith_timeout_s",
                    f"stonith-timeout {fe.stonith_timeout_s} s is shorter than the fencing path: "
                    f"{timing.fence_delay_s(d):.0f} s of race delay and {timing.fence_action_s(d):.0f} s for the "
                    "fence itself. A fence that is still running is then counted as failed, and the survivor "
                    f"waits for another. Leave it 0 (derived: {timing.derived_stonith_timeout_s(d)} s).")


def _fence_path_on_interconnect(d: Design) -> Iterator[Problem]:
    """A fence device reached over an interconnect is lost with the very link whose loss it must handle."""
    nets = []
    for n in d.nodes:
        for ic in n.interconnects:
            try:
                nets.append(ipaddress.IPv4Interface(ic.address).network)
            except ValueError:
                continue
    for i, n in enumerate(d.nodes):
        for key in ("ip", "ipaddr", "host"):
            addr = n.fence_params.get(key, "")
            try:
                ip = ipaddress.IPv4Address(addr)
            except ValueError:
                continue
            if any(ip in net for net in nets):
                yield _warn("fence-path", f"nodes[{i}].fence_params.{key}",
                            f"{n.name}'s fence device ({addr}) is reached over an interconnect: when the "
                            "interconnects fail - the partition fencing exists for - the device cannot be reached "
                            "and the fence fails. Put fence devices on the management or service network.")


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
    a cipher requires a hash, and both are supported by the knet transport only. A cipher without a hash,
    and udpu with any crypto asked for, are errors (hawizard/design/validate.py): the first is refused by
    corosync, the second cannot be rendered.
    """
    if cs.transport != "knet":
        if cs.crypto_cipher == "none" and cs.crypto_hash == "none":
            yield _warn("corosync-crypto", "corosync.transport",
                        f"The {cs.transport} transport has no crypto (corosync supports it with knet only): "
                        "cluster traffic is neither authenticated nor encrypted. Anyone on the interconnect can "
                        "join or disturb the membership and read the cluster's messages; use knet.")
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
    wanted = d.answers.io_error
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
    if dr.protocol != "C":
        yield _warn("drbd-protocol", "drbd.protocol",
                    f"Protocol {dr.protocol} acknowledges a write before it is on the peer's disk: writes the "
                    "service already confirmed can be lost in a failover.")
    # what the hardware can deliver: on DRBD 8.4 and 9 the resync controller's cap (c-max-rate, which is
    # resync_rate unless drbd.c_max_rate is set) bounds a resync, unless c-plan-ahead 0 turns the controller
    # off (drbd.conf(5) for 9: "Fixed resync rate. Enabled when c-plan-ahead is zero")
    capped = stack.drbd != "8.3" and dr.c_max_rate and dr.c_plan_ahead != 0
    rate_key = "c_max_rate" if capped else "resync_rate"
    try:
        rate = parse_rate(getattr(dr, rate_key))
    except ValueError:
        return
    link_bytes = d.network.replication_link_mbps * 1_000_000 / 8
    rate_mbps = rate * 8 / 1_000_000
    if rate > link_bytes:
        yield _warn("resync-rate-link", f"drbd.{rate_key}",
                    f"{getattr(dr, rate_key)} is {rate / 1024**2:.0f} MiB/s ({rate_mbps:.0f} Mbit/s), more than the "
                    f"{d.network.replication_link_mbps} Mbit/s replication link can carry "
                    f"({link_bytes / 1024**2:.0f} MiB/s): the rate is never reached and a resync takes the whole "
                    "link from the service's own writes.")
    elif rate > 0.3 * link_bytes:
        # DRBD 8.3/8.4 user's guides, "Configuring the rate of synchronization": about 30% of the
        # available replication bandwidth; the rest is for the application's own (replicated) writes
        yield _warn("resync-rate-share", f"drbd.{rate_key}",
                    f"{getattr(dr, rate_key)} is {100 * rate / link_bytes:.0f}% of the {d.network.replication_link_mbps} "
                    "Mbit/s replication link: during a resync the service's writes, which wait for the peer, get "
                    "the rest, and a slow service fails its monitor. The DRBD guides recommend about 30% "
                    f"({int(0.3 * link_bytes / 1024**2)}M here).")
    rep_link = _replication_link(d)
    # Heartbeat sends on every link at once; knet carries the membership on one link, which is the
    # replication link only when there is no other (hawizard/design/links.py)
    shares = stack.membership == "heartbeat" or links.preferred_membership_link(d, stack) == rep_link
    if rep_link is not None and shares and rate >= 0.9 * link_bytes:
        yield _warn("resync-starves-membership", f"drbd.{rate_key}",
                    f"The resync can fill interconnect {rep_link}, which also carries the membership traffic: "
                    "heartbeats delayed behind it make the peer look dead during a resync.")
    if dr.usage_count:
        yield _info("usage-count", "drbd.usage_count", "Each node reports its install to LINBIT over the internet.")
    if stack.drbd == "9" and dr.quorum != "off":
        yield _drbd_quorum(d)


def _drbd_quorum(d: Design) -> Problem:
    """DRBD 9 quorum on two nodes: a majority of two is both, so losing the peer loses quorum.

    drbd.conf(5) for 9, quorum: a partition whose missing nodes "are marked as outdated" keeps quorum (a
    graceful disconnect), but "in the moment a single secondary is lost, it has to be assumed that it forms
    a partition with all the missing outdated nodes ... quorum is lost"; the DRBD 9 user's guide ("Using a
    diskless node as a tiebreaker") adds a third, diskless node so that one of two data nodes keeps quorum.
    hawizard builds two nodes and no tiebreaker.
    """
    dr = d.drbd
    io = ("freezes every write (on-no-quorum suspend-io) until the peer is back" if dr.on_no_quorum == "suspend-io"
          else "fails every write with an I/O error (on-no-quorum io-error)")
    fails_over = "failover" in (d.answers.power_loss, d.answers.kernel_panic)
    return _warn("drbd-quorum-two-nodes", "drbd.quorum",
                 f"DRBD quorum {dr.quorum} with two nodes and no diskless tiebreaker: when the peer crashes or the "
                 f"replication link fails, the Primary loses quorum and {io}, and the survivor cannot be "
                 "promoted" + (", so the design's failover on node loss does not happen" if fails_over else "") +
                 ". Only a graceful stop of the peer keeps quorum. Set drbd.quorum = off and rely on fencing "
                 "(drbd.fencing = resource-and-stonith), or add a diskless third DRBD node as tiebreaker by hand.")


# what an ignored failure leaves behind (Pacemaker Explained, "Operation Properties", on-fail ignore: "Pretend
# the resource did not fail")
IGNORED = {
    "stop": "the cluster counts a stop that failed as done and starts the resource on the other node while it may "
            "still run here: the filesystem mounted on both nodes (corruption), the VIP on both",
    "monitor": "a failed check is never acted on: a dead service stays down while the cluster reports it running",
    "promoted_monitor": "a failed check of the promoted DRBD is never acted on",
    "start": "a start that failed counts as done: the service is reported running although it is not",
    "promote": "a promote that failed counts as done: the group starts on a DRBD that is not Primary",
    "demote": "a demote that failed counts as done: DRBD may be promoted on the other node while still Primary "
              "here",
}


def _on_fail(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """cluster.on_fail against what each value does and against the design's answer for a failed switch-over."""
    of = d.cluster.on_fail
    for op, what in IGNORED.items():
        if getattr(of, op) == "ignore":
            yield _warn("on-fail-ignore", f"cluster.on_fail.{op}", f"on-fail=ignore on {op.replace('_', ' ')}: "
                        f"{what}. Leave it default.")
    answer = d.answers.switchover_failure
    if of.stop == "block":
        # Pacemaker Explained, on-fail block: "Don't perform any further operations on the resource"
        text = ("on_fail.stop = block leaves a resource whose stop failed where it is, blocked, and the service down "
                "until the operator has cleaned it up (crm_resource --cleanup) and checked the node")
        if answer == "fence":
            yield _warn("on-fail-intent", "cluster.on_fail.stop",
                        f"{text}; the design answers fence for a failed switch-over, which would move the service. "
                        "Leave on_fail.stop default.")
        else:
            yield _info("on-fail-block", "cluster.on_fail.stop", f"{text}, as the design answers (manual).")
    elif of.stop == "fence" and answer == "manual":
        yield _warn("on-fail-intent", "cluster.on_fail.stop",
                    "on_fail.stop = fence fences a node whose stop failed, but the design answers manual for a failed "
                    "switch-over. Set answers.switchover_failure = fence, or leave on_fail.stop default.")
    elif of.stop == "restart":
        yield _warn("on-fail-stop", "cluster.on_fail.stop",
                    "on_fail.stop = restart: after a failed stop the cluster tries again, and while the resource "
                    "may still hold the disk or the address no other node takes over. fence (with fencing) or "
                    "block says what happens.")


def _replication_link(d: Design) -> int | None:
    return links.replication_link(d)


def _monitoring(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    s, c, t = d.service, d.cluster, d.timing
    http_check = s.apache_agent == "ocf:heartbeat:apache"
    if d.answers.process_check == "pid" and http_check:
        yield _warn("check-intent", "service.apache_agent",
                    "The design says to check the PID only, but ocf:heartbeat:apache fetches the server-status "
                    "page on every monitor: a slow or saturated Apache fails the check although its process is "
                    "alive, and is restarted or moved under load.")
    if d.answers.process_check == "http-status" and not http_check:
        yield _warn("check-intent", "service.apache_agent",
                    f"The design asks for a server-status check, but {s.apache_agent} checks only that the "
                    "process runs: a hung Apache goes unnoticed.")
    # restart-then-failover
    pf = d.answers.process_failure
    want = {"restart-then-failover": d.answers.restart_attempts + 1, "failover": 1, "restart": 0}[pf]
    default_mt = "0, which disables it" if stack.pacemaker == "1.0" else "INFINITY, which is never reached"
    if pf != "restart" and c.migration_threshold == 0:
        yield _warn("restart-intent", "cluster.migration_threshold",
                    f"The design says a failing service moves to the other node after {want - 1} restart(s), but "
                    f"migration-threshold is not set (Pacemaker {stack.pacemaker}'s default is {default_mt}): "
                    "a service that keeps failing its monitor is restarted on the same node forever. It moves "
                    "only if a start itself fails.")
    elif pf != "restart" and c.migration_threshold != want:
        yield _warn("restart-intent", "cluster.migration_threshold",
                    f"The design says {d.answers.restart_attempts if pf != 'failover' else 0} restart(s) then fail "
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
    yield from _timeouts(d, stack)
    if s.status_url and http_check:
        m = re.match(r"^https?://([^/:]+)(?::(\d+))?", s.status_url)
        if m and m.group(1) not in ("localhost", "127.0.0.1", s.status_allow):
            yield _warn("status-url", "service.status_url",
                        f"The monitor fetches {s.status_url}, but server-status is allowed from {s.status_allow} only.")
        if m and int(m.group(2) or 80) != s.port:
            yield _warn("status-url", "service.status_url",
                        f"The status URL's port differs from the port Apache listens on ({s.port}).")


def _agent_name(d: Design, agent: str) -> str:
    """How a message names the agent of one of hawizard's resources: IPaddr2, Filesystem, apache, drbd."""
    if agent == "web" and d.service.apache_agent != agent_timeouts.AGENT_TYPES["web"]:
        return d.service.apache_agent
    return agent_timeouts.AGENT_TYPES[agent].rsplit(":", 1)[-1]


def _timeouts(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """Operation timeouts against the agents' advertised values (hawizard/design/agent_timeouts.py)."""
    t = d.timing
    low = timing.below_advertised(d, stack)
    if low:
        which = ", ".join(f"{_agent_name(d, a)} {adv} s" for a, _op, _t, adv in low)
        # an operation that times out has failed (Pacemaker Explained, "Operation Properties": timeout)
        yield _warn("timeout-below-agent", "timing.monitor_timeout_s",
                    f"A {t.monitor_timeout_s} s monitor timeout is shorter than the agents advertise ({which}): a "
                    "monitor that times out counts as a failure, so load alone restarts or moves the service. "
                    "Leave it 0 for each agent's own value.")
    if t.default_action_timeout_s and t.default_action_timeout_s < 20:
        # 20 s: Pacemaker's built-in default of an operation without a timeout (Pacemaker Explained)
        yield _warn("tight-monitor", "timing.default_action_timeout_s",
                    f"Operations without a timeout of their own (the fence devices', for one) get "
                    f"{t.default_action_timeout_s} s, less than Pacemaker's own 20 s default: they fail under load. "
                    "Leave it 0.")
    if t.default_action_timeout_s:
        yield _blanket_effect(d, stack)


def _blanket_effect(d: Design, stack: stacks.Stack) -> Problem:
    """What timing.default_action_timeout_s does to the operations hawizard writes, and what it costs."""
    blanket = d.timing.default_action_timeout_s
    longer, kept = [], []
    for agent in timing.AGENTS:
        for op in agent_timeouts.operations(agent):
            if timing.operator_timeout(d, agent, op) is not None:
                continue
            adv = timing.advertised(d, agent, op, stack)
            (longer if blanket > adv else kept if adv > blanket else []).append(f"{_agent_name(d, agent)} {op}")
    bare = copy.deepcopy(d)
    bare.timing.default_action_timeout_s = 0
    est, est0 = timing.estimate(d, stack), timing.estimate(bare, stack)
    where = ("the default-action-timeout property" if stack.pacemaker == "1.0"
             else "rendered as op_defaults: Pacemaker 2 has no default-action-timeout property")
    parts = [f"Every operation without a timeout of its own waits up to {blanket} s ({where})."]
    if longer:
        parts.append(f"That is longer than their agents ask for {len(longer)} of hawizard's operations, so a hung "
                     f"one holds a switch-over longer: worst case {est.node_loss_s:.0f} s after a node loss and "
                     f"{est.service_failure_s:.0f} s after a service failure, against {est0.node_loss_s:.0f} s and "
                     f"{est0.service_failure_s:.0f} s with each agent's own values (0).")
    if kept:
        which = (", ".join(kept) + (" keeps" if len(kept) == 1 else " keep") if len(kept) <= 3
                 else f"{len(kept)} of hawizard's operations keep")
        parts.append(f"It never shortens one: {which} the agent's longer value, written on the operation.")
    return _info("blanket-timeout", "timing.default_action_timeout_s", " ".join(parts))


def _switchover(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """The worst cases against the target; timeouts are never shortened to fit (hawizard/design/timing.py),
    so a target they miss gets what would meet it: faster detection, fewer resources, a longer target."""
    target = d.answers.switchover_target_s
    fails_over = "failover" in (d.answers.power_loss, d.answers.kernel_panic)
    if fails_over:
        path = timing.node_loss_path(d, stack)
        total = sum(p.seconds for p in path)
        if total > target:
            fence = next(p.seconds for p in path if p.what == "fencing")
            first = (f"detection {path[0].seconds:.0f} s" + (f", fencing {fence:.0f} s" if fence else "")
                     + ", then DRBD's promote and three starts at their timeouts")
            yield _warn("target-node-loss", "answers.switchover_target_s",
                        f"After a node is lost the switch-over can take up to {total:.0f} s ({first}), over the "
                        f"{target} s target. {_what_meets(d, stack, path, target, 'node')}")
    if d.answers.process_failure != "restart":
        path = timing.service_path(d, stack)
        total = sum(p.seconds for p in path)
        if total > target:
            yield _warn("target-service", "answers.switchover_target_s",
                        f"After a service failure the move can take up to {total:.0f} s (monitor interval and "
                        f"timeout {path[0].seconds:.0f} s, then three stops, demote, promote and three starts at "
                        f"their timeouts), over the {target} s target. {_what_meets(d, stack, path, target, 'service')}")


def _what_meets(d: Design, stack: stacks.Stack, path: list[timing.PathPart], target: int, case: str) -> str:
    """What would bring a worst case within the target, without cutting an operation below its agent's value."""
    total = sum(p.seconds for p in path)
    meets, still = [], ""
    if d.timing.default_action_timeout_s:
        bare = copy.deepcopy(d)
        bare.timing.default_action_timeout_s = 0
        path0 = timing.node_loss_path(bare, stack) if case == "node" else timing.service_path(bare, stack)
        total0 = sum(p.seconds for p in path0)
        if total0 <= target:
            meets.append(f"timing.default_action_timeout_s = 0 ({total0:.0f} s)")
        elif total0 < total:
            still = f" With the agents' own values (default_action_timeout_s = 0) it is still {total0:.0f} s."
        path = path0
    ops = sum(p.seconds for p in path if p.what not in ("detection", "fencing"))
    quick = sum(p.seconds for p in path) - ops
    if ops <= target < ops + quick:
        knobs = ("the monitor interval" if case == "service" else
                 "membership timeouts" + (" and the fence delay" if timing.fence_delay_s(d) else ""))
        meets.append(f"faster detection ({knobs}: {quick:.0f} s now, {target - ops:.0f} s at most)")
    elif ops > target:
        still += f" The operations alone take {ops:.0f} s, so faster detection cannot."
    meets.append(f"a target of at least {int(-(-total // 1))} s")
    resources = sorted((p for p in path if p.what not in ("detection", "fencing")), key=lambda p: -p.seconds)
    meets.append("fewer resources on the path (" + ", ".join(
        f"{_agent_name(d, p.what)} {p.seconds:.0f} s" for p in resources) + ")")
    return "Timeouts are never cut below the agents' values to fit; what would meet it: " + "; or ".join(meets) + "." + still


# -- split-brain recovery -------------------------------------------------------------------------
# drbd.conf(5) (8.3, 8.4 and 9 alike), net section, after-sb-0pri/1pri/2pri, and the DRBD user's guides
# (8.4 and 9), "Automatic split brain recovery policies": what each policy throws away. A policy that
# resolves a split brain by syncing one node from the other discards the writes that node took while
# the two were apart, writes the service had already confirmed; only disconnect and
# discard-zero-changes (which syncs only towards a node that wrote nothing) lose nothing.
AFTER_SB_0PRI_LOSES = {
    "discard-younger-primary": "the writes of the node that became Primary last",
    "discard-older-primary": "the writes of the node that was Primary first",
    "discard-least-changes": "the writes of the node that changed fewer blocks",
}


def _split_brain(d: Design) -> Iterator[Problem]:
    """The after-sb policies: which writes each can throw away, which can crash the node, which call a
    handler hawizard does not write; and the design's split-brain answer against them."""
    dr, manual = d.drbd, d.answers.split_brain == "manual"
    by_hand = " The design says split brain is resolved by hand." if manual else ""
    lost0 = AFTER_SB_0PRI_LOSES.get(dr.after_sb_0pri)
    if lost0:
        yield _warn("split-brain-discard", "drbd.after_sb_0pri",
                    f"after-sb-0pri {dr.after_sb_0pri} resolves a split brain by throwing away {lost0}, writes the "
                    f"service had already confirmed.{by_hand} Use disconnect, or discard-zero-changes (it "
                    "resolves only a split brain in which one node wrote nothing, and loses nothing).")
    elif dr.after_sb_0pri == "discard-zero-changes":
        yield _info("split-brain-auto", "drbd.after_sb_0pri",
                    "discard-zero-changes resolves a split brain by itself only when one node wrote nothing "
                    "while they were apart, and loses nothing; any other split brain is left to the operator.")
    one = dr.after_sb_1pri
    if one == "discard-secondary":
        message = ("after-sb-1pri discard-secondary throws away the writes of the node that is Secondary when the "
                   "nodes meet again, although it may have been Primary, and taken confirmed writes, while they "
                   "were apart.")
        if d.answers.split_brain == "auto-discard-secondary":
            yield _info("split-brain-discard", "drbd.after_sb_1pri", message + " The design accepts that loss.")
        else:
            yield _warn("split-brain-discard", "drbd.after_sb_1pri",
                        message + by_hand + " Use disconnect and resolve split brain by hand.")
    elif one == "consensus" and lost0:
        yield _warn("split-brain-discard", "drbd.after_sb_1pri",
                    f"after-sb-1pri consensus follows after-sb-0pri {dr.after_sb_0pri}: it throws away the "
                    f"Secondary's writes whenever that policy would.{by_hand} Use disconnect, or a safe "
                    "after-sb-0pri.")
    for key, value in (("after_sb_1pri", one), ("after_sb_2pri", dr.after_sb_2pri)):
        option = key.replace("_", "-")
        if value == "violently-as0p" and dr.after_sb_0pri != "disconnect":
            # drbd.conf(5): "This is DANGEROUS and MAY CRASH YOUR MACHINE if you have an FS mounted on the
            # primary node" - the service's filesystem always is
            yield _warn("split-brain-crash", f"drbd.{key}",
                        f"{option} violently-as0p lets DRBD resync the Primary itself, under its mounted "
                        "filesystem: the filesystem can be corrupted and the node crash"
                        + (f", and {lost0} are lost" if lost0 else "") + ". Use disconnect.")
        if value == "call-pri-lost-after-sb":
            # drbd.conf(5): the policy calls the pri-lost-after-sb handler, which "is expected to reboot the
            # machine"; hawizard renders no such handler, so nothing makes the losing Primary give up
            yield _warn("split-brain-handler", f"drbd.{key}",
                        f"{option} call-pri-lost-after-sb relies on a pri-lost-after-sb handler that reboots the "
                        "losing Primary, and hawizard writes none: that node goes on serving data DRBD has "
                        "decided to discard, and the split brain stays. Use disconnect.")
    if d.answers.split_brain == "auto-discard-secondary" and one != "discard-secondary":
        yield _warn("split-brain-intent", "drbd.after_sb_1pri",
                    "The design says to discard the secondary's changes after a split brain, but "
                    f"after-sb-1pri is '{one}'.")


# -- replication ----------------------------------------------------------------------------------
def _replication(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """Existing data under internal metadata, an unauthenticated peer, a membership link shared with DRBD."""
    dr = d.drbd
    if d.answers.reuse_data and dr.meta_disk == "internal":
        # DRBD user's guides (8.4, 9), "Internal meta data": it lives in the last sectors of the backing
        # device, so a device that already holds a filesystem must first be shrunk; drbdmeta(8) refuses
        # create-md where "a file system image would get destroyed" (--ignore-sanity-checks overrides)
        yield _warn("reuse-internal-md", "drbd.meta_disk",
                    "The design keeps the data on the backing disks (answers.reuse_data), but internal metadata "
                    "takes the last part of each disk: create-md either refuses or overwrites the end of the "
                    "existing filesystem. Shrink the filesystem first, or put the metadata on a device of its "
                    "own (drbd.meta_disk = a device path).")
    if not dr.shared_secret_ref and not d.network.interconnect_direct:
        # drbd.conf(5), cram-hmac-alg: "You are strongly encouraged to use peer authentication"; without it
        # DRBD takes any peer that connects to its port
        yield _warn("drbd-no-auth", "drbd.shared_secret_ref",
                    f"DRBD accepts any peer that connects to port {dr.port}, and the replication link is switched "
                    "(network.interconnect_direct is false): another host there can pose as the peer and be "
                    "sent the data, or overwrite it. Set drbd.shared_secret_ref = \"generate\".")
    rep = links.replication_link(d)
    # corosync.conf(5), link_mode rr: "Each packet will be sent to the next active link in order", the
    # replication link included, whatever its priority (active sends every packet on every link: the
    # copies on the other links arrive undelayed)
    round_robin = stack.membership == "corosync" and d.corosync.transport == "knet" and d.corosync.link_mode == "rr"
    if rep is not None and round_robin and links.preferred_membership_link(d, stack) != rep:
        yield _warn("membership-on-replication-link", "corosync.link_mode",
                    f"In rr mode knet sends every other membership packet over interconnect {rep}, the link DRBD "
                    "replicates over: a resync or a burst of the service's writes delays those packets and the "
                    "token can be lost until the peer is declared lost and fenced. Use passive (the replication "
                    "link gets the lowest priority) or active (every packet on every link).")
    if rep is not None and links.preferred_membership_link(d, stack) == rep:
        # hawizard/design/links.py: knet prefers another link when there is one; with a single link
        # (or udpu) membership and replication share the cable
        yield _warn("membership-on-replication-link", f"nodes[0].interconnects[{rep}]",
                    "Corosync's membership traffic runs over the link DRBD replicates over: a resync or a burst "
                    "of the service's writes can delay the token until the peer is declared lost and fenced. "
                    "Add an interconnect for membership (knet then prefers it over the replication link).")


# -- resource defaults ----------------------------------------------------------------------------
def _resource_defaults(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """Stickiness and failure expiry, against what the design promises."""
    c = d.cluster
    if c.stickiness == 0:
        # Pacemaker Explained, resource meta-attributes, resource-stickiness: with 0 the cluster may move a
        # resource back as soon as a node it prefers (or ties with) comes back online
        yield _warn("fail-back", "cluster.stickiness",
                    "With resource stickiness 0 the service may move back to a failed node as soon as it "
                    "returns: a second interruption, possibly onto a disk that is still resyncing. Set a "
                    "positive stickiness (200, say).")
    threshold = c.migration_threshold
    if c.failure_timeout_s and threshold >= 2 and d.answers.process_failure != "restart":
        # Pacemaker Explained, failure-timeout: a failure is forgotten once it is that old. The fail count
        # reaches migration-threshold only if that many failures fall inside one failure-timeout; each
        # restart cycle is at least the monitor interval and timeout plus a stop and a start
        cycle = timing.estimate(d, stack).restart_s
        needed = (threshold - 1) * cycle
        if c.failure_timeout_s < needed:
            yield _warn("failure-expiry", "cluster.failure_timeout_s",
                        f"Failures expire after {c.failure_timeout_s} s, but reaching migration-threshold="
                        f"{threshold} can take {needed:.0f} s ({threshold - 1} restart cycles of up to "
                        f"{cycle:.0f} s): old failures are forgotten before the threshold is reached, and a "
                        f"failing service is restarted in place forever. Set failure_timeout_s above {needed:.0f}"
                        ", or 0.")
    if c.failure_timeout_s and stack.pacemaker == "1.0" and c.failure_timeout_s < 900:
        # Pacemaker 1.0 (crmd metadata, cluster-recheck-interval, 15min: the polling interval for time-based
        # changes) expires failures only when it recalculates; Pacemaker 2 schedules a recheck for the
        # moment a failure expires (the scheduler's recheck-by)
        yield _info("failure-recheck", "cluster.failure_timeout_s",
                    f"Pacemaker 1.0 forgets a failure only when it next recalculates: at a cluster event, or at "
                    f"the 15-minute cluster-recheck-interval, so up to 15 minutes after {c.failure_timeout_s} s.")


def _node_loss_intent(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """answers.power_loss / kernel_panic = manual, against a configuration that fails over by itself.

    Nothing renders "manual": the survivor waits for the operator only when it has no quorum
    (votequorum(5): without two_node one node of two is not quorate; Pacemaker Explained,
    no-quorum-policy: stop) and no-quorum-policy does not ignore that, or when the fence of the lost
    node cannot complete (an on-board fence device that lost its power with the node: lint fence-power).
    """
    two_node = stack.membership == "corosync" and d.corosync.two_node
    qdevice = stack.membership == "corosync" and bool(d.corosync.qdevice.host)
    if not (two_node or qdevice or d.cluster.no_quorum_policy == "ignore"):
        return
    why = "two_node" if two_node else "the quorum device's vote" if qdevice else "no-quorum-policy=ignore"
    onboard = d.fencing.method == "agent" and any(n.fence_agent in ONBOARD_FENCE_AGENTS for n in d.nodes)
    for key, what in (("power_loss", "power loss"), ("kernel_panic", "kernel panic or hang")):
        if getattr(d.answers, key) != "manual" or (key == "power_loss" and onboard):
            continue
        fence = ", fences the lost node" if d.fenced else ""
        yield _warn("node-loss-intent", f"answers.{key}",
                    f"The design says a node's {what} is handled by hand, but this configuration fails over by "
                    f"itself: the survivor keeps quorum ({why}){fence} and starts the service. Answer failover, "
                    "or make the survivor wait: corosync.two_node off with no_quorum_policy = stop.")


def _unused_settings(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """Values a preset sets that the chosen fencing method or authentication does not use: they are not
    rendered, and the operator should know it rather than believe them in effect."""
    fe = d.fencing
    if fe.method != "agent":
        for i, n in enumerate(d.nodes):
            for key in ("fence_agent", "fence_params", "fence_password_ref"):
                if getattr(n, key):
                    yield _info("unused-setting", f"nodes[{i}].{key}",
                                f"Not used: fencing.method is {fe.method}, and only the agent method fences through "
                                "each node's fence agent.")
    if fe.method != "sbd" and fe.sbd_devices:
        yield _info("unused-setting", "fencing.sbd_devices",
                    f"Not used: fencing.method is {fe.method}; the sbd disks are used by the sbd method only.")
    if not d.fenced:
        for key, unset in (("race", "none"), ("stonith_timeout_s", 0)):
            if getattr(fe, key) != unset:
                yield _info("unused-setting", f"fencing.{key}",
                            "Not used: fencing.method is none, so nothing is fenced.")
    qd = d.corosync.qdevice
    if not qd.host:
        for key, unset in (("port", 5403), ("algorithm", "ffsplit"), ("tls", "on"), ("tie_breaker", "lowest")):
            if getattr(qd, key) != unset:
                yield _info("unused-setting", f"corosync.qdevice.{key}",
                            "Not used: corosync.qdevice.host is empty, so there is no quorum device.")
    if d.drbd.quorum == "off" and d.drbd.on_no_quorum != "suspend-io" and stack.drbd == "9":
        yield _info("unused-setting", "drbd.on_no_quorum", "Not used: drbd.quorum is off.")
    if stack.membership == "heartbeat" and d.heartbeat.auth == "crc" and d.heartbeat.auth_secret_ref:
        yield _info("unused-setting", "heartbeat.auth_secret_ref",
                    "Not used: crc authkeys carry no secret; the reference is read with sha1 or md5 only.")
