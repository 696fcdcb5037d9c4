"""The wizard's questions: the article's design questions first, then the concrete sections.

Each section names the model fields it asks about (the labels, help texts, choices and limits
come from the model's metadata) and says in two or three lines what the choice costs and
what it protects. Which fields a section shows may depend on the design: the membership
settings follow the target stack, the interconnect rows follow the number of links.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hawizard.design import stacks
from hawizard.design.model import Design


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section (e.g. one node's fields)."""

    text: str


Entry = str | Heading


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    short: str  # in the section list
    question: str
    brief: str
    entries: Callable[[Design], list[Entry]]
    shows_estimate: bool = False


def _heartbeat(d: Design) -> bool:
    return stacks.get(d.stack).membership == "heartbeat"


def _prefixed(prefix: str, names: str) -> list[Entry]:
    return [f"{prefix}.{n}" for n in names.split()]


def _failure(d: Design) -> list[Entry]:
    return _prefixed("answers", "power_loss kernel_panic process_failure restart_attempts")


def _monitoring(d: Design) -> list[Entry]:
    return (_prefixed("answers", "process_check") + _prefixed("service", "apache_agent")
            + _prefixed("timing", "monitor_interval_s monitor_timeout_s")
            + [Heading("DRBD's own monitor")]
            + _prefixed("cluster", "drbd_monitor_interval_s drbd_promoted_monitor_interval_s drbd_conf_param"))


def _data(d: Design) -> list[Entry]:
    return (_prefixed("drbd", "protocol resync_rate c_plan_ahead c_fill_target c_max_rate c_min_rate") + _prefixed("network", "replication_link_mbps")
            + [Heading("Disk errors")] + _prefixed("answers", "io_error")
            + _prefixed("drbd", "on_io_error local_io_error_handler")
            + [Heading("Split brain")] + _prefixed("answers", "split_brain")
            + _prefixed("drbd", "after_sb_0pri after_sb_1pri after_sb_2pri fencing")
            + [Heading("DRBD 9 quorum")] + _prefixed("drbd", "quorum on_no_quorum")
            + [Heading("The DRBD resource")]
            + _prefixed("drbd", "resource device meta_disk port shared_secret_ref usage_count")
            + _prefixed("answers", "reuse_data"))


def _target(d: Design) -> list[Entry]:
    return _prefixed("answers", "switchover_target_s") + _prefixed("timing", "default_action_timeout_s")


def _when_fails(d: Design) -> list[Entry]:
    out: list[Entry] = _prefixed("answers", "switchover_failure") + _prefixed("fencing", "method")
    if d.fencing.method == "sbd":
        out += [Heading("sbd: a shared disk and the watchdog")]
        out += _prefixed("fencing", "sbd_devices watchdog_device watchdog_timeout_s msgwait_timeout_s")
    elif d.fencing.method == "agent":
        for i, n in enumerate(d.nodes):
            out.append(Heading(f"Fence device of node {i + 1} ({n.name})"))
            out += _prefixed(f"nodes[{i}]", "fence_agent fence_params fence_password_ref")
    if d.fencing.method != "none":
        out += [Heading("When both nodes want to fence")] + _prefixed("fencing", "race delay_s stonith_timeout_s action")
    out += [Heading("When an operation fails (on-fail)")]
    out += _prefixed("cluster.on_fail", "stop start monitor promoted_monitor promote demote")
    out += [Heading("Quorum")] + _prefixed("cluster", "no_quorum_policy")
    if not _heartbeat(d):
        out += _prefixed("corosync", "two_node wait_for_all")
        out += [Heading("Quorum device: the tie-breaking vote")]
        out += _prefixed("corosync.qdevice", "host port algorithm tls tie_breaker")
    return out


def _nodes(d: Design) -> list[Entry]:
    out: list[Entry] = []
    for i, n in enumerate(d.nodes):
        role = "the first primary, the sync source" if i == 0 else "the first standby"
        out.append(Heading(f"Node {i + 1} ({n.name}): {role}"))
        out += _prefixed(f"nodes[{i}]", "name ssh_host ssh_port ssh_user ssh_identity_file ssh_known_hosts "
                                        "ssh_fingerprint service_nic service_address")
        for j in range(len(n.interconnects)):
            out += _prefixed(f"nodes[{i}].interconnects[{j}]", "nic address")
        out += _prefixed(f"nodes[{i}]", "replication_address backing_disk")
    out.append(Heading("The links"))
    out += _prefixed("network", "interconnect_direct manage_hosts")
    return out


