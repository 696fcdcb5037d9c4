"""The secrets of one run: generated, read from a reference, or reused from a node.

A preset holds only references (env:NAME, file:/path) or nothing (generate). Secrets are
resolved at apply time, registered with the run's Redactor before anything can be logged,
and used only to fill rendered files. A secret already present on the primary (an earlier
run's authkey) is reused, so a re-run writes the same bytes and changes nothing.

A referenced secret must be usable: a file reference names a regular file (a FIFO would block
the run, a device may never end) of at most MAX_SECRET_BYTES, and no reference may give an empty
value. What is allowed but unwise (a secret file others can read) is said in ``warnings``, which
the caller shows to the operator after ``resolve_all``.
"""

from __future__ import annotations

import base64
import os
import re
import secrets as pysecrets
import stat
import string

from hawizard.common.errors import InputError
from hawizard.common.redact import Redactor
from hawizard.render.renderer import SecretSpec
from hawizard.sessions.base import NodeSession

# The largest secret any stack takes is a corosync authkey: corosync-keygen(8) makes 128 to 4096
# bytes (-s). A larger file is the wrong file, and is refused before it is read whole.
MAX_SECRET_BYTES = 4096
COROSYNC_KEY_MIN_BYTES = 128  # corosync-keygen(8): "Allowed range is <128, 4096>"


class SecretStore:
    def __init__(self, specs: dict[str, SecretSpec], redactor: Redactor):
        self.specs = specs
        self.redactor = redactor
        self._values: dict[str, bytes] = {}
        # Things the operator should hear about (never a secret): shown by the CLI on stderr and by
        # the wizard in its run log, once resolve_all has returned.
        self.warnings: list[str] = []

    def resolve_all(self, primary: NodeSession | None) -> list[str]:
        """Resolve every secret now, so a missing reference fails before any node is touched.

        Returns the warnings (also kept in ``warnings``).
        """
        for name in self.specs:
            self.get(name, primary)
        return list(self.warnings)

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
            if value is None:
                raise InputError(f"secret {spec.name} ({spec.description}) is read from the environment variable "
                                 f"{var}, which is not set")
            return _usable(spec, value.encode(), f"the environment variable {var}")
        if ref.startswith("file:"):
            path = ref[5:]
            data = self._read_file(spec, path)
            return _usable(spec, data if spec.kind == "bytes" else data.strip(), path)
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


    def _read_file(self, spec: SecretSpec, path: str) -> bytes:
        """A secret file's bytes: a regular file of at most MAX_SECRET_BYTES, opened without blocking.

        The type is checked before opening (opening a FIFO waits for a writer, and SIGTERM does not
        end that wait) and again on the open file (it may have been replaced in between).
        """
        what = f"secret {spec.name} ({spec.description})"
        try:
            _check_secret_stat(what, path, os.stat(path))
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                _check_secret_stat(what, path, st)
                data = fh.read(MAX_SECRET_BYTES + 1)
        except OSError as exc:
            raise InputError(f"{what}: cannot read {path}: {exc.strerror or exc.__class__.__name__}") from None
        except ValueError as exc:  # a NUL in the path
            raise InputError(f"{what}: cannot read {path!r}: {exc}") from None
        if len(data) > MAX_SECRET_BYTES:
            raise InputError(f"{what}: {path} is larger than {MAX_SECRET_BYTES} bytes, more than any key a "
                             "cluster takes; is it the right file?")
        if st.st_mode & 0o077:
            who = " and ".join(w for bits, w in ((0o070, "its group"), (0o007, "all users")) if st.st_mode & bits)
            self.warnings.append(f"secret {spec.name}: {path} is open to {who} (mode {stat.S_IMODE(st.st_mode):04o}); "
                                 f"only its owner should read it: chmod 600 {path}")
        return data


def _check_secret_stat(what: str, path: str, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = ("a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
        raise InputError(f"{what}: {path} is {kind}; a secret file reference names a regular file")
    if st.st_size > MAX_SECRET_BYTES:
        raise InputError(f"{what}: {path} is larger than {MAX_SECRET_BYTES} bytes, more than any key a cluster "
                         "takes; is it the right file?")


def _usable(spec: SecretSpec, value: bytes, source: str) -> bytes:
    """The value, if it can be the secret: not empty; a key file of corosync's size; a text secret on one line."""
    what = f"secret {spec.name} ({spec.description})"
    if not value.strip():
        raise InputError(f"{what}: {source} is empty; a secret cannot be empty")
    if spec.kind == "bytes":
        if not COROSYNC_KEY_MIN_BYTES <= len(value) <= MAX_SECRET_BYTES:
            raise InputError(f"{what}: {source} holds {len(value)} bytes; a corosync authkey has "
                             f"{COROSYNC_KEY_MIN_BYTES} to {MAX_SECRET_BYTES} (corosync-keygen makes 256)")
        return value
    if len(value) > MAX_SECRET_BYTES:
        raise InputError(f"{what}: {source} is longer than {MAX_SECRET_BYTES} bytes")
    try:
        text = value.decode()
    except UnicodeDecodeError:
        raise InputError(f"{what}: {source} is not UTF-8 text; this secret is written into a configuration "
                         "file") from None
    if any(ord(c) < 32 or ord(c) == 0x7F for c in text):
        raise InputError(f"{what}: {source} holds a line break or another control character; this secret is "
                         "written into one line of a configuration file")
    return value


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
