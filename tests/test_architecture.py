"""The layers of the flow hold: checked by import-linter's contracts (pyproject.toml), not by a hand-kept list.

The contracts: the wizard and the command line never import each other; each stage imports only
the stages below it (ui|cli, lab, run, audit, sessions, plan, readers, render, design, events,
common); the design/render/plan core imports no transport, no run machinery, no UI; only the
wizard imports Textual; the front ends start runs through the run facade only (they never open a
run's record, resolve its secrets or gate its sessions themselves); adoption reads a directory of
collected files and imports no transport, run machinery or UI. The second and third tests break
three of them on purpose, in a copy of the tree, to show the tool would catch it.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = shutil.which("lint-imports")
needs_tool = pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter is not installed (pip install -e '.[test]')")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on the hawizard package found first on PYTHONPATH=tree, with the project's contracts."""
    return subprocess.run([LINT_IMPORTS, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          cwd=tree, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})


@needs_tool
def test_the_import_contracts_are_kept():
    r = lint_imports(ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "Contracts: 6 kept, 0 broken." in r.stdout


@needs_tool
def test_a_ui_importing_the_cli_or_a_core_importing_a_transport_breaks_the_contracts(tmp_path):
    shutil.copytree(ROOT / "hawizard", tmp_path / "hawizard", ignore=shutil.ignore_patterns("__pycache__"))
    review = tmp_path / "hawizard" / "ui" / "review.py"
    review.write_text(review.read_text() + "\nimport hawizard.cli.run  # deliberate violation\n")
    model = tmp_path / "hawizard" / "design" / "model.py"
    model.write_text(model.read_text() + "\nimport paramiko  # deliberate violation\n")
    r = lint_imports(tmp_path)
    assert r.returncode != 0
    assert "The wizard and the command line never import each other BROKEN" in r.stdout
    assert "The design, render and plan core does no I/O on nodes and shows no UI BROKEN" in r.stdout
    assert "hawizard.ui.review -> hawizard.cli.run" in r.stdout
    assert "hawizard.design.model -> paramiko" in r.stdout


@needs_tool
def test_adoption_reaching_for_a_session_breaks_its_contract(tmp_path):
    shutil.copytree(ROOT / "hawizard", tmp_path / "hawizard", ignore=shutil.ignore_patterns("__pycache__"))
    engine = tmp_path / "hawizard" / "adopt" / "engine.py"
    engine.write_text(engine.read_text() + "\nimport hawizard.sessions.base  # deliberate violation\n")
    r = lint_imports(tmp_path)
    assert r.returncode != 0
    assert "Adoption reads a directory of collected files: no node I/O, no run machinery, no" in r.stdout
    assert "hawizard.adopt.engine -> hawizard.sessions.base" in r.stdout


def test_every_folder_of_the_tree_is_the_package_it_installs_as():
    """Paths in the code exist in a checkout: hawizard.x.y is hawizard/x/y.py, nothing is mapped."""
    for name in ("hawizard.ui.app", "hawizard.presets", "hawizard.render.renderer", "hawizard.plan.build"):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        as_path = ROOT.joinpath(*name.split("."))
        assert Path(spec.origin).resolve() in (as_path.with_suffix(".py"), as_path / "__init__.py"), spec.origin
    r = subprocess.run([sys.executable, "-c", "import importlib.util as u; print(u.find_spec('screens'))"],
                       capture_output=True, text=True, cwd="/", check=True)
    assert r.stdout.strip() == "None", "nothing may install as a top-level 'screens'"


@needs_tool
def test_the_exports_stay_pure(tmp_path):
    """hawizard/export writes a plan down; it never reaches a node (issue 15): in the pure-core contract."""
    shutil.copytree(ROOT / "hawizard", tmp_path / "hawizard", ignore=shutil.ignore_patterns("__pycache__"))
    shell = tmp_path / "hawizard" / "export" / "shell.py"
    shell.write_text(shell.read_text() + "\nimport hawizard.sessions.openssh  # deliberate violation\n")
    r = lint_imports(tmp_path)
    assert r.returncode != 0
    assert "The design, render and plan core does no I/O on nodes and shows no UI BROKEN" in r.stdout
    assert "hawizard.export.shell -> hawizard.sessions.openssh" in r.stdout
