"""``crm_mon --output-as=xml`` (Pacemaker >= 2.0.3; also the legacy ``crm_mon -X`` document).

The stable interface, preferred whenever it exists: nodes, the resource tree (groups, clones,
bundles, nested), failed actions and fail counts, parsed into ``ClusterStatus``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hawizard.readers.crm_mon.model import ClusterStatus, Failure, ResourceState
from hawizard.readers.crm_mon.words import base_id, normalize_agent, normalize_role, split_op_key, to_int

#: the command whose output this module reads
CRM_MON_XML = ("crm_mon", "--output-as=xml")


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
            st.add_node(st.nodes_online, name)
        else:
            st.add_node(st.nodes_offline, name)
        if _true(n.get("standby")):
            st.add_node(st.nodes_standby, name)
        if _true(n.get("unclean")):
            st.add_node(st.nodes_unclean, name)
        if _true(n.get("maintenance")):
            st.add_node(st.nodes_maintenance, name)
    resources = root.find("resources")
    if resources is not None:
        _walk_xml(st, resources, None)
    failures = root.find("failures")
    for f in failures.findall("failure") if failures is not None else []:
        op_key = f.get("op_key") or f.get("id") or ""
        rsc, task = split_op_key(op_key)
        st.failures.append(
            Failure(
                resource=rsc,
                node=f.get("node"),
                operation=f.get("task") or task,
                status=f.get("exitstatus") or f.get("status"),
                reason=f.get("exitreason") or None,
                exit_code=to_int(f.get("exitcode") or f.get("rc")),
            )
        )
    history = root.find("node_history")
    for n in history.findall("node") if history is not None else []:
        for rh in n.findall("resource_history"):
            count = to_int(rh.get("fail-count"))
            if count:
                st.fail_counts[(n.get("name") or "", rh.get("id") or "")] = count
    return st.sort_nodes()


_CONTAINER_TAGS = {"group": "group", "clone": "clone", "bundle": "bundle", "replica": None}


def _walk_xml(st: ClusterStatus, elem: ET.Element, parent: str | None) -> None:
    for child in elem:
        tag = child.tag
        if tag == "resource":
            rid = base_id(child.get("id") or "")
            role_raw = child.get("role")
            role = normalize_role(role_raw)
            nodes = [n.get("name") for n in child.findall("node") if n.get("name")]
            failed = _true(child.get("failed"))
            managed = child.get("managed") is None or _true(child.get("managed"))
            agent = normalize_agent(child.get("resource_agent"))
            st.link(rid, parent)
            for node in nodes or [None]:
                st.resources.append(ResourceState(rid, agent, role, node, parent, failed, managed, role_raw))
        elif tag in _CONTAINER_TAGS:
            cid = child.get("id")
            kind = _CONTAINER_TAGS[tag]
            if tag == "clone" and (_true(child.get("multi_state")) or _true(child.get("promotable"))):
                kind = "promotable"
            if kind and cid:
                st.containers[cid] = kind
                st.link(cid, parent)
                if tag == "group" and parent and ":" in cid:  # a cloned group's instance "grp:0"
                    st.link(base_id(cid), parent)
            _walk_xml(st, child, cid if kind else parent)
