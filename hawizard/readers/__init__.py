"""Parsers of what nodes print, into data the runner and ``hawizard status`` ask questions of.

Why a stage of its own: the output of DRBD and Pacemaker changed across versions and tools, and
the runner must not care which one printed a sample. One package per tool, one module per format
(each package's docstring names them):

  drbd     DRBD state and initial-sync progress: /proc/drbd, events2, status --json -> SyncStatus,
           and the Progress events of a sync
  crm_mon  Pacemaker's cluster state: crm_mon XML and text -> ClusterStatus

Pure: text in, data out, no I/O; nothing here raises on input.
"""
