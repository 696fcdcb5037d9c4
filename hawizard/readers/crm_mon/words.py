"""crm_mon's words, one spelling each: roles, agents, clone instance ids, operation keys, numbers.

Why: the same thing is printed differently across Pacemaker versions and formats (``Master`` in
1.x, ``Promoted`` in 2.1; ``ocf::heartbeat:IPaddr2`` in 1.x text, ``ocf:heartbeat:IPaddr2`` in 2.x;
``res_drbd0:0`` for a clone instance). Both parsers normalise through here: roles to the 2.1
vocabulary (Master -> Promoted, Slave -> Unpromoted), agents with single colons, instances to
their resource.
"""

from __future__ import annotations

import re

ROLE_ALIASES = {
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
    return ROLE_ALIASES.get(word.strip().lower(), word.strip())


def normalize_agent(agent: str | None) -> str | None:
    """``ocf::heartbeat:IPaddr2`` (1.x text) and ``ocf:heartbeat:IPaddr2`` (2.x) are the same agent."""
    if not agent:
        return None
    return re.sub(r"::+", ":", agent.strip())


def base_id(rid: str) -> str:
    """Clone instances print as ``res_drbd0:0``; the resource is ``res_drbd0``."""
    return re.sub(r":\d+$", "", rid)


def split_op_key(op_key: str) -> tuple[str, str | None]:
    """``res_httpd_monitor_20000`` -> (``res_httpd``, ``monitor``)."""
    m = re.match(r"^(.+)_([a-z][a-z_-]*?)_(\d+)$", op_key)
    if m:
        return m.group(1), m.group(2)
    return op_key, None


def to_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
