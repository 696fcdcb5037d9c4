"""Running a plan on the nodes.

Modules, one job each:
  facade    RunSession: the one way both front ends start, steer and end a run (an Operator asks
            the human; sinks see the events)
  runner    executes the steps of a plan over node sessions and emits what happens
  record    a run's lock, journal and audit log, opened (or continued) together, and its end recorded
  journal   each step's outcome per node (a sink), read back by --resume
  secrets   the run's secrets: generated, read from references, or reused from a node
  gate      pause and cancel between commands (a session wrapper)
  targets   where each node of a design is reached (its SSH target)
  console   the command line's sink: progress bars and one line per step
  collect   a cluster's configuration read from its nodes, read-only, into adoption's directory layout
            (adopt --node, diff over SSH, the review's Diff tab)
"""
