"""The membership layer's files, read into the design: nodes, interconnects, Heartbeat or Corosync values.

ha.cf names the interconnect NICs (bcast) or the peers' addresses (ucast); corosync.conf names
the nodes and their link addresses. Neither says a NIC's address prefix, a service address or
how hawizard reaches a node: those are listed as guessed (hawizard's own numbering) and must
be checked before an apply (they reach /etc/hosts). Pure apart from reading collected text.
"""

from __future__ import annotations

import ipaddress

from hawizard.adopt import corosync_conf, heartbeat
from hawizard.adopt.collected import Collected
from hawizard.adopt.findings import CHANGED, DEFAULTED, DROPPED, GUESSED, KEPT, SECRET, Findings
from hawizard.common.errors import InputError
from hawizard.design.model import Corosync, Design, Interconnect, Node


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def hosts_table(col: Collected) -> dict[str, str]:
    """name -> address from the collected etc/hosts (the first line naming it wins, as in hosts(5))."""
    path = col.first("etc/hosts")
    table: dict[str, str] = {}
    for raw in (col.read(path).splitlines() if path else []):
        words = raw.split("#", 1)[0].split()
        for name in words[1:]:
            table.setdefault(name, words[0])
    return table


class NotTwoNodes(InputError):
    """The membership lists other than two nodes (exit 2)."""


def _two(names: list[str], where: str) -> list[str]:
    if len(names) != 2:
        raise NotTwoNodes(f"{where}: the membership lists {len(names)} node(s) ({', '.join(names) or 'none'}); "
                          "hawizard adopts two-node active/standby clusters only")
    return names


def _nodes(d: Design, names: list[str], links: list[list[tuple[str, str]]]) -> None:
    """Two nodes with their interconnects (nic, address with prefix) in link order."""
    d.nodes = [Node(name=n, ssh_host=n, interconnects=[Interconnect(nic, addr) for nic, addr in ics])
               for n, ics in zip(names, links, strict=True)]


def from_heartbeat(col: Collected, d: Design, f: Findings) -> list[str]:
    hacf = col.first("etc/ha.d/ha.cf")
    assert hacf is not None
    where = col.rel(hacf)
    cf = heartbeat.parse_ha_cf(col.read(hacf))
    names = _two(cf.nodes, where)
    hb = d.heartbeat
    ints = {"keepalive": "keepalive_s", "warntime": "warntime_s", "deadtime": "deadtime_s",
            "initdead": "initdead_s", "udpport": "udpport"}
    for word, attr in ints.items():
        if word in cf.values:
            value, no = cf.values[word]
            if value.isdigit():
                setattr(hb, attr, int(value))
            else:
                f.add(f"ha.cf: {word} {value}", f"{where}:{no}", CHANGED, f"not whole seconds; the preset says "
                      f"{getattr(hb, attr)}")
        else:
            f.add(f"ha.cf: {word}", where, DEFAULTED, f"not set (Heartbeat's built-in default applies); the preset "
                  f"says {getattr(hb, attr)}, which a re-apply writes")
    for word in ("logfile", "logfacility"):
        if word in cf.values:
            setattr(hb, word, cf.values[word][0])
    if cf.pacemaker in ("crm yes", "crm respawn", "pacemaker respawn"):
        hb.pacemaker_directive = cf.pacemaker
    else:
        f.add(f"ha.cf: {cf.pacemaker or 'crm/pacemaker directive'}", where, CHANGED,
              f"a re-apply writes '{hb.pacemaker_directive}'")
    for word, rest, no in cf.other:
        f.add(f"ha.cf: {word} {rest}", f"{where}:{no}", DROPPED, "a re-apply writes ha.cf without it")
    if cf.ucast and not cf.bcast:
        hb.transport = "ucast"
        half = len(cf.ucast) // 2
        if len(cf.ucast) % 2 == 0 and half:
            links = [[(nic, f"{addr}/24") for nic, addr in cf.ucast[:half]],
                     [(nic, f"{addr}/24") for nic, addr in cf.ucast[half:]]]
            f.add("ha.cf: ucast addresses", where, GUESSED, "the first half taken as the first node's links, the "
                  "second as the second node's; the prefix /24 is not in ha.cf: check it")
        else:
            raise InputError(f"{where}: {len(cf.ucast)} ucast line(s): hawizard reads one per link and node")
    else:
        hb.transport = "bcast"
        nics = cf.bcast or ["eth1"]
        links = [[(nic, f"10.{k + 1}.0.{i + 1}/24") for k, nic in enumerate(nics)] for i in range(2)]
        f.add("interconnect addresses", where, GUESSED, "ha.cf bcast names NICs only; hawizard's own numbering "
              "(10.LINK.0.NODE/24) is in the preset, the link DRBD uses gets its address from the DRBD "
              "files: check them before an apply (they go into /etc/hosts)")
        if cf.ucast:
            f.add("ha.cf: ucast lines beside bcast", where, DROPPED, "a re-apply writes bcast only")
    _nodes(d, names, links)
    authkeys = col.first("etc/ha.d/authkeys")
    if authkeys is None:
        f.add("authkeys", "(not found)", DEFAULTED, f"the preset says {d.heartbeat.auth}")
    else:
        d.heartbeat.auth = heartbeat.authkeys_method(col.read(authkeys), col.rel(authkeys))
        if d.heartbeat.auth != "crc":
            f.add("authkeys: the key", col.rel(authkeys), SECRET, "auth_secret_ref is empty: the key already on "
                  "the first node is kept at apply time, never copied")
    return names


