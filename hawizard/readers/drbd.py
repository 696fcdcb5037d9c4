"""DRBD state and initial-sync progress, from every place DRBD publishes it.

Why: the longest silent wait in a build is DRBD's initial sync; the operator needs percent,
speed and ETA, and the runner needs to know when both disks are UpToDate. DRBD says this in
three dialects, all parsed here into one ``SyncStatus``:

* ``/proc/drbd`` of DRBD 8.3/8.4 (``drbd_proc.c``). Its quirks: in ``sync'ed: 13.8%
  (2539220/2939764)K`` the first number is what is still OUT of sync, not what is done; the
  unit switches to ``M`` above 4 GiB; 8.4 prints ``finish:`` on the same line after ``)M``;
  speeds have thousands commas (``10,080``); 8.3.8 adds ``delay_probe: N``; ``want:`` and
  ``(stalled)`` are optional; ``proc_details`` adds a ``--`` middle speed and extra lines;
  unconfigured minors print only ``N: cs:Unconfigured``; before 8.3 roles were ``st:``.
* ``drbdsetup events2 --now --statistics`` (DRBD 9, and drbd-utils' 8.4 compat path): one
  ``<action> <object> key:value ...`` line per object; ``change`` lines may carry only the
  changed keys; ``done:`` only while a resync runs; ``out-of-sync`` KiB, ``dbdt1`` MiB/s,
  ``eta`` seconds (``nan`` when unknown); optional ``--timestamps`` prefix.
* ``drbdsetup status --json`` (DRBD 9): sizes in KiB except ``rs-total`` (sectors);
  ``estimated-seconds-to-finish`` is 987654321 when unknown.

Parsing is defensive by contract: unknown lines are skipped, a damaged line yields a status
whose unknown fields are None, and no input raises.

Engine core: standard library only.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hawizard.events import Progress

SYNC_STATES = frozenset(
    {"SyncSource", "SyncTarget", "PausedSyncS", "PausedSyncT", "VerifyS", "VerifyT", "StartingSyncS", "StartingSyncT"}
)
#: states in which data flows (8.x ``cs:`` / 9 ``replication:``); Established is DRBD 9's "in sync, connected"
CONNECTED_STATES = frozenset({"Connected", "Established"})
_ETA_UNKNOWN = 987654321  # drbdsetup status --json's "no estimate"


@dataclass
class SyncStatus:
    """One DRBD minor (8.x) or one resource/volume/peer (9) at one moment."""

    minor: int | None = None
    resource: str | None = None
    volume: int | None = None
    peer: str | None = None
    connection_state: str | None = None  # 8.x cs: (which includes the sync states); 9 connection:
    replication_state: str | None = None  # 9 only: Established, SyncSource, ...
    role_local: str | None = None
    role_peer: str | None = None
    disk_local: str | None = None
    disk_peer: str | None = None
    protocol: str | None = None
    percent: float | None = None
    out_of_sync_kib: int | None = None
    total_kib: int | None = None
    speed_kib_s: float | None = None
    avg_speed_kib_s: float | None = None
    want_kib_s: float | None = None
    eta_s: int | None = None
    stalled: bool = False
    verifying: bool = False
    source: str = ""
    version: str | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> str | None:
        """The most telling single state word: replication (9) or cs (8.x)."""
        if self.replication_state and self.replication_state not in ("Off", "Established"):
            return self.replication_state
        return self.connection_state if self.connection_state else self.replication_state

    @property
    def connected(self) -> bool:
        if self.replication_state is not None:
            return self.connection_state == "Connected" and self.replication_state == "Established"
        return self.connection_state in CONNECTED_STATES

    @property
    def syncing(self) -> bool:
        return (self.replication_state or self.connection_state or "") in SYNC_STATES

    @property
    def synced(self) -> bool:
        """Both disks UpToDate and the peers connected with no resync running."""
        return self.disk_local == "UpToDate" and self.disk_peer == "UpToDate" and self.connected

    @property
    def label(self) -> str:
        if self.resource:
            parts = [self.resource]
            if self.volume not in (None, 0):
                parts.append(f"/{self.volume}")
            if self.peer:
                parts.append(f" -> {self.peer}")
            return "".join(parts)
        return f"minor {self.minor}" if self.minor is not None else "drbd"

    def summary(self) -> str:
        """One line for a log or a progress bar's caption."""
        bits = [self.label + ":", self.state or "unknown"]
        if self.role_local or self.role_peer:
            bits.append(f"{self.role_local or '?'}/{self.role_peer or '?'}")
        if self.disk_local or self.disk_peer:
            bits.append(f"{self.disk_local or '?'}/{self.disk_peer or '?'}")
        if self.percent is not None and (self.syncing or self.percent < 100):
            bits.append(f"{self.percent:.1f}%")
        if self.out_of_sync_kib is not None and self.syncing:
            total = f" of {self.total_kib:,} KiB" if self.total_kib else ""
            bits.append(f"{self.out_of_sync_kib:,} KiB left{total}")
        if self.speed_kib_s is not None and self.syncing:
            bits.append(f"{self.speed_kib_s:,.0f} KiB/s")
        if self.stalled:
            bits.append("(stalled)")
        return " ".join(bits)


