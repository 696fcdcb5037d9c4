"""Cross-field errors: designs whose parts contradict each other and cannot be built.

Field-level form checks happen while loading (hawizard/design/preset_file.py); what is here needs two or
more fields at once: distinct nodes, the VIP inside the service subnet, interconnects that
pair up, a mount point that holds the document root, an agent that exists on the stack.
"""

from __future__ import annotations

import ipaddress
import posixpath
from collections.abc import Iterator

from hawizard.design import stacks
from hawizard.design.fieldcheck import fence_param_problems, parse_rate
from hawizard.design.model import ON_FAIL, Design
from hawizard.design.problems import ERROR, Problem

# Where the DRBD filesystem must not be mounted, after the Filesystem Hierarchy Standard 3.0
# (https://refspecs.linuxfoundation.org/FHS_3.0/fhs-3.0.html): the operating system's own trees
# (chapter 3: /bin /boot /dev /etc /lib* /root /run /sbin /tmp; chapter 4: /usr; chapter 6: /proc /sys)
# and the parts of /var that hold the node's own state (/var/log, /var/tmp, /var/run and /var/lock,
# the package databases, and the state of the cluster stack and of hawizard itself) are refused at and
# under them: a mount there hides the node's files from the node. The branching points /, /home,
# /opt, /srv, /var, /var/lib, /var/www, /var/spool, /var/cache, /mnt and /media are refused only as
# themselves: a service's data under them (/srv/web, /var/www/html, /var/lib/mysql) is what they are for.
SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root", "/run",
                "/sbin", "/sys", "/tmp", "/usr", "/var/log", "/var/tmp", "/var/run", "/var/lock",
                "/var/lib/dpkg", "/var/lib/apt", "/var/lib/rpm", "/var/lib/dnf", "/var/lib/yum",
                "/var/lib/drbd", "/var/lib/pacemaker", "/var/lib/heartbeat", "/var/lib/corosync",
                "/var/lib/pcsd", "/var/lib/hawizard")
SYSTEM_DIRS = frozenset({"/", "/home", "/opt", "/srv", "/var", "/var/lib", "/var/www", "/var/spool", "/var/cache",
                         "/mnt", "/media", *SYSTEM_TREES})


def normal_path(path: str) -> str:
    """An absolute path with '.', '..', repeated and trailing slashes resolved (posixpath.normpath),
    and POSIX's implementation-defined leading '//' made '/'."""
    norm = posixpath.normpath("/" + path.lstrip("/"))
    return "/" + norm.lstrip("/")


def system_dir(path: str) -> str:
    """The system directory that ``path`` is, or is under (see SYSTEM_TREES); '' if none."""
    p = normal_path(path)
    if p in SYSTEM_DIRS:
        return p
    return next((t for t in SYSTEM_TREES if p.startswith(t + "/")), "")

AGENTS_BY_STACK = {
    "centos5-heartbeat": ("ocf:heartbeat:apache", "lsb:httpd"),
    "debian12-crmsh": ("ocf:heartbeat:apache", "systemd:apache2"),
    "debian12-pcs": ("ocf:heartbeat:apache", "systemd:apache2"),
    "el9-pcs": ("ocf:heartbeat:apache", "systemd:httpd"),
}


# DRBD 8.4 and 9 resync under the dynamic controller by default (DRBD 8.4 user's guide, "Variable sync rate
# configuration"; the kernel's include/linux/drbd_limits.h: DRBD_C_PLAN_AHEAD_DEF 20), and resync-rate does not
# bound it: c-max-rate does (DRBD_C_MAX_RATE_DEF 102400 KiB/s, DRBD_C_MAX_RATE_MIN 250 KiB/s; drbd.conf(5) for 9,
# resync-rate: "this option only works when the dynamic resync controller is disabled").
# The renderer writes the design's resync_rate as c-max-rate too, so the least rate is that minimum.
C_MAX_RATE_MIN = 250 * 1024


