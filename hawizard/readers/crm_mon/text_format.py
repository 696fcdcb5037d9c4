"""``crm_mon -1`` text, for Pacemaker 1.0/1.1 clusters and for what an operator pasted.

Why text at all: Pacemaker 1.0/1.1 (the Heartbeat stack) has no XML output. The text changed
across versions: 1.0 prints ``Master/Slave Set: ms_drbd0`` with ``Masters: [ srv2 ]``/``Slaves:
[ srv1 ]`` and agents as ``(ocf::heartbeat:IPaddr2)``; 2.1 prints ``* Clone Set: ms [drbd]
(promotable):`` with ``* Promoted: [ srv1 ]``/``* Unpromoted: [ srv2 ]`` (``Masters``/``Slaves``
again when built with compat-2.0), bullets, tabs and ``(ocf:heartbeat:IPaddr2):``. Text copied
from a web page (like the article's sample) may have lost all indentation; group membership
then runs until a blank line or the next header.
"""

from __future__ import annotations

import re

from hawizard.readers.crm_mon.model import ClusterStatus, Failure, ResourceState
from hawizard.readers.crm_mon.words import (
    INACTIVE_ROLES,
    ROLE_ALIASES,
    base_id,
    normalize_agent,
    normalize_role,
    split_op_key,
    to_int,
)

#: the command whose output this module reads
CRM_MON_TEXT = ("crm_mon", "-1", "-r")

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
                    st.add_node(bucket, n)
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
                st.link(rid, cid)
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
    return st.sort_nodes()


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
    st.link(cid, parent)
    if child:
        st.link(child, cid)
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
    rid, agent, rest = base_id(pr.group(1)), normalize_agent(pr.group(2)), pr.group(3)
    failed = "FAILED" in rest.split()
    managed = "(unmanaged)" not in rest and "unmanaged" not in rest.lower().split()
    words = re.sub(r"\([^)]*\)", " ", rest).replace("[", " [ ").replace("]", " ] ").split()
    role_raw = None
    nodes: list[str] = []
    for w in words:
        if w in _FLAG_WORDS or w in ("[", "]"):
            continue
        if role_raw is None and w.lower() in ROLE_ALIASES:
            role_raw = w
            continue
        if role_raw is not None or failed:
            nodes.append(w)
    role = normalize_role(role_raw) if role_raw else ("Started" if failed else "Unknown")
    if role in INACTIVE_ROLES:
        nodes = []
    st.link(rid, parent)
    for node in nodes or [None]:
        st.resources.append(ResourceState(rid, agent, role, node, parent, failed, managed, role_raw))


def _parse_node_line(st: ClusterStatus, name: str, status: str) -> None:
    s = status.lower()
    offline = ("offline" in s and "unclean (online)" not in s) or s.startswith("pending")
    if offline:
        st.add_node(st.nodes_offline, name)
    else:
        st.add_node(st.nodes_online, name)
    if "standby" in s:
        st.add_node(st.nodes_standby, name)
    if "unclean" in s:
        st.add_node(st.nodes_unclean, name)
    if "maintenance" in s:
        st.add_node(st.nodes_maintenance, name)


def _parse_failure_line(st: ClusterStatus, body: str) -> None:
    m = _FAIL_1X.match(body)
    if m:
        rsc, task = split_op_key(m.group(1))
        st.failures.append(Failure(rsc, m.group(2), task, m.group(3), m.group(5), to_int(m.group(4))))
        return
    m = _FAIL_21.match(body)
    if m:
        st.failures.append(Failure(m.group(1), m.group(4), m.group(3), m.group(5), m.group(6), None))
