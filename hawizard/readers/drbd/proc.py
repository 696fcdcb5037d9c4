"""``/proc/drbd`` of DRBD 8.0 - 8.4 (``drbd_proc.c``), parsed into ``SyncStatus``.

Its quirks: in ``sync'ed: 13.8% (2539220/2939764)K`` the first number is what is still OUT of
sync, not what is done; the unit switches to ``M`` above 4 GiB; 8.4 prints ``finish:`` on the
same line after ``)M``; speeds have thousands commas (``10,080``); 8.3.8 adds ``delay_probe: N``;
``want:`` and ``(stalled)`` are optional; ``proc_details`` adds a ``--`` middle speed and extra
lines; unconfigured minors print only ``N: cs:Unconfigured``; before 8.3 roles were ``st:``.
DRBD 9's ``/proc/drbd`` holds only the version.
"""

from __future__ import annotations

import re

from hawizard.readers.drbd.model import SyncStatus, to_float

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
        cur.percent = to_float(m.group(2))
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
        cur.speed_kib_s = to_float(m.group(1))
        inner = [p for p in (x.strip() for x in m.group(2).split("--")) if p]
        if inner:
            cur.avg_speed_kib_s = to_float(inner[-1])
            if len(inner) > 1:
                cur.extra["speed_3s_kib_s"] = to_float(inner[0])
        cur.want_kib_s = to_float(m.group(3)) if m.group(3) else None
        cur.stalled = bool(m.group(4))
