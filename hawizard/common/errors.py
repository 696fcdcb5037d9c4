"""Exceptions that the CLI turns into a clear message and an exit code, never a traceback.

Exit codes (documented in docs/cli.md):
  0  success
  1  the operation ran but failed (a step failed, a check did not pass, warnings with --strict)
  2  bad input: an invalid preset, a bad option, a file that cannot be read
  3  the environment is missing something (a tool, a port, a reachable node)
  130 interrupted by the operator

``run_command`` is the one place that turns them into a message and an exit code, for every
entry point (``hawizard``, ``python -m hawizard.lab``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from hawizard.common.terminal_text import clean


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


def run_command(handler: Callable[[], int | None]) -> int:
    """Run one command and return its exit code; errors become one line on stderr, never a traceback.

    A HawizardError prints its message (cleaned: it may quote a node's words, which must never
    drive the terminal) and gives its exit code; Ctrl-C gives 130; output piped into head(1) and
    the like that stops reading ends the command quietly with 0.
    """
    try:
        return int(handler() or 0)
    except HawizardError as err:
        print(f"hawizard: {clean(str(err), keep_newlines=True)}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("hawizard: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep interpreter shutdown from complaining
        except OSError:
            pass
        return 0
