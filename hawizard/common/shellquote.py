"""Quoting of everything that goes into a shell command on a node.

Every value that comes from a preset or the operator passes through ``q`` before it is part
of a command; commands are built from fixed words and quoted values only. A property test
(tests/test_shell_injection.py) checks that no preset value changes a command's structure.
"""

from __future__ import annotations

import shlex


def q(value: object) -> str:
    """Quote one value as a single shell word."""
    return shlex.quote(str(value))


def join(*words: object) -> str:
    """A command from words that are all quoted (use for commands made only of values)."""
    return " ".join(q(w) for w in words)


def sq(value: object) -> str:
    """One shell word, always in single quotes: ``q``'s quoting, and a bare word (``done``, ``fi``) quoted too
    (the exported scripts, hawizard/export: a reader sees every value as a value)."""
    word = q(value)
    return word if word.startswith("'") else f"'{word}'"
