"""Questions before losing work or touching nodes, safe answers by default, and key lines that fit the state."""

from __future__ import annotations

import time

from conftest import answer_confirmations, footer_keys, wait_for
from textual.widgets import Input, Static
from ui_fakes import fake_factory

from hawizard.design.preset_file import load_preset
from hawizard.plan.build import build_plan
from hawizard.ui.app import HawizardApp
from hawizard.ui.design import DesignScreen
from hawizard.ui.dialogs import ConfirmPhraseScreen, YesNoScreen
from hawizard.ui.forms import field_id
from hawizard.ui.review import ReviewScreen
from hawizard.ui.run import RunScreen
from hawizard.ui.start import StartScreen


def review_ready(app) -> bool:
    return isinstance(app.screen, ReviewScreen) and app.screen.prepared is not None


def scripted_app(**fake) -> tuple[HawizardApp, dict]:
    made, factory = fake_factory(build_plan(load_preset("article")), **fake)
    return HawizardApp(preset="article", initial="review", session_factory=factory, poll_scale=0.01), made


def dialog_text(screen) -> str:
    return "\n".join(str(w.render()) for w in screen.query(Static))


async def edit_a_field(pilot, app) -> None:
    screen = app.screen
    await screen.goto("service.vip")
    field = screen.query_one(f"#{field_id('service.vip')} Input", Input)
    field.value = "192.168.0.210"
    await wait_for(pilot, lambda: app.design.service.vip == "192.168.0.210")


# -- 2.4 unsaved changes ------------------------------------------------------------------------------

async def test_ctrl_q_with_unsaved_changes_asks_and_keeps_editing_by_default():
    app = HawizardApp(preset="article", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        await edit_a_field(pilot, app)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, YesNoScreen))
        assert app.return_code is None  # still running
        assert app.focused is not None and app.focused.id == "no"  # "Keep editing" under the cursor
        await pilot.press("enter")  # the reflexive Enter keeps the work
        await wait_for(pilot, lambda: isinstance(app.screen, DesignScreen))
        await pilot.pause(0.2)
        assert app.return_code is None and app.design.service.vip == "192.168.0.210"
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, YesNoScreen))
        await pilot.press("y")  # discard, on purpose
        await wait_for(pilot, lambda: app.return_code is not None)
        assert app.return_code == 0


async def test_escape_on_the_design_with_unsaved_changes_asks_before_leaving():
    app = HawizardApp(preset="article", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        await edit_a_field(pilot, app)
        design_screen = app.screen
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, YesNoScreen))
        assert app.focused.id == "no"
        await pilot.press("escape")  # Escape in the question = keep editing
        await wait_for(pilot, lambda: app.screen is design_screen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, YesNoScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, StartScreen))
        await pilot.press("ctrl+q")  # the changes were given up: quitting now asks nothing
        await wait_for(pilot, lambda: app.return_code is not None)


async def test_nothing_to_lose_nothing_asked():
    app = HawizardApp(preset="article", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, StartScreen))


async def test_a_saved_design_quits_without_a_question(tmp_path):
    app = HawizardApp(preset="article", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        await edit_a_field(pilot, app)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: review_ready(app))
        await pilot.press("s")
        await wait_for(pilot, lambda: app.screen.query("#prompt-input"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen) and (tmp_path / "article.toml").exists())
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.return_code is not None)


# -- 2.5 the safe answer is the default ------------------------------------------------------------

async def test_apply_question_defaults_to_not_now():
    app, made = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, YesNoScreen))
        assert "Apply the design" in dialog_text(app.screen)
        assert app.focused.id == "no"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await pilot.pause(0.3)
        assert app.controller is None and not made  # nothing connected


async def test_cancel_and_quit_questions_during_a_run_default_to_keep_running():
    app, made = scripted_app(delay=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, YesNoScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.controller.live)
        for key, title in (("c", "Cancel the run?"), ("ctrl+q", "Quit while the run is going?")):
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, YesNoScreen))
            assert title in dialog_text(app.screen)
            assert app.focused.id == "no"
            await pilot.press("enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, YesNoScreen))
            assert app.controller.live and app.return_code is None
        app.controller.cancel()
        await wait_for(pilot, lambda: not app.controller.live)


# -- 2.10 the key line fits the state ------------------------------------------------------------------

async def test_the_run_screen_offers_pause_and_cancel_only_while_the_run_goes():
    app, made = scripted_app(delay=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, YesNoScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.controller.live)
        run = app.screen
        await wait_for(pilot, lambda: {"Pause", "Cancel"} <= set(footer_keys(run).values()))
        assert "Summary" not in footer_keys(run).values()
        for fake in made.values():
            fake.delay = 0.0
        await answer_confirmations(pilot, app)
        assert app.controller.state == "finished"
        await wait_for(pilot, lambda: "Summary" in footer_keys(run).values())
        shown = set(footer_keys(run).values())
        assert not shown & {"Pause", "Resume", "Cancel", "Retry", "Skip"}, shown


async def test_f5_is_offered_once_a_run_exists_and_not_before():
    app, made = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        review = app.screen
        await pilot.pause(0.2)
        assert "f5" not in {k.lower() for k in footer_keys(review)}
        await pilot.press("d")  # a dry run
        await answer_confirmations(pilot, app)
        await pilot.press("escape")  # back to the review; the run stays
        await wait_for(pilot, lambda: app.screen is review)
        await wait_for(pilot, lambda: "f5" in {k.lower() for k in footer_keys(review)})
        await pilot.press("f5")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
        assert "f5" not in {k.lower() for k in footer_keys(app.screen)}  # already there


async def test_dialogs_show_their_own_keys():
    app, made = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, YesNoScreen))
        await wait_for(pilot, lambda: footer_keys(app.screen))
        keys = footer_keys(app.screen)
        assert "Enter" in keys and any("Esc" in k for k in keys), keys
        assert "Save preset" not in keys.values() and "Dry run" not in keys.values()  # the review's keys
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmPhraseScreen))
        modal = app.screen
        await wait_for(pilot, lambda: footer_keys(modal))
        keys = footer_keys(modal)
        assert keys.get("Enter") and keys.get("Esc") == "Stop the run", keys
        assert not {"Pause", "Cancel", "Retry", "Skip"} & set(keys.values())  # the run screen's keys


# -- 2.11 what Ctrl+Q says during a dry run ------------------------------------------------------------

async def test_ctrl_q_in_a_dry_run_does_not_offer_resume():
    app, made = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmPhraseScreen))  # the dry run is live
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, YesNoScreen))
        text = dialog_text(app.screen)
        assert "--resume" not in text and "no journal" in text
        await pilot.press("enter")  # stay
        deadline = time.monotonic() + 10
        while isinstance(app.screen, YesNoScreen) and time.monotonic() < deadline:
            await pilot.pause(0.05)
        app.controller.cancel()
        await wait_for(pilot, lambda: not app.controller.live)


async def test_ctrl_q_in_a_real_run_still_names_resume():
    app, made = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, YesNoScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmPhraseScreen))
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, YesNoScreen))
        assert "--resume" in dialog_text(app.screen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, YesNoScreen))
        app.controller.cancel()
        await wait_for(pilot, lambda: not app.controller.live)
