"""The per-node seed disk: what makes one overlay of the shared image a particular node.

Both nodes boot the same base image, yet each needs its own SSH host key (so known_hosts can
tell them apart), the lab's operator key, and its own addresses. Writing them into a qcow2
overlay from the host would need root and a loop or nbd mount; instead each node gets a
tiny read-only virtio disk (serial ``labseed``) whose raw content is a tar archive made here
with Python's tarfile. A oneshot unit baked into the image unpacks it over / at every boot,
before systemd-networkd and sshd start (see guest-finish.sh). No root, no mount, no mkfs.
"""

from __future__ import annotations

import io
import os
import tarfile
import time
from pathlib import Path

from hawizard.lab.layout import LabNode, Nic
from hawizard.lab.paths import LabPaths

SEED_SERIAL = "labseed"


def network_unit(nic: Nic) -> str:
    """The systemd-networkd file for one NIC, matched by MAC so NIC order cannot mislead it."""
    lines = ["[Match]", f"MACAddress={nic.mac}", ""]
    if nic.address is None:
        lines += ["[Network]", "DHCP=ipv4", "LinkLocalAddressing=no", "IPv6AcceptRA=no"]
    else:
        lines += [
            "[Link]",
            "RequiredForOnline=no",
            "",
            "[Network]",
            f"Address={nic.address}",
            "LinkLocalAddressing=no",
            "IPv6AcceptRA=no",
            "ConfigureWithoutCarrier=yes",
            # the cluster adds the VIP on eth1 itself; never reconfigure the link under it
            "IgnoreCarrierLoss=yes",
        ]
    return "\n".join(lines) + "\n"


def seed_files(paths: LabPaths, node: LabNode) -> list[tuple[str, bytes | None, int]]:
    """(path inside the guest, content or None for a directory, mode) for one node."""
    host_key = paths.host_key(node.name)
    files: list[tuple[str, bytes | None, int]] = [
        ("etc/ssh/ssh_host_ed25519_key", host_key.read_bytes(), 0o600),
        ("etc/ssh/ssh_host_ed25519_key.pub", Path(f"{host_key}.pub").read_bytes(), 0o644),
        ("root/.ssh", None, 0o700),
        ("root/.ssh/authorized_keys", Path(f"{paths.operator_key}.pub").read_bytes(), 0o600),
        ("etc/hostname", f"{node.name}\n".encode(), 0o644),
    ]
    for nic in node.nics:
        files.append((f"etc/systemd/network/10-hawizard-lab-{nic.ifname}.network", network_unit(nic).encode(), 0o644))
    return files


def write_seed(paths: LabPaths, node: LabNode, out: Path) -> Path:
    """The seed disk image for ``node`` (a tar archive, a multiple of 512 bytes long)."""
    buf = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, content, mode in seed_files(paths, node):
            info = tarfile.TarInfo(name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = mode
            info.mtime = now
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    data = buf.getvalue()
    data += b"\0" * (-len(data) % 4096)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return out
