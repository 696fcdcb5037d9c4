"""Shared test helpers: paths and the shipped presets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

SHIPPED = ("article", "debian12", "debian12-pcs", "el9")


@pytest.fixture(params=SHIPPED)
def shipped_name(request) -> str:
    return request.param


@pytest.fixture
def state_home(tmp_path, monkeypatch):
    """A private $XDG_STATE_HOME: runs, journals and audit logs go to a temporary directory."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"