# --- helpers ------------------------------------------------------------------------------------


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(str(text).replace(",", "").strip())
    except ValueError:
        return None


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return None if math.isnan(f) or math.isinf(f) else f


# --- /proc/drbd (8.0 - 8.4) ---------------------------------------------------------------------

_VERSION = re.compile(r"^version:\s*(\S+)")
_DEVICE = re.compile(r"^\s*(\d+):\s*cs:(\S*)(.*)$")
_ROLES = re.compile(r"\b(?:ro|st):(\w*)/?(\w*)")
_DISKS = re.compile(r"\bds:(\w*)/?(\w*)")
_AFTER_DISKS = re.compile(r"\bds:\S+\s+([A-C])?\s*([a-z-]{2,})?")
_OOS = re.compile(r"\boos:(\d+)")
_PROGRESS = re.compile(r"(sync'ed|verified):\s*(\d+(?:\.\d+)?)%\s*\((\d+)/(\d+)\)([KM])")
_FINISH = re.compile(r"finish:\s*(\d+):(\d{1,2}):(\d{1,2})")
_SPEED = re.compile(r"speed:\s*([\d,]+)\s*\(([\d,\s-]*)\)(?:\s*want:\s*([\d,]+))?\s*K/sec(\s*\(stalled\))?")
_DELAY_PROBE = re.compile(r"delay_probe:\s*(\d+)")


def proc_drbd_version(text: str) -> str | None:
    """The module version from ``/proc/drbd``'s first line (``8.3.8``, ``8.4.11``, ``9.2.4``)."""
    for line in (text or "").splitlines():
        m = _VERSION.match(line.strip())
        if m:
            return m.group(1)
    return None


def parse_proc_drbd(text: str) -> list[SyncStatus]:
    """Every minor in a ``/proc/drbd`` sample (DRBD 9's ``/proc/drbd`` has none: returns [])."""
    statuses: list[SyncStatus] = []
    version = None
    cur: SyncStatus | None = None
    for line in (text or "").splitlines():
        try:
            m = _VERSION.match(line.strip())
            if m:
                version = m.group(1)
                continue
            m = _DEVICE.match(line)
            if m:
                cur = SyncStatus(minor=int(m.group(1)), source="proc-drbd", version=version)
                cur.connection_state = m.group(2) or None
                rest = m.group(3)
                r = _ROLES.search(rest)
                if r:
                    cur.role_local, cur.role_peer = r.group(1) or None, r.group(2) or None
                d = _DISKS.search(rest)
                if d:
                    cur.disk_local, cur.disk_peer = d.group(1) or None, d.group(2) or None
                    a = _AFTER_DISKS.search(rest)
                    if a:
                        cur.protocol = a.group(1)
                        if a.group(2):
                            cur.extra["flags"] = a.group(2)
                statuses.append(cur)
                continue
            if cur is None:
                continue
            _apply_proc_details(cur, line)
        except (ValueError, IndexError, AttributeError):  # pragma: no cover - belt and braces
            continue
    for st in statuses:
        if st.version is None:
            st.version = version
    return statuses


