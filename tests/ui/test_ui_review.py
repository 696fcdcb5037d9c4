"""From the start screen to a reviewed, saved preset, by keyboard only; the review's three views."""

from __future__ import annotations

from conftest import type_text, wait_for
from textual.widgets import Input, OptionList, Static

from hawizard.design.preset_file import load_preset
from hawizard.ui.app import HawizardApp
from hawizard.ui.design import DesignScreen
from hawizard.ui.questions import SECTIONS
from hawizard.ui.review import ReviewScreen


def review_ready(app) -> bool:
    return isinstance(app.screen, ReviewScreen) and app.screen.prepared is not None


async def test_full_walk_from_start_to_a_saved_preset(tmp_path):
    """Article preset -> every question section -> review -> save; the file loads back equal."""
    app = HawizardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")  # article, the first shipped preset
        await wait_for(pilot, lambda: isinstance(app.screen, DesignScreen))
        design_screen = app.screen
        seen = [design_screen.current]
        for _ in SECTIONS[1:]:
            await pilot.press("ctrl+n")
            seen.append(design_screen.current)
        assert seen == [s.key for s in SECTIONS]  # the article's order, then the concrete parts
        await pilot.press("ctrl+n")  # past the last section: the review
        await wait_for(pilot, lambda: review_ready(app))
        review = app.screen
        summary = str(review.query_one("#review-summary", Static).render())
        assert "0 error(s), 10 warning(s), 4 note(s)" in summary

        await pilot.press("s")
        await pilot.pause()
        field = app.screen.query_one("#prompt-input", Input)
        assert field.value == str(tmp_path / "article.toml")  # proposed: the working directory
        await pilot.press("ctrl+u")  # clear, then a path relative to the working directory
        await type_text(pilot, "s/mine.toml")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen))
        status = str(app.screen.query_one("#review-status", Static).render())
        assert "Preset saved to" in status

    saved = tmp_path / "s" / "mine.toml"
    assert load_preset(saved) == load_preset("article") == app.design
    assert (saved.stat().st_mode & 0o777) == 0o644
    assert not list(saved.parent.glob(".*.tmp"))  # written atomically: no temporary left behind


async def test_review_shows_files_per_node_with_placeholders_never_secrets():
    app = HawizardApp(preset="debian12", initial="review")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        await pilot.press("2")
        await pilot.pause()
        files = app.screen.query_one("#file-list", OptionList)
        ids = [files.get_option_at_index(i).id for i in range(files.option_count)]
        assert "srv1|corosync-authkey" in ids and "srv2|corosync-conf" in ids
        files.highlighted = ids.index("srv1|corosync-authkey")
        await pilot.pause()
        text = app.screen.shown_file
        assert "«secret corosync-authkey: generated at apply time»" in text
        assert "@@SECRET" not in text
        await pilot.press("3")
        await pilot.pause()
        plan_text = str(app.screen.query_one("#plan-content", Static).render())
        assert "DESTRUCTIVE: type 'create-md r0'" in plan_text
        assert "switchover" in plan_text and "optional" in plan_text


async def test_a_problem_opens_its_question():
    app = HawizardApp(preset="article", initial="review")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        problems = app.screen.problems
        index = next(i for i, p in enumerate(problems) if p.path == "fencing.method")
        olist = app.screen.query_one("#problem-list", OptionList)
        olist.focus()
        olist.highlighted = index
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DesignScreen)
                       and app.screen.current == "when-fails")
        await wait_for(pilot, lambda: app.focused is not None
                       and app.focused.parent.id == "f-fencing--method")


async def test_errors_block_running_and_are_listed_first():
    app = HawizardApp(preset="article", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        app.design.nodes[1].name = app.design.nodes[0].name  # a cross-field error the lint reports
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: review_ready(app))
        assert app.screen.problems[0].code == "node-names"
        await pilot.press("a")
        assert "Fix the 1 error(s) first" in str(app.screen.query_one("#review-status", Static).render())
        assert app.controller is None
        assert "errors" in str(app.screen.query_one("#file-content", Static).render())
