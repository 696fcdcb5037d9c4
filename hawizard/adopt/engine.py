"""Adoption from a directory of collected files: every reader run, the design assembled and checked.

The one entry point is ``adopt(DIR)``. It decides the stack from the files (or takes the one
given), reads membership, DRBD (through drbdadm), the CIB (upgraded offline by cibadmin), sbd
and Apache's status configuration, and returns the design with the list of Findings: what the
preset could not say, what it says differently, what was guessed and which secrets were not
copied. The design is then written out and read back by the preset loader, so an adopted
preset is one ``hawizard validate`` accepts, or the values that break it are named (exit 2).
"""

from __future__ import annotations

import html
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from hawizard.adopt import apache, cib, cib_map, drbd, drbd_map, ipaddr, membership, sysconfig
from hawizard.adopt.collected import MAX_CIB_BYTES, Collected
from hawizard.adopt.findings import CHANGED, DEFAULTED, DROPPED, GUESSED, KEPT, Findings
from hawizard.adopt.units import seconds
from hawizard.common.errors import InputError
from hawizard.design import agent_timeouts, stacks, timing
from hawizard.design.model import Design
from hawizard.design.preset_file import PresetError, dump_preset, parse_preset_text, resolve_defaults

CIB_PATHS = ("cib.xml", "var/lib/pacemaker/cib/cib.xml", "var/lib/heartbeat/crm/cib.xml")
SBD_PATHS = ("etc/default/sbd", "etc/sysconfig/sbd")


@dataclass(frozen=True)
class Reach:
    """How a node was reached over SSH for adoption: its preset's ssh_* keys."""

    host: str
    port: int = 22
    user: str = "root"
    identity_file: str = ""
    known_hosts: str = ""


@dataclass
class Adoption:
    design: Design
    findings: Findings
    source: str  # the directory, as given
    stack_reason: str


