"""Checks of a single value's form (addresses, names, paths, rates), by the ``kind`` of its field.

Each check returns ``None`` when the value is well formed, or a plain sentence saying what
is wrong. They are strict on purpose: every one of these values ends up in a configuration
file or a shell command on a cluster node.
"""

from __future__ import annotations

import ipaddress
import re

_HOSTNAME = re.compile(r"^(?=.{1,63}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$", re.IGNORECASE)
_FQDN_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)
_IFNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}$")
_WORD = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_CRMID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_DEVPATH = re.compile(r"^/dev/[A-Za-z0-9_./-]+$")
_DRBDDEV = re.compile(r"^/dev/drbd(\d{1,4})$")
_PATH = re.compile(r"^/[A-Za-z0-9_./@+-]*$")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_RATE = re.compile(r"^(\d+)([KMG])$")
_FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}=?$")
_URL = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(:\d+)?(/[A-Za-z0-9_./?=&%-]*)?$")
_SERVERNAME = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")

RATE_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3}


def parse_rate(value: str) -> int:
    """A DRBD rate such as '200M' in bytes per second (DRBD's units are binary)."""
    m = _RATE.match(value)
    if not m:
        raise ValueError(value)
    return int(m.group(1)) * RATE_UNITS[m.group(2)]


def drbd_minor(device: str) -> int:
    m = _DRBDDEV.match(device)
    if not m:
        raise ValueError(device)
    return int(m.group(1))


def _hostname(v: str) -> str | None:
    if not _HOSTNAME.match(v):
        return "is not a valid host name (letters, digits and '-', at most 63, not starting or ending with '-')"
    return None


def _host(v: str) -> str | None:
    if not v:
        return "is empty: give the address or name hawizard connects to"
    try:
        ipaddress.ip_address(v)
        return None
    except ValueError:
        pass
    labels = v.rstrip(".").split(".")
    if len(v) > 253 or not all(_FQDN_LABEL.match(label) for label in labels):
        return "is neither an IP address nor a valid DNS name"
    return None


def _ip(v: str) -> str | None:
    try:
        ip = ipaddress.ip_address(v)
    except ValueError:
        return "is not an IP address"
    if ip.version != 4:
        return "must be an IPv4 address (the stacks hawizard renders use IPv4 here)"
    return None


def _cidr(v: str) -> str | None:
    if "/" not in v:
        return "needs a prefix length, e.g. 10.1.0.1/24"
    try:
        iface = ipaddress.ip_interface(v)
    except ValueError:
        return "is not an address with a prefix length (e.g. 10.1.0.1/24)"
    if iface.version != 4:
        return "must be an IPv4 address with prefix"
    if iface.network.prefixlen < 31 and iface.ip in (iface.network.network_address,
                                                      iface.network.broadcast_address):
        return "is the network or broadcast address of its subnet, not a host address"
    return None


def _ifname(v: str) -> str | None:
    if not _IFNAME.match(v) or v in (".", ".."):
        return "is not a valid interface name (at most 15 characters: letters, digits, '_', '.', ':', '-')"
    return None


def _devpath(v: str) -> str | None:
    if not _DEVPATH.match(v) or "/../" in v or v.endswith("/.."):
        return "must be a block device path under /dev, e.g. /dev/sdb1"
    if _DRBDDEV.match(v):
        return "is a DRBD device; the backing disk is the disk under it"
    return None


def _drbddev(v: str) -> str | None:
    if not _DRBDDEV.match(v):
        return "must be /dev/drbdN (N is the minor number), e.g. /dev/drbd0"
    return None


def _metadisk(v: str) -> str | None:
    if v == "internal":
        return None
    return _devpath(v)


def _path(v: str) -> str | None:
    if not v.startswith("/"):
        return "must be an absolute path"
    if not _PATH.match(v) or "/../" in v + "/" or "//" in v:
        return "must be a plain absolute path (letters, digits, '_', '.', '-', '/'; no '..')"
    return None


def _rate(v: str) -> str | None:
    if not _RATE.match(v):
        return "must be a number with a K, M or G suffix (bytes per second, binary units), e.g. 40M"
    if parse_rate(v) < 4 * 1024:
        return "is below DRBD's minimum of 4K"
    return None


def _word(v: str) -> str | None:
    if not _WORD.match(v):
        return "must be one word: letters, digits, '_', '.', '-'"
    return None


def _crmid(v: str) -> str | None:
    if not _CRMID.match(v):
        return "is not a valid cluster object id (a letter or '_' first, then letters, digits, '_', '.', '-')"
    return None


def _username(v: str) -> str | None:
    if not _USER.match(v):
        return "is not a valid user name"
    return None


def _fingerprint(v: str) -> str | None:
    if not _FINGERPRINT.match(v):
        return "must be an OpenSSH SHA256 fingerprint, e.g. SHA256:Ab3... (43 characters after the colon)"
    return None


def _url(v: str) -> str | None:
    if not _URL.match(v):
        return "is not a plain http(s) URL"
    return None


def _servername(v: str) -> str | None:
    if not _SERVERNAME.match(v):
        return "must be a host name with an optional :port"
    return None


def _text(v: str) -> str | None:
    if any(ord(c) < 32 and c not in "\t" for c in v):
        return "must be one line without control characters"
    if len(v) > 500:
        return "is longer than 500 characters"
    return None


_CHECKS = {
    "hostname": _hostname, "host": _host, "ip": _ip, "cidr": _cidr, "ifname": _ifname,
    "devpath": _devpath, "drbddev": _drbddev, "metadisk": _metadisk, "path": _path, "rate": _rate,
    "word": _word, "crmid": _crmid, "username": _username, "fingerprint": _fingerprint, "url": _url,
    "servername": _servername, "text": _text,
}


def check_value(kind: str | None, value: str) -> str | None:
    """Check ``value`` against a field kind. A trailing '?' on the kind allows an empty value."""
    if kind is None:
        return None
    optional = kind.endswith("?")
    base = kind.rstrip("?")
    if optional and value == "":
        return None
    check = _CHECKS.get(base)
    if check is None:
        return None
    return check(value)


SECRET_REF = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:/[^\0\n]+|generate)$")


def check_secret_ref(value: str) -> str | None:
    """A secret is never written in a preset: only where to find it at apply time."""
    if value == "" or SECRET_REF.match(value):
        return None
    return ("must be a reference, not the secret itself: empty (generated at apply time), "
            "env:NAME, file:/path or 'generate'")
