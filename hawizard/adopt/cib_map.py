"""The CIB, read into the design: the service (group, VIP, filesystem, Apache), the promotable DRBD
clone, constraints, properties, defaults and operations; fencing is fence_map's.

What hawizard builds is one shape (hawizard/render/templates/*/cluster.crm.j2): a promotable
clone of ocf:linbit:drbd, one group of IPaddr2, Filesystem on the DRBD device and the web server,
a colocation of the group with the promoted clone and an order promote -> start. A CIB without
that shape is not a two-node active/standby cluster hawizard can adopt: NotActiveStandby (exit 2)
names what is missing. Everything else in the CIB is listed as a Finding.

Role names: Pacemaker 2.1 reads Master/Slave and Promoted/Unpromoted alike (Pacemaker Explained,
"Promotable clones"); both are accepted here.
"""

from __future__ import annotations

import re

from hawizard.adopt import fence_map
from hawizard.adopt.cib import Cib, Container, Primitive
from hawizard.adopt.findings import CHANGED, DROPPED, GUESSED, KEPT, LEFT, Findings
from hawizard.adopt.units import seconds
from hawizard.common.errors import InputError
from hawizard.design import stacks, validate
from hawizard.design.model import Design

PROMOTED = ("master", "promoted")
UNPROMOTED = ("slave", "unpromoted")
WEB_AGENTS = ("ocf:heartbeat:apache", "lsb:httpd", "systemd:apache2", "systemd:httpd")


class NotActiveStandby(InputError):
    """The collected cluster is not the two-node active/standby shape hawizard builds (exit 2)."""


def _promotable_drbd(cib: Cib, where: str) -> tuple[Container, Primitive]:
    found = [(c, p) for c in cib.containers if c.promotable for p in c.children if p.agent == "ocf:linbit:drbd"]
    if not found:
        raise NotActiveStandby(f"{where}: no promotable clone (ms/master or clone promotable=true) of "
                               "ocf:linbit:drbd: not a DRBD active/standby cluster hawizard can adopt")
    if len(found) > 1:
        raise NotActiveStandby(f"{where}: {len(found)} promotable DRBD clones ({', '.join(c.id for c, _ in found)}); "
                               "hawizard builds one replicated disk")
    clone, prim = found[0]
    meta = clone.meta
    promoted_max = meta.get("promoted-max", meta.get("master-max", "1"))
    if promoted_max != "1":
        raise NotActiveStandby(f"{where}: {clone.id} allows {promoted_max} promoted instances (dual-primary): "
                               "not active/standby")
    if meta.get("clone-max", "2") != "2":
        raise NotActiveStandby(f"{where}: {clone.id} has clone-max={meta.get('clone-max')}: not a two-node cluster")
    return clone, prim


def _service_group(cib: Cib, where: str) -> tuple[Container, Primitive, Primitive, Primitive]:
    groups = [c for c in cib.containers if c.kind == "group"]
    for g in groups:
        ip = [p for p in g.children if p.type in ("IPaddr2", "IPaddr") and p.cls == "ocf"]
        fs = [p for p in g.children if p.agent == "ocf:heartbeat:Filesystem"]
        web = [p for p in g.children if p.agent in WEB_AGENTS]
        if ip and fs and web:
            return g, ip[0], fs[0], web[0]
    chain = _chain(cib, where)
    if chain is not None:
        return chain
    have = ", ".join(f"{g.id} ({' '.join(p.agent for p in g.children)})" for g in groups) or "none"
    raise NotActiveStandby(f"{where}: no group of a virtual IP (IPaddr2), a Filesystem and a web server "
                           f"({', '.join(WEB_AGENTS)}); groups found: {have}")


