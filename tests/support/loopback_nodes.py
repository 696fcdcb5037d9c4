"""Two cluster nodes for SSH tests of adopt and diff: a real sshd on loopback per node, and a prepared tree
per node that the collector reads in place of "/" (hawizard/run/collect.py TEST_ROOTS).

A tree holds what hawizard renders for the node, at its node paths, with the validators' dummy secrets
filled in as the runner writes them, the CIB the real crmsh/pcs make of the cluster configuration
(tests/adopt_support.py rendered_dir), etc/hostname (the node's name, which uname -n gives on a node) and
ip-addr.txt (the node's addresses as ``ip -o -4 addr show`` prints them).
"""

from __future__ import annotations

from pathlib import Path

from adopt_support import rendered_dir
from validators.harness import Case, case, require

from hawizard.design.preset_file import design_from_dict, design_to_dict
from hawizard.render.renderer import render

from .sshd import SshServer


def start_pair() -> tuple[SshServer, SshServer]:
    """Two sshds; one client key opens both (as an operator's key does for a cluster)."""
    a, b = SshServer().start(), SshServer().start()
    with open(b.authorized_keys, "a") as f:
        f.write((a.dir / "client_key.pub").read_text())
    return a, b


def known_hosts(tmp: Path, *srvs: SshServer) -> Path:
    kh = tmp / "known_hosts"
    kh.write_text("".join(s.known_hosts_line() for s in srvs))
    return kh


def case_on(cid: str, servers: tuple[SshServer, SshServer], kh: Path) -> Case:
    """The validator design ``cid`` with its nodes reached at the two loopback sshds."""
    base = case(cid)
    data = design_to_dict(base.design)
    for n, srv in zip(data["nodes"], servers, strict=True):
        n.update(ssh_host=srv.host, ssh_port=srv.port, ssh_user="root", ssh_identity_file=str(servers[0].client_key),
                 ssh_known_hosts=str(kh))
    design = design_from_dict(data, f"<{cid} on loopback>")
    return Case(base.spec, design, render(design))


def prepare(c: Case, servers: tuple[SshServer, SshServer], tmp: Path, roots: dict[str, str]) -> Path:
    """Each node's tree (DIR/NODE/...), registered in ``roots`` (the collector's TEST_ROOTS) by host:port."""
    require("cibadmin", "pcs" if c.stack.config_tool == "pcs" else "crm")
    d = rendered_dir(c, tmp, with_state=True, with_cib=True)
    for n, srv in zip(c.design.nodes, servers, strict=True):
        (d / n.name / "etc/hostname").write_text(n.name + "\n")
        rows = [(n.service_nic, n.service_address)] + [(ic.nic, ic.address) for ic in n.interconnects]
        (d / n.name / "ip-addr.txt").write_text(ip_addr_lines(rows))
        roots[f"{srv.host}:{srv.port}"] = str(d / n.name)
    return d


def ip_addr_lines(rows: list[tuple[str, str]]) -> str:
    """``ip -o -4 addr show`` lines (iproute2's format) for (NIC, address/prefix) rows, loopback first."""
    out = ["1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever"]
    for i, (nic, addr) in enumerate(rows, start=2):
        out.append(f"{i}: {nic}    inet {addr} scope global {nic}\\       valid_lft forever preferred_lft forever")
    return "\n".join(out) + "\n"