def adopt(directory: str | Path, *, stack_name: str | None = None, name: str | None = None,
          reached: dict[str, Reach] | None = None, source: str = "") -> Adoption:
    """``reached``: node name -> how it was reached over SSH (hawizard/run/collect.py), which becomes its ssh_*
    keys; ``source``: what the report calls the files' origin (the directory, or the nodes reached)."""
    col = Collected.open(directory)
    f = Findings()
    d = Design()
    d.name = name or re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(directory).resolve().name) or "adopted"
    d.description = (f"Adopted from {source}; see the adoption report." if source else
                     f"Adopted from the collected files in {Path(directory).name}; see the adoption report.")
    is_hb = col.first("etc/ha.d/ha.cf") is not None
    is_cs = col.first("etc/corosync/corosync.conf") is not None
    if not (is_hb or is_cs):
        raise InputError(f"{directory}: no membership file (etc/corosync/corosync.conf or etc/ha.d/ha.cf)")
    cib_file = col.first(*CIB_PATHS)
    hacf = col.first("etc/ha.d/ha.cf")
    if hacf is not None and not re.search(r"(?m)^\s*(crm|pacemaker)\s+(yes|on|respawn)", col.read(hacf)):
        # Heartbeat without its CRM runs the v1 resource manager from haresources (ha.cf(5): "crm")
        raise InputError(f"{col.rel(hacf)}: Heartbeat without 'crm yes' or 'pacemaker respawn': a Heartbeat v1 "
                         "cluster (resources in haresources), not Pacemaker; hawizard adopts Pacemaker clusters")
    if cib_file is None:
        raise InputError(f"{directory}: no CIB (cib.xml from `cibadmin -Q > cib.xml`, or "
                         "var/lib/pacemaker/cib/cib.xml)")
    cib_where = col.rel(cib_file)
    the_cib = cib.read(cib_file, col.read(cib_file, MAX_CIB_BYTES), cib_where)
    drbd_files, drbd_main = _drbd_files(col)
    drbd_texts = [col.read(p) for p in drbd_files.values()] or ([col.read(drbd_main)] if drbd_main else [])
    dialect = drbd.dialect_of(drbd_texts)
    stack, reason = _stack(col, stack_name, is_hb, dialect, the_cib)
    d.stack = stack.name
    if (stack.membership == "heartbeat" and not is_hb) or (stack.membership == "corosync" and not is_cs):
        want = "etc/ha.d/ha.cf" if stack.membership == "heartbeat" else "etc/corosync/corosync.conf"
        raise InputError(f"{directory}: stack {stack.name} ({reason}) uses {stack.membership}, but there is no {want}")
    if is_hb and is_cs:
        f.add("both ha.cf and corosync.conf", str(directory), KEPT,
              f"the {stack.membership} files were read ({reason})")
    if stack.membership == "heartbeat":
        names = membership.from_heartbeat(col, d, f)
    else:
        names = membership.from_corosync(col, d, f, the_cib.node_ids)
    # the DRBD files: drbdadm of the stack's dialect
    shown = ", ".join(col.rel(p) for p in drbd_files.values()) or (col.rel(drbd_main) if drbd_main else "")
    cfg = drbd.read_config(drbd_files, drbd_main, stack.drbd, shown)
    if drbd_files and drbd_main is not None:
        main_text = re.sub(r"#.*", "", col.read(drbd_main))
        if re.search(r"\b(resource|common|global)\s", main_text):
            f.add("etc/drbd.conf: sections beside the drbd.d files", col.rel(drbd_main), DROPPED,
                  "only etc/drbd.d/ was read (the packaged layout); a re-apply writes drbd.conf as includes only")
    if stack.drbd == "8.3":
        f.add("DRBD 8.3 dialect", shown, KEPT, "read by drbdadm's 8.4 parser, which reads 8.3 files the way DRBD "
              "8.4 does (syncer rate -> resync-rate); hawizard writes the 8.3 dialect back")
    sbd_file = col.first(*SBD_PATHS)
    sbd_vals = sysconfig.parse(col.read(sbd_file)) if sbd_file else {}
    # the CIB first decides which DRBD resource is the cluster's
    cib_map.apply(the_cib, d, stack, f, cib_where, sbd_vals, col.rel(sbd_file) if sbd_file else "")
    drbd_map.apply(cfg, d, f, shown, names)
    if d.fencing.method != "sbd" and sbd_file:
        f.add("sbd settings", col.rel(sbd_file), DROPPED, "the CIB has no sbd fence device: not part of the design")
    _apache(col, d, stack, f)
    _index_page(col, d, f)
    _answers(d, f)
    _hosts(col, d, f, reached or {}, _ip_facts(col, d, f))
    _node_copies(col, f)
    resolve_defaults(d)
    _timeouts(the_cib, d, stack, f, cib_where)
    return Adoption(_checked(d), f, source or str(directory), reason)


def _drbd_files(col: Collected) -> tuple[dict[str, Path], Path | None]:
    files: dict[str, Path] = {}
    for p in col.glob("etc/drbd.d/*.conf") + col.glob("etc/drbd.d/*.res"):
        if '"' in str(p.resolve()):
            raise InputError(f"{col.rel(p)}: a path with a double quote cannot be given to drbdadm")
        files[p.name] = p
    main = col.first("etc/drbd.conf")
    return files, main


def _stack(col: Collected, given: str | None, is_hb: bool, dialect: str, the_cib: cib.Cib) -> tuple[stacks.Stack, str]:
    """The stack the collected files are from, and why: the evidence, in words for the report."""
    if given:
        return stacks.get(given), "given with --stack"
    if is_hb:
        return stacks.get("centos5-heartbeat"), "Heartbeat's ha.cf"
    el = [why for why, hit in (
        ("DRBD 9 dialect", dialect == "9"), ("etc/sysconfig/sbd", col.first("etc/sysconfig/sbd") is not None),
        ("etc/httpd", any((d / "etc/httpd").is_dir() for d in col.node_dirs))) if hit]
    if el:
        return stacks.get("el9-pcs"), "Corosync, and " + ", ".join(el)
    # pcs names operations <rsc>-<op>-interval-<n>, crmsh <rsc>-<op>-<n> (their own id rules, seen)
    pcs = col.first("var/lib/hawizard/cluster.pcs.sh", "var/lib/pcsd/known-hosts") is not None
    if pcs or any("-interval-" in i for i in the_cib.op_ids):
        return stacks.get("debian12-pcs"), "Corosync on Debian, made with pcs (pcs's ids or files)"
    return stacks.get("debian12-crmsh"), "Corosync on Debian (no RHEL-family or pcs evidence)"


