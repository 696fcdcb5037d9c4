"""The CIB (``cibadmin -Q`` XML), upgraded offline to the current schema, read with xml.etree.

Upgrade: a copy of the file gets ``CIB_file=COPY cibadmin --upgrade --force``, which runs
Pacemaker's own XSL transforms (a Pacemaker 1.0 CIB's ``default-resource-stickiness`` property
moves into rsc_defaults, ``default-action-timeout`` into op_defaults; seen with Pacemaker 2.1.5);
then ``cibadmin -Q`` on the copy gives the upgraded XML. The collected file is never changed.

The reading is of the configuration section only: properties, rsc_defaults, op_defaults, the
resources (primitives, groups, clones, promotable clones in both spellings: ``<master>`` and
``<clone>`` with ``promotable=true``), the constraints and the nodes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from hawizard.common.errors import EnvironmentProblem, InputError


@dataclass
class Op:
    name: str
    interval: str
    role: str
    timeout: str
    on_fail: str
    other: dict[str, str]


@dataclass
class Primitive:
    id: str
    cls: str
    provider: str
    type: str
    params: dict[str, str]
    meta: dict[str, str]
    ops: list[Op]

    @property
    def agent(self) -> str:
        return f"{self.cls}:{self.provider}:{self.type}" if self.provider else f"{self.cls}:{self.type}"


@dataclass
class Container:
    id: str
    kind: str  # group | clone | master
    meta: dict[str, str]
    children: list[Primitive]

    @property
    def promotable(self) -> bool:
        return self.kind == "master" or self.meta.get("promotable", "").lower() in ("true", "yes", "1")


@dataclass
class Cib:
    schema: str          # validate-with after the upgrade
    schema_before: str   # validate-with of the collected file
    properties: dict[str, str]
    rsc_defaults: dict[str, str]
    op_defaults: dict[str, str]
    primitives: list[Primitive]  # top-level primitives
    containers: list[Container]
    constraints: list[ET.Element]
    nodes: list[str]
    other_config: list[str] = field(default_factory=list)  # configuration children not read, by tag
    op_ids: list[str] = field(default_factory=list)  # every operation's id (tells pcs from crmsh)
    node_ids: dict[str, str] = field(default_factory=dict)  # node id -> uname (corosync nodeid on Pacemaker 2)


def upgrade_and_query(path: Path, shown_as: str) -> str:
    """The CIB XML after Pacemaker's offline upgrade of a copy of ``path``."""
    tool = shutil.which("cibadmin")
    if not tool:
        raise EnvironmentProblem("cibadmin is not installed on this machine; adoption upgrades and reads the "
                                 "CIB with it (Debian: apt-get install pacemaker-cli-utils)")
    with tempfile.TemporaryDirectory(prefix="hawizard-adopt-cib-") as tmp:
        copy = Path(tmp) / "cib.xml"
        shutil.copyfile(path, copy)
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C",
               "CIB_file": str(copy), "HOME": tmp}
        up = subprocess.run([tool, "--upgrade", "--force"], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
        if up.returncode != 0:
            raise InputError(f"{shown_as}: Pacemaker cannot upgrade this CIB (cibadmin --upgrade --force, exit "
                             f"{up.returncode}): {' '.join(up.stderr.split())[:300]}")
        q = subprocess.run([tool, "-Q"], env=env, capture_output=True, text=True, timeout=60, check=False)
        if q.returncode != 0:
            raise InputError(f"{shown_as}: cibadmin -Q cannot read the upgraded CIB: {' '.join(q.stderr.split())[:300]}")
        return q.stdout


def _nvpairs(elem: ET.Element | None, tag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if elem is None:
        return out
    for block in elem.findall(tag):
        for nv in block.findall("nvpair"):
            out[nv.get("name", "")] = nv.get("value", "")
    return out


def _primitive(p: ET.Element) -> Primitive:
    ops = []
    for op in p.findall("operations/op"):
        attrs = dict(op.attrib)
        other = {k: v for k, v in attrs.items() if k not in ("id", "name", "interval", "role", "timeout", "on-fail")}
        other.update(_nvpairs(op, "meta_attributes"))
        ops.append(Op(attrs.get("name", ""), attrs.get("interval", "0"), attrs.get("role", ""),
                      attrs.get("timeout", ""), attrs.get("on-fail", ""), other))
    return Primitive(p.get("id", ""), p.get("class", ""), p.get("provider", ""), p.get("type", ""),
                     _nvpairs(p, "instance_attributes"), _nvpairs(p, "meta_attributes"), ops)


def parse(xml_text: str, schema_before: str = "", shown_as: str = "the CIB") -> Cib:
    root = ET.fromstring(xml_text)
    conf = root.find("configuration")
    if conf is None:
        raise InputError(f"{shown_as}: no configuration section (is it the output of cibadmin -Q?)")
    res = conf.find("resources")
    prims: list[Primitive] = []
    conts: list[Container] = []
    for child in (list(res) if res is not None else []):
        if child.tag == "primitive":
            prims.append(_primitive(child))
        elif child.tag in ("group", "clone", "master"):
            kids = [_primitive(p) for p in child.findall("primitive")]
            for g in child.findall("group"):  # a cloned group: read as its members
                kids += [_primitive(p) for p in g.findall("primitive")]
            conts.append(Container(child.get("id", ""), child.tag, _nvpairs(child, "meta_attributes"), kids))
        else:
            conts.append(Container(child.get("id", ""), child.tag, {}, []))
    cons = conf.find("constraints")
    nodes = [n.get("uname", "") for n in conf.findall("nodes/node")]
    known = {"crm_config", "nodes", "resources", "constraints", "rsc_defaults", "op_defaults"}
    return Cib(
        schema=root.get("validate-with", ""), schema_before=schema_before or root.get("validate-with", ""),
        properties=_nvpairs(conf.find("crm_config"), "cluster_property_set"),
        rsc_defaults=_nvpairs(conf.find("rsc_defaults"), "meta_attributes"),
        op_defaults=_nvpairs(conf.find("op_defaults"), "meta_attributes"),
        primitives=prims, containers=conts, constraints=list(cons) if cons is not None else [],
        nodes=[n for n in nodes if n], other_config=[c.tag for c in conf if c.tag not in known],
        op_ids=[op.get("id", "") for op in conf.iter("op")],
        node_ids={n.get("id", ""): n.get("uname", "") for n in conf.findall("nodes/node") if n.get("uname")})


def read(path: Path, text: str, shown_as: str) -> Cib:
    try:
        before = ET.fromstring(text).get("validate-with", "")
    except ET.ParseError as exc:
        raise InputError(f"{shown_as}: not CIB XML: {exc}") from None
    return parse(upgrade_and_query(path, shown_as), before, shown_as)
