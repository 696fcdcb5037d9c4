"""``drbdsetup events2 [--now] [--statistics]`` lines, folded into ``SyncStatus``.

DRBD 9, and drbd-utils' 8.4 compat path: one ``<action> <object> key:value ...`` line per
object; ``change`` lines may carry only the changed keys; ``done:`` only while a resync runs;
``out-of-sync`` KiB, ``dbdt1`` MiB/s, ``eta`` seconds (``nan`` when unknown); an optional
``--timestamps`` prefix. Why a state object: without ``--now`` the command streams forever,
and each line changes only part of what is known.
"""

from __future__ import annotations

import re
from typing import Any

from hawizard.readers.drbd.model import SYNC_STATES, SyncStatus, to_float, to_int

EVENT_ACTIONS = frozenset({"exists", "create", "change", "destroy", "rename", "call", "response"})
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.,]+(?:Z|[+-]\d\d:?\d\d)?\s+")


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
        line = TIMESTAMP.sub("", (line or "").strip())
        parts = line.split()
        if len(parts) < 2 or parts[0] not in EVENT_ACTIONS:
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
                volume=to_int(volume),
                minor=to_int(dev.get("minor")),
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
                st.percent = to_float(pd.get("done"))
                st.out_of_sync_kib = to_int(pd.get("out-of-sync"))
                dbdt1 = to_float(pd.get("dbdt1"))
                st.speed_kib_s = dbdt1 * 1024 if dbdt1 is not None else None
                eta = to_float(pd.get("eta"))
                st.eta_s = int(eta) if eta is not None else None
                st.verifying = st.replication_state in ("VerifyS", "VerifyT")
                size = to_int(dev.get("size"))
                if size and st.out_of_sync_kib is not None and size >= st.out_of_sync_kib:
                    st.total_kib = size
                out.append(st)
        # peer devices whose device line never came (partial sample): still report them
        seen = {(s.resource, s.volume) for s in out}
        for (name, peer_id, volume), pd in sorted(self.peer_devices.items()):
            if (name, to_int(volume)) in seen:
                continue
            conn = self.connections.get((name, peer_id), {})
            out.append(
                SyncStatus(
                    resource=name,
                    volume=to_int(volume),
                    peer=pd.get("conn-name"),
                    connection_state=conn.get("connection"),
                    replication_state=pd.get("replication"),
                    role_local=self.resources.get(name, {}).get("role"),
                    role_peer=conn.get("role"),
                    disk_peer=pd.get("peer-disk"),
                    percent=to_float(pd.get("done")),
                    out_of_sync_kib=to_int(pd.get("out-of-sync")),
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


def looks_like_events2(text: str) -> bool:
    """True when one of the first lines starts with an events2 action (after a timestamp)."""
    for line in (text or "").lstrip().splitlines()[:5]:
        word = TIMESTAMP.sub("", line.strip()).split(" ", 1)[0]
        if word in EVENT_ACTIONS:
            return True
    return False
