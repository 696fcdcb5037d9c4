"""Cluster state from ``crm_mon``: nodes online, each resource's role and node, failures.

Why: after the resources are loaded the runner waits for "DRBD promoted on one node and the
group started on the same node"; ``hawizard status`` shows the same thing. Pacemaker reports it
in two ways, both parsed here into one ``ClusterStatus``:

* ``crm_mon --output-as=xml`` (Pacemaker >= 2.0.3; also the legacy ``crm_mon -X`` document):
  the stable interface, preferred whenever it exists.
* ``crm_mon -1`` text, for Pacemaker 1.0/1.1 clusters like the article's (Heartbeat stack) and
  for reading what an operator pasted. The text changed across versions: 1.0 prints
  ``Master/Slave Set: ms_drbd0`` with ``Masters: [ srv2 ]``/``Slaves: [ srv1 ]`` and agents as
  ``(ocf::heartbeat:IPaddr2)``; 2.1 prints ``* Clone Set: ms [drbd] (promotable):`` with
  ``* Promoted: [ srv1 ]``/``* Unpromoted: [ srv2 ]`` (``Masters``/``Slaves`` again when built
  with compat-2.0), bullets, tabs and ``(ocf:heartbeat:IPaddr2):``. Text copied from a web page
  (like the article's sample) may have lost all indentation; group membership then runs until
  a blank line or the next header.

Roles are normalised to the 2.1 vocabulary (Master -> Promoted, Slave -> Unpromoted); the
original word is kept in ``raw_role``. Unknown lines are ignored; nothing here raises on input.

Engine core: standard library only (xml.etree).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from hawizard.events import ClusterState

#: the commands whose output this module reads
CRM_MON_XML = ("crm_mon", "--output-as=xml")
CRM_MON_TEXT = ("crm_mon", "-1", "-r")

_ROLE_ALIASES = {
    "master": "Promoted",
    "masters": "Promoted",
    "promoted": "Promoted",
    "slave": "Unpromoted",
    "slaves": "Unpromoted",
    "unpromoted": "Unpromoted",
    "started": "Started",
    "stopped": "Stopped",
    "starting": "Starting",
    "stopping": "Stopping",
    "promoting": "Promoting",
    "demoting": "Demoting",
    "migrating": "Migrating",
    "unknown": "Unknown",
}
INACTIVE_ROLES = frozenset({"Stopped", "Unknown"})


def normalize_role(word: str | None) -> str:
    if not word:
        return "Unknown"
    return _ROLE_ALIASES.get(word.strip().lower(), word.strip())


def _normalize_agent(agent: str | None) -> str | None:
    """``ocf::heartbeat:IPaddr2`` (1.x text) and ``ocf:heartbeat:IPaddr2`` (2.x) are the same agent."""
    if not agent:
        return None
    return re.sub(r"::+", ":", agent.strip())


def _base_id(rid: str) -> str:
    """Clone instances print as ``res_drbd0:0``; the resource is ``res_drbd0``."""
    return re.sub(r":\d+$", "", rid)


@dataclass(frozen=True)
class ResourceState:
    """One primitive on one node (a clone yields one per instance)."""

    id: str
    agent: str | None
    role: str
    node: str | None
    parent: str | None = None
    failed: bool = False
    managed: bool = True
    raw_role: str | None = None

    @property
    def active(self) -> bool:
        return self.node is not None and self.role not in INACTIVE_ROLES

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "agent": self.agent,
            "role": self.role,
            "node": self.node,
            "parent": self.parent,
            "failed": self.failed,
            "managed": self.managed,
        }


@dataclass(frozen=True)
class Failure:
    """A failed resource action, as crm_mon lists it."""

    resource: str
    node: str | None
    operation: str | None
    status: str | None
    reason: str | None = None
    exit_code: int | None = None


@dataclass
class ClusterStatus:
    nodes_online: list[str] = field(default_factory=list)
    nodes_offline: list[str] = field(default_factory=list)
    nodes_standby: list[str] = field(default_factory=list)
    nodes_unclean: list[str] = field(default_factory=list)
    nodes_maintenance: list[str] = field(default_factory=list)
    resources: list[ResourceState] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    fail_counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (node, resource) -> count
    containers: dict[str, str] = field(default_factory=dict)  # id -> group | clone | promotable | bundle
    links: dict[str, str] = field(default_factory=dict)  # resource or container id -> its container
    dc: str | None = None
    source: str = ""
    note: str = ""

    # -- questions the runner asks ---------------------------------------------------------------

    def _members(self, rid: str) -> list[ResourceState]:
        """The primitives that make up ``rid``: itself, or a group's/clone's members (nested too)."""
        ids = {rid}
        changed = True
        while changed:  # a clone of a group: members' parent is the group, whose parent is the clone
            changed = False
            for child, parent in self.links.items():
                if parent in ids and child not in ids:
                    ids.add(child)
                    changed = True
        return [r for r in self.resources if r.id in ids or r.parent in ids]

    def promoted_node(self, clone_id: str) -> str | None:
        """The node where the promotable clone (or its primitive) is Promoted, if exactly one."""
        nodes = sorted({r.node for r in self._members(clone_id) if r.role == "Promoted" and r.node})
        return nodes[0] if len(nodes) == 1 else None

    def where(self, resource_id: str) -> list[str]:
        """Nodes where the resource (or any member of the group/clone) is active."""
        return sorted({r.node for r in self._members(resource_id) if r.active and r.node})

    def all_started_on(self, group_id: str) -> str | None:
        """The one node where every member of the group is Started and not failed, else None."""
        members = [r for r in self._members(group_id) if r.id != group_id or r.parent == group_id]
        if not members:
            return None
        if any(r.role != "Started" or r.failed or not r.node for r in members):
            return None
        nodes = {r.node for r in members}
        return nodes.pop() if len(nodes) == 1 else None

    def resource(self, resource_id: str) -> list[ResourceState]:
        return [r for r in self.resources if r.id == resource_id]

    def to_event(self, step_id: str, node: str) -> ClusterState:
        return ClusterState(
            step_id=step_id,
            node=node,
            nodes_online=tuple(self.nodes_online),
            nodes_offline=tuple(self.nodes_offline),
            resources=tuple(r.to_dict() for r in self.resources),
            nodes_standby=tuple(self.nodes_standby),
        )

    # -- building --------------------------------------------------------------------------------

    def _link(self, child: str, parent: str | None) -> None:
        if parent and child != parent:
            self.links[child] = parent

    def _add_node(self, bucket: list[str], name: str) -> None:
        if name and name not in bucket:
            bucket.append(name)


def _finish(st: ClusterStatus) -> ClusterStatus:
    """Node lists in a stable order (crm_mon sorts them too, but text and XML differ)."""
    for name in ("nodes_online", "nodes_offline", "nodes_standby", "nodes_unclean", "nodes_maintenance"):
        setattr(st, name, sorted(getattr(st, name)))
    return st


def parse_crm_mon(text: str) -> ClusterStatus:
    """XML or text, whichever ``text`` is."""
    stripped = (text or "").lstrip()
    if stripped.startswith("<"):
        return parse_crm_mon_xml(text)
    return parse_crm_mon_text(text)


# --- XML ----------------------------------------------------------------------------------------


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def parse_crm_mon_xml(text: str) -> ClusterStatus:
    st = ClusterStatus(source="xml")
    try:
        root = ET.fromstring((text or "").strip())
    except ET.ParseError as exc:
        st.note = f"unparsable crm_mon XML: {exc}"
        return st
    status = root.find("status")
    if status is not None and status.get("code") not in (None, "0"):
        st.note = f"crm_mon reported: {status.get('message') or status.get('code')}"
    dc = root.find("./summary/current_dc")
    if dc is not None and _true(dc.get("present")):
        st.dc = dc.get("name")
    nodes = root.find("nodes")
    for n in nodes.findall("node") if nodes is not None else []:
        name = n.get("name") or ""
        if _true(n.get("online")):
            st._add_node(st.nodes_online, name)
        else:
            st._add_node(st.nodes_offline, name)
        if _true(n.get("standby")):
            st._add_node(st.nodes_standby, name)
        if _true(n.get("unclean")):
            st._add_node(st.nodes_unclean, name)
        if _true(n.get("maintenance")):
            st._add_node(st.nodes_maintenance, name)
    resources = root.find("resources")
    if resources is not None:
        _walk_xml(st, resources, None)
    failures = root.find("failures")
    for f in failures.findall("failure") if failures is not None else []:
        op_key = f.get("op_key") or f.get("id") or ""
        rsc, task = _split_op_key(op_key)
        st.failures.append(
            Failure(
                resource=rsc,
                node=f.get("node"),
                operation=f.get("task") or task,
                status=f.get("exitstatus") or f.get("status"),
                reason=f.get("exitreason") or None,
                exit_code=_to_int(f.get("exitcode") or f.get("rc")),
            )
        )
    history = root.find("node_history")
    for n in history.findall("node") if history is not None else []:
        for rh in n.findall("resource_history"):
            count = _to_int(rh.get("fail-count"))
            if count:
                st.fail_counts[(n.get("name") or "", rh.get("id") or "")] = count
    return _finish(st)


_CONTAINER_TAGS = {"group": "group", "clone": "clone", "bundle": "bundle", "replica": None}


def _walk_xml(st: ClusterStatus, elem: ET.Element, parent: str | None) -> None:
    for child in elem:
        tag = child.tag
        if tag == "resource":
            rid = _base_id(child.get("id") or "")
            role_raw = child.get("role")
            role = normalize_role(role_raw)
            nodes = [n.get("name") for n in child.findall("node") if n.get("name")]
            failed = _true(child.get("failed"))
            managed = child.get("managed") is None or _true(child.get("managed"))
            agent = _normalize_agent(child.get("resource_agent"))
            st._link(rid, parent)
            for node in nodes or [None]:
                st.resources.append(ResourceState(rid, agent, role, node, parent, failed, managed, role_raw))
        elif tag in _CONTAINER_TAGS:
            cid = child.get("id")
            kind = _CONTAINER_TAGS[tag]
            if tag == "clone" and (_true(child.get("multi_state")) or _true(child.get("promotable"))):
                kind = "promotable"
            if kind and cid:
                st.containers[cid] = kind
                st._link(cid, parent)
                if tag == "group" and parent and ":" in cid:  # a cloned group's instance "grp:0"
                    st._link(_base_id(cid), parent)
            _walk_xml(st, child, cid if kind else parent)


def _split_op_key(op_key: str) -> tuple[str, str | None]:
    """``res_httpd_monitor_20000`` -> (``res_httpd``, ``monitor``)."""
    m = re.match(r"^(.+)_([a-z][a-z_-]*?)_(\d+)$", op_key)
    if m:
        return m.group(1), m.group(2)
    return op_key, None


def _to_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


# --- text ---------------------------------------------------------------------------------------

_BULLET = re.compile(r"^(\s*)(?:[*+-]\s+)?")
_NODE_LIST = re.compile(r"^(Online|OFFLINE|RemoteOnline|RemoteOFFLINE|GuestOnline|GuestOFFLINE)\s*:\s*\[\s*(.*?)\s*\]")
_NODE_LINE = re.compile(r"^Node\s+([^\s:()]+)(?:\s+\([^)]*\))?\s*:\s*(.+)$")
_HEADER = re.compile(r"^(Master/Slave Set|Multi-state Set|Clone Set|Resource Group|Container bundle set|Container bundle|Bundle)\s*:\s*(\S+)(.*)$")
_INSTANCES = re.compile(
    r"^(Masters|Slaves|Promoted|Unpromoted|Started|Stopped|Starting|Stopping|Promoting|Demoting)"
    r"(?:\s*\([^)]*\))?\s*:\s*\[\s*(.*?)\s*\]"
)
_PRIMITIVE = re.compile(r"^(\S+)\s+\(((?:[\w.-]+:)+:?[^()\s]+)\)\s*:?\s*(.*)$")
_DC = re.compile(r"^Current DC:\s*(\S+)")
_SECTION = re.compile(
    r"^(Node List|Active Resources|Full List of Resources|Full list of resources|Inactive resources|"
    r"Migration Summary|Migration summary|Failed Resource Actions|Failed actions|Failed Actions|"
    r"Failed Fencing Actions|Cluster Summary|Node Attributes|Operations|Negative Location Constraints|Tickets)\s*:?\s*$"
)
_FAIL_21 = re.compile(
    r"^(\S+)\s+(?:(\S+)-interval\s+)?(\S+)\s+on\s+(\S+)\s+(?:returned|could not be executed|timed out)"
    r"(?:\s+'([^']*)')?(?:\s+\(([^)]*)\))?"
)
_FAIL_1X = re.compile(r"^(\S+)\s+on\s+(\S+)\s+'([^']*)'\s+\((\d+)\)(?:.*?exitreason='([^']*)')?")
_FAILCOUNT = re.compile(r"^(\S+?):\s+.*?\bfail-count=(\d+|INFINITY)")
_MIGRATION_NODE = re.compile(r"^Node:?\s+([^\s:]+):?\s*$")
_FLAG_WORDS = {"FAILED", "ORPHANED", "(unmanaged)", "(disabled)", "(blocked)", "(Monitoring)", "(failure", "ignored)"}


def parse_crm_mon_text(text: str) -> ClusterStatus:
    st = ClusterStatus(source="text")
    stack: list[tuple[int, str, str, str | None]] = []  # (indent, id, kind, child id from [..])
    section = "resources"
    migration_node: str | None = None
    for raw in (text or "").splitlines():
        line = raw.expandtabs(8).rstrip()
        if not line.strip():
            if stack and stack[-1][0] == 0:  # flattened text: a blank line ends the container
                stack.clear()
            continue
        m = _BULLET.match(line)
        indent = len(m.group(1))
        body = line[m.end():].strip()
        try:
            sec = _SECTION.match(body)
            if sec:
                name = sec.group(1).lower()
                section = "migration" if name.startswith("migration") else "failed" if name.startswith("failed") else "resources"
                stack.clear()
                continue
            if section == "migration":
                mn = _MIGRATION_NODE.match(body)
                if mn:
                    migration_node = mn.group(1)
                    continue
                fc = _FAILCOUNT.match(body)
                if fc and migration_node:
                    count = 1_000_000 if fc.group(2) == "INFINITY" else int(fc.group(2))
                    st.fail_counts[(migration_node, fc.group(1))] = count
                continue
            if section == "failed":
                _parse_failure_line(st, body)
                continue
            dc = _DC.match(body)
            if dc:
                st.dc = None if dc.group(1) == "NONE" else dc.group(1)
                continue
            nl = _NODE_LIST.match(body)
            if nl:
                names = nl.group(2).split()
                bucket = st.nodes_online if "Online" in nl.group(1) else st.nodes_offline
                for n in names:
                    st._add_node(bucket, n)
                stack.clear()
                continue
            nd = _NODE_LINE.match(body)
            if nd:
                _parse_node_line(st, nd.group(1), nd.group(2))
                stack.clear()
                continue
            hd = _HEADER.match(body)
            if hd:
                _push_header(st, stack, indent, hd)
                continue
            inst = _INSTANCES.match(body)
            if inst:
                parent = _container_for(stack, indent)
                if parent is None:
                    continue
                _, cid, _kind, child = parent
                role = normalize_role(inst.group(1))
                rid = child or cid
                st._link(rid, cid)
                for n in inst.group(2).split():
                    node = None if role == "Stopped" else n
                    st.resources.append(ResourceState(rid, None, role, node, cid, False, True, inst.group(1)))
                continue
            pr = _PRIMITIVE.match(body)
            if pr:
                parent = _container_for(stack, indent)
                _parse_primitive(st, pr, parent[1] if parent else None)
                continue
        except (ValueError, IndexError):  # pragma: no cover - defensive
            continue
    return _finish(st)


def _push_header(st: ClusterStatus, stack: list, indent: int, hd: re.Match[str]) -> None:
    kind_word, cid, rest = hd.group(1), hd.group(2).rstrip(":"), hd.group(3)
    child = None
    if "[" in cid:  # "ms_drbd0[res_drbd0]" without a space is not printed, but be safe
        cid, _, child = cid.partition("[")
        child = child.rstrip("]:") or None
    bm = re.search(r"\[\s*([^\]\s]+)\s*\]", rest)
    if bm:
        child = bm.group(1)
    if kind_word in ("Master/Slave Set", "Multi-state Set") or "(promotable)" in rest:
        kind = "promotable"
    elif kind_word == "Clone Set":
        kind = "clone"
    elif kind_word == "Resource Group":
        kind = "group"
    else:
        kind = "bundle"
    while stack and stack[-1][0] >= indent:  # a header at the same depth closes the previous one
        stack.pop()
    parent = stack[-1][1] if stack else None
    st.containers[cid] = kind
    st._link(cid, parent)
    if child:
        st._link(child, cid)
    stack.append((indent, cid, kind, child))


def _container_for(stack: list, indent: int) -> tuple | None:
    """The container a line at ``indent`` belongs to (flattened text: the last header)."""
    while stack:
        top = stack[-1]
        if top[0] == 0 and indent == 0:
            return top  # no indentation left in the text: membership runs to a blank line
        if indent > top[0]:
            return top
        stack.pop()
    return None


def _parse_primitive(st: ClusterStatus, pr: re.Match[str], parent: str | None) -> None:
    rid, agent, rest = _base_id(pr.group(1)), _normalize_agent(pr.group(2)), pr.group(3)
    failed = "FAILED" in rest.split()
    managed = "(unmanaged)" not in rest and "unmanaged" not in rest.lower().split()
    words = re.sub(r"\([^)]*\)", " ", rest).replace("[", " [ ").replace("]", " ] ").split()
    role_raw = None
    nodes: list[str] = []
    for w in words:
        if w in _FLAG_WORDS or w in ("[", "]"):
            continue
        if role_raw is None and w.lower() in _ROLE_ALIASES:
            role_raw = w
            continue
        if role_raw is not None or failed:
            nodes.append(w)
    role = normalize_role(role_raw) if role_raw else ("Started" if failed else "Unknown")
    if role in INACTIVE_ROLES:
        nodes = []
    st._link(rid, parent)
    for node in nodes or [None]:
        st.resources.append(ResourceState(rid, agent, role, node, parent, failed, managed, role_raw))


def _parse_node_line(st: ClusterStatus, name: str, status: str) -> None:
    s = status.lower()
    offline = ("offline" in s and "unclean (online)" not in s) or s.startswith("pending")
    if offline:
        st._add_node(st.nodes_offline, name)
    else:
        st._add_node(st.nodes_online, name)
    if "standby" in s:
        st._add_node(st.nodes_standby, name)
    if "unclean" in s:
        st._add_node(st.nodes_unclean, name)
    if "maintenance" in s:
        st._add_node(st.nodes_maintenance, name)


def _parse_failure_line(st: ClusterStatus, body: str) -> None:
    m = _FAIL_1X.match(body)
    if m:
        rsc, task = _split_op_key(m.group(1))
        st.failures.append(Failure(rsc, m.group(2), task, m.group(3), m.group(5), _to_int(m.group(4))))
        return
    m = _FAIL_21.match(body)
    if m:
        st.failures.append(Failure(m.group(1), m.group(4), m.group(3), m.group(5), m.group(6), None))
