"""Designs made from the shipped presets for tests: the same cluster with another fencing method.

Why here: the shipped modern presets now fence in different ways (debian12 and debian12-pcs with
sbd, el9 with a PDU), and many tests need a given method on a given stack; each test says which
one it wants instead of depending on what a preset happens to ship.
"""

from __future__ import annotations

from hawizard.design.model import Design

# A BMC per node on the management network (192.168.0.0/24 in the shipped presets), not on an
# interconnect (lint: fence-path).
IPMI_ADDRESSES = ("192.168.0.11", "192.168.0.12")


def with_ipmi(d: Design, race: str = "priority", password_ref: str = "env:HAWIZARD_IPMI_PASSWORD") -> Design:
    """Fencing through each node's on-board BMC (fence_ipmilan), the password by reference."""
    d.fencing.method, d.fencing.race, d.fencing.sbd_devices = "agent", race, []
    for n, ip in zip(d.nodes, IPMI_ADDRESSES, strict=True):
        n.fence_agent = "fence_ipmilan"
        n.fence_params = {"ip": ip, "username": "admin", "lanplus": "1"}
        n.fence_password_ref = password_ref
    return d


def with_pdu(d: Design, race: str = "static", community_ref: str = "env:HAWIZARD_PDU_COMMUNITY") -> Design:
    """Fencing through one switched PDU (fence_apc_snmp), one outlet per node."""
    d.fencing.method, d.fencing.race, d.fencing.sbd_devices = "agent", race, []
    for i, n in enumerate(d.nodes, start=1):
        n.fence_agent = "fence_apc_snmp"
        n.fence_params = {"ip": "192.168.10.31", "plug": str(i)}
        n.fence_password_ref = community_ref
    return d


def with_sbd(d: Design, race: str = "priority",
             devices: tuple[str, ...] = ("/dev/disk/by-id/wwn-0x6001405a1b2c3d4e5f60718293a4b5c6",)) -> Design:
    """Fencing through a shared sbd disk and the watchdog; the nodes' fence agents are cleared."""
    d.fencing.method, d.fencing.race, d.fencing.sbd_devices = "sbd", race, list(devices)
    for n in d.nodes:
        n.fence_agent, n.fence_params, n.fence_password_ref = "", {}, ""
    return d


def without_fencing(d: Design) -> Design:
    """No fencing (the article's choice), with what must go with it: DRBD not waiting for a fence,
    a failed switch-over left to the operator."""
    d.fencing.method, d.fencing.race, d.fencing.sbd_devices = "none", "none", []
    d.drbd.fencing = "dont-care"
    d.answers.switchover_failure = "manual"
    for n in d.nodes:
        n.fence_agent, n.fence_params, n.fence_password_ref = "", {}, ""
    return d
