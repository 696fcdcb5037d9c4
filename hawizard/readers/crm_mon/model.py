"""``ClusterStatus``: what both crm_mon formats are parsed into, and the questions the runner asks it.

Why one model: the runner's question ("DRBD promoted on one node, the group started on the
same node?") must not care which Pacemaker or which format printed the state. Roles in it are
words of the 2.1 vocabulary (words.py); the original word is kept in ``raw_role``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hawizard.events import ClusterState
from hawizard.readers.crm_mon.words import INACTIVE_ROLES


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

    # -- building (the parsers call these) ------------------------------------------------------

    def link(self, child: str, parent: str | None) -> None:
        if parent and child != parent:
            self.links[child] = parent

    def add_node(self, bucket: list[str], name: str) -> None:
        if name and name not in bucket:
            bucket.append(name)

    def sort_nodes(self) -> ClusterStatus:
        """Node lists in a stable order (crm_mon sorts them too, but text and XML differ)."""
        for name in ("nodes_online", "nodes_offline", "nodes_standby", "nodes_unclean", "nodes_maintenance"):
            setattr(self, name, sorted(getattr(self, name)))
        return self
