"""Loopback ports: check that each one the lab needs is free, before qemu is started.

qemu reports a taken port as a terse "Could not set up host forwarding rule" after it has
already daemonized half a lab; checking first lets the operator read which port, which
node and which option moves it. Only 127.0.0.1 is ever bound: the lab adds nothing to the
host's network.
"""

from __future__ import annotations

import errno
import random
import socket
from collections.abc import Iterable

from hawizard.common.errors import EnvironmentProblem
from hawizard.lab import layout
from hawizard.lab.layout import LabNode

LOOPBACK = "127.0.0.1"


def port_is_free(port: int, kind: str = "tcp", host: str = LOOPBACK) -> bool:
    """True when ``port`` can be bound on ``host`` now (TCP: nobody listens; UDP: nobody bound)."""
    sock_type = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, sock_type) as sock:
        if kind == "tcp":
            # as qemu's forwarder does: a connection in TIME_WAIT does not make the port taken
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def needed_ports(nodes: Iterable[LabNode]) -> list[tuple[int, str, str]]:
    """(port, tcp|udp, what it is for) for every loopback port the nodes will bind."""
    ports: list[tuple[int, str, str]] = []
    for node in nodes:
        ports.append((node.ssh_port, "tcp", f"the SSH forward of {node.name}"))
        for nic in node.nics:
            if nic.local_port is not None:
                ports.append((nic.local_port, "udp", f"the {nic.role} link of {node.name} ({nic.ifname})"))
    return ports


def bmc_ports(nodes: Iterable[LabNode]) -> list[tuple[int, str, str]]:
    """(port, udp, what it is for) of each node's BMC simulator (bound by ``hawizard lab bmc start``).

    Apart from needed_ports: a BMC runs beside its node's qemu (it powers the node on), so
    checking the node's own ports before a boot must not count its running BMC as a clash.
    """
    return [(node.bmc_port, "udp", f"the BMC simulator of {node.name} (hawizard lab bmc)") for node in nodes]


def check_ports_free(nodes: Iterable[LabNode], ports: list[tuple[int, str, str]] | None = None) -> None:
    """EnvironmentProblem (exit 3) naming every taken port, what it was for and the way out.

    ``ports`` (default: needed_ports of ``nodes``) lets the BMC check its own ports only.
    """
    taken = [f"port {port}/{kind} ({purpose})" for port, kind, purpose in
             (needed_ports(nodes) if ports is None else ports) if not port_is_free(port, kind)]
    if taken:
        raise EnvironmentProblem(
            f"{'; '.join(taken)} on {LOOPBACK}: taken, and the lab needs {'it' if len(taken) == 1 else 'them'}; "
            "stop whatever uses them, or move the lab's ports with --port-base (or $HAWIZARD_LAB_PORT_BASE)"
        )


def free_port_base(count: int = 2) -> int:
    """A port base whose SSH, link and BMC ports are all free on 127.0.0.1 now (tests and bench/ pick one
    at random so that two labs on one machine do not collide)."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 60000, 10)
        nodes = layout.plan_nodes(count, base)
        wanted = [(p, k) for p, k, _ in [*needed_ports(nodes), *bmc_ports(nodes)]]
        if all(port_is_free(p, k) for p, k in wanted):
            return base
    raise EnvironmentProblem("no free port range found on 127.0.0.1")
