"""What a re-apply would do to the resources running now: stop, start, restart, move, promote or demote.

Why: an object that differs can be harmless (Pacemaker reads a ``<master>`` and a promotable ``<clone>`` of
the same id as the same resource and does nothing) or take the service down (a parameter added to or dropped
from a running primitive restarts it, and with it everything ordered after it: Pacemaker Explained,
"Reloading Services After a Definition Change"). The operator of a running cluster needs to know which
before applying, and our own reading of the objects cannot tell: Pacemaker's scheduler can.

How: a copy of the live CIB, status section included (``cibadmin -Q`` on a node), gets hawizard's cluster
configuration loaded the way cluster-config loads it on the node (shadow.load_config: ``crm configure load
update``, or the pcs script on a file CIB whose result is pushed whole). ``crm_simulate -R --output-as=xml``
(Pacemaker's scheduler run offline, nothing sent to a cluster) then prints the transition it would start:
``<actions><rsc_action action="restart" resource="..." source="node" .../>``. What the live CIB alone would
already do (a resource that is stopped and about to start, a pending move) is taken away, so what remains is
the re-apply's doing. Fence devices are left out: hawizard's side holds a marker where the password is, which
the scheduler would call a changed parameter. Without a status section (a cib.xml copied from disk) there is
nothing running to predict for, and nothing is claimed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from hawizard.adopt.shadow import load_config, require_tool, run_tool, scratch_cib
from hawizard.common.errors import InputError
from hawizard.design.model import Design
from hawizard.render.renderer import Rendering


@dataclass(frozen=True)
class Action:
    """One line of the scheduler's transition summary."""

    action: str  # restart, stop, start, move, promote, demote, recover, migrate, reload, ...
    resource: str  # as crm_simulate names it: a clone instance is "res_drbd0:0"
    node: str  # where it runs now (node, or source of a move), else where it would start (dest)
    dest: str = ""
    role: str = ""
    reason: str = ""
    blocked: bool = False  # scheduled but held (no quorum, a failed stop): it would not happen yet

    def text(self) -> str:
        where = f"{self.node} -> {self.dest}" if self.dest and self.node and self.dest != self.node else self.node
        role = f" ({self.role})" if self.role else ""
        why = f"  [{'blocked: ' if self.blocked else ''}{self.reason}]" if self.reason or self.blocked else ""
        return f"{self.action:<9} {self.resource}{role} on {where}{why}"


@dataclass(frozen=True)
class Prediction:
    """The re-apply's own actions, or why none were predicted."""

    actions: tuple[Action, ...]
    predicted: bool = True
    why_not: str = ""

    @property
    def disruptive(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.action != "reload")

    def text(self) -> str:
        head = "Running resources (crm_simulate of the re-apply on a copy of the live CIB): "
        if not self.predicted:
            return head + f"not predicted ({self.why_not})\n"
        if not self.actions:
            return head + "nothing stops, starts or moves\n"
        lines = [head + f"{len(self.disruptive)} would stop, start or move"]
        lines += [f"  {a.text()}" for a in self.actions]
        return "\n".join(lines) + "\n"


def _has_status(root: ET.Element) -> bool:
    status = root.find("status")
    return status is not None and status.find("node_state") is not None


def _stonith_ids(root: ET.Element) -> set[str]:
    return {p.get("id", "") for p in root.iter("primitive") if p.get("class") == "stonith"}


def _actions(xml: str, what: str) -> set[Action]:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise InputError(f"{what}: crm_simulate's XML output does not parse ({exc})") from None
    out = set()
    for el in root.iter("rsc_action"):
        # Pacemaker's API schema (xml/api/crm_simulate-2.*.rng, rsc_action): node for an action in place,
        # source and dest for a move or migration
        out.add(Action(el.get("action", ""), el.get("resource", ""),
                       el.get("node", "") or el.get("source", "") or el.get("dest", ""), el.get("dest", ""),
                       el.get("role", ""), el.get("reason", ""), el.get("blocked", "") == "true"))
    return out


def _simulate(crm_simulate: str, cib: Path, env: dict[str, str], what: str) -> set[Action]:
    return _actions(run_tool([crm_simulate, "-x", str(cib), "-R", "--output-as=xml"], env, what), what)


def predict(design: Design, rendering: Rendering, live_xml: str, where: str) -> Prediction:
    """The actions a re-apply of ``design`` would start on the cluster whose CIB (with status) is ``live_xml``."""
    try:
        root = ET.fromstring(live_xml)
    except ET.ParseError as exc:
        raise InputError(f"{where}: the CIB does not parse ({exc})") from None
    if not _has_status(root):
        return Prediction((), predicted=False, why_not=f"{where} has no status section: nothing known to run")
    crm_simulate = require_tool("crm_simulate", "pacemaker-cli-utils")
    with scratch_cib("hawizard-restarts-") as (cib, env):
        cib.write_text(live_xml)
        before = _simulate(crm_simulate, cib, env, f"crm_simulate of {where}")
        load_config(design, rendering, cib, env)
        after = _simulate(crm_simulate, cib, env, f"crm_simulate of {where} with hawizard's configuration")
        fence = _stonith_ids(ET.fromstring(cib.read_text())) | _stonith_ids(root)
    key = lambda a: (a.action, a.resource, a.node, a.dest)  # noqa: E731 - the reason may name other actions
    already = {key(a) for a in before}
    mine = [a for a in after if key(a) not in already and a.resource.split(":")[0] not in fence]
    return Prediction(tuple(sorted(mine, key=lambda a: (a.resource, a.node))))
