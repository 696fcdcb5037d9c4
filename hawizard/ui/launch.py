"""Starting the wizard: first whether it can run here at all, then the App (Textual loads only then)."""

from __future__ import annotations

import sys


def no_terminal() -> str | None:
    """Why the wizard cannot run here (stdin or stdout is not a terminal), or None."""
    for name, stream in (("standard input", sys.stdin), ("standard output", sys.stdout)):
        try:
            tty = stream is not None and stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        if not tty:
            return f"{name} is not a terminal"
    return None


def start() -> int:
    """Run the wizard until the operator leaves it; its exit code (3 when Textual cannot load)."""
    try:
        from hawizard.ui.app import run_app
    except ImportError as exc:
        print(f"hawizard: the wizard cannot start: {exc}", file=sys.stderr)
        return 3
    return run_app()
