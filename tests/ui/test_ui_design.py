"""The start screen and the design questions: built from the model, checked at the field, linted in place."""

from __future__ import annotations

import pytest
from conftest import wait_for
from textual.widgets import Input, OptionList, Select, Static

from hawizard.design.preset_file import load_preset, save_preset, shipped_presets
from hawizard.run.journal import Journal
from hawizard.ui.app import HawizardApp
from hawizard.ui.design import DesignScreen, SectionPane
from hawizard.ui.fieldpaths import leaf_paths
from hawizard.ui.forms import FieldRow, field_id
from hawizard.ui.questions import SECTIONS
from hawizard.ui.start import StartScreen


def row_text(screen, path: str) -> str:
    row = screen.query_one(f"#{field_id(path)}", FieldRow)
    return str(row.query_one(".field-msg", Static).render())


async def open_article(pilot, app) -> DesignScreen:
    await pilot.pause()
    await pilot.press("enter")  # the first option is the article preset
    await wait_for(pilot, lambda: isinstance(app.screen, DesignScreen))
    await pilot.pause()
    return app.screen


# -- the question table covers the model -------------------------------------------------------

# the fields each fencing method asks for, and only it
METHOD_FIELDS = {
    "sbd": ("fencing.sbd_devices", "fencing.watchdog_device", "fencing.watchdog_timeout_s",
            "fencing.msgwait_timeout_s"),
    "agent": tuple(f"nodes[{i}].fence_{k}" for i in (0, 1) for k in ("agent", "params", "password_ref")),
}
FENCED_FIELDS = ("fencing.race", "fencing.delay_s", "fencing.stonith_timeout_s", "fencing.action")


@pytest.mark.parametrize("stack", ["centos5-heartbeat", "debian12-crmsh"])
def test_every_model_field_is_asked_once(stack):
    """Each editable leaf of the model is a question somewhere; none is asked twice. The fencing
    method decides which fencing fields are asked: together, the three methods ask them all."""
    design = load_preset("debian12")  # sbd, with a disk: a list of strings is one field
    design.stack = stack
    skipped_section = "corosync." if stack.startswith("centos5") else "heartbeat."
    expected = [p for p in leaf_paths(design) if not p.startswith(skipped_section)]
    asked_by_some: set[str] = set()
    for method in ("sbd", "agent", "none"):
        design.fencing.method = method
        asked = [e for s in SECTIONS for e in s.entries(design) if isinstance(e, str)]
        assert len(asked) == len(set(asked)), method
        assert set(asked) <= set(expected), set(asked) - set(expected)
        for other, fields in METHOD_FIELDS.items():
            assert set(fields) & set(asked) == (set(fields) if other == method else set()), (method, other)
        assert set(FENCED_FIELDS) & set(asked) == (set(FENCED_FIELDS) if method != "none" else set()), method
        asked_by_some |= set(asked)
    assert sorted(asked_by_some) == sorted(expected)


def test_every_section_says_what_its_choice_costs():
    for s in SECTIONS:
        assert s.question.endswith("?")
        assert 150 <= len(s.brief) <= 420, s.key  # two or three lines at 80 columns
    assert "point of failure" in next(s for s in SECTIONS if s.key == "monitoring").brief


# -- start -------------------------------------------------------------------------------------

async def test_start_lists_the_shipped_presets_and_opens_one():
    app = HawizardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        options = app.screen.query_one("#start-options", OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert ids[:4] == ["preset:article", "preset:debian12", "preset:debian12-pcs", "preset:el9"]
        assert ids[:len(shipped_presets())] == [f"preset:{n}" for n in shipped_presets()]
        screen = await open_article(pilot, app)
        assert app.design == load_preset("article")
        assert screen.current == "failure"


async def test_start_open_file_explains_a_broken_preset(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('schema_version = 1\nname = "x"\nstakc = "el9-pcs"\n')
    app = HawizardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        prompt = app.screen.query_one("#prompt-input", Input)
        prompt.value = str(bad)
        await pilot.press("enter")
        await pilot.pause()
        error = str(app.screen.query_one("#prompt-error", Static).render())
        assert "unknown key" in error and "did you mean 'stack'" in error
        assert app.design is None
        good = tmp_path / "mine.toml"
        save_preset(load_preset("el9"), good)
        prompt.value = str(good)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DesignScreen))
        assert app.design.stack == "el9-pcs" and app.saved_path == good


async def test_start_offers_to_resume_an_unfinished_run():
    design = load_preset("article")
    from hawizard.design.preset_file import preset_sha256

    journal = Journal("20260101T000000Z-abcdef", "article", preset_sha256(design), ["preflight", "install"],
                      {"preflight": {"srv1": "done", "srv2": "done"}}, status="failed")
    journal.save()
    app = HawizardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        options = app.screen.query_one("#start-options", OptionList)
        count = len(shipped_presets()) + 2  # the presets, "open a file", "resume"
        await wait_for(pilot, lambda: options.option_count == count)
        last = options.get_option_at_index(count - 1)
        assert last.id == "resume"
        assert "stopped at install" in str(last.prompt)


