"""``SyncStatus``: what every DRBD dialect is parsed into, and the numbers as DRBD prints them.

Why one model: the runner's question ("both disks UpToDate, connected, no resync?") and the
progress bar must not care which DRBD version or tool printed the sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SYNC_STATES = frozenset(
    {"SyncSource", "SyncTarget", "PausedSyncS", "PausedSyncT", "VerifyS", "VerifyT", "StartingSyncS", "StartingSyncT"}
)
#: states in which data flows (8.x ``cs:`` / 9 ``replication:``); Established is DRBD 9's "in sync, connected"
CONNECTED_STATES = frozenset({"Connected", "Established"})


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


# --- numbers as DRBD prints them ------------------------------------------------------------------


def to_int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(str(text).replace(",", "").strip())
    except ValueError:
        return None


def to_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return None if math.isnan(f) or math.isinf(f) else f