def _chain(cib: Cib, where: str) -> tuple[Container, Primitive, Primitive, Primitive] | None:
    """The service as three top-level primitives tied to the promoted DRBD by colocations (no group), as
    Clusters from Scratch builds it: 'WebFS with Promoted WebData-clone', 'WebSite with WebFS',
    'WebSite with ClusterIP'. All three must be joined, by INFINITY colocations, to the promoted clone."""
    ip = [p for p in cib.primitives if p.type in ("IPaddr2", "IPaddr") and p.cls == "ocf"]
    fs = [p for p in cib.primitives if p.agent == "ocf:heartbeat:Filesystem"]
    web = [p for p in cib.primitives if p.agent in WEB_AGENTS]
    clones = [c.id for c in cib.containers if c.promotable]
    if not (len(ip) == len(fs) == len(web) == 1 and clones):
        return None
    edges: dict[str, set[str]] = {}
    for c in cib.constraints:
        a = c.attrib
        if c.tag != "rsc_colocation" or a.get("score", "").upper() not in ("INFINITY", "+INFINITY"):
            continue
        left, right = a.get("rsc", ""), a.get("with-rsc", "")
        if right in clones and a.get("with-rsc-role", "").lower() not in PROMOTED:
            continue
        edges.setdefault(left, set()).add(right)
        edges.setdefault(right, set()).add(left)
    seen, todo = set(), [clones[0]]
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo += list(edges.get(n, ()))
    if not {ip[0].id, fs[0].id, web[0].id} <= seen:
        return None
    return Container("", "chain", {}, [ip[0], fs[0], web[0]]), ip[0], fs[0], web[0]


def _seconds_or(text: str, name: str, where: str, findings: Findings, default: int) -> int:
    s = seconds(text)
    if s is None:
        findings.add(name, where, CHANGED, f"'{text}' is not a duration hawizard reads; {default} s used")
        return default
    return s


def apply(cib: Cib, d: Design, stack: stacks.Stack, findings: Findings, where: str,
          sbd: dict[str, tuple[str, int]], sbd_where: str) -> None:
    """Fill the design's cluster, service, fencing and timing sections from the CIB."""
    if cib.schema_before != cib.schema:
        findings.add(f"CIB schema {cib.schema_before}", where, KEPT,
                     f"upgraded offline to {cib.schema} with cibadmin --upgrade --force before reading")
    if cib.nodes and len(cib.nodes) != 2:
        raise NotActiveStandby(f"{where}: the CIB lists {len(cib.nodes)} nodes ({', '.join(cib.nodes)}); "
                               "hawizard builds two-node clusters")
    clone, drbd = _promotable_drbd(cib, where)
    group, ip, fs, web = _service_group(cib, where)
    ids = d.cluster.ids
    ids.drbd, ids.drbd_clone = drbd.id, clone.id
    ids.ip, ids.fs, ids.web = ip.id, fs.id, web.id
    if group.kind == "chain":
        group.id = ids.group
        findings.add(f"CIB: {ip.id}, {fs.id}, {web.id} without a group", where, CHANGED,
                     f"tied to the promoted {clone.id} by colocation and order constraints; a re-apply makes "
                     f"them the group {ids.group}, colocated with and ordered after the promoted clone; the old "
                     "constraints stay (listed below): remove them once the group runs")
    ids.group = group.id
    owned = {clone.id, group.id, ip.id, fs.id, web.id}
    d.drbd.resource = drbd.params.get("drbd_resource", d.drbd.resource)
    _drbd_primitive(clone, drbd, d, stack, findings, where)
    _group(group, ip, fs, web, d, findings, where)
    _constraints(cib, d, stack, findings, where, clone.id, group.id)
    _properties(cib, d, findings, where)
    fence_map.apply(cib, d, stack, findings, where, sbd, sbd_where, clone)
    _on_fail([drbd, ip, fs, web], d, stack, findings, where)
    for p in cib.primitives:
        if p.cls != "stonith" and p.id not in owned:
            findings.add(f"CIB: primitive {p.id} ({p.agent})", where, LEFT,
                         "not part of the design; a re-apply does not touch it")
    for c in cib.containers:
        if c.id not in owned:
            findings.add(f"CIB: {c.kind} {c.id}", where, LEFT, "not part of the design; a re-apply does not touch it")
    for tag in cib.other_config:
        findings.add(f"CIB: configuration/{tag}", where, LEFT, "not part of the design")


