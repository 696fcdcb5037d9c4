"""hawizard: design, render, plan and drive a two-node active/standby Pacemaker + DRBD cluster.

The folders are the stages of the flow, in the order data moves through them
(docs/architecture.md draws it):

  design    the model, the stacks, preset files, field checks, validation, lint, timing
  presets   the shipped preset files (data)
  render    the design into the exact files each node gets (jinja2 templates per stack)
  plan      the ordered steps as typed data (pure: no I/O)
  readers   parsers of what nodes print: DRBD progress and state, crm_mon
  sessions  one interface to a node: OpenSSH through a pty, paramiko, a local shell, dry run
  run       the runner and the run facade both front ends call; secrets, journal, console
  audit     runs on this machine: ids, the lock, the hash-chained audit log, reports
  export    the plan as shell scripts or an Ansible project, for other tools (pure)
  events    the event stream every sink reads (console, wizard, journal, audit log)
  cli       the command line       ui   the Textual wizard       lab   the two-VM practice lab
  common    errors, shell quoting, terminal text, local files, the state directory, redaction

Lower stages never import higher ones (import-linter contracts in pyproject.toml).
"""

__version__ = "0.1.0"
