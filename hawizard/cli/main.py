"""The command line's entry: the parser of every sub-command, and errors turned into exit codes.

Each sub-command lives in the module that owns its job; this file only wires them and turns
``HawizardError`` into a message and an exit code (see hawizard/common/errors.py). ``hawizard``
without a command is the wizard: hawizard/__main__.py decides that, so the CLI never imports it.
"""

from __future__ import annotations

import argparse
import os
import sys

from hawizard import __version__
from hawizard.common.errors import HawizardError
from hawizard.common.terminal_text import clean


def _register_commands(sub: argparse._SubParsersAction) -> None:
    from hawizard.cli import design as cli_design

    cli_design.add_parsers(sub)
    from hawizard.cli import export as cli_export

    cli_export.add_parsers(sub)
    from hawizard.cli import audit as cli_audit

    cli_audit.add_parsers(sub)
    try:
        from hawizard.cli import run as cli_run
    except ImportError:  # pragma: no cover - during bring-up only
        cli_run = None
    if cli_run is not None:
        cli_run.add_parsers(sub)
    try:
        from hawizard.lab import cli as lab_cli
    except ImportError:  # pragma: no cover - during bring-up only
        lab_cli = None
    if lab_cli is not None:
        lab_cli.add_parser(sub)


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage already; keep its message but name the program."""


HEADLESS = ("presets", "validate", "render", "plan", "apply", "status", "export", "audit", "lab")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hawizard",
        description="Design, render, plan and build a two-node Pacemaker + DRBD cluster.\n\n"
                    "Without a COMMAND, hawizard opens the wizard (it needs a terminal).\n"
                    "The commands below work without one.",
        epilog="Exit codes: 0 ok; 1 the operation ran and failed; 2 bad input;\n"
               "3 something missing on this machine (a tool, a reachable node, the nodes\n"
               "held by another run); 130 interrupted. Details: hawizard COMMAND --help,\n"
               "and docs/cli.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hawizard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _register_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command (hawizard/__main__.py opens the wizard when there is none)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except HawizardError as err:
        # a message may quote a node's words: never let them drive the terminal
        print(f"hawizard: {clean(str(err), keep_newlines=True)}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("hawizard: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head(1) and the like: stop quietly
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep interpreter shutdown from complaining
        except OSError:
            pass
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
