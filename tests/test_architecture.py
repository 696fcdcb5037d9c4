"""The engine never imports the UI, and the core imports no transport: enforced, not hoped for."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ["model", "presets", "fieldcheck", "problems", "validate", "lint", "timing", "stacks", "render", "plan",
        "shellquote", "localfiles", "errors"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engine_never_imports_textual():
    for path in (ROOT / "hawizard").rglob("*.py"):
        if path.name in ("cli.py", "__main__.py"):
            continue
        assert not imported_modules(path) & {"textual", "screens"}, path


def test_core_imports_no_transport_or_ui():
    code = ("import sys\n" + "".join(f"import hawizard.{m}\n" for m in CORE)
            + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'paramiko', 'pexpect'))\n"
              "print(','.join(bad))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""


def test_no_top_level_screens_module_installed():
    r = subprocess.run([sys.executable, "-c", "import importlib.util as u; print(u.find_spec('screens'))"],
                       capture_output=True, text=True, cwd="/", check=True)
    assert r.stdout.strip() == "None"
    r = subprocess.run([sys.executable, "-c", "import hawizard.screens, hawizard.builtin_presets"],
                       capture_output=True, text=True, cwd="/")
    assert r.returncode == 0, r.stderr
