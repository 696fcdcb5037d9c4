"""Snapshots of the main screens at 80x24 and 120x40 (pytest-textual-snapshot).

Kept deterministic: no clock on any screen, no cursor blink (conftest), a FAKE scripted session
for the run, a fixed outcome for the finish screen, and a state directory per test. Update
after a deliberate change with ``pytest tests/ui --snapshot-update`` and look at the report.
"""

from __future__ import annotations

import pytest
from conftest import SIZES, answer_confirmations, wait_for
from ui_fakes import fake_factory

from hawizard.design.preset_file import load_preset
from hawizard.plan.build import build_plan
from hawizard.ui.app import HawizardApp
from hawizard.ui.dialogs import ConfirmPhraseScreen
from hawizard.ui.finish import FinishScreen
from hawizard.ui.outcome import RunOutcome
from hawizard.ui.review import ReviewScreen

size_ids = [f"{w}x{h}" for w, h in SIZES]


def scripted_app() -> HawizardApp:
    _made, factory = fake_factory(build_plan(load_preset("article")))
    return HawizardApp(preset="article", initial="review", session_factory=factory, poll_scale=0.01)


async def review_ready(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.prepared is not None)
    await pilot.pause()


async def start_apply(pilot) -> None:
    await review_ready(pilot)
    await pilot.press("a")
    await pilot.pause()
    await pilot.press("y")


FIXED_OUTCOME = RunOutcome(
    design_name="article", stack="centos5-heartbeat", mode="apply", status="finished", message="",
    built=["article: centos5-heartbeat, nodes srv1 and srv2 (primary srv1)",
           "service 192.168.0.200/24 on eth0, /dev/drbd0 (ext3) on /var/www/html",
           "DRBD r0 protocol C; fencing off; no-quorum-policy ignore"],
    steps=[("preflight", "Preflight checks", "srv1:done srv2:done"),
           ("apache", "Apache server-status for the monitor", "srv1:skipped srv2:done")],
    phases=[("preflight", 4.2), ("install", 171.0), ("drbd", 2950.0), ("cluster", 48.0)],
    total_s=3173.2, run_id="20261124T202213Z-3fa9c1",
    audit_path="/home/op/.local/state/hawizard/runs/20261124T202213Z-3fa9c1/audit.jsonl",
    skipped={"apache": "checked by hand"})


@pytest.mark.parametrize("size", SIZES, ids=size_ids)
def test_start(snap_compare, size):
    assert snap_compare(HawizardApp(), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=size_ids)
def test_design_first_question(snap_compare, size):
    assert snap_compare(HawizardApp(preset="article", initial="design"), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=size_ids)
def test_design_switchover_target(snap_compare, size):
    async def go(pilot):
        await pilot.pause()
        await pilot.app.screen.goto("answers.switchover_target_s")
    assert snap_compare(HawizardApp(preset="article", initial="design"), terminal_size=size, run_before=go)


@pytest.mark.parametrize("size", SIZES, ids=size_ids)
def test_review_problems(snap_compare, size):
    assert snap_compare(HawizardApp(preset="article", initial="review"), terminal_size=size,
                        run_before=review_ready)


@pytest.mark.parametrize("size", SIZES, ids=size_ids)
def test_review_files(snap_compare, size):
    assert snap_compare(HawizardApp(preset="article", initial="review"), terminal_size=size,
                        run_before=review_ready, press=["2", "down", "down", "down", "down"])


@pytest.mark.parametrize("size", SIZES, ids=size_ids)
def test_run_confirmation(snap_compare, size):
    async def go(pilot):
        await start_apply(pilot)
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmPhraseScreen))
        await pilot.pause(0.2)  # the drain has shown every line up to the question
    assert snap_compare(scripted_app(), terminal_size=size, run_before=go)


@pytest.mark.parametrize("size", SIZES, ids=size_ids)
def test_run_finished(snap_compare, size):
    async def go(pilot):
        await start_apply(pilot)
        await answer_confirmations(pilot, pilot.app)
        await pilot.pause(0.2)
    assert snap_compare(scripted_app(), terminal_size=size, run_before=go)


@pytest.mark.parametrize("size", SIZES, ids=size_ids)
def test_finish(snap_compare, size):
    app = HawizardApp(preset="article", initial=lambda app: FinishScreen(FIXED_OUTCOME))
    assert snap_compare(app, terminal_size=size)
