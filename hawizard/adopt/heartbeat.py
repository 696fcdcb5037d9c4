"""Heartbeat 3's ha.cf (one directive per line) and authkeys (the method only, never the key).

ha.cf(5): ``keyword value...``; ``#`` starts a comment. authkeys: ``auth N`` names the key in
use, ``N method [secret]`` defines it; only the method of key N is read here, and the secret is
never kept in memory beyond the line being split (it is not returned, logged or reported).
Pure: text in, data out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hawizard.common.errors import InputError


@dataclass
class HaCf:
    values: dict[str, tuple[str, int]] = field(default_factory=dict)  # keyword -> (value, line); last wins
    nodes: list[str] = field(default_factory=list)
    bcast: list[str] = field(default_factory=list)
    ucast: list[tuple[str, str]] = field(default_factory=list)  # (nic, address)
    pacemaker: str = ""  # "crm yes", "crm respawn", "pacemaker respawn", ...
    other: list[tuple[str, str, int]] = field(default_factory=list)


# keywords hawizard's ha.cf writes (ha.cf(5)); the rest are reported
_CARRIED = {"keepalive", "warntime", "deadtime", "initdead", "udpport", "logfile", "logfacility"}


def parse_ha_cf(text: str) -> HaCf:
    out = HaCf()
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        word, rest = word.strip(), " ".join(rest.split())
        if word == "node":
            out.nodes += rest.split()
        elif word == "bcast":
            out.bcast += rest.split()
        elif word == "ucast":
            parts = rest.split()
            if len(parts) == 2:
                out.ucast.append((parts[0], parts[1]))
            else:
                out.other.append((word, rest, no))
        elif word in ("crm", "pacemaker"):
            out.pacemaker = f"{word} {rest}"
        elif word in _CARRIED:
            out.values[word] = (rest, no)
        else:
            out.other.append((word, rest, no))
    return out


def authkeys_method(text: str, filename: str) -> str:
    """The method (crc, sha1, md5) of the key that ``auth N`` selects; the secret is not returned."""
    chosen = ""
    methods: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split()
        if not line:
            continue
        if line[0] == "auth" and len(line) >= 2:
            chosen = line[1]
        elif len(line) >= 2:
            methods[line[0]] = line[1].lower()
    if not chosen:
        raise InputError(f"{filename}: no 'auth N' line (authkeys(5)): cannot tell the method in use")
    if chosen not in methods:
        raise InputError(f"{filename}: 'auth {chosen}' names a key that is not defined in the file")
    return methods[chosen]
