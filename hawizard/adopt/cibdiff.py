"""The cluster configuration's objects hawizard would create against the live CIB: added, changed, removed, and
the objects hawizard does not own, left alone.

Both sides are CIB XML upgraded by the same cibadmin to the same schema: the desired one made offline from the
rendered script by crmsh or pcs (shadow.py), the live one from ``cibadmin -Q`` on a node (or a collected
cib.xml; cib.py upgrades it). Objects are matched by id, as crmsh's ``load update`` and pcs's
delete-and-create replace them: every resource (primitive, group, clone, master, bundle) wherever it stands,
every constraint, and the cluster properties, rsc_defaults and op_defaults hawizard sets (by name: the
properties Pacemaker sets itself, dc-version and the like, are not hawizard's).

What counts as the same (Pacemaker Explained 2.1): ids of nvpairs, operations and attribute sets do not (each
tool names them its own way); ``Master``/``Slave`` are the older names of ``Promoted``/``Unpromoted`` (roles),
``master-max``/``master-node-max`` of ``promoted-max``/``promoted-node-max`` and a ``<master>`` a ``<clone>``
with ``promotable=true`` (clone options); a duration is its value in seconds ("Specifying a duration": 20,
20s, PT20S are one). A secret (a fence device's password) is compared for presence only and never shown:
the desired side holds a marker in its place (shadow.SECRET_MARK), and any attribute named like a password
is shown redacted on either side.

Who removes what: an id hawizard may have made before (a fence device of another fencing method, its
location) that the design no longer has is "removed"; pcs's script deletes it on a re-apply (with the
constraints naming hawizard's resources), crmsh's ``load update`` never deletes (the note says so).
Pure: XML text in, data out.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from hawizard.adopt.shadow import SECRET_MARK
from hawizard.adopt.units import seconds
from hawizard.common.errors import InputError
from hawizard.design import stacks
from hawizard.design.model import Design

SAME, ADDED, CHANGED, REMOVED, LEFT = "same", "added", "changed", "removed", "left alone"
SECRET_SHOWN = "«secret»"
REDACTED = "«redacted»"
RESOURCE_TAGS = ("primitive", "group", "clone", "master", "bundle")
_PASSWORD = re.compile(r"passw(or)?d", re.IGNORECASE)
_ROLES = {"Master": "Promoted", "Slave": "Unpromoted"}
_META_NAMES = {"master-max": "promoted-max", "master-node-max": "promoted-node-max"}
# values that are durations (Pacemaker Explained: op interval/timeout, and these options)
_DURATIONS = {"interval", "timeout", "start-delay", "stonith-timeout", "cluster-recheck-interval", "failure-timeout",
              "priority-fencing-delay", "pcmk_delay_max", "shutdown-escalation", "dc-deadtime"}
_SCORES = {"inf": "INFINITY", "+inf": "INFINITY", "+INFINITY": "INFINITY", "-inf": "-INFINITY"}


@dataclass(frozen=True)
class ObjectDiff:
    kind: str  # primitive, fence device, group, clone, rsc_colocation, ..., cluster properties, rsc_defaults
    id: str
    state: str  # same | added | changed | removed | left alone
    details: tuple[str, ...] = ()  # attribute-level: "op monitor interval=20s timeout: 40s -> 20s"
    note: str = ""

    def lines(self) -> list[str]:
        head = f"{self.state:10} {self.kind} {self.id}" + (f": {self.note}" if self.note else "")
        return [head] + [f"             {d}" for d in self.details]


@dataclass
class CibDiff:
    objects: list[ObjectDiff] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return any(o.state in (ADDED, CHANGED, REMOVED) for o in self.objects)

    def by_state(self, state: str) -> list[ObjectDiff]:
        return [o for o in self.objects if o.state == state]

    def text(self) -> str:
        shown = [o for o in self.objects if o.state != SAME]
        out = [line for o in shown for line in o.lines()]
        n_same = len(self.by_state(SAME))
        n_diff = sum(1 for o in self.objects if o.state in (ADDED, CHANGED, REMOVED))
        out.append(f"{n_same} CIB object(s) the same, {n_diff} added, changed or removed, "
                   f"{len(self.by_state(LEFT))} not hawizard's (left alone)")
        return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Ownership:
    """The ids hawizard made or may have made for a design, and whether a re-apply deletes what it no longer has."""

    may_have_made: frozenset[str]  # fence devices of every fencing method, and their locations
    recreated: frozenset[str]  # resources a pcs re-apply deletes and creates again (constraints naming them go too)
    deletes: bool  # pcs: the script deletes; crmsh: load update never deletes

    @classmethod
    def of(cls, design: Design) -> Ownership:
        ids = design.cluster.ids
        fences = {ids.fence_prefix + n for n in design.node_names} | {ids.fence_prefix + "sbd"}
        made = fences | {f"l_{f}" for f in fences}
        pcs = stacks.get(design.stack).config_tool == "pcs"
        recreated = {ids.web, ids.fs, ids.ip, ids.drbd, ids.group, ids.drbd_clone} | fences
        return cls(frozenset(made), frozenset(recreated), pcs)


def _root(text: str, what: str) -> ET.Element:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputError(f"{what}: not CIB XML: {exc}") from None
    conf = root.find("configuration")
    if conf is None:
        raise InputError(f"{what}: no configuration section (is it the output of cibadmin -Q?)")
    return conf


def _value(name: str, value: str) -> str:
    if name in _DURATIONS and (s := seconds(value)) is not None:
        return f"{s}s"
    if name in ("role", "rsc-role", "with-rsc-role", "first-role", "then-role"):
        return _ROLES.get(value, value)
    if name == "score":
        return _SCORES.get(value, value)
    return value


def _nvpairs(el: ET.Element, tag: str, prefix: str, out: dict[str, str], rename: dict[str, str] | None = None) -> None:
    for block in el.findall(tag):
        for nv in block.iter("nvpair"):
            name = (rename or {}).get(nv.get("name", ""), nv.get("name", ""))
            out[f"{prefix}{name}"] = _value(name, nv.get("value", ""))


def _canon_resource(el: ET.Element, parent: str) -> dict[str, str]:
    """One resource as flat key -> value pairs; its children by id only (each child is an object of its own)."""
    out: dict[str, str] = {"in": parent or "(top level)"}
    tag = el.tag
    if tag == "master":
        tag = "clone"
        out["meta promotable"] = "true"
    out["kind"] = tag
    if el.tag == "primitive":
        out["agent"] = ":".join(x for x in (el.get("class", ""), el.get("provider", ""), el.get("type", "")) if x)
    for k, v in el.attrib.items():
        if k not in ("id", "class", "provider", "type", "description"):
            out[f"attribute {k}"] = v
    _nvpairs(el, "instance_attributes", "param ", out)
    _nvpairs(el, "meta_attributes", "meta ", out, _META_NAMES)
    _nvpairs(el, "utilization", "utilization ", out)
    for op in el.findall("operations/op"):
        role = _ROLES.get(op.get("role", ""), op.get("role", ""))
        key = f"op {op.get('name', '')} interval={_value('interval', op.get('interval', '0'))}" \
              + (f" role={role}" if role else "")
        out[key] = "defined"
        for k, v in op.attrib.items():
            if k not in ("id", "name", "interval", "role"):
                out[f"{key} {k}"] = _value(k, v)
        _nvpairs(op, "meta_attributes", f"{key} meta ", out)
        _nvpairs(op, "instance_attributes", f"{key} param ", out)
    members = [c.get("id", "") for c in el if c.tag in RESOURCE_TAGS]
    if members:
        out["members" if el.tag == "group" else "child"] = " ".join(members)
    return out


def _resources(conf: ET.Element) -> dict[str, tuple[ET.Element, str]]:
    """Every resource under <resources>, by id, with the id of the resource it stands in ('' at the top)."""
    out: dict[str, tuple[ET.Element, str]] = {}

    def walk(el: ET.Element, parent: str) -> None:
        for c in el:
            if c.tag in RESOURCE_TAGS:
                out[c.get("id", "")] = (c, parent)
                walk(c, c.get("id", ""))
    res = conf.find("resources")
    if res is not None:
        walk(res, "")
    return out


def _canon_generic(el: ET.Element, prefix: str = "") -> dict[str, str]:
    """A constraint (or anything else with attributes and children), ids of children left out."""
    out: dict[str, str] = {}
    for k, v in el.attrib.items():
        if k == "id" and el.tag != "resource_ref":  # a resource_ref's id is the resource it names
            continue
        out[f"{prefix}{k}"] = _value(k, v)
    for i, c in enumerate(x for x in el if isinstance(x.tag, str)):  # comments left out
        out.update(_canon_generic(c, f"{prefix}{c.tag}[{i}] "))
    return out


def _constraint_refs(el: ET.Element) -> set[str]:
    refs = {el.get(k, "") for k in ("rsc", "with-rsc", "first", "then")}
    refs |= {r.get("id", "") for r in el.iter("resource_ref")}
    return refs - {""}


def _shown(key: str, value: str | None) -> str:
    if value is None:
        return "(none)"
    if SECRET_MARK in value:
        return SECRET_SHOWN
    if _PASSWORD.search(key):
        return REDACTED
    return value


def _details(want: dict[str, str], have: dict[str, str]) -> tuple[str, ...]:
    out = []
    for key in list(want) + [k for k in have if k not in want]:
        w, h = want.get(key), have.get(key)
        if w is not None and h is not None and SECRET_MARK in w:
            continue  # a secret: present on both sides is all that is compared
        if w != h:
            out.append(f"{key}: {_shown(key, h)} -> {_shown(key, w)}")
    return tuple(out)


def _kind(el: ET.Element) -> str:
    if el.tag == "primitive" and el.get("class") == "stonith":
        return "fence device"
    return "clone" if el.tag == "master" else el.tag


def _section(conf: ET.Element, path: str, block: str) -> dict[str, str]:
    out: dict[str, str] = {}
    el = conf.find(path)
    if el is not None:
        _nvpairs(el, block, "", out)
    return out


def compare(desired_xml: str, live_xml: str, own: Ownership, *, live_name: str = "the live CIB") -> CibDiff:
    want_conf = _root(desired_xml, "hawizard's cluster configuration")
    have_conf = _root(live_xml, live_name)
    result = CibDiff()
    add = result.objects.append
    # properties, rsc_defaults, op_defaults: hawizard owns the names it sets
    for kind, path, block in (("cluster properties", "crm_config", "cluster_property_set"),
                              ("rsc_defaults", "rsc_defaults", "meta_attributes"),
                              ("op_defaults", "op_defaults", "meta_attributes")):
        want, have = _section(want_conf, path, block), _section(have_conf, path, block)
        if want:
            owned_have = {k: v for k, v in have.items() if k in want}
            details = _details(want, owned_have)
            state = SAME if not details else ADDED if not owned_have else CHANGED
            add(ObjectDiff(kind, "(hawizard's: " + ", ".join(want) + ")", state, details))
        others = sorted(k for k in have if k not in want)
        if others:
            add(ObjectDiff(kind, ", ".join(others), LEFT, note="not set by hawizard"))
    # resources, wherever they stand
    want_res, have_res = _resources(want_conf), _resources(have_conf)
    for rid, (el, parent) in want_res.items():
        if rid not in have_res:
            add(ObjectDiff(_kind(el), rid, ADDED, note="a re-apply creates it"))
            continue
        have_el, have_parent = have_res[rid]
        details = _details(_canon_resource(el, parent), _canon_resource(have_el, have_parent))
        add(ObjectDiff(_kind(el), rid, CHANGED if details else SAME, details))
    for rid, (el, parent) in have_res.items():
        if rid in want_res:
            continue
        if rid in own.may_have_made:
            add(ObjectDiff(_kind(el), rid, REMOVED, note=_removal(own)))
        else:
            where = f" (in {parent})" if parent else ""
            add(ObjectDiff(_kind(el), rid + where, LEFT, note="not hawizard's"))
    # constraints
    want_cons = {c.get("id", ""): c for c in _children(want_conf, "constraints")}
    have_cons = {c.get("id", ""): c for c in _children(have_conf, "constraints")}
    for cid, el in want_cons.items():
        if cid not in have_cons:
            add(ObjectDiff(el.tag, cid, ADDED, note="a re-apply creates it"))
            continue
        details = _details(_canon_generic(el), _canon_generic(have_cons[cid]))
        add(ObjectDiff(el.tag, cid, CHANGED if details else SAME, details))
    for cid, el in have_cons.items():
        if cid in want_cons:
            continue
        if cid in own.may_have_made:
            add(ObjectDiff(el.tag, cid, REMOVED, note=_removal(own)))
        elif own.deletes and _constraint_refs(el) & own.recreated:
            add(ObjectDiff(el.tag, cid, REMOVED, note="names a resource pcs deletes and creates again on a "
                                                      "re-apply: deleted with it"))
        else:
            add(ObjectDiff(el.tag, cid, LEFT, note="not hawizard's"))
    return result


def _children(conf: ET.Element, path: str) -> list[ET.Element]:
    el = conf.find(path)
    return [c for c in el if isinstance(c.tag, str)] if el is not None else []


def _removal(own: Ownership) -> str:
    if own.deletes:
        return "hawizard made it for another design; a re-apply deletes it"
    return ("hawizard made it for another design; not in this one. crm configure load update never deletes: "
            "remove it by hand (crm configure delete) once the new design runs")