# -- questions --------------------------------------------------------------------------------

async def test_invalid_input_is_explained_at_the_field_and_not_applied():
    app = HawizardApp(preset="article", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await screen.goto("nodes[0].service_address")
        await pilot.pause()
        row = screen.query_one(f"#{field_id('nodes[0].service_address')}", FieldRow)
        row.query_one(Input).value = "192.168.0.101"
        await pilot.pause()
        assert "needs a prefix length" in row_text(screen, "nodes[0].service_address")
        assert app.design.nodes[0].service_address == "192.168.0.101/24"  # refused: not applied
        assert "nodes[0].service_address" in app.field_errors
        await pilot.press("ctrl+r")  # the review lists it and refuses to run
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ReviewScreen")
        assert any(p.code == "field" for p in app.screen.errors)
        await pilot.press("d")
        assert "Fix the 1 error(s) first" in str(app.screen.query_one("#review-status", Static).render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DesignScreen))
        row.query_one(Input).value = "192.168.0.111/24"
        await pilot.pause()
        assert row_text(screen, "nodes[0].service_address") == ""
        assert app.design.nodes[0].service_address == "192.168.0.111/24"
        assert not app.field_errors


async def test_numbers_are_checked_against_the_model_limits():
    app = HawizardApp(preset="article", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await screen.goto("answers.switchover_target_s")
        await pilot.pause()
        control = screen.query_one(f"#{field_id('answers.switchover_target_s')} Input", Input)
        assert control.type == "integer"  # letters cannot even be typed
        control.value = "5"
        await pilot.pause()
        assert "must be between 10 and 3600" in row_text(screen, "answers.switchover_target_s")
        assert app.design.answers.switchover_target_s == 300


async def test_lint_warnings_show_where_they_apply_and_follow_the_answers():
    app = HawizardApp(preset="article", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await screen.goto("service.apache_agent")
        await pilot.pause()
        assert "check the PID only" in row_text(screen, "service.apache_agent")  # the article's own mismatch
        select = screen.query_one(f"#{field_id('answers.process_check')} Select", Select)
        select.value = "http-status"
        await pilot.pause()
        assert app.design.answers.process_check == "http-status"
        assert row_text(screen, "service.apache_agent") == ""
        assert "⚠1" in str(screen.query_one("#nav-label-monitoring").render())  # the other one remains
        await screen.goto("fencing.method")
        await pilot.pause()
        assert "Fencing is off while data is replicated" in row_text(screen, "fencing.method")


async def test_switchover_section_shows_the_estimate_and_updates_it():
    app = HawizardApp(preset="article", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await screen.goto("timing.default_action_timeout_s")
        await pilot.pause()
        estimate = screen.query_one("#estimate", Static)
        assert "990 s  over target" in str(estimate.render())
        screen.query_one(f"#{field_id('timing.default_action_timeout_s')} Input", Input).value = "0"
        await pilot.pause()
        text = str(estimate.render().plain)
        node = next(ln for ln in text.splitlines() if "node lost" in ln)
        service = next(ln for ln in text.splitlines() if "service failed" in ln)
        # each agent's own timeouts: node loss fits; a service failure does not, and nothing is cut to fit
        assert "240 s" in node and "over target" not in node
        assert "480 s" in service and "over target" in service


async def test_changing_the_stack_changes_the_membership_questions():
    app = HawizardApp(preset="article", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await screen.goto("heartbeat.deadtime_s")
        await pilot.pause()
        await screen.goto("stack")
        await pilot.pause()
        screen.query_one(f"#{field_id('stack')} Select", Select).value = "debian12-crmsh"
        await pilot.pause()
        await screen.goto("corosync.token_ms")
        await pilot.pause()
        pane = screen.query_one("#sec-membership", SectionPane)
        assert "corosync.token_ms" in pane.paths and "heartbeat.deadtime_s" not in pane.paths
        assert screen.query_one("#sections").current == "sec-membership"


async def test_links_can_be_added_and_removed_on_both_nodes():
    app = HawizardApp(preset="debian12", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await screen.goto("nodes[0].name")
        await pilot.pause()
        before = [len(n.interconnects) for n in app.design.nodes]
        screen.query_one("#add-link").press()
        await wait_for(pilot, lambda: screen.query(f"#{field_id(f'nodes[1].interconnects[{before[1]}].address')}"))
        assert [len(n.interconnects) for n in app.design.nodes] == [b + 1 for b in before]
        screen.query_one("#remove-link").press()
        await wait_for(pilot, lambda: [len(n.interconnects) for n in app.design.nodes] == before)
