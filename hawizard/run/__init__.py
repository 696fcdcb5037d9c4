"""Running a plan: the runner, its events and sinks, journal, run record, lock, secrets."""
