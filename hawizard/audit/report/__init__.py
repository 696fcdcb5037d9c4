"""A run's audit log as a report people read: Markdown, self-contained HTML, or JSON lines.

Why: the audit log is exact but not meant for people; an auditor or the next on-call engineer
wants "what ran where, what changed, what failed" on one page. The report is built from the log
alone (nothing is re-run or re-read from the nodes), says at the top whether the log verifies -
loudly when it does not - and redacts again, in case a secret slipped past the run's redactor.
Node text is shown cleaned of terminal controls, so that a report cannot retitle or clear the
terminal it is read on, or say something other than what ran.

Modules, one job each:
  model     what a run was: steps, nodes, commands, confirmations, and what counts as failed
  load      the audit records into the model, one record kind at a time
  view      what the readable reports show, decided once: the figures, the words, and the parts
            of each step (a structure both renderers walk)
  markdown  the view written as Markdown
  html      the view written as one HTML page with its style inline
  jsonl     the log's records as they are, re-checked by the redaction patterns
  export    the entry point: a run and a format in, the report's text out
"""
