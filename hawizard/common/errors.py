"""Exceptions that the CLI turns into a clear message and an exit code, never a traceback.

Exit codes (documented in docs/cli.md):
  0  success
  1  the operation ran but failed (a step failed, a check did not pass, warnings with --strict)
  2  bad input: an invalid preset, a bad option, a file that cannot be read
  3  the environment is missing something (a tool, a port, a reachable node)
  130 interrupted by the operator
"""

from __future__ import annotations


class HawizardError(Exception):
    """Base class: ``str(err)`` is the message shown to the operator."""

    exit_code = 1


class InputError(HawizardError):
    """Bad input from the operator: a preset, an option, a file. Exit code 2."""

    exit_code = 2


class EnvironmentProblem(HawizardError):
    """Something the machine lacks: a tool, a free port, a cache directory. Exit code 3."""

    exit_code = 3


class OperationFailed(HawizardError):
    """The operation ran and failed. Exit code 1."""

    exit_code = 1
