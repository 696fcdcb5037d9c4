"""One run of a preset's nodes at a time: a lock held for the life of a run.

Why: two runs at once - two ``apply --resume`` of one run, or two presets that name the same
nodes - interleave their commands on the nodes and their records in one audit log, and
hawizard then reports its own hash chain as tampered. Every run therefore takes, before it
writes a record or touches a node:

* the lock of its run id (``run <id>``): one writer per audit log and journal;
* the lock of each node's SSH address (``node <host>:<port>``): one run per node, whatever
  preset or run names it. The host is compared as written (lower case); two different names
  for one machine (an alias in ~/.ssh/config, a name and its address) are not recognised.

How: ``flock(2)`` (exclusive, non-blocking) on one small file per key in
``<state dir>/locks/``. The kernel drops a flock when its holder exits, however it exits, so a
crashed run never leaves a stale lock behind; the files are never removed (removing a file
another process has open and is about to lock would let two holders in). The holder writes
its pid, run id and start time into each file, so that the run that is turned away can say
who holds the nodes. The descriptors are close-on-exec: the ssh processes a run starts do not
inherit the lock. A lock that cannot be taken raises ``RunLocked`` (exit code 3: the nodes are
a resource this machine does not have free, like a port in use).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hawizard.common.errors import EnvironmentProblem
from hawizard.common.statedir import make_private_dir, state_dir

LOCKS = "locks"
_INFO_MAX = 4096


class RunLocked(EnvironmentProblem):
    """Another run holds the run id or one of the nodes (exit code 3)."""

    def __init__(self, message: str, holder: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.holder = holder or {}


def locks_dir() -> Path:
    return state_dir() / LOCKS


def run_key(run_id: str) -> str:
    return f"run {run_id}"


def node_key(host: str, port: int) -> str:
    """``node host:port``; an IPv6 address is written without brackets, every host in lower case."""
    h = str(host).strip().lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    return f"node {h}:{int(port)}"


def _file_name(key: str) -> str:
    """A readable, safe file name for a key; the hash keeps two keys that read alike apart."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", key)[:80]
    return f"{readable}.{hashlib.sha256(key.encode()).hexdigest()[:12]}.lock"


def _read_info(fd: int) -> dict[str, Any]:
    """What the holder wrote; it writes just after locking, so allow it a moment."""
    deadline = time.monotonic() + 1.0
    while True:
        try:
            raw = os.pread(fd, _INFO_MAX, 0)
            info = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (OSError, ValueError):
            info = None
        if isinstance(info, dict) or time.monotonic() > deadline:
            return info if isinstance(info, dict) else {}
        time.sleep(0.05)


def describe_holder(info: dict[str, Any]) -> str:
    """``pid 4242 on host1 (run 2026...-3fa9c1 of preset 'debian12', by alice, since 2026-...Z)``."""
    if not info:
        return "another hawizard process (it has not said which yet)"
    what = [f"run {info['run_id']}" if info.get("run_id") else None,
            f"of preset '{info['preset']}'" if info.get("preset") else None,
            f"by {info['operator']}" if info.get("operator") else None,
            f"since {info['since']}" if info.get("since") else None]
    where = f" on {info['hostname']}" if info.get("hostname") else ""
    return f"pid {info.get('pid', '?')}{where} (" + ", ".join(w for w in what if w) + ")"


class RunLock:
    """The locks of one run. ``acquire`` takes them all or none; ``release`` (or ``close``) frees them.

    It is also an event sink (``handle`` ignores events, ``close`` releases), so that a run
    record can hand it to its event bus and the lock ends when the bus closes.
    """

    def __init__(self, keys: Iterable[str], info: dict[str, Any]) -> None:
        self.keys = sorted(set(keys))
        self.info = dict(info)
        self._fds: list[int] = []

    @property
    def held(self) -> bool:
        return bool(self._fds)

    def acquire(self) -> RunLock:
        if self._fds:
            return self
        try:
            make_private_dir(locks_dir())
        except OSError as exc:
            raise EnvironmentProblem(f"cannot create the lock directory {locks_dir()}: "
                                     f"{exc.strerror or exc}") from None
        info = {**self.info, "pid": os.getpid(), "hostname": socket.gethostname(),
                "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "keys": self.keys}
        payload = (json.dumps(info, sort_keys=True) + "\n").encode("utf-8")
        try:
            for key in self.keys:
                path = locks_dir() / _file_name(key)
                try:
                    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
                except OSError as exc:
                    raise EnvironmentProblem(f"cannot open the lock file {path}: {exc.strerror or exc}") from None
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    holder = _read_info(fd) if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN) else {}
                    os.close(fd)
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                        raise EnvironmentProblem(f"cannot lock {path}: {exc.strerror or exc}") from None
                    raise RunLocked(self._busy_message(key, holder), holder) from None
                self._fds.append(fd)
                os.ftruncate(fd, 0)
                os.pwrite(fd, payload, 0)
        except BaseException:
            self.release()
            raise
        return self

    def _busy_message(self, key: str, holder: dict[str, Any]) -> str:
        kind, _, name = key.partition(" ")
        what = f"run {name}" if kind == "run" else f"the node at {name}"
        return (f"{what} is in use by another hawizard run: {describe_holder(holder)}. One run of a "
                "preset's nodes at a time: wait for that run to end (or stop it), then try again")

    def release(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # the next reader must not see a holder that has gone
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- as a context manager and as an event sink --------------------------------------------
    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def handle(self, event: object) -> None:
        """Events pass by; the lock only cares about the end of the bus (``close``)."""

    def close(self) -> None:
        self.release()


def lock_run(run_id: str, nodes: Iterable[tuple[str, int]], **info: Any) -> RunLock:
    """Take the locks of run ``run_id`` on ``nodes`` ((ssh host, ssh port) pairs); raise ``RunLocked``."""
    keys = [run_key(run_id)] + [node_key(h, p) for h, p in nodes]
    return RunLock(keys, {"run_id": run_id, **info}).acquire()


def holder_of_run(run_id: str) -> dict[str, Any] | None:
    """Who holds run ``run_id`` now (a live process on this machine), or None.

    Read from the lock file without taking the lock (taking it, even briefly, could turn a
    starting run away); a holder whose pid has gone is not a holder.
    """
    path = locks_dir() / _file_name(run_key(run_id))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        raw = os.pread(fd, _INFO_MAX, 0)
    except OSError:
        raw = b""
    finally:
        os.close(fd)
    try:
        info = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except ValueError:
        return None
    if not isinstance(info, dict) or not isinstance(info.get("pid"), int):
        return None
    if info.get("hostname") not in (None, socket.gethostname()):
        return None
    try:
        os.kill(info["pid"], 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by someone else
    return info