def _drbd_primitive(clone: Container, drbd: Primitive, d: Design, stack: stacks.Stack, findings: Findings,
                    where: str) -> None:
    if clone.kind == "master" and stack.pacemaker != "1.0":
        findings.add(f"CIB: {clone.id} as <master> (ms)", where, CHANGED,
                     "a re-apply writes it as clone promotable=true (crmsh 5 and Pacemaker 3 drop ms)")
    expected_meta = {"master-max", "master-node-max", "promoted-max", "promoted-node-max", "clone-max",
                     "clone-node-max", "notify", "promotable", "priority", "target-role"}
    for k, v in clone.meta.items():
        if k not in expected_meta:
            findings.add(f"CIB: {clone.id} meta {k}={v}", where, DROPPED, "a re-apply writes the clone without it")
    for k, v in drbd.params.items():
        if k == "drbd_resource":
            continue
        if k == "drbdconf" and stack.drbd_main_conf and v == "/etc/drbd.conf":
            continue  # what that stack writes anyway
        if k == "drbdconf":
            d.cluster.drbd_conf_param = v
            findings.add(f"CIB: {drbd.id} param drbdconf={v}", where, KEPT,
                         "written again as it is (cluster.drbd_conf_param): dropping it would restart DRBD")
            continue
        findings.add(f"CIB: {drbd.id} param {k}={v}", where, DROPPED, "a re-apply writes the primitive without it")
    promoted = [o for o in drbd.ops if o.name == "monitor" and o.role.lower() in PROMOTED]
    other = [o for o in drbd.ops if o.name == "monitor" and o.role.lower() not in PROMOTED]
    if other:
        d.cluster.drbd_monitor_interval_s = _seconds_or(other[0].interval, f"CIB: {drbd.id} monitor interval",
                                                        where, findings, d.cluster.drbd_monitor_interval_s)
    else:
        findings.add(f"CIB: {drbd.id} monitor", where, CHANGED, "no monitor of the unpromoted role: a re-apply "
                     f"adds one every {d.cluster.drbd_monitor_interval_s} s")
    d.cluster.drbd_promoted_monitor_interval_s = (
        _seconds_or(promoted[0].interval, f"CIB: {drbd.id} promoted monitor interval", where, findings, 0)
        if promoted else 0)


def _group(group: Container, ip: Primitive, fs: Primitive, web: Primitive, d: Design, findings: Findings,
           where: str) -> None:
    s = d.service
    members = [p.id for p in group.children]
    if members != [ip.id, fs.id, web.id]:
        findings.add(f"CIB: group {group.id} members {' '.join(members)}", where, CHANGED,
                     f"a re-apply makes the group {ip.id} {fs.id} {web.id}, in that order")
    for k, v in group.meta.items():
        findings.add(f"CIB: {group.id} meta {k}={v}", where, DROPPED, "a re-apply writes the group without it")

    if ip.type != "IPaddr2":
        findings.add(f"CIB: {ip.id} ({ip.agent})", where, CHANGED, "a re-apply uses ocf:heartbeat:IPaddr2")
    s.vip = ip.params.get("ip", s.vip)
    if "cidr_netmask" in ip.params and ip.params["cidr_netmask"].isdigit():
        s.vip_prefix = int(ip.params["cidr_netmask"])
    else:
        findings.add(f"CIB: {ip.id} cidr_netmask", where, GUESSED, f"not set (the agent derives it from the "
                     f"routes); the preset says /{s.vip_prefix}: check it")
    if "nic" in ip.params:
        s.vip_nic = ip.params["nic"]
    else:
        findings.add(f"CIB: {ip.id} nic", where, GUESSED, f"not set (the agent finds it from the routes); the "
                     f"preset says {s.vip_nic}: check it")
    _other_params(ip, {"ip", "cidr_netmask", "nic"}, findings, where)
    # what the filesystem mounts; the DRBD files are read next and must define this device (engine._drbd)
    d.drbd.device = fs.params.get("device", "")
    s.mount_point = fs.params.get("directory", s.mount_point)
    fstype = fs.params.get("fstype", "")
    if fstype not in ("ext3", "ext4", "xfs"):
        raise InputError(f"{where}: {fs.id} fstype={fstype or '(not set)'}; hawizard builds ext3, ext4 or xfs")
    s.fstype = fstype
    _other_params(fs, {"device", "directory", "fstype"}, findings, where)
    s.apache_agent = web.agent
    if web.agent == "ocf:heartbeat:apache":
        if "configfile" in web.params:
            s.apache_config = web.params["configfile"]
        if web.params.get("port", "").isdigit():
            s.port = int(web.params["port"])
        if "statusurl" in web.params:
            s.status_url = web.params["statusurl"]
        else:
            s.status_url = f"http://localhost:{s.port}/server-status"
            findings.add(f"CIB: {web.id} statusurl", where, CHANGED, f"not set (the agent builds its own); a "
                         f"re-apply writes {s.status_url}")
        _other_params(web, {"configfile", "port", "statusurl"}, findings, where)
    for p in (ip, fs, web):
        for k, v in p.meta.items():
            findings.add(f"CIB: {p.id} meta {k}={v}", where, DROPPED, "a re-apply writes the primitive without it")
    intervals = {}
    for p in (ip, fs, web):
        mons = [o for o in p.ops if o.name == "monitor"]
        if mons:
            intervals[p.id] = seconds(mons[0].interval)
    if web.id in intervals and intervals[web.id]:
        d.timing.monitor_interval_s = intervals[web.id] or d.timing.monitor_interval_s
    distinct = {v for v in intervals.values() if v}
    if len(distinct) > 1:
        findings.add("CIB: monitor intervals " + ", ".join(f"{k}={v}s" for k, v in intervals.items()), where,
                     CHANGED, f"the preset has one interval for the service: {d.timing.monitor_interval_s} s")


