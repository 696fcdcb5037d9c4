"""Runs on this machine: where they live, one at a time, their hash-chained audit log, and reports.

Modules, one job each:
  runs     where runs live: the runs directory, run ids, a run's directory; from what an operator
           typed ('latest', a prefix, a directory, a file) to a run; listing and summaries
  lock     one run at a time per run and per node: lock files held by a live process
  log      the writer: the event sink that redacts, batches output, chains and appends records,
           and keeps the head file
  chain    the log's format and its proof: canonical JSON, record hashes, the head line, reading
           records, verify_chain and verify_run
  report   the log as a report for people (a package: model, loader, one renderer per format)
"""