def _apache(col: Collected, d: Design, stack: stacks.Stack, f: Findings) -> None:
    s = d.service
    cands = [stack.apache_status_snippet.lstrip("/")]
    found = None
    for p in col.find(*cands) + col.glob("etc/httpd/conf.d/*.conf") + col.glob("etc/apache2/conf-enabled/*.conf") \
            + col.glob("etc/apache2/conf-available/*.conf") + col.find("etc/httpd/conf/httpd.conf",
                                                                      "etc/apache2/apache2.conf"):
        cfg = apache.parse(col.read(p))
        if cfg.has_status:
            found = (p, cfg)
            break
    if found is None:
        f.add("Apache server-status configuration", "(not found)", DEFAULTED,
              f"no <Location /server-status>; a re-apply writes {stack.apache_status_snippet}")
        s.document_root = s.mount_point
        return
    p, cfg = found
    where = col.rel(p)
    if cfg.server_name:
        s.server_name = cfg.server_name
    else:
        f.add("Apache ServerName", where, DEFAULTED, f"the preset says {s.server_name}")
    if cfg.allow:
        s.status_allow = cfg.allow
    root = cfg.document_root
    if not root:
        main = col.first("etc/httpd/conf/httpd.conf", "etc/apache2/apache2.conf")
        root = apache.parse(col.read(main)).document_root if main else ""
    s.document_root = root if root and (root == s.mount_point or root.startswith(s.mount_point.rstrip("/") + "/")) \
        else s.mount_point
    if root and s.document_root != root:
        f.add(f"Apache DocumentRoot {root}", where, CHANGED, f"not on the DRBD filesystem; the preset says "
              f"{s.document_root}")
    if col.path_on_node(p) != stack.apache_status_snippet:
        f.add(f"Apache server-status in {where}", where, CHANGED, f"a re-apply writes it to "
              f"{stack.apache_status_snippet} (remove the old block by hand, or Apache sees two)")


# the line hawizard's rehearsal writes into index.html (hawizard/render/renderer.py index_page_line)
_TEST_PAGE_LINE = re.compile(r"^<body><p>(.*)</p></body>$", re.M)


def _index_page(col: Collected, d: Design, f: Findings) -> None:
    """hawizard's test page (its text kept) where a node's index.html is one, else verify wants any answer.

    The verify step fetches the page through the VIP; on a site whose pages hawizard did not write, looking
    for the test page's line would fail a healthy cluster. Only the node with the replicated filesystem
    mounted shows the served page; the other shows what lies under the mount point (Apache's default page).
    """
    rel = d.service.document_root.strip("/") + "/index.html"
    for p in col.find(rel):
        m = _TEST_PAGE_LINE.search(col.read(p))
        if m:
            d.service.index_page = html.unescape(m.group(1))
            d.service.verify_page = "test-page"
            return
    d.service.verify_page = "any-answer"
    f.add("the page served through the VIP", rel, GUESSED,
          "not hawizard's test page (or not readable: the filesystem not mounted where read): the verify step "
          "wants any non-empty answer through the VIP (service.verify_page = \"any-answer\")")


# the files both nodes must hold alike (the CIB is one cluster-wide object: each node's copy is the same
# CIB at some epoch, so it is not compared)
_SHARED = ("etc/ha.d/ha.cf", "etc/ha.d/authkeys", "etc/corosync/corosync.conf", "etc/drbd.conf", *SBD_PATHS)