def from_corosync(col: Collected, d: Design, f: Findings, cib_nodes: dict[str, str] | None = None) -> list[str]:
    conf = col.first("etc/corosync/corosync.conf")
    assert conf is not None
    where = col.rel(conf)
    m = corosync_conf.membership(corosync_conf.parse(col.read(conf), where))
    names = [n.name for n in m.nodes]
    if len(m.nodes) == 2 and not all(names):
        # corosync 2.x udpu without names: Pacemaker knows each node by its corosync nodeid, and the CIB's
        # <node id=NODEID uname=NAME> names it (Pacemaker Explained, "Nodes")
        cib_nodes = cib_nodes or {}
        names = [n.name or cib_nodes.get(n.nodeid, "") for n in m.nodes]
        if not all(names):
            raise InputError(f"{where}: the nodelist names no node (2.x udpu without name:) and the CIB has no "
                             "node with their nodeid: add name: lines, or collect the CIB of the running cluster")
        f.add("corosync.conf: nodes without a name", where, GUESSED, f"named {', '.join(names)} from the CIB's "
              "nodes with the same nodeid; a re-apply writes name: lines")
    names = _two(names, where)
    c = d.corosync
    if m.cluster_name:
        c.cluster_name = m.cluster_name
    else:
        f.add("corosync.conf: totem.cluster_name", where, DEFAULTED, f"not set; the preset says {c.cluster_name}")
    if m.transport not in ("knet", "udpu"):
        f.add(f"corosync.conf: transport {m.transport}", where, CHANGED, "a re-apply writes knet")
        m.transport = "knet"
    c.transport = m.transport
    # corosync.conf(5): only knet encrypts; hawizard refuses crypto on udpu (design/validate.py), so a udpu
    # cluster is read as what it is, unencrypted
    c.crypto_cipher, c.crypto_hash = (m.crypto_cipher, m.crypto_hash) if m.transport == "knet" else ("none", "none")
    if m.token_ms is not None:
        c.token_ms = m.token_ms
    else:
        c.token_ms = 3000  # corosync.conf(5): token defaults to 3000 ms (Corosync 3)
        f.add("corosync.conf: totem.token", where, KEPT, "not set: corosync's default 3000 ms, written out")
    c.two_node = m.two_node
    c.wait_for_all, c.link_mode = m.wait_for_all, m.link_mode
    _qdevice(m, c, f, where)
    for key, value, no in m.other:
        f.add(f"corosync.conf: {key}: {value}", f"{where}:{no}", DROPPED, "a re-apply writes corosync.conf "
              "without it")
    hosts = hosts_table(col)
    links = []
    for i, n in enumerate(m.nodes):
        addrs = n.addrs if m.transport == "knet" else n.addrs[:1]
        resolved = []
        for k, a in enumerate(addrs):
            if not _is_ip(a):  # a name (pcs cluster setup writes the node names): resolved as the node would
                ip = hosts.get(a, "")
                f.add(f"corosync.conf: ring{k}_addr {a}", where, GUESSED,
                      f"a name: {'etc/hosts says ' + ip if ip else 'not in etc/hosts; hawizard numbering used'}")
                a = ip or f"10.{k + 1}.0.{i + 1}"
            resolved.append(a)
        links.append([(f"eth{k + 1}", f"{a}/24") for k, a in enumerate(resolved)])
    f.add("interconnect NICs and prefixes", where, GUESSED, "corosync.conf has the link addresses only: NIC "
          "names eth1, eth2, ... and the prefix /24 are in the preset: check them")
    _nodes(d, names, links)
    f.add("corosync authkey", "etc/corosync/authkey", SECRET, "never read; authkey_ref is empty: the key on the "
          "first node is kept at apply time")
    return names


# what corosync-qdevice(8) takes when a key is not written, and the choices the model has for it
_QDEVICE_DEFAULTS = {"port": "5403", "algorithm": "ffsplit", "tls": "on", "tie_breaker": "lowest"}
_QDEVICE_CHOICES = {"algorithm": ("ffsplit", "lms"), "tls": ("on", "required", "off"),
                    "tie_breaker": ("lowest", "highest")}


def _qdevice(m: corosync_conf.Membership, c: Corosync, f: Findings, where: str) -> None:
    """quorum.device (model net) into corosync.qdevice; a value the model cannot hold is reported and its
    default kept (a node id as tie_breaker, the developers' algorithms test and 2nodelms)."""
    if not m.qdevice.get("host"):
        return
    qd = c.qdevice
    qd.host = m.qdevice["host"]
    for key, default in _QDEVICE_DEFAULTS.items():
        value = m.qdevice.get(key) or default
        if key == "port":
            if value.isdigit() and 1 <= int(value) <= 65535:
                qd.port = int(value)
                continue
        elif value in _QDEVICE_CHOICES[key]:
            setattr(qd, key, value)
            continue
        f.add(f"corosync.conf: quorum.device.net.{key}: {value}", where, CHANGED,
              f"hawizard cannot carry it; a re-apply writes {default}")

