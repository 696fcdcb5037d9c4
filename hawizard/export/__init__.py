"""Exports of a plan for other tools to run: pure, plan and rendering in, files out.

  files     ExportedFile and Export: what an exporter returns (relative path, bytes, mode)
  shlib     the fixed POSIX sh functions every exported node script carries (write, poll, confirm)
  shwaits   what a poll waits for, as a call of one of those functions
  shell     ``--format sh``: one script per node and a driver that runs them over ssh in order
  ansible   ``--format ansible``: inventory, playbook, templates (ansible.builtin modules only)

Why a package of its own: the runner (hawizard/run) executes a plan over sessions; an export
writes the same plan down for the operator's own tools (issue 15). Nothing here touches a node
or a file: the CLI (hawizard/cli/export_plan.py) writes what these modules return.
"""
