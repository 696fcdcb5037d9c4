"""known_hosts reading, fingerprints, and the refusal messages shared by both SSH transports.

Why our own reader and appender instead of paramiko's ``HostKeys.save``: paramiko rewrites
the whole file, drops comments and key types it does not know (paramiko#680, #435) and
ignores ``@revoked``. We only ever *append* one line to hawizard's own file (mode 0600),
and read the operator's file without touching it. Policy: unknown keys are refused unless
the preset pins the fingerprint or the operator confirms the one shown; a changed key is
always refused, naming both fingerprints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path

from hawizard.common.shellquote import q
from hawizard.sessions.base import HostKeyChanged, HostKeyConfirm, HostKeyRefused
from hawizard.sessions.target import SshTarget


def fingerprint(blob: bytes) -> str:
    """OpenSSH's 'SHA256:<base64, no padding>' of a public key blob."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def normalise_fingerprint(fp: str) -> str:
    fp = fp.strip()
    if not fp.startswith("SHA256:"):
        fp = "SHA256:" + fp
    return fp.rstrip("=")


@dataclass(frozen=True)
class KnownHost:
    hosts: str  # the first field as written (patterns, or a |1|salt|hash)
    key_type: str
    blob: bytes
    path: str
    lineno: int
    marker: str = ""  # '' or '@revoked' / '@cert-authority'

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)


def read_known_hosts(path: Path | str) -> list[KnownHost]:
    """All parseable entries of one file; a missing file is empty."""
    out: list[KnownHost] = []
    try:
        text = Path(path).read_text(errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return out
    for n, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = ""
        if fields[0].startswith("@"):
            marker, fields = fields[0], fields[1:]
        if len(fields) < 3:
            continue
        try:
            blob = base64.b64decode(fields[2], validate=True)
        except (binascii.Error, ValueError):
            continue
        out.append(KnownHost(fields[0], fields[1], blob, str(path), n, marker))
    return out


def _pattern_matches(pattern: str, label: str) -> bool:
    """OpenSSH host patterns: only '*' and '?' are wildcards ('[' is literal, as in '[h]:22')."""
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == label.lower()
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, label, re.IGNORECASE) is not None


def _host_matches(field: str, label: str) -> bool:
    if field.startswith("|1|"):
        try:
            _, _, salt, digest = field.split("|", 3)
            mac = hmac.new(base64.b64decode(salt), label.encode(), hashlib.sha1).digest()
            return hmac.compare_digest(mac, base64.b64decode(digest))
        except (ValueError, binascii.Error):
            return False
    matched = False
    for pattern in field.split(","):
        negate = pattern.startswith("!")
        pattern = pattern[1:] if negate else pattern
        if _pattern_matches(pattern, label):
            if negate:
                return False
            matched = True
    return matched


def entries_for(label: str, paths: list[Path]) -> list[KnownHost]:
    """Plain entries (no @cert-authority) that name ``label`` in any of ``paths``."""
    found: list[KnownHost] = []
    for p in paths:
        for e in read_known_hosts(p):
            if e.marker != "@cert-authority" and _host_matches(e.hosts, label):
                found.append(e)
    return found


def files_for(target: SshTarget) -> list[Path]:
    """The known_hosts files trusted for ``target``: hawizard's own first, then the operator's
    ~/.ssh/known_hosts (read only) when the target follows ~/.ssh/config."""
    files = [target.known_hosts_path]
    user_file = Path(os.path.expanduser("~/.ssh/known_hosts"))
    if target.ssh_config and user_file.exists():
        files.append(user_file)
    return files


def entry_at(path: str, lineno: int) -> KnownHost | None:
    for e in read_known_hosts(path):
        if e.lineno == lineno:
            return e
    return None


def add_known_host(path: Path, label: str, key_type: str, blob: bytes) -> None:
    """Append one entry to hawizard's own file (created 0600 in a 0700 directory)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    line = f"{label} {key_type} {base64.b64encode(blob).decode()}\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        if os.fstat(fd).st_size:
            with open(path, "rb") as f:  # keep one entry per line even after a hand edit
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    line = "\n" + line
        os.write(fd, line.encode())
    finally:
        os.close(fd)


# -- decisions and messages --------------------------------------------------------------------


def changed_error(label: str, node: str, old: list[KnownHost], new_fp: str,
                  own_file: Path) -> HostKeyChanged:
    on_record = "; ".join(f"{e.key_type} {e.fingerprint} ({e.path} line {e.lineno})" for e in old)
    return HostKeyChanged(
        f"REFUSED: the host key of {label} ({node}) has CHANGED. On record: {on_record}. "
        f"The server now shows: {new_fp}. This can be a man-in-the-middle attack. If the node "
        f"was reinstalled, check the new key on its console "
        f"(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then remove the old entry: "
        f"ssh-keygen -R {q(label)} -f {q(str(own_file))}"
    )


# The preset key that pins a node's host key (hawizard/design/model.py Node.ssh_fingerprint): every message
# that tells the operator what to write names this key, so the advice can be pasted as it is.
PIN_KEY = "ssh_fingerprint"


def unknown_error(label: str, node: str, key_type: str, fp: str) -> HostKeyRefused:
    return HostKeyRefused(
        f"REFUSED: the host key of {label} ({node}) is unknown: {key_type} {fp}. Check it on the "
        f"node's console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and confirm it when "
        f'asked, or pin it in the preset: {PIN_KEY} = "{fp}" in the [[nodes]] table of {node}.'
    )


def pin_mismatch_error(label: str, node: str, pinned: str, got: str) -> HostKeyChanged:
    return HostKeyChanged(
        f"REFUSED: the host key of {label} ({node}) is {got}, but the preset pins {pinned} "
        f"({PIN_KEY} of {node}). This can be a man-in-the-middle attack, or the pin is outdated."
    )


def check_pin_against_record(label: str, node: str, pinned: str | None,
                             known: list[KnownHost]) -> None:
    """A pin that contradicts every recorded key is refused before any connection."""
    if not pinned:
        return
    plain = [e for e in known if not e.marker]
    pin = normalise_fingerprint(pinned)
    if plain and all(e.fingerprint != pin for e in plain):
        raise pin_mismatch_error(label, node, pin, ", ".join(e.fingerprint for e in plain))


def check_offered(target: SshTarget, label: str, key_type: str, fp: str,
                  confirm: HostKeyConfirm | None) -> None:
    """A key the server offers that is on no record: trusted only if it is the pinned one or the
    operator confirms it; otherwise HostKeyRefused (HostKeyChanged for a pin it contradicts)."""
    if target.pinned_fingerprint:
        pin = normalise_fingerprint(target.pinned_fingerprint)
        if pin != fp:
            raise pin_mismatch_error(label, target.name, pin, fp)
    elif not (confirm and confirm(label, key_type, fp)):
        raise unknown_error(label, target.name, key_type, fp)
