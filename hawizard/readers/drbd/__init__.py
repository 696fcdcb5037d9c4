"""DRBD state and initial-sync progress, from every place DRBD publishes it.

Why: the longest silent wait in a build is DRBD's initial sync; the operator needs percent,
speed and ETA, and the runner needs to know when both disks are UpToDate. DRBD says this in
three dialects, one module each, all parsed into one ``SyncStatus``:

  model        SyncStatus (one minor, or one resource/volume/peer, at one moment) and the
               number helpers every dialect needs
  proc         ``/proc/drbd`` of DRBD 8.3/8.4
  events2      ``drbdsetup events2 --now --statistics`` (DRBD 9, and drbd-utils' 8.4 compat path)
  status_json  ``drbdsetup status --json`` (DRBD 9)
  progress     ``parse_any`` (recognises the dialect of a sample) and ``SyncProgress``, which turns
               successive samples into Progress events

Parsing is defensive by contract: unknown lines are skipped, a damaged line yields a status
whose unknown fields are None, and no input raises. Engine core: standard library only.
"""
