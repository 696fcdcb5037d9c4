"""``drbdsetup status --json`` (DRBD 9), parsed into ``SyncStatus``.

Sizes are in KiB except ``rs-total`` (sectors); ``estimated-seconds-to-finish`` is 987654321
when unknown. A document that is not JSON yields one status whose ``note`` says so.
"""

from __future__ import annotations

import json

from hawizard.readers.drbd.model import SyncStatus, to_float, to_int

_ETA_UNKNOWN = 987654321  # drbdsetup status --json's "no estimate"


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
                volume=to_int(dev.get("volume")),
                minor=to_int(dev.get("minor")),
                role_local=res.get("role"),
                disk_local=dev.get("disk-state"),
                source="status-json",
            )
            size = to_int(dev.get("size"))
            matched = False
            for conn in connections:
                for pd in conn.get("peer_devices") or []:
                    if not isinstance(pd, dict) or to_int(pd.get("volume")) != base["volume"]:
                        continue
                    matched = True
                    st = SyncStatus(**base)
                    st.peer = conn.get("name")
                    st.connection_state = conn.get("connection-state")
                    st.role_peer = conn.get("peer-role")
                    st.replication_state = pd.get("replication-state")
                    st.disk_peer = pd.get("peer-disk-state")
                    st.out_of_sync_kib = to_int(pd.get("out-of-sync"))
                    done = to_float(pd.get("percent-resync-done"))
                    st.percent = done if done is not None else to_float(pd.get("percent-in-sync"))
                    rs_total = to_int(pd.get("rs-total"))
                    st.total_kib = rs_total // 2 if rs_total else size
                    cur = to_float(pd.get("db1/dt1 [MiB/s]"))
                    avg = to_float(pd.get("db/dt [MiB/s]"))
                    st.speed_kib_s = cur * 1024 if cur is not None else None
                    st.avg_speed_kib_s = avg * 1024 if avg is not None else None
                    want = to_float(pd.get("want"))
                    st.want_kib_s = want * 1024 if want else None
                    eta = to_float(pd.get("estimated-seconds-to-finish"))
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


def looks_like_status_json(text: str) -> bool:
    return (text or "").lstrip().startswith(("[", "{"))
