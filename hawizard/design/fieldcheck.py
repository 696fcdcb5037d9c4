"""Checks of a single value's form (addresses, names, paths, rates), by the ``kind`` of its field.

Each check returns ``None`` when the value is well formed, or a plain sentence saying what
is wrong. They are strict on purpose: every one of these values ends up in a configuration
file or a shell command on a cluster node.

Every string, whatever its kind, first passes ``check_string``: no control characters, no
characters that reorder how text is displayed, and never the form hawizard uses internally
for secrets. The kinds other than free text are ASCII only.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

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
    if not _PATH.match(v) or "//" in v or any(part in (".", "..") for part in v.split("/")):
        return "must be a plain absolute path (letters, digits, '_', '.', '-', '/'; no '.' or '..' component)"
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
    if v == "":
        return "is empty"
    if len(v) > 500:
        return "is longer than 500 characters"
    return None


# The start of hawizard's internal secret placeholder (hawizard/render/renderer.py SECRET_RE). The renderer
# never takes a placeholder from a value, but a value that looks like one is refused all the same:
# it can only be a mistake or an attempt to name a secret.
SECRET_MARK = "@@SECRET"

# Unicode bidirectional formatting characters (Unicode Standard Annex #9, "Explicit Directional
# Formatting Characters" and "Implicit Directional Marks"): embeddings and overrides U+202A..U+202E,
# isolates U+2066..U+2069, and the marks LRM U+200E, RLM U+200F, ALM U+061C. They make a value show
# in another order than it is stored ("Trojan Source", CVE-2021-42574), so a reviewed value is not
# the value used.
_BIDI = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C))


def check_string(v: str, *, allow_tab: bool = False) -> str | None:
    """What every string must be: one line, no C0/C1 control characters, no bidi formatting, no placeholder."""
    for c in v:
        o = ord(c)
        if o < 32 or o == 0x7F:
            if c == "\t" and allow_tab:
                continue
            return "must be one line without control characters"
        if 0x80 <= o <= 0x9F:
            return f"contains the control character U+{o:04X} (a C1 control)"
        if c in _BIDI:
            return (f"contains U+{o:04X}, a bidirectional formatting character that makes text display in "
                    "another order than it is stored")
    if SECRET_MARK in v.upper():
        return (f"contains '{SECRET_MARK}', the form hawizard uses internally for secrets; a value cannot name a "
                "secret (secrets are given by reference in the *_ref keys)")
    return None


_CHECKS = {
    "hostname": _hostname, "host": _host, "ip": _ip, "cidr": _cidr, "ifname": _ifname,
    "devpath": _devpath, "drbddev": _drbddev, "metadisk": _metadisk, "path": _path, "rate": _rate,
    "word": _word, "crmid": _crmid, "username": _username, "fingerprint": _fingerprint, "url": _url,
    "servername": _servername, "text": _text,
}


def check_value(kind: str | None, value: str) -> str | None:
    """Check ``value`` against a field kind. A trailing '?' on the kind allows an empty value.

    Every string passes ``check_string`` whatever its kind (also a field without one); the kinds
    other than free text are ASCII only (their patterns match case-insensitively, and Unicode
    case folding lets e.g. the Kelvin sign U+212A pass as 'k').
    """
    base = (kind or "").rstrip("?")
    why = check_string(value, allow_tab=base == "text")
    if why:
        return why
    if kind is None:
        return None
    if kind.endswith("?") and value == "":
        return None
    check = _CHECKS.get(base)
    if check is None:
        return None
    if base != "text" and not value.isascii():
        return "must be plain ASCII"
    return check(value)


# -- fence agent parameters (nodes[].fence_params) ---------------------------------------------

FENCE_PARAM_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
FENCE_PARAM_MAX = 256  # longer than any address, user name or option string a fence agent takes
# A password given as a parameter would be written into the preset; it goes by reference instead
# (nodes[].fence_password_ref). 'passwd' is the older name of the same parameter in fence-agents.
_PASSWORD_KEY = re.compile(r"pass(word|wd)?$", re.IGNORECASE)
_HAWIZARD_PARAMS = {"pcmk_host_list": "is written by hawizard (the node's own name)"}


def check_fence_param_key(key: str) -> str | None:
    if not FENCE_PARAM_KEY.match(key):
        return ("is not a valid parameter name (a letter or '_' first, then letters, digits, '_'; "
                "at most 64 characters)")
    if _PASSWORD_KEY.search(key):
        return "is a password, which never goes in a preset: give it by reference in fence_password_ref"
    return _HAWIZARD_PARAMS.get(key.lower())


def check_fence_param_value(value: str) -> str | None:
    why = check_string(value)
    if why:
        return why
    if value == "":
        return "is empty; leave the parameter out instead"
    if len(value) > FENCE_PARAM_MAX:
        return f"is longer than {FENCE_PARAM_MAX} characters"
    return None


def fence_param_problems(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, what is wrong) for each bad parameter name or value of a fence_params table."""
    out = []
    for key, value in params.items():
        why = check_fence_param_key(str(key))
        if why is None:
            why = (check_fence_param_value(value) if isinstance(value, str)
                   else "must be a string")
        if why:
            out.append((str(key), why))
    return out


# -- secret references -------------------------------------------------------------------------

SECRET_REF = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:/[^\0\n]+|generate)$")


def check_secret_ref(value: str, meta: Mapping[str, Any] | None = None) -> str | None:
    """A secret is never written in a preset: only where to find it at apply time.

    ``meta`` is the field's metadata (hawizard/design/model.py): ``ref_empty`` says what an empty value
    means for this field, ``ref_generate`` whether 'generate' is accepted. Without it every form
    is accepted and the message does not say what empty means. The value is never echoed: it may
    be a secret typed in the wrong place.
    """
    if meta is None:
        empty_means, generate = "", True
    else:
        empty_means, generate = meta.get("ref_empty") or "", bool(meta.get("ref_generate"))
    if check_string(value) is None:
        if value == "" and (empty_means or meta is None):
            return None
        if SECRET_REF.match(value) and (value != "generate" or generate):
            return None
    forms = ([f"empty ({empty_means})"] if empty_means else []) + ["env:NAME", "file:/path"]
    if generate:
        forms.append("'generate' (generated at apply time)")
    return "must be a reference, not the secret itself: " + ", ".join(forms[:-1]) + " or " + forms[-1]
