"""lab.toml: a preset that points the wizard at the running lab.

After ``hawizard lab up`` the operator (or a test) can hand this file to the wizard and build
the article's cluster on the two VMs without typing a single address: SSH endpoints on
127.0.0.1 with the lab's key and known_hosts, the NICs and addresses of the layout, the DRBD
backing disk and replication link, the VIP on the service network. The keys follow the
design model (hawizard/design/model.py). The lab has fencing hardware (a disk both VMs share and a
watchdog per VM), so lab.toml is a fenced design by default: sbd on that disk, DRBD's
resource-and-stonith, a failed stop fenced. ``fencing="none"`` writes the unfenced design of the
source article instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tomli_w

from hawizard.lab.layout import (
    BACKING_DISK,
    DRBD_PORT,
    LINKS,
    SBD_DEVICE,
    STACK,
    VIP,
    VIP_INTERFACE,
    WATCHDOG_DEVICE,
    LabNode,
)
from hawizard.lab.network import LOOPBACK


def _node_entry(node: LabNode, identity_file: Path, known_hosts: Path) -> dict[str, Any]:
    service = node.nic("service")
    interconnects = [node.nic(spec.role) for spec in LINKS if spec.role != "service"]
    return {
        "name": node.name,
        "ssh_host": LOOPBACK,
        "ssh_port": node.ssh_port,
        "ssh_user": "root",
        "ssh_identity_file": str(identity_file),
        "ssh_known_hosts": str(known_hosts),
        "service_nic": service.ifname,
        "service_address": service.address,
        "interconnects": [{"nic": nic.ifname, "address": nic.address} for nic in interconnects],
        "replication_address": node.replication_ip,
        "backing_disk": BACKING_DISK,
    }


def lab_preset_dict(nodes: Sequence[LabNode], identity_file: Path, known_hosts: Path,
                    stack: str = STACK, fencing: str = "sbd") -> dict[str, Any]:
    """The preset as a nested dict (what is written to lab.toml)."""
    vip, prefix = VIP.split("/")
    sizes = ", ".join(f"{n.name} {n.disk_mib} MiB" for n in nodes)
    fenced = fencing == "sbd"
    return {
        "schema_version": 2,
        "name": "lab",
        "description": (
            f"The hawizard lab: {len(nodes)} qemu VM(s) on this machine, SSH on {LOOPBACK}; "
            f"DRBD backing disks {sizes}. Made by 'hawizard lab up'."
        ),
        "stack": stack,
        "nodes": [_node_entry(n, identity_file, known_hosts) for n in nodes],
        "answers": {"switchover_failure": "fence" if fenced else "manual"},
        "drbd": {"port": DRBD_PORT, "fencing": "resource-and-stonith" if fenced else "dont-care"},
        "service": {"vip": vip, "vip_prefix": int(prefix), "vip_nic": VIP_INTERFACE},
        # the emulated CPUs stall for seconds under load: a 15 s watchdog and 30 s msgwait (sbd's usual
        # values) leave room, where shorter ones reset a node that is only slow
        "fencing": {"method": "sbd", "sbd_devices": [SBD_DEVICE], "watchdog_device": WATCHDOG_DEVICE,
                    "watchdog_timeout_s": 15, "msgwait_timeout_s": 30} if fenced else {"method": "none"},
    }


def make_lab_preset(
    nodes: Sequence[LabNode],
    out_path: str | os.PathLike[str],
    *,
    identity_file: str | os.PathLike[str] | None = None,
    known_hosts: str | os.PathLike[str] | None = None,
    stack: str = STACK,
    fencing: str = "sbd",
) -> Path:
    """Write lab.toml for ``nodes``; by default the key and known_hosts sit beside it (state dir)."""
    out = Path(out_path)
    identity = Path(identity_file) if identity_file else out.parent / "keys" / "id_ed25519"
    hosts = Path(known_hosts) if known_hosts else out.parent / "known_hosts"
    data = lab_preset_dict(nodes, identity, hosts, stack, fencing)
    header = "# Written by 'hawizard lab up': the preset of the running lab. Rewritten at every 'up'.\n"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(header + tomli_w.dumps(data))
    os.replace(tmp, out)
    return out