def _err(code: str, path: str, message: str) -> Problem:
    return Problem(ERROR, code, path, message)


def _iface(value: str) -> ipaddress.IPv4Interface | None:
    try:
        return ipaddress.IPv4Interface(value)
    except ValueError:
        return None


def check(design: Design) -> list[Problem]:
    return list(_checks(design))


def _checks(d: Design) -> Iterator[Problem]:
    if len(d.nodes) != 2:
        yield _err("node-count", "nodes", f"an active/standby cluster has exactly 2 nodes; this design has "
                   f"{len(d.nodes)}")
        return
    a, b = d.nodes
    stack = stacks.get(d.stack)  # once: the fencing and membership checks below both need it
    if a.name == b.name:
        yield _err("node-names", "nodes[1].name", f"both nodes are named '{a.name}'; node names must differ")
    if a.ssh_host and (a.ssh_host, a.ssh_port) == (b.ssh_host, b.ssh_port):
        yield _err("node-ssh", "nodes[1].ssh_host", f"both nodes are reached at {a.ssh_host}:{a.ssh_port}")
    for i, n in enumerate(d.nodes):
        if not n.ssh_host:
            yield _err("ssh-host", f"nodes[{i}].ssh_host", "is empty: give the address hawizard connects to")

    # every address a node owns, for distinctness
    owned: dict[str, str] = {}
    for i, n in enumerate(d.nodes):
        entries = [(f"nodes[{i}].service_address", n.service_address)]
        entries += [(f"nodes[{i}].interconnects[{j}].address", ic.address) for j, ic in enumerate(n.interconnects)]
        for path, value in entries:
            iface = _iface(value)
            if iface is None:
                continue
            ip = str(iface.ip)
            if ip in owned:
                yield _err("address-reused", path, f"{ip} is already used by {owned[ip]}")
            else:
                owned[ip] = path

    # service network
    sa, sb = _iface(a.service_address), _iface(b.service_address)
    if sa and sb and sa.network != sb.network:
        yield _err("service-subnet", "nodes[1].service_address",
                   f"{sb} is not in the same subnet as {a.name}'s {sa} ({sa.network})")
    if sa:
        vip = ipaddress.IPv4Address(d.service.vip) if _is_ip(d.service.vip) else None
        if vip is not None:
            if vip not in sa.network:
                yield _err("vip-subnet", "service.vip", f"{vip} is outside the service subnet {sa.network}; "
                           "the VIP must be reachable where the nodes' service addresses are")
            elif vip in (sa.network.network_address, sa.network.broadcast_address):
                yield _err("vip-subnet", "service.vip", f"{vip} is the network or broadcast address of {sa.network}")
            if str(vip) in owned:
                yield _err("vip-taken", "service.vip", f"{vip} is a node's own address ({owned[str(vip)]}); "
                           "the VIP must be a free address")
        if d.service.vip_prefix != sa.network.prefixlen:
            yield _err("vip-prefix", "service.vip_prefix", f"/{d.service.vip_prefix} differs from the service "
                       f"subnet's /{sa.network.prefixlen}")
    for n in d.nodes:
        if d.service.vip_nic != n.service_nic:
            yield _err("vip-nic", "service.vip_nic", f"'{d.service.vip_nic}' is not {n.name}'s service NIC "
                       f"('{n.service_nic}'); the VIP goes on the service network")

    # interconnects
    if len(a.interconnects) != len(b.interconnects):
        yield _err("interconnect-count", "nodes[1].interconnects",
                   f"{a.name} has {len(a.interconnects)} interconnect(s), {b.name} has {len(b.interconnects)}; "
                   "they must pair up")
    if not a.interconnects:
        yield _err("interconnect-none", "nodes[0].interconnects", "at least one interconnect is needed")
    nets = []
    for j, (ia, ib) in enumerate(zip(a.interconnects, b.interconnects, strict=False)):
        xa, xb = _iface(ia.address), _iface(ib.address)
        if xa and xb and xa.network != xb.network:
            yield _err("interconnect-subnet", f"nodes[1].interconnects[{j}].address",
                       f"{xb} and {a.name}'s {xa} are not in one subnet; interconnect {j} joins the two nodes")
        if xa:
            if xa.network in nets:
                yield _err("interconnect-distinct", f"nodes[0].interconnects[{j}].address",
                           f"interconnect {j} uses the subnet {xa.network} of another interconnect; "
                           "separate links need separate subnets")
            if sa and xa.network == sa.network:
                yield _err("interconnect-distinct", f"nodes[0].interconnects[{j}].address",
                           f"interconnect {j} is on the service subnet {sa.network}")
            nets.append(xa.network)
    for i, n in enumerate(d.nodes):
        nics = [n.service_nic] + [ic.nic for ic in n.interconnects]
        seen = set()
        for j, nic in enumerate(nics):
            if nic in seen:
                path = f"nodes[{i}].service_nic" if j == 0 else f"nodes[{i}].interconnects[{j - 1}].nic"
                yield _err("nic-reused", path, f"interface {nic} is named twice on {n.name}")
            seen.add(nic)

    # replication
    # the model's own definition (nodes[].replication_address, docs/presets.md): "one of the interconnect
    # addresses". The service address is refused too: replicating there puts every write of the service
    # on the network its clients use, and the interconnects' separation (and lint's checks of them) no
    # longer describe where DRBD's traffic goes
    for i, n in enumerate(d.nodes):
        mine = [str(x.ip) for x in (_iface(ic.address) for ic in n.interconnects) if x]
        svc = _iface(n.service_address)
        if _is_ip(n.replication_address) and n.replication_address not in mine:
            where = (f"is {n.name}'s service address" if svc and str(svc.ip) == n.replication_address
                     else f"is not one of {n.name}'s addresses")
            yield _err("replication-address", f"nodes[{i}].replication_address",
                       f"{n.replication_address} {where}; DRBD replicates over an interconnect: use one of "
                       f"{', '.join(mine) or '(no interconnect address)'}")
    ra, rb = a.replication_address, b.replication_address
    if _is_ip(ra) and _is_ip(rb):
        for ic_a, ic_b in zip(a.interconnects, b.interconnects, strict=False):
            xa, xb = _iface(ic_a.address), _iface(ic_b.address)
            if xa and xb and str(xa.ip) == ra and str(xb.ip) != rb:
                yield _err("replication-pair", "nodes[1].replication_address",
                           f"{a.name} replicates over {ic_a.nic} ({ra}) but {b.name}'s address on that link is "
                           f"{xb.ip}, not {rb}")
    if a.backing_disk and d.drbd.meta_disk == a.backing_disk:
        yield _err("meta-disk", "drbd.meta_disk", "external metadata cannot live on the backing disk itself")

    # service
    mp, dr = normal_path(d.service.mount_point), normal_path(d.service.document_root)
    sysdir = system_dir(mp)
    if sysdir:
        where = "a system directory" if sysdir == mp else f"under the system directory {sysdir}"
        yield _err("mount-point", "service.mount_point", f"{mp} is {where}; mounting the DRBD "
                   "filesystem there would hide the node's own files")
    sysdir = system_dir(dr)
    if sysdir and not system_dir(mp) and dr != mp:
        yield _err("document-root", "service.document_root",
                   f"{dr} is {'a system directory' if sysdir == dr else f'under the system directory {sysdir}'}")
    if not (dr == mp or dr.startswith(mp.rstrip("/") + "/")):
        yield _err("document-root", "service.document_root",
                   f"{dr} is not on the DRBD filesystem mounted at {mp}; the page served would not be replicated")
    allowed = AGENTS_BY_STACK.get(d.stack, ())
    if d.service.apache_agent not in allowed:
        yield _err("apache-agent", "service.apache_agent",
                   f"{d.service.apache_agent} does not exist on {d.stack}; use one of: {', '.join(allowed)}")

    # fence agent parameters: checked when a preset is loaded, and here for a design made otherwise
    for i, n in enumerate(d.nodes):
        for key, why in fence_param_problems(n.fence_params):
            yield _err("fence-params", f"nodes[{i}].fence_params.{key}", why)

    # fencing
    yield from _fencing(d, stack)
    if d.cluster.drbd_promoted_monitor_interval_s and \
            d.cluster.drbd_promoted_monitor_interval_s == d.cluster.drbd_monitor_interval_s:
        yield _err("monitor-intervals", "cluster.drbd_promoted_monitor_interval_s",
                   "the promoted and unpromoted monitors of DRBD have the same interval; Pacemaker tells "
                   "operations apart by interval and would drop one of them")
    ids = d.cluster.ids
    values = [(k, getattr(ids, k)) for k in ("drbd", "drbd_clone", "ip", "fs", "web", "group", "colocation", "order")]
    seen_ids: dict[str, str] = {}
    for k, v in values:
        if v in seen_ids:
            yield _err("ids", f"cluster.ids.{k}", f"'{v}' is already the id of cluster.ids.{seen_ids[v]}")
        seen_ids[v] = k
    try:
        rate = parse_rate(d.drbd.resync_rate)
    except ValueError:
        rate = None  # reported by the field check
    if rate is not None and stack.drbd in ("8.4", "9") and not d.drbd.c_max_rate and rate < C_MAX_RATE_MIN:
        yield _err("resync-rate", "drbd.resync_rate",
                   f"{d.drbd.resync_rate} is below 250K, the least DRBD {stack.drbd}'s resync controller takes as its "
                   "cap (c-max-rate, which carries the rate on this stack)")
    yield from _resync_controller(d, stack)
    if stack.membership == "corosync" and d.corosync.transport == "udpu" and len(a.interconnects) > 1:
        yield _err("corosync-links", "corosync.transport",
                   "the udpu transport carries one link only; use knet for several interconnects")
    yield from _corosync_udpu_crypto(d, stack)
    if d.corosync.link_mode != "passive" and (stack.membership != "corosync" or d.corosync.transport != "knet"):
        # corosync.conf(5): link_mode is "the Kronosnet mode"; udpu carries one link, Heartbeat has no knet
        what = "Heartbeat has no knet links" if stack.membership != "corosync" else "udpu carries one link only"
        yield _err("corosync-links", "corosync.link_mode",
                   f"link_mode {d.corosync.link_mode} cannot be rendered: it is a setting of corosync's knet "
                   f"transport, and {what}. Leave it at passive" +
                   ("" if stack.membership != "corosync" else ", or use transport knet"))
    if stack.membership == "heartbeat" and d.corosync.wait_for_all != "auto":
        # votequorum(5) is Corosync's quorum provider; Heartbeat 3 decides quorum itself (ha.cf has no such
        # setting), so the value could not be rendered anywhere
        yield _err("corosync-quorum", "corosync.wait_for_all",
                   f"wait_for_all {d.corosync.wait_for_all} cannot be rendered on {d.stack}: it is a setting of "
                   "Corosync's votequorum, and Heartbeat has no votequorum. Leave it at auto")
    yield from _quorum_device(d, stack)
    yield from _drbd_quorum(d, stack)
    yield from _on_fail(d, stack)
    if stack.membership == "corosync" and d.corosync.transport == "knet" and d.corosync.crypto_cipher != "none" \
            and d.corosync.crypto_hash == "none":
        # corosync.conf(5): "Enabling crypto_cipher, requires also enabling of crypto_hash"; corosync 3.1
        # stops with "crypto_cipher requires crypto_hash with value other than none"
        yield _err("corosync-crypto", "corosync.crypto_hash",
                   f"crypto_cipher {d.corosync.crypto_cipher} needs a crypto_hash: corosync refuses to start with "
                   "a cipher and crypto_hash none")
    if stack.membership == "corosync" and len(a.interconnects) > 8:
        yield _err("corosync-links", "nodes[0].interconnects", "knet supports at most 8 links")


