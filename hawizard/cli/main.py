"""The command line's entry: the parser of every sub-command, and errors turned into exit codes.

Each sub-command lives in the module that owns its job; this file only wires them and has
hawizard.common.errors.run_command turn errors into a message and an exit code. ``hawizard``
without a command is the wizard: hawizard/__main__.py decides that, so the CLI never imports it.
"""

from __future__ import annotations

import argparse
import sys

from hawizard import __version__
from hawizard.common.errors import run_command


def _register_commands(sub: argparse._SubParsersAction) -> None:
    # imported when the parser is built: reading HEADLESS (hawizard/__main__.py, when the wizard
    # has no terminal) loads no command module
    from hawizard.cli import adopt as cli_adopt
    from hawizard.cli import audit as cli_audit
    from hawizard.cli import design as cli_design
    from hawizard.cli import export as cli_export
    from hawizard.cli import export_plan as cli_export_plan
    from hawizard.cli import run as cli_run
    from hawizard.lab import cli as lab_cli

    cli_design.add_parsers(sub)
    cli_adopt.add_parsers(sub)
    cli_export.add_parsers(sub)
    cli_export_plan.add_parsers(sub)
    cli_audit.add_parsers(sub)
    cli_run.add_parsers(sub)
    lab_cli.add_parser(sub)


HEADLESS = ("presets", "validate", "render", "plan", "adopt", "diff", "apply", "status", "export", "export-plan",
            "audit", "lab")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    return run_command(lambda: args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