IP_FACTS = "ip-addr.txt"  # NODE/ip-addr.txt: `ip -o -4 addr show` on that node (hawizard/adopt/ipaddr.py)


def _ip_facts(col: Collected, d: Design, f: Findings) -> dict[str, tuple[str, str]]:
    """NIC names and prefixes of each node's links from what the node says it has (NODE/ip-addr.txt), in place
    of the guess; returns each node's service NIC and address found there (its own address in the VIP's
    network), for _hosts."""
    by_name = {p.name: p for p in col.node_dirs if p != col.root}
    vip = ipaddress.ip_address(d.service.vip)
    service: dict[str, tuple[str, str]] = {}
    all_links = bool(d.nodes)
    for n in d.nodes:
        node_dir = by_name.get(n.name)
        facts = node_dir / IP_FACTS if node_dir is not None else None
        if facts is None or not facts.is_file():
            all_links = False
            continue
        where = col.rel(facts)
        table = ipaddr.parse(col.read(facts))
        links = {ic.address.split("/")[0] for ic in n.interconnects}
        for ic in n.interconnects:
            addr = ic.address.split("/")[0]
            on_nic = [(a, p) for a, (nic, p) in table.items() if nic == ic.nic]
            if addr in table:
                ic.nic, prefix = table[addr]
                ic.address = f"{addr}/{prefix}"
            elif d.heartbeat.transport == "bcast" and d.stack == "centos5-heartbeat" and len(on_nic) == 1:
                # ha.cf's bcast names the NIC only (the address was hawizard's numbering): the NIC's one address
                ic.address = f"{on_nic[0][0]}/{on_nic[0][1]}"
            else:
                all_links = False
                f.add(f"{n.name}: link address {addr}", where, GUESSED, "on no NIC of the node: NIC and prefix guessed")
        for addr, (nic, prefix) in table.items():
            if addr != str(vip) and addr not in links and vip in ipaddress.ip_interface(f"{addr}/{prefix}").network:
                service[n.name] = (nic, f"{addr}/{prefix}")
                f.add(f"{n.name}: service_address {addr}/{prefix} on {nic}", where, KEPT,
                      "the node's own address in the VIP's network")
                break
    for what in ("interconnect NICs and prefixes", "interconnect addresses"):  # corosync.conf's, ha.cf bcast's
        guess = [x for x in f.items if x.action == GUESSED and x.name == what]
        if all_links and guess:
            f.items.remove(guess[0])
            f.add(what, ", ".join(f"{n}/{IP_FACTS}" for n in d.node_names), KEPT,
                  "each link found on a NIC of its node, with its address and prefix")
    return service


def _node_copies(col: Collected, f: Findings) -> None:
    """With a directory per node, each shared file that differs between the nodes is named: the first
    node's copy was read, and a re-apply writes one file to both. The contents are not shown (authkeys)."""
    if len(col.node_dirs) < 2:
        return
    first = col.node_dirs[0]
    rels = list(_SHARED) + [str(p.relative_to(first)) for p in sorted((first / "etc/drbd.d").glob("*"))
                            if p.is_file()]
    for rel in rels:
        copies = [(d.name, d / rel) for d in col.node_dirs]
        texts = {name: (p.read_bytes() if p.is_file() else None) for name, p in copies}
        if len(set(texts.values())) > 1:
            f.add(f"{rel} differs between the nodes", ", ".join(col.rel(p) for _, p in copies), CHANGED,
                  f"{first.name}'s copy was read; a re-apply writes the same file to every node")


