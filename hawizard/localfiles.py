"""Atomic writes of files on this machine (saved presets, rendered files, run state).

The file appears whole or not at all, with its final mode from the first byte; a file it
replaces is kept beside it with a timestamp. The node side of the same rule lives in
hawizard/sessions/filewrite.py.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path


def backup_name(path: Path, when: float | None = None) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(when if when is not None else time.time()))
    return path.with_name(f"{path.name}.{stamp}.hawizard~")


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644, backup: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path. Unchanged content is not rewritten."""
    path = Path(path)
    if path.exists() and path.is_file():
        if path.read_bytes() == data and (path.stat().st_mode & 0o777) == mode:
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed it; never widened beyond mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if backup and path.exists():
        shutil.copy2(path, backup_name(path))
    os.replace(tmp, path)
    return path
