"""``python -m hawizard.lab ARGS`` = ``hawizard lab ARGS``, without loading the rest of hawizard.

For CI scripts and for the lab's own tests: the lab then depends on nothing but itself and
hawizard.common.errors. Errors become one line and the same exit codes as in hawizard/cli/main.py.
"""

from __future__ import annotations

import argparse
import sys

from hawizard.common.errors import HawizardError
from hawizard.lab.cli import add_parser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hawizard")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_parser(sub)
    args = parser.parse_args(["lab", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args) or 0)
    except HawizardError as err:
        print(f"hawizard: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("hawizard: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