def _on_fail(prims: list[Primitive], d: Design, stack: stacks.Stack, findings: Findings, where: str) -> None:
    """Each operation's on-fail into cluster.on_fail (one value per operation, for every resource that has it,
    as hawizard writes it: render/renderer.py). A stop's on-fail equal to what answers.switchover_failure
    writes stays the default; values that differ between resources, or that the stack refuses
    (design/validate.py), are reported and left to the default."""
    of = d.cluster.on_fail
    found: dict[str, set[str]] = {}
    for p in prims:
        for o in p.ops:
            key = ("promoted_monitor" if o.name == "monitor" and o.role.lower() in PROMOTED else o.name)
            if key in ("monitor", "promoted_monitor", "start", "stop", "promote", "demote"):
                found.setdefault(key, set()).add(o.on_fail or "default")
    stop_default = "fence" if d.answers.switchover_failure == "fence" else "block"
    for key, values in found.items():
        if len(values) > 1:
            findings.add(f"CIB: {key.replace('_', ' ')} on-fail " + ", ".join(sorted(values)), where, CHANGED,
                         "differs between the resources; a re-apply writes Pacemaker's default on every one"
                         + (f" (on-fail={stop_default}, answers.switchover_failure)" if key == "stop" else ""))
            continue
        value = values.pop()
        if key == "stop" and value == stop_default:
            value = "default"
        setattr(of, key, value if value in validate.ON_FAIL_CHOICES else "default")
    for problem in validate.on_fail_problems(d, stack):
        key = problem.path.rsplit(".", 1)[1]
        findings.add(f"CIB: {key.replace('_', ' ')} on-fail={getattr(of, key)}", where, CHANGED,
                     f"{problem.message}; a re-apply writes Pacemaker's default")
        setattr(of, key, "default")


def _other_params(p: Primitive, known: set[str], findings: Findings, where: str) -> None:
    for k, v in p.params.items():
        if k not in known:
            findings.add(f"CIB: {p.id} param {k}={v}", where, DROPPED, "a re-apply writes the primitive without it")


