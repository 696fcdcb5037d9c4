"""Small pieces every layer uses.

  errors         the error types and their exit codes; one runner that turns them into messages
  shellquote     quoting for the node's shell
  terminal_text  text safe to show on a terminal or in a report (no control sequences)
  localfiles     atomic writes on this machine, never through a symlink, with backups
  statedir       where hawizard keeps its state (XDG_STATE_HOME rules)
  redact         secrets out of any text that is logged, shown or exported
  timefmt        durations and ETAs as people read them
"""
