"""The validators on a machine where no tool has run before: an empty HOME, tools started at once.

crmsh creates its cache and config directories with a check-then-create, so crm processes started
together under a HOME that has neither crash with FileExistsError (seen on a fresh CI machine: the
cluster-config tests load eight designs concurrently). The harness gives every tool call a home of
its own; these tests hold it to that.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .harness import require, run, show


def test_every_tool_call_gets_its_own_existing_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "operator"))
    script = 'for v in HOME XDG_CACHE_HOME XDG_CONFIG_HOME; do eval d=\\$$v; test -d "$d" || exit 9; done; echo "$HOME"'
    with ThreadPoolExecutor(max_workers=6) as pool:
        procs = list(pool.map(lambda _: run(["sh", "-c", script]), range(6)))
    homes = [p.stdout.strip() for p in procs]
    assert all(p.returncode == 0 for p in procs), [show(p) for p in procs]
    assert len(set(homes)) == 6, homes
    assert str(tmp_path / "operator") not in homes
    assert not any(Path(h).exists() for h in homes), "a tool home outlived its call"


def test_crm_started_eight_times_at_once_under_an_empty_home(tmp_path, monkeypatch):
    require("crm", "cibadmin")
    home = tmp_path / "fresh-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    cib = tmp_path / "cib.xml"
    empty = run(["cibadmin", "--empty"])
    assert empty.returncode == 0, show(empty)
    cib.write_text(empty.stdout)
    with ThreadPoolExecutor(max_workers=8) as pool:
        procs = list(pool.map(lambda _: run(["crm", "configure", "show"], env={"CIB_file": str(cib)}),
                              range(8)))
    failed = [show(p) for p in procs if p.returncode != 0 or "Traceback" in p.stderr]
    assert not failed, failed[0]
    assert os.listdir(home) == [], "crm wrote into the operator's home"
