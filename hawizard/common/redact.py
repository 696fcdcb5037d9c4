"""Secret redaction for everything hawizard records: audit log, exports, console logs.

Why: a run handles the sudo password, the Heartbeat authkeys secret, the corosync key and the
DRBD shared-secret. Any of them can surface in a command line, in a program's output or in a
file shown by ``cat``. The audit log is meant to be handed to someone else ("exported for
audit"), so redaction happens *before* anything is written, and ``export`` applies the
pattern rules once more as a second line of defence.

Two mechanisms:

* **Known secrets**, registered at run time (``Redactor.add_secret``). Every occurrence is
  replaced with ``«redacted»``, also in the encoded forms a secret takes on the way to a node:
  base64 (standard and URL-safe, at any of the three byte alignments, so a secret embedded in
  a longer base64 blob - a file shipped as a base64 heredoc - is caught too, even when the
  blob is wrapped at 76 columns), hex (lower and upper case) and shell quoting. A ``bytes``
  secret (the corosync authkey) is matched by its hex and base64 forms.
* **Pattern rules** for things that look like secrets in known formats, whether registered
  or not: authkeys lines (``N sha1 SECRET``, ``N md5 SECRET``), DRBD ``shared-secret "..."``,
  ``password=...``-like assignments, PEM private keys.

Redaction over-approximates on purpose: a few harmless characters hidden are a better failure
than one secret shown.

Text with terminal controls in it is also checked as it will be *shown*: everything shown is
cleaned of escape sequences first (hawizard/common/terminal_text.py), and a secret with an escape
sequence in the middle (``hun\x1b[0mter2``) is whole again once cleaned. When the cleaned text
holds a secret the raw text did not, the cleaned, redacted text is what is kept.
Engine core: standard library only.
"""

from __future__ import annotations

import base64
import re
import shlex
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from hawizard.common.terminal_text import clean, has_controls

REDACTED = "«redacted»"

# Encoded forms shorter than this are not matched inside base64 blobs, and secrets shorter than
# this many bytes are not matched in hex (a short hex string turns up inside every sha256 in a
# report); the secret itself is always matched, whatever its length.
_MIN_ENCODED_CORE = 8


# --- pattern rules ------------------------------------------------------------------------------

_PATTERN_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Heartbeat authkeys: "1 sha1 SECRET" / "2 md5 SECRET" (crc has no secret). Also commented.
    ("authkeys", re.compile(r"(?im)^([ \t#]*\d{1,2}[ \t]+(?:sha1|md5)[ \t]+)(?!«redacted»)(\S[^\r\n]*)$")),
    # DRBD: shared-secret "..."; or unquoted up to ';'
    ("drbd-shared-secret", re.compile(r'(?i)(shared-secret\s+)"(?!«redacted»)[^"\r\n]*"')),
    ("drbd-shared-secret", re.compile(r"(?i)(shared-secret\s+)(?![\"«])[^\s;]+")),
    # password=..., db_passwd: ..., client_secret = "...", api_key=... (not a bare "token": corosync's
    # "token: 5000" is a timeout, not a secret). No leading \b or prefix group: "db_password" is
    # caught at "password", and a prefix group would backtrack quadratically on long a-b-c words.
    (
        "assignment",
        re.compile(
            r"(?i)((?:password|passwd|passphrase|secret|api[_-]?key|auth[_-]?token|access[_-]?token)"
            r"[\"']?[ \t]*[=:][ \t]*)(?!«redacted»)(\"[^\"\r\n]*\"|'[^'\r\n]*'|[^\s,;&]+)"
        ),
    ),
    # command-line options: --password X, --password=X (ssh-keygen -N / openssl -pass are rare here)
    ("option", re.compile(r"(?i)(--(?:password|passwd|passphrase|secret)(?:[ \t]+|=))(?!«redacted»)(\S+)")),
    # PEM private keys (SSH keys, TLS keys)
    (
        "pem",
        re.compile(
            r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
    ),
)


def redact_patterns(text: str) -> str:
    """Apply only the pattern rules (no registered secrets). Used by ``export`` as a last pass."""
    if not text:
        return text
    for name, rx in _PATTERN_RULES:
        if name == "authkeys":
            # keep trailing blanks (not part of the secret); no lazy match: it would be quadratic
            text = rx.sub(lambda m: m.group(1) + REDACTED + m.group(2)[len(m.group(2).rstrip(" \t")):], text)
        elif name == "drbd-shared-secret":
            text = rx.sub(lambda m: m.group(1) + '"' + REDACTED + '"', text)
        elif name == "pem":
            text = rx.sub(lambda m: f"-----BEGIN {m.group(1)}PRIVATE KEY-----{REDACTED}-----END {m.group(1)}PRIVATE KEY-----", text)
        else:
            text = rx.sub(lambda m: m.group(1) + REDACTED, text)
    return text


# --- encodings of a registered secret -----------------------------------------------------------


