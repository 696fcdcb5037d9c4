"""The secrets of one run: generated, read from a reference, or reused from a node.

A preset holds only references (env:NAME, file:/path) or nothing (generate). Secrets are
resolved at apply time, registered with the run's Redactor before anything can be logged,
and used only to fill rendered files. A secret already present on the primary (an earlier
run's authkey) is reused, so a re-run writes the same bytes and changes nothing.
"""

from __future__ import annotations

import base64
import os
import re
import secrets as pysecrets
import string

from .errors import InputError
from .redact import Redactor
from .render import SecretSpec
from .sessions.base import NodeSession


class SecretStore:
    def __init__(self, specs: dict[str, SecretSpec], redactor: Redactor):
        self.specs = specs
        self.redactor = redactor
        self._values: dict[str, bytes] = {}

    def resolve_all(self, primary: NodeSession | None) -> None:
        """Resolve every secret now, so a missing reference fails before any node is touched."""
        for name in self.specs:
            self.get(name, primary)

    def get(self, name: str, primary: NodeSession | None = None) -> bytes:
        if name not in self._values:
            value = self._resolve(self.specs[name], primary)
            self.redactor.add_secret(value)
            try:
                self.redactor.add_secret(value.decode())
            except UnicodeDecodeError:
                pass
            self._values[name] = value
        return self._values[name]

    def text_values(self) -> dict[str, str]:
        """Secrets usable as text in rendered files (binary ones are written as whole files)."""
        out = {}
        for name, value in self._values.items():
            try:
                out[name] = value.decode()
            except UnicodeDecodeError:
                continue
        return out

    def _resolve(self, spec: SecretSpec, primary: NodeSession | None) -> bytes:
        ref = spec.ref
        if ref.startswith("env:"):
            var = ref[4:]
            value = os.environ.get(var)
            if not value:
                raise InputError(f"secret {spec.name} ({spec.description}) is read from the environment variable "
                                 f"{var}, which is not set")
            return value.encode()
        if ref.startswith("file:"):
            path = ref[5:]
            try:
                data = open(path, "rb").read()  # noqa: SIM115
            except OSError as exc:
                raise InputError(f"secret {spec.name} ({spec.description}): cannot read {path}: "
                                 f"{exc.strerror}") from None
            return data if spec.kind == "bytes" else data.strip()
        if spec.kind == "ref-only":
            raise InputError(f"secret {spec.name} ({spec.description}) needs a reference (env:NAME or file:PATH)")
        if primary is not None and spec.reuse_path:
            existing = primary.read_file(spec.reuse_path)
            if existing:
                if not spec.reuse_pattern:
                    return existing
                m = re.search(spec.reuse_pattern, existing.decode(errors="replace"))
                if m:
                    return m.group(1).encode()
        return generate(spec.kind)


def generate(kind: str) -> bytes:
    if kind == "bytes":
        return os.urandom(256)  # what corosync-keygen writes
    if kind == "hex":
        return pysecrets.token_hex(32).encode()
    alphabet = string.ascii_letters + string.digits
    return "".join(pysecrets.choice(alphabet) for _ in range(32)).encode()


def fingerprint(value: bytes) -> str:
    """A short, non-reversible label for logs ("which key"), never the key itself."""
    import hashlib

    return "sha256:" + base64.b16encode(hashlib.sha256(value).digest()[:6]).decode().lower()
