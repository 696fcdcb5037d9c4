"""Shell quoting for values that end up in a remote command line.

Why a module of its own: every user-controlled value (paths, owners, modes) must pass
through ``shlex.quote``; one import point makes that easy to check. If the project grows
a shared ``hawizard/shellquote.py``, this module should re-export it.
"""

from __future__ import annotations

import shlex


def q(value: object) -> str:
    """Quote one value for a POSIX shell (bash, dash)."""
    return shlex.quote(str(value))


def join(argv: list[object]) -> str:
    """Quote and join an argument vector into one command line."""
    return " ".join(q(a) for a in argv)