def _b64_cores(raw: bytes) -> set[str]:
    """Base64 substrings that depend only on ``raw``, for each of the 3 byte alignments.

    A secret inside a larger blob starts at offset 0, 1 or 2 within a 3-byte group; the output
    characters fully determined by the secret's bits are the same whatever surrounds it.
    """
    cores: set[str] = set()
    n = len(raw)
    for k in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            enc = encode(b"\0" * k + raw).decode("ascii")
            start_bit, end_bit = 8 * k, 8 * (k + n)
            first = -(-start_bit // 6)  # ceil
            last = end_bit // 6  # exclusive
            core = enc[first:last]
            if k == 0:
                # aligned: the full encoding (with padding) is what a standalone value looks like
                full = encode(raw).decode("ascii")
                cores.add(full)
                cores.add(full.rstrip("="))
            if len(core) >= _MIN_ENCODED_CORE:
                cores.add(core)
    return cores


def _forms(secret: str | bytes) -> tuple[set[str], set[str]]:
    """(literal forms, encoded forms that may be wrapped over lines) of one secret."""
    literal: set[str] = set()
    b64: set[str] = set()
    if isinstance(secret, bytes):
        raw = secret
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text and text.isprintable():
            literal.add(text)
    else:
        raw = secret.encode("utf-8")
        literal.add(secret)
        quoted = shlex.quote(secret)
        if quoted != secret:
            literal.add(quoted)
            literal.add(quoted[1:-1] if quoted.startswith("'") and quoted.endswith("'") else quoted)
        if secret.strip() != secret and secret.strip():
            literal.add(secret.strip())
    hexed = raw.hex()
    if len(hexed) >= 2 * _MIN_ENCODED_CORE or isinstance(secret, bytes):
        # hex dumps (xxd -p, od) wrap too, so hex goes with the line-break tolerant forms
        b64.add(hexed)
        b64.add(hexed.upper())
    b64 |= _b64_cores(raw)
    literal.discard("")
    b64.discard("")
    return literal, b64


def _wrapped(form: str) -> str:
    """A regex for ``form`` that also matches it broken by line wraps (base64 at 76 columns)."""
    return r"(?:\r?\n)?".join(re.escape(c) for c in form)


class Redactor:
    """Knows the secrets of one run and scrubs them from text and nested data.

    Thread-safe: the runner registers secrets as it learns them (the sudo password is asked
    mid-run) while other threads are emitting events.
    """

    def __init__(self, secrets: Iterable[str | bytes] = (), *, patterns: bool = True) -> None:
        self._lock = threading.Lock()
        self._literal: set[str] = set()
        self._b64: set[str] = set()
        self._rx: re.Pattern[str] | None = None
        self.patterns = patterns
        for s in secrets:
            self.add_secret(s)

    def add_secret(self, secret: str | bytes | None) -> None:
        """Register a secret (empty or None is ignored). Its encoded forms are derived here."""
        if secret is None or len(secret) == 0:
            return
        if not isinstance(secret, str | bytes):
            raise TypeError("a secret is str or bytes")
        literal, b64 = _forms(secret)
        with self._lock:
            self._literal |= literal
            self._b64 |= b64
            self._rx = None

    @property
    def has_secrets(self) -> bool:
        return bool(self._literal or self._b64)

    def secret_forms(self) -> list[str]:
        """Every string that is redacted (for tests that grep the outputs for leaks)."""
        with self._lock:
            return sorted(self._literal | self._b64, key=len, reverse=True)

    def _regex(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._rx is None and (self._literal or self._b64):
                alts = [re.escape(s) for s in sorted(self._literal, key=len, reverse=True)]
                alts += [_wrapped(s) for s in sorted(self._b64, key=len, reverse=True)]
                self._rx = re.compile("|".join(alts))
            return self._rx

    def redact_text(self, text: str) -> str:
        """Replace every known secret (and encoded form), then apply the pattern rules.

        Text with terminal controls is checked once more as it will be shown (cleaned): if a
        secret appears only then, the cleaned and redacted text is returned.
        """
        if not isinstance(text, str) or not text:
            return text
        out = self._redact_raw(text)
        if has_controls(out):
            shown = clean(out, keep_newlines=True)
            if self._redact_raw(shown) != shown:
                return self._redact_raw(shown)
        return out

    def _redact_raw(self, text: str) -> str:
        rx = self._regex()
        if rx is not None:
            text = rx.sub(REDACTED, text)
        if self.patterns:
            text = redact_patterns(text)
        return text

    def redact(self, value: Any) -> Any:
        """Redact strings anywhere in nested dicts/lists/tuples (keys too); other values unchanged."""
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            return {self.redact(k) if isinstance(k, str) else k: self.redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.redact(v) for v in value)
        if isinstance(value, bytes):
            return self.redact_text(value.decode("utf-8", "replace"))
        return value

    def contains_secret(self, text: str) -> bool:
        """True if ``text`` still holds a registered secret in any known form."""
        rx = self._regex()
        return bool(rx and isinstance(text, str) and rx.search(text))