def _apply_proc_details(cur: SyncStatus, line: str) -> None:
    m = _OOS.search(line)
    if m:
        cur.out_of_sync_kib = int(m.group(1))
    m = _PROGRESS.search(line)
    if m:
        cur.verifying = m.group(1) == "verified"
        cur.percent = _float(m.group(2))
        unit = 1024 if m.group(5) == "M" else 1
        left, total = int(m.group(3)) * unit, int(m.group(4)) * unit
        cur.total_kib = total
        # oos: from the counters line is exact; the progress pair is rounded to MiB above 4 GiB
        if cur.out_of_sync_kib is None or unit == 1:
            cur.out_of_sync_kib = left
        cur.extra["left_kib"] = left
        if cur.percent is None and total > 0:
            cur.percent = round(100.0 * (1 - left / total), 1)
    m = _DELAY_PROBE.search(line)
    if m:
        cur.extra["delay_probe"] = int(m.group(1))
    m = _FINISH.search(line)
    if m:
        h, mi, s = (int(g) for g in m.groups())
        cur.eta_s = h * 3600 + mi * 60 + s
    m = _SPEED.search(line)
    if m:
        cur.speed_kib_s = _float(m.group(1))
        inner = [p for p in (x.strip() for x in m.group(2).split("--")) if p]
        if inner:
            cur.avg_speed_kib_s = _float(inner[-1])
            if len(inner) > 1:
                cur.extra["speed_3s_kib_s"] = _float(inner[0])
        cur.want_kib_s = _float(m.group(3)) if m.group(3) else None
        cur.stalled = bool(m.group(4))


# --- drbdsetup events2 (9, and 8.4 via drbd-utils) ----------------------------------------------

_EVENT_ACTIONS = frozenset({"exists", "create", "change", "destroy", "rename", "call", "response"})
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.,]+(?:Z|[+-]\d\d:?\d\d)?\s+")


class Events2State:
    """Folds a stream of ``drbdsetup events2`` lines into the current state of every object.

    Feed lines as they arrive (``--statistics`` without ``--now`` streams forever) and ask
    ``statuses()`` whenever you want a snapshot.
    """

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, str]] = {}
        self.devices: dict[tuple[str, str], dict[str, str]] = {}
        self.connections: dict[tuple[str, str], dict[str, str]] = {}
        self.peer_devices: dict[tuple[str, str, str], dict[str, str]] = {}
        self.initial_state_done = False

    def feed(self, line: str) -> None:
        line = _TIMESTAMP.sub("", (line or "").strip())
        parts = line.split()
        if len(parts) < 2 or parts[0] not in _EVENT_ACTIONS:
            return
        action, obj = parts[0], parts[1]
        if obj == "-":
            if action == "exists":
                self.initial_state_done = True
            return
        fields: dict[str, str] = {}
        for token in parts[2:]:
            key, sep, value = token.partition(":")
            if sep:
                fields[key] = value
        name = fields.get("name")
        if not name:
            return
        table, key = self._locate(obj, name, fields)
        if table is None:
            return
        if action == "destroy":
            table.pop(key, None)
            if obj == "resource":
                self._drop_resource(name)
            return
        if action == "rename" and obj == "resource" and "new_name" in fields:
            self._rename_resource(name, fields["new_name"])
            return
        current = table.setdefault(key, {})
        current.update(fields)
        if obj == "peer-device" and current.get("replication") not in SYNC_STATES:
            # a resync ended: its statistics are stale unless this very line repeats them
            for stale in ("done", "eta", "dbdt1", "out-of-sync"):
                if stale not in fields:
                    current.pop(stale, None)

    def _locate(self, obj: str, name: str, f: dict[str, str]) -> tuple[dict | None, Any]:
        if obj == "resource":
            return self.resources, name
        if obj == "device":
            return self.devices, (name, f.get("volume", "0"))
        if obj == "connection":
            return self.connections, (name, f.get("peer-node-id", "?"))
        if obj == "peer-device":
            return self.peer_devices, (name, f.get("peer-node-id", "?"), f.get("volume", "0"))
        return None, None

    def _drop_resource(self, name: str) -> None:
        for table in (self.devices, self.connections, self.peer_devices):
            for key in [k for k in table if k[0] == name]:
                del table[key]

    def _rename_resource(self, old: str, new: str) -> None:
        if old in self.resources:
            self.resources[new] = self.resources.pop(old)
        for table in (self.devices, self.connections, self.peer_devices):
            for key in [k for k in table if k[0] == old]:
                table[(new, *key[1:])] = table.pop(key)

    def statuses(self) -> list[SyncStatus]:
        out: list[SyncStatus] = []
        for (name, volume), dev in sorted(self.devices.items()):
            res = self.resources.get(name, {})
            peers = [(k, v) for k, v in sorted(self.peer_devices.items()) if k[0] == name and k[2] == volume]
            base = dict(
                resource=name,
                volume=_int(volume),
                minor=_int(dev.get("minor")),
                role_local=res.get("role"),
                disk_local=dev.get("disk"),
                source="events2",
            )
            if not peers:
                out.append(SyncStatus(**base))
                continue
            for (_, peer_id, _), pd in peers:
                conn = self.connections.get((name, peer_id), {})
                st = SyncStatus(**base)
                st.peer = pd.get("conn-name") or conn.get("conn-name")
                st.connection_state = conn.get("connection")
                st.role_peer = conn.get("role")
                st.replication_state = pd.get("replication")
                st.disk_peer = pd.get("peer-disk")
                st.percent = _float(pd.get("done"))
                st.out_of_sync_kib = _int(pd.get("out-of-sync"))
                dbdt1 = _float(pd.get("dbdt1"))
                st.speed_kib_s = dbdt1 * 1024 if dbdt1 is not None else None
                eta = _float(pd.get("eta"))
                st.eta_s = int(eta) if eta is not None else None
                st.verifying = st.replication_state in ("VerifyS", "VerifyT")
                size = _int(dev.get("size"))
                if size and st.out_of_sync_kib is not None and size >= st.out_of_sync_kib:
                    st.total_kib = size
                out.append(st)
        # peer devices whose device line never came (partial sample): still report them
        seen = {(s.resource, s.volume) for s in out}
        for (name, peer_id, volume), pd in sorted(self.peer_devices.items()):
            if (name, _int(volume)) in seen:
                continue
            conn = self.connections.get((name, peer_id), {})
            out.append(
                SyncStatus(
                    resource=name,
                    volume=_int(volume),
                    peer=pd.get("conn-name"),
                    connection_state=conn.get("connection"),
                    replication_state=pd.get("replication"),
                    role_local=self.resources.get(name, {}).get("role"),
                    role_peer=conn.get("role"),
                    disk_peer=pd.get("peer-disk"),
                    percent=_float(pd.get("done")),
                    out_of_sync_kib=_int(pd.get("out-of-sync")),
                    source="events2",
                )
            )
        return out


