"""``python -m hawizard.lab ARGS`` = ``hawizard lab ARGS``, without loading the rest of hawizard.

For CI scripts and for the lab's own tests: the lab then depends on nothing but itself and
hawizard.common (errors and the terminal text cleaner). Errors become one line and the same exit
codes as for ``hawizard``: both entry points use hawizard.common.errors.run_command.
"""

from __future__ import annotations

import argparse
import sys

from hawizard.common.errors import run_command
from hawizard.lab.cli import add_parser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hawizard")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_parser(sub)
    args = parser.parse_args(["lab", *(sys.argv[1:] if argv is None else argv)])
    return run_command(lambda: args.func(args))


if __name__ == "__main__":
    sys.exit(main())