def _quorum_device(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """A quorum device: Corosync 3 stacks only, never together with two_node, on a host that is not a node.

    corosync's votequorum refuses the combination at start-up (exec/votequorum.c: "configuration error:
    two_node and quorum device cannot be configured at the same time!"; `corosync -t` does not check the
    quorum section, so the refusal is here). corosync-qdevice(8): the net model needs the nodelist and
    totem.cluster_name, which hawizard always writes.
    """
    qd = d.corosync.qdevice
    if not qd.host:
        return
    if not stack.qdevice_packages:
        yield _err("quorum-device", "corosync.qdevice.host",
                   f"a quorum device cannot be rendered on {d.stack}: corosync-qdevice is a client of Corosync 3's "
                   "votequorum, and Heartbeat has no votequorum. Leave corosync.qdevice.host empty, or use a "
                   "Corosync stack")
        return
    if d.corosync.two_node:
        yield _err("quorum-device", "corosync.two_node",
                   f"two_node and a quorum device ({qd.host}) cannot be configured together: corosync refuses to "
                   "start with both. The device's vote is the tie-breaker two_node stands in for: set two_node = "
                   "false")
    mine = {d.service.vip} | {_iface(a).ip.exploded for n in d.nodes
                              for a in [n.service_address] + [ic.address for ic in n.interconnects] if _iface(a)}
    names = {n.name for n in d.nodes} | {n.ssh_host for n in d.nodes if n.ssh_host}
    if qd.host in mine or qd.host in names:
        yield _err("quorum-device", "corosync.qdevice.host",
                   f"{qd.host} is one of the cluster's own nodes or its VIP; the quorum device's qnetd server must "
                   "run on a third host, or it is lost with the node it is on")


def _drbd_quorum(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """DRBD's quorum (drbd.conf(5) for 9, options section; "available starting with the DRBD kernel driver
    version 9.0.7", on-no-quorum with 9.0.8): refused on the 8.3 and 8.4 dialects, which have neither."""
    if stack.drbd == "9":
        return
    for key, unset in (("quorum", "off"), ("on_no_quorum", "suspend-io")):
        value = getattr(d.drbd, key)
        if value != unset:
            yield _err("drbd-quorum", f"drbd.{key}",
                       f"{key} = {value} cannot be rendered on {d.stack}: quorum (and on-no-quorum) came with DRBD "
                       f"9, and this stack runs DRBD {stack.drbd}. Leave it at {unset}, or use a DRBD 9 stack")


# on-fail values that Pacemaker refuses for an operation (Pacemaker Explained, "Operation Properties": demote "is
# valid only for promote actions, and for monitor actions with both a nonzero interval and role set to
# Promoted"). For a stop, Pacemaker 2.1.5's scheduler resets stop, standby and demote to the default with "'%s'
# is not allowed for stop" (crm_verify reports it as an error once a stop is scheduled: seen with standby,
# stop and demote; restart, block, ignore and fence pass; tests/validators/test_cluster_config.py); Pacemaker
# 1.1 already refused standby there ("on-fail=standby is not allowed for stop actions")
ON_FAIL_NOT_FOR = {"monitor": ("demote",), "start": ("demote",), "stop": ("demote", "standby", "stop"),
                   "demote": ("demote",)}


ON_FAIL_CHOICES = ON_FAIL


def on_fail_problems(d: Design, stack: stacks.Stack) -> list[Problem]:
    """The errors of cluster.on_fail alone (hawizard/adopt reads on-fail back and drops what is refused)."""
    return list(_on_fail(d, stack))


def _on_fail(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """Each operation's on-fail against what the stack's Pacemaker and the design can do."""
    of = d.cluster.on_fail
    for op in ("monitor", "promoted_monitor", "start", "stop", "promote", "demote"):
        value, path = getattr(of, op), f"cluster.on_fail.{op}"
        if value == "default":
            continue
        if value not in stack.on_fail_values:
            yield _err("on-fail", path, f"on-fail={value} does not exist in Pacemaker {stack.pacemaker} (it knows "
                       f"{', '.join(stack.on_fail_values)})")
        elif value == "restart-container":
            yield _err("on-fail", path, "restart-container restarts the container (a bundle) a resource runs in, "
                       "and hawizard's resources run in none; use restart")
        elif value in ON_FAIL_NOT_FOR.get(op, ()):
            why = ("demote is allowed for promote and the promoted monitor only" if value == "demote"
                   else f"Pacemaker refuses {value} for a stop and uses the default instead; a failed stop can "
                   "be fenced, blocked, retried (restart) or ignored")
            yield _err("on-fail", path, f"on-fail={value} cannot be used for {op.replace('_', ' ')}: {why}")
        elif value == "fence" and not d.fenced:
            # Pacemaker 2.1's scheduler: "Resetting 'on-fail' for operation ... to 'stop' because 'fence' is
            # not valid when fencing is disabled" (crm_verify reports it as an error)
            yield _err("on-fail", path, "on-fail=fence needs fencing, but fencing.method is none: Pacemaker "
                       "would stop the resource instead. Turn fencing on, or choose stop or block")
        if op == "promoted_monitor" and value != "default" and not d.cluster.drbd_promoted_monitor_interval_s:
            yield _err("on-fail", path, "there is no promoted-role monitor to carry it "
                       "(cluster.drbd_promoted_monitor_interval_s is 0); set an interval, or use on_fail.monitor")


def _corosync_udpu_crypto(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """udpu with crypto asked for: corosync cannot do it, so the request is refused rather than dropped.

    corosync.conf(5) says under both crypto_cipher and crypto_hash: "Encrypted transmission is only
    supported for the knet transport". A rendering would have to leave both out, and the traffic would
    be neither encrypted nor authenticated without a word.
    """
    cs = d.corosync
    if stack.membership != "corosync" or cs.transport != "udpu":
        return
    asked = [k for k in ("crypto_cipher", "crypto_hash") if getattr(cs, k) != "none"]
    if asked:
        yield _err("corosync-crypto", f"corosync.{asked[0]}",
                   f"{' and '.join(f'{k} {getattr(cs, k)}' for k in asked)} cannot be rendered: corosync "
                   "encrypts and authenticates with the knet transport only. Use transport knet, or set "
                   "crypto_cipher and crypto_hash to none (lint then says what that exposes)")


# drbd_limits.h: DRBD_C_MAX_RATE_MAX and DRBD_C_MIN_RATE_MAX, 4<<20 KiB/s
C_RATE_MAX = (4 << 20) * 1024
CONTROLLER_KEYS = ("c_plan_ahead", "c_fill_target", "c_max_rate", "c_min_rate")


def _resync_controller(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """The dynamic resync controller's settings: DRBD 8.4 and 9 only, within drbd_limits.h's ranges.

    drbd.conf(5) for 8.3 documents the controller only from DRBD 8.3.9, and the 8.3 stack's packages
    (the article's drbd83) are not known to be that new; its dialect renders the article's fixed
    syncer rate, so a controller setting there is refused rather than dropped.
    """
    dr = d.drbd
    if stack.drbd == "8.3":
        for key in CONTROLLER_KEYS:
            if getattr(dr, key) not in (-1, ""):
                yield _err("resync-controller", f"drbd.{key}",
                           f"{key} = {getattr(dr, key)} cannot be rendered on {d.stack}: DRBD 8.3's dialect here "
                           "has the fixed syncer rate only (the dynamic resync controller came with 8.3.9, which "
                           "the stack's drbd83 packages may predate). Leave it unset; drbd.resync_rate is the rate")
        return
    for key, least in (("c_max_rate", C_MAX_RATE_MIN), ("c_min_rate", 0)):
        try:
            value = parse_rate(getattr(dr, key)) if getattr(dr, key) else None
        except ValueError:
            continue  # reported by the field check
        if value is not None and not least <= value <= C_RATE_MAX:
            yield _err("resync-controller", f"drbd.{key}",
                       f"{getattr(dr, key)} is outside DRBD {stack.drbd}'s range for {key.replace('_', '-')}: "
                       f"{least // 1024}K to 4G")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
        return True
    except ValueError:
        return False


def _fencing(d: Design, stack: stacks.Stack) -> Iterator[Problem]:
    """The fencing method against what the stack and the rest of the design can do."""
    fe = d.fencing
    if fe.method == "agent":
        for i, n in enumerate(d.nodes):
            if not n.fence_agent:
                yield _err("fence-device", f"nodes[{i}].fence_agent",
                           "fencing.method is agent but this node has no fence agent; without a device that can "
                           "fence every node the cluster starts no resource. Name the agent, or choose sbd")
    if fe.method == "sbd":
        if not stack.sbd_config:
            yield _err("sbd-stack", "fencing.method",
                       f"{d.stack} has no sbd integration hawizard can render (Heartbeat 3 does not start sbd); "
                       "use agent, or a Corosync stack")
        if not fe.sbd_devices:
            yield _err("sbd-device", "fencing.sbd_devices",
                       "sbd needs at least one disk that both nodes see (a small iSCSI or FC LUN), by a stable "
                       "path such as /dev/disk/by-id/...")
        if len(set(fe.sbd_devices)) != len(fe.sbd_devices):
            yield _err("sbd-device", "fencing.sbd_devices", "a disk is named twice")
        backing = {n.backing_disk for n in d.nodes} | {d.drbd.device}
        for i, dev in enumerate(fe.sbd_devices):
            if dev in backing:
                yield _err("sbd-device", f"fencing.sbd_devices[{i}]",
                           f"{dev} is a DRBD disk; sbd needs a third device of its own")
        # sbd(8): msgwait is the time a node has to read its poison pill and self-fence; it must cover a
        # full watchdog cycle, so the common rule (crmsh, pcs) is msgwait = 2 x watchdog timeout
        if fe.msgwait_timeout_s < 2 * fe.watchdog_timeout_s:
            yield _err("sbd-timeouts", "fencing.msgwait_timeout_s",
                       f"msgwait {fe.msgwait_timeout_s} s is less than twice the watchdog timeout "
                       f"({fe.watchdog_timeout_s} s): a fence could be declared done before the target's watchdog "
                       "has reset it")
    if fe.method != "none" and fe.race != "none" and not stack.fence_delays:
        yield _err("fence-race", "fencing.race",
                   f"Pacemaker {stack.pacemaker} has neither priority-fencing-delay nor pcmk_delay_base/max; "
                   "set fencing.race = none (and read what lint says of it)")
    if d.answers.switchover_failure == "fence" and fe.method == "none":
        yield _err("fence-intent", "fencing.method",
                   "the design answers 'fence' for a failed switch-over, but fencing.method is none")
    if fe.method == "none" and d.drbd.fencing == "resource-and-stonith":
        # drbd.conf(5): resource-and-stonith suspends I/O on the Primary until the fence-peer handler
        # returns, i.e. until the peer is fenced; with stonith-enabled=false that never happens
        yield _err("drbd-fencing", "drbd.fencing",
                   "DRBD would freeze I/O after losing its peer and wait for a fence that the cluster never "
                   "performs (fencing.method is none): the service hangs. Use resource-only, or turn fencing on")
