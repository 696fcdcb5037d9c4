"""``ip -o -4 addr show`` output (iproute2, one address per line): which NIC carries which address and prefix.

Why: corosync.conf and the CIB name link and service addresses only, never the NIC nor the prefix; the nodes
know both. Collected over SSH as NODE/ip-addr.txt (hawizard/run/collect.py), or put there by hand. Pure.

Line format (ip-address(8), -o: one line per address): ``IDX: IFNAME    inet ADDR/PREFIX [brd B] scope S
[LABEL]\\ ...``; a secondary address may carry a label (``eth0:0``), the NIC is the IFNAME field.
"""

from __future__ import annotations

import re

_LINE = re.compile(r"^\d+:\s+(\S+?)(?:@\S+)?\s+inet\s+(\d+\.\d+\.\d+\.\d+)/(\d+)\b")


def parse(text: str) -> dict[str, tuple[str, int]]:
    """address -> (NIC, prefix length), loopback left out."""
    out: dict[str, tuple[str, int]] = {}
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if m and m.group(1) != "lo":
            out[m.group(2)] = (m.group(1), int(m.group(3)))
    return out