def _membership(d: Design) -> list[Entry]:
    if _heartbeat(d):
        return [Heading("Heartbeat 3 (ha.cf, authkeys)")] + _prefixed(
            "heartbeat", "keepalive_s warntime_s deadtime_s initdead_s udpport transport auth auth_secret_ref "
                         "logfile logfacility pacemaker_directive")
    return [Heading("Corosync 3 (corosync.conf, authkey)")] + _prefixed(
        "corosync", "cluster_name transport link_mode crypto_cipher crypto_hash token_ms authkey_ref")


def _service(d: Design) -> list[Entry]:
    return _prefixed("service", "vip vip_prefix vip_nic fstype mount_point document_root apache_config "
                                "server_name status_url status_allow port index_page verify_page")


def _cluster(d: Design) -> list[Entry]:
    return (_prefixed("cluster", "stickiness migration_threshold failure_timeout_s recheck_interval_s")
            + [Heading("Names of the cluster objects")]
            + _prefixed("cluster.ids", "drbd drbd_clone ip fs web group colocation order fence_prefix"))


def _stack(d: Design) -> list[Entry]:
    return ["stack", "name", "description"]


SECTIONS: tuple[Section, ...] = (
    Section(
        "failure", "Failure scope", "Failure scope",
        "Which failures must the cluster cover, and what does it do about each?",
        "Failing over on power loss or a kernel panic keeps the service up when a node dies, at the cost "
        "of a short outage and a takeover you must trust. Restarting in place first is quicker and keeps "
        "the service where its data is, but a service that keeps dying on a sick node stays there longer.",
        _failure),
    Section(
        "monitoring", "Monitoring", "Monitoring",
        "What does the monitor check, and how often?",
        "A PID check is cheap and rarely wrong; a server-status check also catches a hung Apache but fails "
        "when Apache is merely slow. The article's warning: a design so sensitive that a load spike "
        "triggers a failover, or whose checks load the server until it fails, makes the HA layer itself "
        "the point of failure.",
        _monitoring),
    Section(
        "data", "Data sharing", "Data sharing",
        "How is the data shared between the two nodes?",
        "DRBD mirrors one disk over the network. Protocol C waits for the peer's disk on every write: no "
        "confirmed write is lost, at the price of write latency. A resync rate near the link speed ends "
        "sooner but starves the service and the heartbeats; automatic split-brain recovery throws one "
        "side's writes away.",
        _data),
    Section(
        "target", "Switch-over target", "Switch-over",
        "How long may it take from a failure to the service answering on the other node?",
        "hawizard never cuts a timeout below what its agent asks for: short timeouts fail under load, the "
        "too-sensitive design again. A target they cannot meet is reported with what would meet it. The "
        "estimate adds up the worst case of every step on the way.",
        _target, shows_estimate=True),
    Section(
        "when-fails", "When switch-over fails", "If it fails",
        "What happens when an unexpected failure stops the switch-over?",
        "Without fencing, a hung node still holds the disk and the address, and after a lost link both "
        "nodes may write (split brain). Fencing makes a failed node leave before the other takes over. "
        "sbd needs a third small disk both nodes share (an iSCSI or FC LUN) and a watchdog; it works "
        "after a power loss. A fence agent needs a device per node: an on-board BMC (IPMI, iLO) dies "
        "with the node's power, a switched PDU does not.",
        _when_fails),
    Section(
        "nodes", "Nodes and networks", "Nodes, networks",
        "Which machines, addresses and disks make up the cluster?",
        "Two interconnects keep one cable or NIC failure from splitting the cluster; direct cables keep "
        "cluster traffic off the switch. hawizard checks that each address is already on its interface; it "
        "does not configure networks.",
        _nodes),
    Section(
        "membership", "Membership", "Membership",
        "How do the nodes watch each other?",
        "Short dead times and tokens detect a lost node sooner and raise false alarms under load: a busy node "
        "declared dead is a failover the HA layer caused. Authentication stops anyone on the interconnect "
        "from forging membership messages; it costs one shared key.",
        _membership),
    Section(
        "service", "Service", "Service",
        "Which address, filesystem and web server does the cluster move?",
        "The virtual IP follows the service, so clients never need to know which node is active. The DRBD "
        "filesystem is mounted on the active node only; a document root outside it would serve different "
        "files after a takeover.",
        _service),
    Section(
        "cluster", "Cluster properties", "Cluster",
        "How does the resource manager weigh where the service runs?",
        "Stickiness keeps the service where it runs when a failed node returns, sparing a second outage for "
        "the move back. migration-threshold is how many failures a node gets before the service leaves it; "
        "failure-timeout lets a node be trusted again.",
        _cluster),
    Section(
        "stack", "Target stack", "Target stack",
        "Which operating system and cluster software are the nodes running?",
        "The article's CentOS 5 / Heartbeat / Pacemaker 1.0 stack is long out of support: use it to "
        "reproduce the article. Debian 12 (crmsh) and EL9 (pcs) run corosync and current DRBD. The stack "
        "decides the membership settings and how every file is written.",
        _stack),
)


