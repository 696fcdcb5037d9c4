"""The command line: ``hawizard`` (no arguments: the wizard) and its sub-commands.

  main     the entry point: the parser, the wizard hand-off, errors to exit codes
  design   presets, validate, render, plan: a design alone, no node touched
  adopt    adopt: a preset from a running cluster's collected files
  run      apply and status: the nodes, through the engine's run facade
  export   a run's audit log as a report
  export_plan  the plan as shell scripts or an Ansible project (hawizard/export)
  audit    verify and list the audit logs

The CLI calls the engine; it never imports the wizard (hawizard.ui), nor the wizard it.
"""
