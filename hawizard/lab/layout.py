"""The lab's shape: the source article's two-node layout, made concrete for qemu.

Each node has four NICs, in this order (so the guest kernel names them eth0..eth3):

  eth0  management: qemu user networking, restricted, SSH forwarded from 127.0.0.1:PORT
  eth1  service network 192.168.0.0/24 (srv1 .101, srv2 .102; the VIP is .200)
  eth2  interconnect 1 10.1.0.0/24 (.1, .2): DRBD replication and corosync link 0 (its fallback link)
  eth3  interconnect 2 10.2.0.0/24 (.1, .2): corosync link 1 (preferred: DRBD does not use it)

eth1..eth3 are point-to-point Ethernet links between the two qemu processes, tunnelled over
UDP on 127.0.0.1; each end has its own UDP port. All ports derive from one base port, so the
whole plan is reproducible from ``lab.json`` and a clash is reported by number: SSH base+1 and
base+2, the links base+111..base+132, the BMC simulators (``hawizard lab bmc``) base+201, base+202.
Addresses are set by MAC (systemd-networkd), and MACs derive from the node and NIC index.
"""

from __future__ import annotations

from dataclasses import dataclass

from hawizard.common.errors import InputError

NODE_NAMES = ("srv1", "srv2")
DEFAULT_PORT_BASE = 2220
DEFAULT_DISK_MIB = 128
MAX_NODES = len(NODE_NAMES)

# Fencing: one small disk shared by both VMs (qemu share-rw) for SBD, and an emulated watchdog per
# node (i6300esb) that resets its VM when nobody pets it. The disk shows under its serial in the guest.
SBD_SERIAL = "labsbd"
SBD_DEVICE = f"/dev/disk/by-id/virtio-{SBD_SERIAL}"
SBD_DISK_MIB = 8  # sbd needs a few hundred KiB for its header and 255 slots
WATCHDOG_DEVICE = "/dev/watchdog"
# the roles of the links the cluster talks over (corosync's knet links, DRBD's replication):
# the ones a partition test cuts; the service network stays up
CLUSTER_LINKS = ("interconnect1", "interconnect2")

VIP = "192.168.0.200/24"
VIP_INTERFACE = "eth1"
DRBD_PORT = 7789
BACKING_DISK = "/dev/vdb"
STACK = "debian12-crmsh"
# the stacks the lab image carries everything for (its local repository has both crmsh and pcs)
STACKS = ("debian12-crmsh", "debian12-pcs")

# the UDP ports of the VM-to-VM links sit above the SSH ports: base + 100 + 10*link + node
_LINK_PORT_OFFSET = 100
# the UDP port of each node's BMC simulator (ipmi_sim, see bmc.py) sits above the links: base + 200 + node
_BMC_PORT_OFFSET = 200


@dataclass(frozen=True)
class LinkSpec:
    """One VM-to-VM network of the article's layout."""

    role: str
    ifname: str
    network: str  # first three octets
    prefixlen: int
    host_offset: int  # node N gets .(offset + N)


LINKS = (
    LinkSpec("service", "eth1", "192.168.0", 24, 100),
    LinkSpec("interconnect1", "eth2", "10.1.0", 24, 0),
    LinkSpec("interconnect2", "eth3", "10.2.0", 24, 0),
)


@dataclass(frozen=True)
class Nic:
    """One NIC of one node: its MAC, its guest name, and (for links) address and UDP ports."""

    role: str
    ifname: str
    mac: str
    address: str | None = None  # "10.1.0.1/24"; None for the DHCP management NIC
    local_port: int | None = None  # UDP port this end binds on 127.0.0.1
    peer_port: int | None = None  # UDP port of the other end

    @property
    def ip(self) -> str | None:
        return self.address.split("/")[0] if self.address else None


@dataclass(frozen=True)
class LabNode:
    """Everything fixed about one node before it boots."""

    name: str
    index: int  # 1-based
    ssh_port: int
    disk_mib: int
    nics: tuple[Nic, ...]
    bmc_port: int = 0  # UDP port of the node's IPMI BMC simulator on 127.0.0.1 (hawizard lab bmc)

    def nic(self, role: str) -> Nic:
        for nic in self.nics:
            if nic.role == role:
                return nic
        raise KeyError(role)

    @property
    def replication_ip(self) -> str:
        return self.nic("interconnect1").ip or ""

    def udp_ports(self) -> list[int]:
        return [n.local_port for n in self.nics if n.local_port is not None]


def mac_for(node_index: int, nic_index: int) -> str:
    """A locally administered qemu MAC (52:54:00 prefix) unique per node and NIC."""
    return f"52:54:00:4c:{node_index:02x}:{nic_index:02x}"


def link_port(port_base: int, link_index: int, node_index: int) -> int:
    return port_base + _LINK_PORT_OFFSET + 10 * link_index + node_index


def bmc_port(port_base: int, node_index: int) -> int:
    return port_base + _BMC_PORT_OFFSET + node_index


def check_port_base(port_base: int) -> None:
    highest = max(link_port(port_base, len(LINKS), MAX_NODES), bmc_port(port_base, MAX_NODES))
    if port_base < 1024 or highest > 65535:
        raise InputError(
            f"port base {port_base} is out of range: the lab uses ports {port_base + 1}..{highest}, "
            "which must lie within 1025..65535"
        )


def check_node_name(name: str, count: int = MAX_NODES) -> str:
    """The name itself, or InputError (exit 2) listing the valid names."""
    valid = NODE_NAMES[:count]
    if name not in valid:
        raise InputError(f"unknown lab node {name!r}; the lab's nodes are {', '.join(valid)}")
    return name


def plan_nodes(
    count: int = MAX_NODES,
    port_base: int = DEFAULT_PORT_BASE,
    disk_mib: int = DEFAULT_DISK_MIB,
    disk_mib_by_node: dict[str, int] | None = None,
) -> list[LabNode]:
    """The nodes of a lab with ``count`` nodes (1 or 2), every port derived from ``port_base``."""
    if not 1 <= count <= MAX_NODES:
        raise InputError(f"--nodes must be 1 or {MAX_NODES} (the layout is a two-node cluster), not {count}")
    check_port_base(port_base)
    overrides = dict(disk_mib_by_node or {})
    for name in overrides:
        check_node_name(name)
    nodes: list[LabNode] = []
    for index in range(1, count + 1):
        name = NODE_NAMES[index - 1]
        peer = MAX_NODES + 1 - index  # 1 <-> 2
        nics = [Nic("management", "eth0", mac_for(index, 0))]
        for link_index, spec in enumerate(LINKS, start=1):
            nics.append(
                Nic(
                    role=spec.role,
                    ifname=spec.ifname,
                    mac=mac_for(index, link_index),
                    address=f"{spec.network}.{spec.host_offset + index}/{spec.prefixlen}",
                    local_port=link_port(port_base, link_index, index),
                    peer_port=link_port(port_base, link_index, peer),
                )
            )
        size = overrides.get(name, disk_mib)
        if size < 8:
            raise InputError(f"the DRBD backing disk of {name} must be at least 8 MiB, not {size}")
        nodes.append(LabNode(name, index, port_base + index, size, tuple(nics), bmc_port(port_base, index)))
    return nodes