def parse_events2(text: str) -> list[SyncStatus]:
    """State after all lines of a ``drbdsetup events2 [--now] [--statistics]`` sample."""
    state = Events2State()
    for line in (text or "").splitlines():
        state.feed(line)
    return state.statuses()


# --- drbdsetup status --json (9) ----------------------------------------------------------------


def parse_status_json(text: str) -> list[SyncStatus]:
    """One status per resource/volume/peer from ``drbdsetup status --json``."""
    if not (text or "").strip():
        return []
    try:
        data = json.loads(text)
    except ValueError as exc:
        return [SyncStatus(source="status-json", note=f"unparsable drbdsetup status --json output: {exc}")]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return [SyncStatus(source="status-json", note="drbdsetup status --json output is not a list")]
    out: list[SyncStatus] = []
    for res in data:
        if not isinstance(res, dict):
            continue
        devices = [d for d in res.get("devices") or [] if isinstance(d, dict)] or [{}]
        connections = [c for c in res.get("connections") or [] if isinstance(c, dict)]
        for dev in devices:
            base = dict(
                resource=res.get("name") if isinstance(res.get("name"), str) else None,
                volume=_int(dev.get("volume")),
                minor=_int(dev.get("minor")),
                role_local=res.get("role"),
                disk_local=dev.get("disk-state"),
                source="status-json",
            )
            size = _int(dev.get("size"))
            matched = False
            for conn in connections:
                for pd in conn.get("peer_devices") or []:
                    if not isinstance(pd, dict) or _int(pd.get("volume")) != base["volume"]:
                        continue
                    matched = True
                    st = SyncStatus(**base)
                    st.peer = conn.get("name")
                    st.connection_state = conn.get("connection-state")
                    st.role_peer = conn.get("peer-role")
                    st.replication_state = pd.get("replication-state")
                    st.disk_peer = pd.get("peer-disk-state")
                    st.out_of_sync_kib = _int(pd.get("out-of-sync"))
                    done = _float(pd.get("percent-resync-done"))
                    st.percent = done if done is not None else _float(pd.get("percent-in-sync"))
                    rs_total = _int(pd.get("rs-total"))
                    st.total_kib = rs_total // 2 if rs_total else size
                    cur = _float(pd.get("db1/dt1 [MiB/s]"))
                    avg = _float(pd.get("db/dt [MiB/s]"))
                    st.speed_kib_s = cur * 1024 if cur is not None else None
                    st.avg_speed_kib_s = avg * 1024 if avg is not None else None
                    want = _float(pd.get("want"))
                    st.want_kib_s = want * 1024 if want else None
                    eta = _float(pd.get("estimated-seconds-to-finish"))
                    st.eta_s = int(eta) if eta is not None and eta != _ETA_UNKNOWN else None
                    st.verifying = st.replication_state in ("VerifyS", "VerifyT")
                    out.append(st)
            if not matched:
                st = SyncStatus(**base)
                if connections:
                    st.peer = connections[0].get("name")
                    st.connection_state = connections[0].get("connection-state")
                    st.role_peer = connections[0].get("peer-role")
                out.append(st)
    return out


