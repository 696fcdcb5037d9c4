"""corosync.conf(5), read: its brace format into sections, and the membership values in it.

The format: ``name {`` opens a section, ``}`` closes it, ``key: value`` sets a key, ``#`` starts a
comment line. Sections repeat (``node``, ``interface``), so a section is a list of
(name, Section) pairs kept in order. Pure: text in, data out; a syntax error raises InputError
with the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hawizard.common.errors import InputError


@dataclass
class Section:
    name: str
    line: int
    keys: list[tuple[str, str, int]] = field(default_factory=list)  # (key, value, line)
    sections: list[Section] = field(default_factory=list)

    def get(self, key: str, default: str = "") -> str:
        for k, v, _ in self.keys:
            if k == key:
                return v
        return default

    def all(self, name: str) -> list[Section]:
        return [s for s in self.sections if s.name == name]

    def one(self, name: str) -> Section | None:
        found = self.all(name)
        return found[0] if found else None


_OPEN = re.compile(r"^([A-Za-z0-9_.\-]+)\s*\{\s*$")
_KEY = re.compile(r"^([A-Za-z0-9_.\-]+)\s*:\s*(.*?)\s*$")


def parse(text: str, filename: str) -> Section:
    root = Section("", 0)
    stack = [root]
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line == "}":
            if len(stack) == 1:
                raise InputError(f"{filename}:{no}: '}}' without an open section")
            stack.pop()
            continue
        m = _OPEN.match(line)
        if m:
            sec = Section(m.group(1), no)
            stack[-1].sections.append(sec)
            stack.append(sec)
            continue
        m = _KEY.match(line)
        if m:
            stack[-1].keys.append((m.group(1), m.group(2), no))
            continue
        raise InputError(f"{filename}:{no}: not corosync.conf syntax (expected 'key: value', 'name {{' or '}}')")
    if len(stack) > 1:
        raise InputError(f"{filename}:{stack[-1].line}: section '{stack[-1].name}' is never closed")
    return root


@dataclass
class CorosyncNode:
    name: str  # "" when the node has no name (corosync 2.x udpu without names)
    nodeid: str
    addrs: list[str]  # ring0_addr, ring1_addr, ... in link order


@dataclass
class Membership:
    cluster_name: str
    transport: str
    crypto_cipher: str
    crypto_hash: str
    token_ms: int | None
    two_node: bool
    nodes: list[CorosyncNode]
    version: str
    other: list[tuple[str, str, int]]  # (section.key, value, line) hawizard does not carry
    wait_for_all: str = "auto"  # votequorum(5): not written = implied by two_node
    link_mode: str = "passive"  # corosync.conf(5): knet's default
    # quorum.device with model net (corosync-qdevice(8)): host, port, algorithm, tls, tie_breaker as written
    # ("" = not written: the daemon's default); no host = no device
    qdevice: dict[str, str] = field(default_factory=dict)


# what hawizard's corosync.conf writes; anything else is reported as not carried
_KNOWN = {
    "totem": {"version", "cluster_name", "transport", "crypto_cipher", "crypto_hash", "token", "secauth",
              "link_mode"},
    "totem.interface": {"linknumber", "knet_link_priority", "ringnumber"},
    "nodelist.node": {"name", "nodeid"},
    "quorum": {"provider", "two_node", "wait_for_all"},
    "quorum.device": {"model", "votes"},
    "quorum.device.net": {"host", "port", "algorithm", "tls", "tie_breaker"},
    "logging": {"to_logfile", "logfile", "to_syslog", "timestamp"},
}


def membership(root: Section) -> Membership:
    totem = root.one("totem") or Section("totem", 0)
    other: list[tuple[str, str, int]] = []

    def collect(sec: Section, path: str) -> None:
        known = _KNOWN.get(path)
        for k, v, no in sec.keys:
            if path == "nodelist.node" and re.fullmatch(r"ring\d+_addr", k):
                continue
            if known is None or k not in known:
                other.append((f"{path}.{k}", v, no))
        for s in sec.sections:
            collect(s, f"{path}.{s.name}")

    for s in root.sections:
        collect(s, s.name)
    # corosync 3 defaults to knet, 2.x to udp (corosync.conf(5), "transport"); crypto defaults to none
    transport = totem.get("transport") or "knet"
    nodes = []
    nodelist = root.one("nodelist")
    for n in (nodelist.all("node") if nodelist else []):
        addrs = []
        i = 0
        while n.get(f"ring{i}_addr"):
            addrs.append(n.get(f"ring{i}_addr"))
            i += 1
        nodes.append(CorosyncNode(n.get("name"), n.get("nodeid"), addrs))
    token = totem.get("token")
    quorum = root.one("quorum") or Section("quorum", 0)
    device = quorum.one("device")
    net = device.one("net") if device and device.get("model") == "net" else None
    qdevice = {k: net.get(k) for k in ("host", "port", "algorithm", "tls", "tie_breaker")} if net else {}
    return Membership(
        cluster_name=totem.get("cluster_name"), transport=transport,
        crypto_cipher=totem.get("crypto_cipher") or "none", crypto_hash=totem.get("crypto_hash") or "none",
        token_ms=int(token) if token.isdigit() else None, two_node=quorum.get("two_node") == "1",
        nodes=nodes, version=totem.get("version"), other=other,
        wait_for_all={"1": "on", "0": "off"}.get(quorum.get("wait_for_all"), "auto"),
        link_mode=totem.get("link_mode") or "passive", qdevice=qdevice)
