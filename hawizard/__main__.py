"""``hawizard`` and ``python -m hawizard``: no arguments open the wizard; anything else is a command.

This is the one module that knows both front ends, so that neither imports the other: the
command line (hawizard.cli) and the wizard (hawizard.ui) each call the engine only. The wizard
needs a terminal on stdin and stdout; without one (a pipe, /dev/null, cron) it would wait for
keys that never come, so the reason is said, with the commands that work without one, and the
exit code is 2.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args:
        from hawizard.cli.main import main as cli_main

        return cli_main(args)
    from hawizard.ui.launch import no_terminal, start

    why = no_terminal()
    if why:
        from hawizard.cli.main import HEADLESS

        print(f"hawizard: the wizard needs a terminal, and {why}.\n"
              f"Without one, use a command: {', '.join(HEADLESS)}.\n"
              "hawizard --help lists them; for example: hawizard apply PRESET --yes", file=sys.stderr)
        return 2
    return start()


if __name__ == "__main__":
    sys.exit(main())