def _constraints(cib: Cib, d: Design, stack: stacks.Stack, findings: Findings, where: str, clone: str,
                 group: str) -> None:
    ids = d.cluster.ids
    found_col = found_ord = False
    fence_devices = {p.id for p in cib.primitives if p.cls == "stonith"}
    for c in cib.constraints:
        a = c.attrib
        if c.tag == "rsc_colocation" and a.get("rsc") == group and a.get("with-rsc") == clone \
                and a.get("with-rsc-role", "").lower() in PROMOTED and a.get("score", "").upper() in ("INFINITY", "+INFINITY"):
            ids.colocation, found_col = a.get("id", ids.colocation), True
        elif c.tag == "rsc_order" and a.get("first") == clone and a.get("first-action") == "promote" \
                and a.get("then") == group and a.get("then-action", "start") == "start":
            ids.order, found_ord = a.get("id", ids.order), True
        elif c.tag == "rsc_location" and a.get("rsc") in fence_devices and a.get("score", "") in ("-INFINITY", "-inf"):
            continue  # a fence device kept off the node it fences: hawizard writes it (render/fencing.py)
        else:
            note = "not part of the design; a re-apply does not touch it"
            if c.tag == "rsc_location" and a.get("id", "").startswith(("cli-prefer-", "cli-ban-", "cli-standby-")):
                note += " (left by a move/migrate: clear it with crm resource clear / pcs resource clear)"
            findings.add(f"CIB: {c.tag} {a.get('id', '')}", where, LEFT, note)
    if not found_col:
        findings.add(f"CIB: colocation of {group} with the promoted {clone}", where, CHANGED,
                     f"missing: a re-apply adds {ids.colocation}")
    if not found_ord:
        findings.add(f"CIB: order promote {clone} then start {group}", where, CHANGED,
                     f"missing: a re-apply adds {ids.order}")


# properties the design writes (render/fencing.py, the cluster templates), or Pacemaker sets itself
_PROPS_OWNED = {"stonith-enabled", "stonith-action", "stonith-timeout", "priority-fencing-delay",
                "no-quorum-policy", "cluster-recheck-interval"}
_PROPS_PACEMAKER = {"dc-version", "cluster-infrastructure", "cluster-name", "have-watchdog", "last-lrm-refresh",
                    "cluster-recheck-interval-set"}


def _properties(cib: Cib, d: Design, findings: Findings, where: str) -> None:
    c = d.cluster
    nqp = cib.properties.get("no-quorum-policy", "stop").lower()
    if nqp in ("stop", "ignore", "freeze", "demote"):
        c.no_quorum_policy = nqp
    else:
        findings.add(f"CIB: no-quorum-policy={nqp}", where, CHANGED, "not one hawizard writes; the preset says stop")
        c.no_quorum_policy = "stop"
    recheck = cib.properties.get("cluster-recheck-interval")
    if recheck is not None:
        c.recheck_interval_s = seconds(recheck) or 0
        if seconds(recheck) is None or seconds(recheck) == 0:
            findings.add(f"CIB: cluster-recheck-interval={recheck}", where, CHANGED,
                         "the preset leaves it out (Pacemaker's default 15 min); a re-apply removes it")
    for k, v in cib.properties.items():
        if k in _PROPS_OWNED:
            continue
        why = "set by Pacemaker itself" if k in _PROPS_PACEMAKER else "not part of the design"
        findings.add(f"CIB: property {k}={v}", where, LEFT, f"{why}; a re-apply does not touch it")
    rd = dict(cib.rsc_defaults)
    c.stickiness = _int(rd.pop("resource-stickiness", "0"), "CIB: rsc_defaults resource-stickiness", where, findings,
                        c.stickiness)
    if "resource-stickiness" not in cib.rsc_defaults:
        findings.add("CIB: resource-stickiness", where, KEPT, "not set: Pacemaker's default 0; the preset says 0, "
                     "which a re-apply writes out")
    c.migration_threshold = _int(rd.pop("migration-threshold", "0"), "CIB: rsc_defaults migration-threshold",
                                 where, findings, 0)
    ft = rd.pop("failure-timeout", "0")
    c.failure_timeout_s = seconds(ft) or 0
    for k, v in rd.items():
        findings.add(f"CIB: rsc_defaults {k}={v}", where, LEFT, "not part of the design; a re-apply does not touch it")
    od = dict(cib.op_defaults)
    if "timeout" in od:
        d.timing.default_action_timeout_s = seconds(od.pop("timeout")) or 0
    for k, v in od.items():
        findings.add(f"CIB: op_defaults {k}={v}", where, LEFT, "not part of the design; a re-apply does not touch it")


def _int(text: str, name: str, where: str, findings: Findings, default: int) -> int:
    t = text.strip().upper()
    if t in ("INFINITY", "+INFINITY"):
        findings.add(name, where, CHANGED, "INFINITY; the preset holds 1000000")
        return 1000000
    if re.fullmatch(r"\d+", t):
        return int(t)
    findings.add(name, where, CHANGED, f"'{text}' is not a whole number; the preset holds {default}")
    return default
