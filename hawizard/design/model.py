"""The design model: every decision the article makes or leaves open, as typed dataclasses.

One source of truth. Each field carries its documentation, its allowed values and (where
it applies) the check of its form in ``metadata``, so that preset loading, validation, the
preset reference (docs/presets.md) and the wizard's questions all read the same table.

The model has two layers, as the article does:
- ``design``: the operator's intent, in the words of the article's design questions
  ("power loss -> fail over", "check the PID only", "switch over within 5 minutes");
- the concrete sections (heartbeat, corosync, drbd, service, cluster, timing): the values that
  are rendered into files. Lint compares the two and says where the rendered configuration
  would not do what the design says.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

SCHEMA_VERSION = 2  # 2: [fencing] replaces cluster.stonith_enabled; [answers] was [design] (preset_file migrates 1)
STACKS = ("centos5-heartbeat", "debian12-crmsh", "debian12-pcs", "el9-pcs")


def documented(default: Any, doc: str, *, kind: str | None = None, choices: tuple[str, ...] | None = None,
               minimum: float | None = None, maximum: float | None = None, secret_ref: bool = False,
               ref_empty: str | None = None, ref_generate: bool = False, factory: Any = None) -> Any:
    """A dataclass field with the metadata the schema table needs.

    A secret reference (``secret_ref``) says what its empty value means (``ref_empty``, which the
    doc repeats word for word) and whether 'generate' is accepted (``ref_generate``): each one means
    something different when empty, and its error message must say so.
    """
    meta = {"doc": doc, "kind": kind, "choices": choices, "min": minimum, "max": maximum,
            "secret_ref": secret_ref, "ref_empty": ref_empty, "ref_generate": ref_generate}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Answers:
    """The article's design questions, answered: the operator's intent, which lint holds the rest to."""

    power_loss: str = documented("failover", "What a node's power loss does to the service.",
                                 choices=("failover", "manual"))
    kernel_panic: str = documented("failover", "What a kernel panic or a hung node does to the service.",
                                   choices=("failover", "manual"))
    process_check: str = documented("http-status", "What the service monitor checks: that the process exists (pid), "
                                    "or that Apache answers its server-status page (http-status).",
                                    choices=("pid", "http-status"))
    process_failure: str = documented("restart-then-failover",
                                      "What a failed service check does: restart in place a few times then fail over, "
                                      "restart in place only, or fail over at once.",
                                      choices=("restart-then-failover", "restart", "failover"))
    restart_attempts: int = documented(2, "Restarts on the same node before the service moves (restart-then-failover).",
                                       minimum=1, maximum=100)
    switchover_target_s: int = documented(600, "Longest acceptable time from a failure to the service answering "
                                          "on the other node, in seconds (the article: about 5 minutes). Timeouts "
                                          "are never shortened to meet it; 600 fits the worst case of the resources "
                                          "at their agents' advertised timeouts.",
                                          minimum=10, maximum=3600)
    switchover_failure: str = documented("manual", "What happens when switch-over itself fails (a stop that fails "
                                         "or times out): the resource is left blocked and the operator steps in "
                                         "(manual), or the node is fenced and the service moves (fence; needs "
                                         "fencing.method sbd or agent).",
                                         choices=("manual", "fence"))
    io_error: str = documented("detach", "What a disk I/O error under DRBD does to the node: shut it down, "
                               "detach the disk and serve from the peer (detach), or pass the error up (pass-on).",
                               choices=("shutdown", "detach", "pass-on"))
    split_brain: str = documented("manual", "After a split brain: detect it and leave recovery to the operator "
                                  "(manual), or discard the changes of the node that was secondary (auto-discard-secondary).",
                                  choices=("manual", "auto-discard-secondary"))
    reuse_data: bool = documented(False, "The backing disks hold data to keep: skip the empty-disk check. "
                                  "Leave false for new disks.")


@dataclass
class Timing:
    """Monitor intervals and operation timeouts. Every operation hawizard writes gets at least the
    timeout its agent advertises (hawizard/design/agent_timeouts.py); 0 means: that value."""

    monitor_interval_s: int = documented(20, "Interval of the resources' monitor operations, in seconds.",
                                         minimum=1, maximum=3600)
    monitor_timeout_s: int = documented(0, "Timeout of every monitor operation, written exactly as set (below an "
                                        "agent's advertised value the lint warns); 0 = each agent's advertised value.",
                                        minimum=0, maximum=3600)
    default_action_timeout_s: int = documented(0, "Default timeout of every operation without one of its own "
                                               "(op_defaults; Pacemaker 1.0: the default-action-timeout property). "
                                               "It never shortens an operation: one whose agent advertises more keeps "
                                               "that value. 0 = not set.",
                                               minimum=0, maximum=3600)


@dataclass
class Interconnect:
    """One interconnect NIC of a node (a direct cable or a switched link)."""

    nic: str = documented("eth1", "Interface name.", kind="ifname")
    address: str = documented("10.1.0.1/24", "Address with prefix, e.g. 10.1.0.1/24.", kind="cidr")


@dataclass
class Node:
    """One of the two cluster nodes."""

    name: str = documented("srv1", "Node name; must equal the node's hostname (uname -n).", kind="hostname")
    ssh_host: str = documented("", "Management address or name that hawizard connects to.", kind="host")
    ssh_port: int = documented(22, "SSH port.", minimum=1, maximum=65535)
    ssh_user: str = documented("root", "SSH user; a non-root user needs sudo (the password is asked once).",
                               kind="username")
    ssh_identity_file: str = documented("", "Private key file for SSH; empty = the agent or ~/.ssh/config.", kind="path?")
    ssh_known_hosts: str = documented("", "known_hosts file with this node's host key; empty = hawizard's own.",
                                      kind="path?")
    ssh_fingerprint: str = documented("", "Pinned host key fingerprint (SHA256:...); empty = ask on first contact.",
                                      kind="fingerprint?")
    service_nic: str = documented("eth0", "Interface of the service network (where the VIP lives).", kind="ifname")
    service_address: str = documented("192.168.0.101/24", "The node's own address on the service network, with prefix.",
                                      kind="cidr")
    interconnects: list[Interconnect] = documented(None, "Interconnect links (membership traffic, replication); "
                                                   "knet prefers one that DRBD does not use.",
                                                   factory=lambda: [Interconnect()])
    replication_address: str = documented("10.1.0.1", "Address DRBD replicates over; one of the interconnect addresses.",
                                          kind="ip")
    backing_disk: str = documented("/dev/sdb1", "Block device under DRBD (same size on both nodes).", kind="devpath")
    fence_agent: str = documented("", "Fence agent that powers this node off (e.g. fence_ipmilan); empty = none.",
                                  kind="word?")
    fence_params: dict[str, str] = documented(None, "Parameters of the fence agent (ip, username, ...): names of letters, "
                                              "digits and '_', values of one line up to 256 characters; never a password "
                                              "here: use fence_password_ref.", factory=dict)
    fence_password_ref: str = documented("", "Where the fence password is read at apply time: env:NAME or file:PATH; "
                                         "empty = no password is passed to the fence agent (for an agent that "
                                         "authenticates otherwise, e.g. with an identity_file in fence_params).",
                                         secret_ref=True, ref_empty="no password is passed to the fence agent")


@dataclass
class Heartbeat:
    """Heartbeat 3 membership (the article's stack): ha.cf and authkeys."""

    keepalive_s: int = documented(2, "Seconds between heartbeats.", minimum=1, maximum=60)
    warntime_s: int = documented(10, "Seconds of silence before a late-heartbeat warning.", minimum=1, maximum=600)
    deadtime_s: int = documented(30, "Seconds of silence before the peer is declared dead.", minimum=1, maximum=600)
    initdead_s: int = documented(60, "Deadtime at start-up, while the other node boots.", minimum=1, maximum=3600)
    udpport: int = documented(694, "UDP port of heartbeat traffic.", minimum=1, maximum=65535)
    transport: str = documented("bcast", "How heartbeats travel over the interconnects.", choices=("bcast", "ucast"))
    auth: str = documented("sha1", "authkeys method; crc is only a checksum and fits a direct cable only.",
                           choices=("crc", "sha1", "md5"))
    auth_secret_ref: str = documented("", "Where the authkeys secret comes from: empty = generated at apply time "
                                      "(the one already on the first node is kept), env:NAME or file:PATH.", secret_ref=True,
                                      ref_empty="generated at apply time (the one already on the first node is kept)")
    logfile: str = documented("/var/log/ha-log", "Heartbeat's log file.", kind="path")
    logfacility: str = documented("local0", "Syslog facility.", kind="word")
    pacemaker_directive: str = documented("crm yes", "The ha.cf line that starts Pacemaker.",
                                          choices=("crm yes", "crm respawn", "pacemaker respawn"))


@dataclass
class QuorumDevice:
    """A quorum device: the third vote of a two-node cluster, from a corosync-qnetd server on a third host.

    corosync-qdevice(8): a daemon on each node, model net, "highly recommended for 2 node clusters";
    it reads quorum.device and quorum.device.net in corosync.conf. hawizard writes those and installs
    corosync-qdevice on both nodes; the qnetd host, and with TLS the certificates, are the operator's
    (``pcs qdevice setup`` / ``pcs quorum device add``, or corosync-qdevice-net-certutil).
    """

    host: str = documented("", "Address or name of the corosync-qnetd server that gives the tie-breaking vote "
                           "(a third host, not a node); empty = no quorum device. Corosync only; with a device, "
                           "corosync.two_node must be false.", kind="host?")
    port: int = documented(5403, "TCP port of the qnetd server (corosync-qnetd's default 5403).",
                           minimum=1, maximum=65535)
    algorithm: str = documented("ffsplit", "How qnetd picks the partition that gets its vote: ffsplit (the "
                                "partition with more nodes, then the tie_breaker; written with votes: 1) or "
                                "lms (last man standing: a node alone that still sees qnetd keeps quorum).",
                                choices=("ffsplit", "lms"))
    tls: str = documented("on", "TLS to qnetd: on (tried first), required, or off (the only mode that needs no "
                          "certificates on the nodes).", choices=("on", "required", "off"))
    tie_breaker: str = documented("lowest", "Which of two equal partitions gets the vote: the one with the lowest "
                                  "or the highest node id (the first node has id 1).", choices=("lowest", "highest"))


@dataclass
class Corosync:
    """Corosync 3 membership (today's stacks)."""

    cluster_name: str = documented("hacluster", "Cluster name.", kind="word")
    transport: str = documented("knet", "Corosync transport; udpu carries one link and no crypto (crypto_* none).",
                                choices=("knet", "udpu"))
    crypto_cipher: str = documented("aes256", "Encryption of cluster traffic.",
                                    choices=("aes256", "aes192", "aes128", "none"))
    crypto_hash: str = documented("sha256", "Authentication of cluster traffic.",
                                  choices=("sha256", "sha384", "sha512", "sha1", "none"))
    # corosync.conf(5), totem.link_mode: "the Kronosnet mode, which may be passive, active, or rr"; passive is
    # knet's default (and what corosync chooses with one interface), so passive writes nothing
    link_mode: str = documented("passive", "How knet uses several links: passive = the highest-priority link that "
                                "is up carries the traffic (the replication link has the lowest priority), active "
                                "= all links at once, rr = round-robin over the links up (knet_link_priority is "
                                "then ignored). knet only.", choices=("passive", "active", "rr"))
    token_ms: int = documented(3000, "Token timeout: silence before a node is declared lost, in ms.",
                               minimum=100, maximum=120000)
    two_node: bool = documented(True, "Two-node quorum (votequorum two_node): the survivor keeps quorum.")
    # votequorum(5), wait_for_all: "Enables Wait For All (WFA) feature (default: 0)", and "NOTES: enabling
    # two_node: 1 automatically enables wait_for_all. It is still possible to override wait_for_all by
    # explicitly setting it to 0". auto writes nothing, so two_node decides, as before this key existed.
    wait_for_all: str = documented("auto", "Quorum only once all nodes have been seen together since the cluster "
                                   "started (votequorum wait_for_all): auto = not written (two_node turns it on), "
                                   "on = wait_for_all: 1, off = wait_for_all: 0 (a node that starts alone is "
                                   "quorate at once). Corosync only.", choices=("auto", "on", "off"))
    authkey_ref: str = documented("", "Where /etc/corosync/authkey comes from: empty = generated at apply time "
                                  "(the one already on the first node is kept), file:PATH (a key file of 128 to 4096 "
                                  "bytes, as corosync-keygen makes) or env:NAME.", secret_ref=True,
                                  ref_empty="generated at apply time (the one already on the first node is kept)")
    qdevice: QuorumDevice = documented(None, "A quorum device (corosync-qdevice) as the two-node tie-breaker.",
                                       factory=QuorumDevice)


@dataclass
class Network:
    """Facts about the links that the lint needs."""

    interconnect_direct: bool = documented(True, "The interconnects are direct cables between the two nodes.")
    replication_link_mbps: int = documented(1000, "Speed of the link DRBD replicates over, in Mbit/s.",
                                            minimum=1, maximum=400000)
    manage_hosts: bool = documented(True, "Let hawizard add both node names to /etc/hosts (and drop the 127.0.1.1 "
                                    "line for the node's own name).")


@dataclass
class Drbd:
    """The replicated disk."""

    resource: str = documented("r0", "DRBD resource name.", kind="word")
    device: str = documented("/dev/drbd0", "DRBD device.", kind="drbddev")
    meta_disk: str = documented("internal", "Where DRBD keeps its metadata: internal, or a device path.",
                                kind="metadisk")
    port: int = documented(7789, "TCP port of the replication link.", minimum=1, maximum=65535)
    protocol: str = documented("C", "Replication protocol: C waits for the peer's disk (safest).", choices=("A", "B", "C"))
    resync_rate: str = documented("30M", "Resync rate in bytes per second, with a K, M or G suffix; on DRBD 8.4 "
                                  "and 9 also the resync controller's cap (c-max-rate), at least 250K.", kind="rate")
    # drbd.conf(5) for 8.4 and 9, disk section: the dynamic resync controller (c-plan-ahead, c-fill-target,
    # c-max-rate, c-min-rate); ranges from drbd_limits.h (DRBD_C_PLAN_AHEAD_MAX 300 in 0.1 s,
    # DRBD_C_FILL_TARGET_MAX 1<<20 sectors, DRBD_C_MAX_RATE 250..4<<20 KiB/s, DRBD_C_MIN_RATE_MAX 4<<20 KiB/s)
    c_plan_ahead: int = documented(-1, "Resync controller: how far it plans ahead, in tenths of a second "
                                   "(c-plan-ahead; at least five times the link's round trip); 0 = the controller "
                                   "off, DRBD resyncs at resync_rate; -1 = not set (DRBD's default, 20). DRBD 8.4 "
                                   "and 9.", minimum=-1, maximum=300)
    c_fill_target: int = documented(-1, "Resync controller: data it keeps in flight, in 512-byte sectors "
                                    "(c-fill-target; 0 = aim for c-delay-target instead); -1 = not set (DRBD's "
                                    "default, 100). DRBD 8.4 and 9.", minimum=-1, maximum=1 << 20)
    c_max_rate: str = documented("", "Resync controller: the most a resync takes (c-max-rate), with a K, M or G "
                                 "suffix, 250K to 4G; empty = resync_rate. DRBD 8.4 and 9.", kind="rate?")
    c_min_rate: str = documented("", "Resync rate a Primary keeps while the service writes (c-min-rate), with a "
                                 "K, M or G suffix, up to 4G; empty = not set (DRBD's default, 250K). DRBD 8.4 "
                                 "and 9.", kind="rate?")
    # drbd.conf(5) for 9, options section: quorum "might be set to off, majority, all or a numeric value ...
    # It defaults to off"; on-no-quorum {io-error | suspend-io}: "By default DRBD freezes IO on a device,
    # that lost quorum". DRBD 9 only (8.3 and 8.4 have no quorum).
    quorum: str = documented("off", "DRBD 9 quorum: a partition may write (and be promoted) only with a majority "
                             "of the nodes (majority) or all of them (all); off = DRBD's default. With two nodes "
                             "and no diskless tiebreaker, losing the peer loses quorum (the lint explains).",
                             choices=("off", "majority", "all"))
    on_no_quorum: str = documented("suspend-io", "DRBD 9: what a Primary that lost quorum does with I/O: freeze it "
                                   "(suspend-io, DRBD's default) or fail it (io-error, so the cluster can stop the "
                                   "service there and move it). Written with quorum only; on-no-data-accessible "
                                   "gets the same value.", choices=("suspend-io", "io-error"))
    usage_count: bool = documented(False, "Report installs to LINBIT's usage counter.")
    on_io_error: str = documented("detach", "The on-io-error setting rendered into the disk section; "
                                  "'unset' leaves DRBD's default.",
                                  choices=("unset", "detach", "pass_on", "call-local-io-error"))
    local_io_error_handler: str = documented("", "Command run by the local-io-error handler; empty = no handler.",
                                             kind="text?")
    after_sb_0pri: str = documented("disconnect", "Split brain with no primary.",
                                    choices=("disconnect", "discard-younger-primary", "discard-older-primary",
                                             "discard-zero-changes", "discard-least-changes"))
    after_sb_1pri: str = documented("disconnect", "Split brain with one primary.",
                                    choices=("disconnect", "consensus", "discard-secondary", "call-pri-lost-after-sb",
                                             "violently-as0p"))
    after_sb_2pri: str = documented("disconnect", "Split brain with two primaries.",
                                    choices=("disconnect", "call-pri-lost-after-sb", "violently-as0p"))
    fencing: str = documented("dont-care", "DRBD's fencing policy; resource-only adds a constraint through the "
                              "cluster when the peer is lost.", choices=("dont-care", "resource-only", "resource-and-stonith"))
    shared_secret_ref: str = documented("", "Peer authentication secret: empty = no peer authentication (DRBD accepts "
                                        "any peer that connects), 'generate' = generated at apply time (the one already "
                                        "on the first node is kept), env:NAME or file:PATH.", secret_ref=True,
                                        ref_empty="no peer authentication", ref_generate=True)


@dataclass
class Service:
    """The service: virtual IP, filesystem on DRBD, Apache."""

    vip: str = documented("192.168.0.200", "Virtual IP address that follows the service.", kind="ip")
    vip_prefix: int = documented(24, "Prefix length of the VIP.", minimum=1, maximum=32)
    vip_nic: str = documented("eth0", "Interface the VIP is added to.", kind="ifname")
    fstype: str = documented("ext4", "Filesystem made on the DRBD device.", choices=("ext3", "ext4", "xfs"))
    mount_point: str = documented("/var/www/html", "Where the DRBD filesystem is mounted.", kind="path")
    document_root: str = documented("/var/www/html", "Apache's document root; must be the mount point or under it.",
                                    kind="path")
    apache_agent: str = documented("ocf:heartbeat:apache", "Resource agent for Apache. ocf:heartbeat:apache "
                                   "monitors the server-status page; the init-system classes check the process.",
                                   choices=("ocf:heartbeat:apache", "lsb:httpd", "systemd:apache2", "systemd:httpd"))
    apache_config: str = documented("", "Apache's main configuration file; empty = the stack's default.", kind="path?")
    server_name: str = documented("web.example.com:80", "ServerName written into the status snippet.", kind="servername")
    status_url: str = documented("http://localhost:80/server-status", "URL the apache agent monitors.", kind="url")
    status_allow: str = documented("127.0.0.1", "Address allowed to read server-status.", kind="ip")
    port: int = documented(80, "Port Apache listens on.", minimum=1, maximum=65535)
    index_page: str = documented("hawizard test page", "Text of the index.html written during the rehearsal (not empty: "
                                 "the rehearsal and the verify step look for it in the page served through the VIP).",
                                 kind="text")
    verify_page: str = documented("test-page", "What the verify step wants from the page served through the VIP: "
                                  "test-page = the index page's line as the rehearsal wrote it; any-answer = any "
                                  "non-empty page (a site whose pages are not hawizard's, e.g. an adopted one).",
                                  choices=("test-page", "any-answer"))


@dataclass
class ResourceIds:
    """Names of the cluster objects (the article's by default)."""

    drbd: str = documented("res_drbd0", "DRBD primitive.", kind="crmid")
    drbd_clone: str = documented("ms_drbd0", "Promotable clone (ms) of the DRBD primitive.", kind="crmid")
    ip: str = documented("res_ip", "IPaddr2 primitive.", kind="crmid")
    fs: str = documented("res_fs_drbd0", "Filesystem primitive.", kind="crmid")
    web: str = documented("res_httpd", "Apache primitive.", kind="crmid")
    group: str = documented("rg_httpd", "Group of ip, fs, web.", kind="crmid")
    colocation: str = documented("c_rg_httpd_on_drbd0", "Colocation of the group with the promoted DRBD.", kind="crmid")
    order: str = documented("o_drbd0_befor_rg_httpd", "Order: promote DRBD, then start the group.", kind="crmid")
    fence_prefix: str = documented("fence_", "Prefix of the fence device ids (one per node).", kind="crmid")


# Pacemaker Explained, "Operation Properties", on-fail: ignore, block, stop, restart, fence, standby (all
# versions); demote since Pacemaker 2.0.5, for promote and promoted-role monitors only; restart-container for a
# resource inside a bundle or container. "default" writes nothing: the operation keeps Pacemaker's own default
# (a stop's comes from answers.switchover_failure, see hawizard/render/fencing.py).
ON_FAIL = ("default", "ignore", "block", "stop", "restart", "standby", "fence", "demote", "restart-container")


@dataclass
class OnFail:
    """What the cluster does when an operation fails (on-fail), per operation, for every resource that has it.

    Refused with the reason (hawizard/design/validate.py): a value the stack's Pacemaker lacks (1.0: demote,
    restart-container), restart-container (hawizard's resources run in no container), fence without fencing,
    demote outside promote and the promoted monitor, stop or standby on a stop."""

    monitor: str = documented("default", "A failed monitor (default: restart, then migration_threshold moves it). "
                              "Not demote (promoted_monitor only).", choices=ON_FAIL)
    promoted_monitor: str = documented("default", "A failed monitor of the promoted DRBD (default: as monitor); "
                                       "demote demotes it without a full restart (Pacemaker 2.0.5+).",
                                       choices=ON_FAIL)
    start: str = documented("default", "A failed start (default: restart, on another node). Not demote.",
                            choices=ON_FAIL)
    stop: str = documented("default", "A failed stop (default: answers.switchover_failure: fence, or block "
                           "without fencing). stop, standby and demote are not allowed here.", choices=ON_FAIL)
    promote: str = documented("default", "A failed promote of DRBD (default: restart).", choices=ON_FAIL)
    demote: str = documented("default", "A failed demote of DRBD (default: as the promoted monitor). Not demote.",
                             choices=ON_FAIL)


@dataclass
class Fencing:
    """How a node that must leave the cluster is made to leave: fencing (STONITH), as a design decision.

    Two nodes that replicate data need it (Pacemaker Explained, "Fencing"; the DRBD user's guides):
    without it, a partition lets both nodes promote DRBD and the copies diverge, and a hung node
    keeps its resources. ``sbd`` uses a small disk both nodes share (a third device: an iSCSI or FC
    LUN, not a DRBD disk) and each node's watchdog; ``agent`` uses a fence device per node (a BMC,
    a PDU, a hypervisor); ``none`` is the article's 2011 choice, with its risks stated by the lint.
    """

    method: str = documented("agent", "sbd: a shared disk and the watchdog (survives the loss of a node's power); "
                             "agent: each node's fence_agent (nodes[].fence_agent); none: no fencing (the "
                             "article's choice; lint says what it risks).", choices=("sbd", "agent", "none"))
    sbd_devices: list[str] = documented(None, "sbd: the shared disk(s), by a stable path (/dev/disk/by-id/...), 1 "
                                        "to 3; the same disk on both nodes, not a DRBD disk.", kind="devpath",
                                        factory=list)
    watchdog_device: str = documented("/dev/watchdog", "sbd: the watchdog device that resets the node when sbd "
                                      "stops feeding it.", kind="devpath")
    watchdog_timeout_s: int = documented(15, "sbd: seconds without a feed before the watchdog resets the node "
                                         "(sbd -1; written on the disk when it is initialised).",
                                         minimum=5, maximum=120)
    msgwait_timeout_s: int = documented(30, "sbd: seconds a fence waits for the target to have read its "
                                        "poison pill and reset (sbd -4), at least twice the watchdog timeout.",
                                        minimum=10, maximum=240)
    race: str = documented("priority", "Fence-race protection of a two-node cluster, when both nodes try to fence "
                           "each other after a partition: priority (priority-fencing-delay favours the node running "
                           "the promoted DRBD; Pacemaker 2.0.4+), static (pcmk_delay_base favours the first node), "
                           "random (pcmk_delay_max on every device), none.",
                           choices=("priority", "static", "random", "none"))
    delay_s: int = documented(15, "The fence-race delay in seconds (priority-fencing-delay, pcmk_delay_base or "
                              "pcmk_delay_max, as race says).", minimum=1, maximum=120)
    stonith_timeout_s: int = documented(0, "stonith-timeout in seconds; 0 = derived from the delay and the fence "
                                        "device's own time (msgwait for sbd), with a margin.",
                                        minimum=0, maximum=3600)
    action: str = documented("reboot", "What a fence does to the node: reboot (it comes back and rejoins) or off.",
                             choices=("reboot", "off"))


@dataclass
class Cluster:
    """Cluster properties and resource options."""

    no_quorum_policy: str = documented("stop", "What a partition without quorum does.",
                                       choices=("stop", "ignore", "freeze", "demote"))
    stickiness: int = documented(200, "Resource stickiness: how much the service prefers to stay where it runs.",
                                 minimum=0, maximum=1000000)
    migration_threshold: int = documented(3, "Failures on a node before the service moves; 0 = not set "
                                          "(the cluster's default).", minimum=0, maximum=1000000)
    failure_timeout_s: int = documented(0, "Seconds after which old failures are forgotten; 0 = never.",
                                        minimum=0, maximum=86400)
    # crmd(7) / pacemaker-controld(7), cluster-recheck-interval: "Polling interval for time based changes
    # to options, resource parameters and constraints", default 15min, in Pacemaker 1.0 as in 2.1
    recheck_interval_s: int = documented(0, "How often the cluster re-evaluates time-based changes (failure-timeout "
                                         "expiry, rules with dates) without an event, in seconds "
                                         "(cluster-recheck-interval); 0 = not set (Pacemaker's default, 15 minutes).",
                                         minimum=0, maximum=86400)
    drbd_monitor_interval_s: int = documented(31, "Monitor interval of the DRBD resource (unpromoted role, or "
                                              "every role when no promoted interval is set).", minimum=1, maximum=3600)
    drbd_promoted_monitor_interval_s: int = documented(29, "Monitor interval of the promoted DRBD instance; "
                                                       "0 = no separate monitor for that role.", minimum=0, maximum=3600)
    # ocf:linbit:drbd metadata: drbdconf, "Full path to the drbd.conf file", default /etc/drbd.conf. Pacemaker
    # restarts a running resource whose parameters change (Pacemaker Explained, "Reloading Services After a
    # Definition Change": only parameters the agent marks reloadable are reloaded); crm_simulate on a running
    # copy of the article's cluster shows dropping drbdconf=/etc/drbd.conf demoting and stopping DRBD on both
    # nodes, then the whole service group restarting (tests/test_diff_restarts.py).
    drbd_conf_param: str = documented("", "The DRBD agent's drbdconf parameter (the drbd.conf it hands drbdadm); "
                                      "empty = not written (the agent's default, /etc/drbd.conf; centos5-heartbeat "
                                      "always writes /etc/drbd.conf). Adoption keeps a running cluster's value: "
                                      "adding or removing it restarts DRBD and the service.", kind="path?")
    on_fail: OnFail = documented(None, "What a failed operation does (on-fail), per operation; default = "
                                 "Pacemaker's own. Pacemaker 1.0 has no demote; fence needs fencing; "
                                 "restart-container is refused (no resource runs in a container).", factory=OnFail)
    ids: ResourceIds = documented(None, "Names of the cluster objects.", factory=ResourceIds)


@dataclass
class Design:
    """A whole design: what a preset file holds, fully resolved."""

    schema_version: int = documented(SCHEMA_VERSION, "Version of the preset format (version 1 presets are read and "
                                     "migrated).", minimum=1, maximum=SCHEMA_VERSION)
    name: str = documented("design", "Short name of this design.", kind="text?")
    description: str = documented("", "What this design is for.", kind="text?")
    stack: str = documented("debian12-crmsh", "Target stack: OS, membership, resource manager, DRBD dialect.",
                            choices=STACKS)
    answers: Answers = documented(None, "The design questions, answered.", factory=Answers)
    timing: Timing = documented(None, "Monitor intervals and timeouts.", factory=Timing)
    nodes: list[Node] = documented(None, "The two nodes.", factory=lambda: [Node(), Node(name="srv2")])
    network: Network = documented(None, "Link facts.", factory=Network)
    heartbeat: Heartbeat = documented(None, "Heartbeat membership (centos5-heartbeat).", factory=Heartbeat)
    corosync: Corosync = documented(None, "Corosync membership (debian12-crmsh, debian12-pcs, el9-pcs).", factory=Corosync)
    drbd: Drbd = documented(None, "DRBD.", factory=Drbd)
    service: Service = documented(None, "Service.", factory=Service)
    fencing: Fencing = documented(None, "Fencing: how a node that must leave is made to leave.", factory=Fencing)
    cluster: Cluster = documented(None, "Cluster properties.", factory=Cluster)

    # -- conveniences used across the engine ------------------------------------------
    @property
    def primary(self) -> Node:
        """The node that becomes the first primary (the sync source)."""
        return self.nodes[0]

    @property
    def secondary(self) -> Node:
        return self.nodes[1]

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def node_names(self) -> list[str]:
        return [n.name for n in self.nodes]

    @property
    def fenced(self) -> bool:
        """Fencing is on (the cluster's stonith-enabled)."""
        return self.fencing.method != "none"


def section_fields(cls: type) -> list:
    """The dataclass fields of a model class, in declaration order."""
    return list(fields(cls))


# Which dataclass describes the items of a list-valued field.
LIST_ITEM_TYPES: dict[tuple[type, str], type] = {
    (Design, "nodes"): Node,
    (Node, "interconnects"): Interconnect,
}

# Which dataclass describes a nested table field.
NESTED_TYPES: dict[tuple[type, str], type] = {
    (Design, "answers"): Answers,
    (Design, "fencing"): Fencing,
    (Design, "timing"): Timing,
    (Design, "network"): Network,
    (Design, "heartbeat"): Heartbeat,
    (Design, "corosync"): Corosync,
    (Design, "drbd"): Drbd,
    (Design, "service"): Service,
    (Design, "cluster"): Cluster,
    (Cluster, "on_fail"): OnFail,
    (Cluster, "ids"): ResourceIds,
    (Corosync, "qdevice"): QuorumDevice,
}

# Fields whose value is a table of strings (free keys).
STRING_TABLES: set[tuple[type, str]] = {(Node, "fence_params")}

# Fields whose value is an array of strings: the kind each item is checked as, and how many items.
STRING_LISTS: dict[tuple[type, str], tuple[str, int, int]] = {(Fencing, "sbd_devices"): ("devpath", 0, 3)}
