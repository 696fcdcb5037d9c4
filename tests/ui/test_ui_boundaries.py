"""The wizard stays a layer on top: the command line and the engine load without Textual."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SCREENS = Path(__file__).resolve().parents[2] / "screens"


def test_the_cli_imports_textual_only_when_the_wizard_opens():
    code = ("import sys, hawizard.cli.main, hawizard.run.runner, hawizard.audit.log, hawizard.audit.report.export\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""


def test_screens_import_the_engine_as_hawizard_and_never_a_top_level_screens():
    for path in SCREENS.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            assert not any(n == "screens" or n.startswith("screens.") for n in names), path


def test_the_stylesheet_ships_with_the_package():
    import hawizard.ui

    assert (Path(hawizard.ui.__file__).parent / "hawizard.tcss").is_file()