def _answers(d: Design, f: Findings) -> None:
    a = d.answers
    a.process_check = "http-status" if d.service.apache_agent == "ocf:heartbeat:apache" else "pid"
    a.io_error = {"detach": "detach", "pass_on": "pass-on"}.get(d.drbd.on_io_error, "shutdown" if re.search(
        r"halt|poweroff|sysrq|shutdown", d.drbd.local_io_error_handler) else a.io_error)
    a.split_brain = "auto-discard-secondary" if d.drbd.after_sb_1pri == "discard-secondary" else "manual"
    f.add("network facts (interconnect_direct, replication_link_mbps, manage_hosts)", "(not in any file)",
          GUESSED, "hawizard's defaults: a direct cable of 1000 Mbit/s, /etc/hosts managed: check them")
    f.add("answers (the design questions)", "(intent, not in any file)", GUESSED,
          f"process_check={a.process_check}, io_error={a.io_error}, split_brain={a.split_brain} and "
          f"switchover_failure={a.switchover_failure} read from the configuration; power_loss, kernel_panic, "
          f"process_failure, restart_attempts and switchover_target_s={a.switchover_target_s} are hawizard's "
          "defaults: answer them, then hawizard validate says where the configuration does not do what they say")


def _hosts(col: Collected, d: Design, f: Findings, reached: dict[str, Reach],
           service: dict[str, tuple[str, str]]) -> None:
    """ssh_host and service_address: how the node was reached over SSH (kept), or from etc/hosts when it names
    a node with an address that is not an interconnect's; else the node name and hawizard's default numbering
    (192.168.0.101, .102), guessed."""
    path = col.first("etc/hosts")
    table = membership.hosts_table(col)
    for i, n in enumerate(d.nodes):
        n.service_nic = d.service.vip_nic  # the VIP is added to the service NIC (IPaddr2 nic)
        links = {ic.address.split("/")[0] for ic in n.interconnects}
        addr = table.get(n.name, "")
        r = reached.get(n.name)
        if r is not None:
            n.ssh_host, n.ssh_port, n.ssh_user = r.host, r.port, r.user
            n.ssh_identity_file, n.ssh_known_hosts = r.identity_file, r.known_hosts
            f.add(f"{n.name}: ssh_host {r.host}, ssh_port {r.port}, ssh_user {r.user}", "(--node)", KEPT,
                  "as adoption reached it over SSH")
        if n.name in service:  # what the node has (ip-addr.txt): _ip_facts said so
            n.service_nic, n.service_address = service[n.name]
            if r is None:
                n.ssh_host = addr if addr and addr not in links and not addr.startswith("127.") else n.name
                f.add(f"{n.name}: ssh_host {n.ssh_host}", col.rel(path) if addr else "(not in the collected files)",
                      GUESSED, "from etc/hosts" if addr else "the node name")
        elif addr and addr not in links and not addr.startswith("127."):
            if r is None:
                n.ssh_host = addr
            n.service_address = f"{addr}/{d.service.vip_prefix}"
            f.add(f"{n.name}: {'' if r else 'ssh_host and '}service_address {addr}", col.rel(path), GUESSED,
                  f"from etc/hosts; the prefix /{d.service.vip_prefix} is the VIP's: check it")
        else:
            n.service_address = f"192.168.0.{101 + i}/24"
            f.add(f"{n.name}: {'' if r else 'ssh_host, '}service_address", "(not in the collected files)", GUESSED,
                  ("" if r else "ssh_host is the node name; ") + f"service_address {n.service_address} is hawizard's "
                  "default numbering: set it before an apply")
        _clear_of_service_nic(n, f)


def _clear_of_service_nic(n, f: Findings) -> None:
    """Guessed link NICs (eth1, eth2, ...: corosync.conf names none) moved past the service NIC they collide with.

    The article's layout has the service on eth0; a cluster whose VIP is on eth1 (the IPaddr2 nic) would get a
    preset that names eth1 twice, which validation refuses. Only guesses move: NICs read from the node's own
    addresses (ip-addr.txt) are what they are.
    """
    guessed = any(x.action == GUESSED and x.name == "interconnect NICs and prefixes" for x in f.items)
    if not guessed or n.service_nic not in {ic.nic for ic in n.interconnects}:
        return
    taken, k = {n.service_nic}, 0
    for ic in n.interconnects:
        while f"eth{k}" in taken or k == 0:
            k += 1
        ic.nic = f"eth{k}"
        taken.add(ic.nic)