# --- any of the above ---------------------------------------------------------------------------


def parse_any(text: str) -> list[SyncStatus]:
    """Recognise the dialect of a sample and parse it."""
    stripped = (text or "").lstrip()
    if stripped.startswith(("[", "{")):
        return parse_status_json(text)
    for line in stripped.splitlines()[:5]:
        word = _TIMESTAMP.sub("", line.strip()).split(" ", 1)[0]
        if word in _EVENT_ACTIONS:
            return parse_events2(text)
    return parse_proc_drbd(text)


# --- progress events ----------------------------------------------------------------------------


class SyncProgress:
    """Turns successive samples into ``Progress`` events for one step on one node.

    Fills what a sample lacks from the previous one: a speed from the change in out-of-sync
    KiB over time, an ETA from that speed. Emits an event only when something visible changed
    (percent to 0.1, state, ETA), so the audit log holds the curve, not thousands of copies.
    """

    def __init__(self, step_id: str, node: str, *, source: str = "drbd", clock=time.monotonic) -> None:
        self.step_id = step_id
        self.node = node
        self.source = source
        self._clock = clock
        self._last: dict[str, tuple[float, SyncStatus]] = {}
        self._emitted: dict[str, tuple[Any, ...]] = {}

    def feed(self, text: str, now: float | None = None) -> list[Progress]:
        return self.update(parse_any(text), now)

    def update(self, statuses: Iterable[SyncStatus], now: float | None = None) -> list[Progress]:
        now = self._clock() if now is None else now
        events: list[Progress] = []
        for st in statuses:
            key = st.label
            prev = self._last.get(key)
            speed = st.speed_kib_s
            if speed is None and prev is not None and st.out_of_sync_kib is not None and not st.synced:
                t0, p = prev
                if p.out_of_sync_kib is not None and now > t0 and p.out_of_sync_kib >= st.out_of_sync_kib:
                    speed = (p.out_of_sync_kib - st.out_of_sync_kib) / (now - t0)
            eta = st.eta_s
            if eta is None and speed and st.out_of_sync_kib and st.syncing:
                eta = int(st.out_of_sync_kib / speed)
            percent = st.percent
            if st.synced:
                percent, eta = 100.0, 0
            elif percent is None and st.total_kib and st.out_of_sync_kib is not None:
                percent = round(100.0 * (1 - st.out_of_sync_kib / st.total_kib), 1)
            self._last[key] = (now, st)
            state = "synced" if st.synced else (st.state or "unknown")
            sig = (None if percent is None else round(percent, 1), state, eta, st.stalled)
            if self._emitted.get(key) == sig:
                continue
            self._emitted[key] = sig
            events.append(
                Progress(
                    step_id=self.step_id,
                    node=self.node,
                    source=self.source,
                    percent=percent,
                    speed_kib_s=round(speed, 1) if speed is not None else None,
                    eta_s=eta,
                    state=state,
                    detail=st.summary() + (f" [{st.note}]" if st.note else ""),
                )
            )
        return events
