"""The operation timeouts the resource agents advertise: the shortest timeouts hawizard renders.

Each agent states in its metadata (``crm_resource --show-metadata ocf:...``, the <actions> element)
how long its start, stop, monitor, promote, demote and notify may take. Pacemaker itself never
reads these values: an operation without its own timeout gets the op_defaults (Pacemaker 1.0:
default-action-timeout) value, else 20 s (Pacemaker Explained, "Operation Properties"). So
hawizard writes them, and never a shorter one unless the operator set that exact value (the lint
then warns): a stop that times out gets its node fenced or the resource blocked.

Where the values come from, per stack (checked, identical for every operation hawizard writes):
- centos5-heartbeat: resource-agents 1.0.4 (tag agents-1.0.4: heartbeat/apache, IPaddr2,
  Filesystem) and DRBD 8.3's scripts/drbd.ocf (LINBIT/drbd, 2010);
- debian12-crmsh, debian12-pcs: resource-agents 4.12.0 and drbd-utils 9.22.0 (Debian 12), the
  metadata of the installed agents; tests/test_agent_timeouts.py runs the real
  ``crm_resource --show-metadata`` and fails when these tables drift from it;
- el9-pcs: resource-agents 4.10.0 (tag v4.10.0, what RHEL 9 ships) and drbd-utils 9.x from ELRepo
  (the same scripts/drbd.ocf of LINBIT/drbd-utils).
A stack whose agents advertise other values gets its own table in ``_BY_STACK``.

The web resource may use an init-system class instead of ocf:heartbeat:apache (lsb:, systemd:);
those advertise generic values (lsb: 15 s for every action, Pacemaker's lsb metadata), not
Apache's, so hawizard keeps the apache agent's longer values for them.
"""

from __future__ import annotations

# hawizard's name of each resource -> the agent it runs
AGENT_TYPES: dict[str, str] = {
    "drbd": "ocf:linbit:drbd",
    "ip": "ocf:heartbeat:IPaddr2",
    "fs": "ocf:heartbeat:Filesystem",
    "web": "ocf:heartbeat:apache",
}

# seconds, per agent and operation; the operations are the ones hawizard writes, in its order
_SINCE_2010: dict[str, dict[str, int]] = {
    "drbd": {"monitor": 20, "start": 240, "stop": 100, "promote": 90, "demote": 90, "notify": 90},
    "ip": {"monitor": 20, "start": 20, "stop": 20},
    "fs": {"monitor": 40, "start": 60, "stop": 60},
    "web": {"monitor": 20, "start": 40, "stop": 60},
}

_BY_STACK: dict[str, dict[str, dict[str, int]]] = {
    "centos5-heartbeat": _SINCE_2010,
    "debian12-crmsh": _SINCE_2010,
    "debian12-pcs": _SINCE_2010,
    "el9-pcs": _SINCE_2010,
}


def table(stack_name: str) -> dict[str, dict[str, int]]:
    """The advertised timeouts of the agents on one stack: {resource: {operation: seconds}}."""
    return _BY_STACK[stack_name]


def operations(agent: str) -> tuple[str, ...]:
    """The operations hawizard writes for one of its resources, monitor first."""
    return tuple(_SINCE_2010[agent])


def advertised(stack_name: str, agent: str, op: str) -> int:
    """The timeout (seconds) the agent of ``agent`` advertises for ``op`` on the stack."""
    return table(stack_name)[agent][op]