def section(key: str) -> Section:
    return next(s for s in SECTIONS if s.key == key)


# What each choice of a design question costs and protects, shown under the help of the field.
CHOICE_NOTES: dict[str, dict[str, str]] = {
    "answers.power_loss": {
        "failover": "The standby takes over within the switch-over target; no one needs to be awake.",
        "manual": "The service stays down until an operator acts; nothing moves without a human decision.",
    },
    "answers.kernel_panic": {
        "failover": "A hung node is left behind; safe only if it really stopped writing (fencing makes sure).",
        "manual": "A hung node keeps the service down until an operator acts.",
    },
    "answers.process_check": {
        "pid": "Cheap and calm under load; a hung Apache with a live process goes unnoticed.",
        "http-status": "Catches a hung Apache; a merely slow Apache can fail the check and be restarted.",
    },
    "answers.process_failure": {
        "restart-then-failover": "Restarts in place first (fast), moves only a service that keeps failing.",
        "restart": "Never moves for a service failure: the data stays put, a sick node keeps the service.",
        "failover": "Moves at the first failure: every hiccup costs a full switch-over.",
    },
    "answers.switchover_failure": {
        "manual": "No fence device needed; a hung node keeps the service down until someone acts.",
        "fence": "A stop that fails gets the node fenced and the service moves; needs fencing (sbd or an agent).",
    },
    "fencing.method": {
        "sbd": "A shared disk (a small LUN both nodes see) and each node's watchdog: fences even a node "
               "without power; needs that third disk.",
        "agent": "A fence device per node; with an on-board BMC a power loss leaves nothing to answer the "
                 "fence, and the survivor waits.",
        "none": "Nothing makes a failed node leave: after a partition both may write (the article's choice).",
    },
    "fencing.race": {  # one line each: the field's own help already says how each works
        "priority": "Favours the active node: fencing it waits.",
        "static": "The first node is favoured, active or not.",
        "random": "Usually one side wins, not always the active.",
        "none": "Both may fence each other at once: both go down.",
    },
    "answers.io_error": {
        "shutdown": "The node halts and the peer takes over: no I/O on a failing disk, a hard stop.",
        "detach": "DRBD drops the bad disk and reads/writes through the peer: no outage, slower I/O.",
        "pass-on": "The error reaches the filesystem: the service sees it, nothing moves on its own.",
    },
    "answers.split_brain": {
        "manual": "Both copies are kept until you decide which survives; the resource stays disconnected.",
        "auto-discard-secondary": "Reconnects on its own; the former secondary's changes are thrown away.",
    },
    "drbd.protocol": {
        "A": "Acknowledged when on the local disk and sent: fastest, loses the last writes in a failover.",
        "B": "Acknowledged when the peer received it: a power loss of both nodes can still lose writes.",
        "C": "Acknowledged when on both disks: no confirmed write is lost, the slowest of the three.",
    },
    "cluster.no_quorum_policy": {
        "stop": "A node alone stops its resources: safe, but a two-node cluster without two_node stops too.",
        "ignore": "A node alone keeps serving: always available, and both halves may serve after a split.",
        "freeze": "A node alone keeps what it runs but starts nothing new.",
        "demote": "A node alone demotes promoted resources and stops the rest.",
    },
    "heartbeat.auth": {
        "crc": "A checksum, not authentication: acceptable on a direct cable only.",
        "sha1": "Authenticated with a shared key (generated at apply time unless referenced).",
        "md5": "Authenticated, with a weaker hash than sha1.",
    },
}