def _timeouts(the_cib: cib.Cib, d: Design, stack: stacks.Stack, f: Findings, where: str) -> None:
    """Operation timeouts: the preset derives them (design/timing.py); each one the CIB says differently is named."""
    ids = d.cluster.ids
    agents = {ids.drbd: "drbd", ids.ip: "ip", ids.fs: "fs", ids.web: "web"}
    prims = {p.id: p for c in the_cib.containers for p in c.children}
    prims.update({p.id: p for p in the_cib.primitives})
    monitors = {(agents[i], secs) for i, p in prims.items() if i in agents for o in p.ops
                if o.name == "monitor" and (secs := _sec(o.timeout)) is not None}
    values = {s for _, s in monitors}
    # a single monitor timeout is the operator's own only where it is not what each monitor gets anyway (the
    # agent's value, or the blanket default where that is longer: design/timing.py effective_timeout)
    if len(values) == 1 and not all(timing.effective_timeout(d, a, "monitor", stack) == s for a, s in monitors):
        d.timing.monitor_timeout_s = values.pop()
    pcs_made: list[str] = []
    for rid, agent in agents.items():
        p = prims.get(rid)
        if p is None:
            continue
        have_ops = {o.name for o in p.ops}
        for op in agent_timeouts.operations(agent):
            want = timing.rendered_timeout(d, agent, op, stack)
            if op not in have_ops and (want is not None or op == "stop"):
                on_fail = "fence" if d.answers.switchover_failure == "fence" else "block"
                f.add(f"CIB: {rid} has no {op} operation", where, CHANGED, "a re-apply adds it"
                      + (f" with timeout {want} s" if want else "")
                      + (f", on-fail={on_fail}" if op == "stop" else ""))
        for o in p.ops:
            if o.name == "stop" and not o.on_fail:
                f.add(f"CIB: {rid} stop on-fail", where, CHANGED, "not set; a re-apply writes it "
                      "(answers.switchover_failure: fence or block)")
            have = _sec(o.timeout)
            if o.name not in agent_timeouts.operations(agent):
                if stack.config_tool == "pcs":  # pcs resource create adds every action of the agent's metadata
                    pcs_made.append(f"{rid} {o.name}")
                else:
                    f.add(f"CIB: {rid} op {o.name}", where, DROPPED, "not an operation hawizard writes")
                continue
            want = timing.rendered_timeout(d, agent, o.name, stack)
            if want is None and stack.config_tool == "pcs" and have == agent_timeouts.advertised(stack.name, agent, o.name):
                pcs_made.append(f"{rid} {o.name}")
                continue
            if have != want:
                f.add(f"CIB: {rid} {o.name} timeout={o.timeout or '(not set)'}", where, CHANGED,
                      f"a re-apply writes {str(want) + ' s' if want else 'none (the default applies)'}, the agent's "
                      "advertised value or timing.default_action_timeout_s (the preset has no per-operation timeouts)")
            for k, v in o.other.items():
                if k not in ("id",):
                    f.add(f"CIB: {rid} {o.name} {k}={v}", where, DROPPED, "a re-apply writes the operation without it")
    if pcs_made:
        f.add("CIB: operations pcs adds by itself (" + ", ".join(pcs_made) + ")", where, KEPT,
              "with the agent's recommended timeouts; `pcs resource create` makes them again on a re-apply")


def _sec(text: str) -> int | None:
    return seconds(text) if text else None


def _checked(d: Design) -> Design:
    """The design as the preset loader reads it back: field checks applied to every adopted value."""
    try:
        return parse_preset_text(dump_preset(d), f"<adopted {d.name}>")
    except PresetError as err:
        raise InputError("the collected files hold values a preset cannot hold:\n  "
                         + "\n  ".join(p.format("") for p in err.problems)) from None

