"""hawizard/audit reads as its docstrings say: each package names its modules, no module is too long.

Issue 11: the audit trail was two files of several jobs each (paths and ids, the writer, the
verifier, listing; a report model, its loader and three renderers). Now each module has one job
and the package docstring names it, so that a newcomer finds the module that owns a job there.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

AUDIT = Path(__file__).resolve().parent.parent / "hawizard" / "audit"
PACKAGES = [AUDIT, AUDIT / "report"]
MAX_LINES = 400


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_the_package_docstring_names_each_module(package):
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8"))) or ""
    named = set(re.findall(r"^  (\w+)\s", doc, re.MULTILINE))
    modules = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    modules |= {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    assert modules, package
    assert modules - named == set(), f"{package}/__init__.py does not name {sorted(modules - named)}"
    assert named - modules == set(), f"{package}/__init__.py names modules that do not exist: {sorted(named - modules)}"


def test_every_module_says_why_and_is_short():
    for path in sorted(AUDIT.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert ast.get_docstring(ast.parse(text)), f"{path} has no docstring"
        lines = text.count("\n")
        assert lines <= MAX_LINES, f"{path} has {lines} lines (more than {MAX_LINES}: split it by job)"
