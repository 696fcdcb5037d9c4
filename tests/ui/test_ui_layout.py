"""What is on screen at 80x24: the plan, the field being edited, focus, the help box, long lines.

Each test looks at what the operator sees (regions of widgets, the screen's text), not at the
wizard's internals, so that it holds for any layout that shows the right thing.
"""

# ruff: noqa: B023 - each condition is waited for within the loop iteration that defines it

from __future__ import annotations

import pytest
from conftest import SIZES, answer_confirmations, burst, in_view, screen_text, wait_for
from textual.widgets import Input, Log, OptionList, Select, Static

from hawizard.design.preset_file import shipped_presets
from hawizard.ui.app import HawizardApp
from hawizard.ui.design import DesignScreen, SectionPane
from hawizard.ui.forms import FieldRow, field_id
from hawizard.ui.questions import SECTIONS
from hawizard.ui.review import ReviewScreen
from hawizard.ui.run import RunScreen


def review_ready(app) -> bool:
    return isinstance(app.screen, ReviewScreen) and app.screen.prepared is not None


def row_and_pane(app):
    focused = app.focused
    if focused is None:
        return None, None
    row = next((a for a in focused.ancestors_with_self if isinstance(a, FieldRow)), None)
    pane = next((a for a in focused.ancestors_with_self if isinstance(a, SectionPane)), None)
    return row, pane


# -- 2.1 the Plan tab -----------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_the_plan_tab_shows_the_plan_for_every_preset(size):
    for preset in shipped_presets():
        app = HawizardApp(preset=preset, initial="review")
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda: review_ready(app), timeout=30)
            await pilot.press("3")
            view = app.screen.query_one("#plan-view")
            await wait_for(pilot, lambda: view.region.height >= size[1] // 2,
                           timeout=5)  # the pane fills the screen under the tabs
            first = app.screen.prepared.plan.steps[0].id
            assert f"1. {first}" in screen_text(app), preset
            top = view.scroll_y
            await pilot.press("pagedown")
            await wait_for(pilot, lambda: view.scroll_y > top, timeout=5)  # hundreds of lines: it scrolls


# -- 2.3 the field being edited stays in view ------------------------------------------------------

@pytest.mark.parametrize("stack", ["centos5-heartbeat", "debian12-crmsh"])
async def test_enter_on_any_problem_shows_its_field_and_message(stack):
    app = HawizardApp(preset="article", initial="review")  # the shipped preset with the most findings
    app.design.stack = stack
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app), timeout=30)
        paths = [p.path for p in app.screen.problems]
        checked = 0
        for i, path in enumerate(paths):
            review = app.screen
            olist = review.query_one("#problem-list", OptionList)
            olist.highlighted = i
            review.set_focus(olist)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, DesignScreen))
            if app.screen.query(f"#{field_id(path)}"):  # a problem about a field (not a whole section)
                await wait_for(pilot, lambda: row_and_pane(app)[0] is not None
                               and row_and_pane(app)[0].path == path)
                row, pane = row_and_pane(app)
                await wait_for(pilot, lambda: in_view(row, pane), timeout=5)
                checked += 1
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: review_ready(app))
        assert checked >= 3


async def test_typing_keeps_the_field_and_its_new_message_in_view():
    """The last field of a section, Default action timeout: a value out of range puts a message under it."""
    app = HawizardApp(preset="article", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        path = "timing.default_action_timeout_s"
        await screen.goto(path)
        field = screen.query_one(f"#{field_id(path)} Input", Input)
        await wait_for(pilot, lambda: app.focused is field)
        for value in ("9999999", "0", "5", "120", "99999"):
            await burst(pilot, "end", *["backspace"] * 8, *value)
            await wait_for(pilot, lambda: field.value == value)
            row, pane = row_and_pane(app)
            msgs = list(row.query(".field-msg").results(Static))
            await wait_for(pilot, lambda: in_view(row, pane)
                           and all(in_view(m, pane) for m in msgs if m.display), timeout=5)


# -- 2.8 focus ------------------------------------------------------------------------------------

def _face(control):
    """The part of a control that shows its value (a Select shows it in its SelectCurrent)."""
    if isinstance(control, Select):
        from textual.widgets._select import SelectCurrent

        return control.query_one(SelectCurrent)
    return control


def _distance(a, b) -> float:
    return sum((x - y) ** 2 for x, y in zip(a.rgb, b.rgb, strict=True)) ** 0.5


async def test_the_focused_input_select_and_switch_stand_out():
    app = HawizardApp(preset="article", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        for path in ("service.vip", "answers.process_check", "answers.reuse_data"):
            await screen.goto(path)
            control = screen.query_one(f"#{field_id(path)} .field-control")
            await wait_for(pilot, lambda: app.focused is control)
            await pilot.pause(0.1)
            focused = _face(control).background_colors[1]
            await screen.goto("name")
            await wait_for(pilot, lambda: app.focused is not control)
            await pilot.pause(0.1)
            plain = _face(control).background_colors[1]
            assert _distance(focused, plain) > 100, (path, focused, plain)  # not one grey step apart


async def test_review_opens_with_the_cursor_in_the_problem_list():
    app = HawizardApp(preset="article", initial="review")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        problems = app.screen.query_one("#problem-list", OptionList)
        await wait_for(pilot, lambda: app.focused is problems)
        before = problems.highlighted or 0
        await pilot.press("down")
        assert problems.highlighted == before + 1


async def test_tab_in_files_stops_only_where_focus_shows():
    app = HawizardApp(preset="article", initial="review")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        await pilot.press("2")
        await pilot.pause(0.2)
        screen = app.screen
        chain = [w.id for w in screen.focus_chain]
        assert chain == ["file-list", "file-view"], chain  # the list and the file it shows, nothing unseen
        view = screen.query_one("#file-view")
        screen.set_focus(screen.query_one("#file-list"))
        await pilot.pause(0.1)
        plain = view.styles.border_left
        await pilot.press("tab")
        await wait_for(pilot, lambda: app.focused is view)
        await pilot.pause(0.1)
        assert view.styles.border_left != plain  # the file view marks its focus
        await pilot.press("tab")
        await wait_for(pilot, lambda: app.focused is screen.query_one("#file-list"))


async def test_add_a_link_keeps_the_cursor_on_the_button_and_in_view():
    app = HawizardApp(preset="debian12", initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await screen.goto("nodes[1].backing_disk")
        await pilot.pause(0.2)
        for button, links in (("add-link", 3), ("add-link", 4), ("remove-link", 3)):
            screen.set_focus(screen.query_one(f"#{button}"))
            await pilot.pause(0.2)
            await pilot.press("enter")
            await wait_for(pilot, lambda: len(app.design.nodes[0].interconnects) == links)
            await wait_for(pilot, lambda: app.focused is not None and app.focused.id == button, timeout=5)
            pane = screen.query_one("#sec-nodes", SectionPane)
            await wait_for(pilot, lambda: in_view(app.focused, pane), timeout=5)


# -- 2.9 text that does not fit --------------------------------------------------------------------

def help_lines(screen) -> tuple[int, int]:
    """(lines the help text needs, lines the help box shows)."""
    box = screen.query_one("#field-help")
    text = box if isinstance(box, Static) else box.query_one(Static)
    width = text.content_region.width
    needed = text.get_content_height(text.size, screen.app.size, width)
    shown = box.content_region.height if box is text else box.scrollable_content_region.height
    return needed, shown


@pytest.mark.parametrize("preset", ["article", "debian12", "el9"])  # fencing: none, sbd, agent
async def test_the_help_box_shows_all_of_its_text_at_80x24(preset):
    app = HawizardApp(preset=preset, initial="design")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        for section in SECTIONS:
            for path in [e for e in section.entries(app.design) if isinstance(e, str)]:
                await screen.goto(path)
                control = screen.query_one(f"#{field_id(path)} .field-control")
                await wait_for(pilot, lambda: app.focused is control)
                label = str(screen.query_one(f"#{field_id(path)} .field-label", Static).render())
                help_text = screen.query_one("#field-help-text" if screen.query("#field-help-text")
                                             else "#field-help", Static)
                await wait_for(pilot, lambda: str(help_text.render()).startswith(label))  # this field's help
                try:
                    await wait_for(pilot, lambda: help_lines(screen)[0] <= help_lines(screen)[1], timeout=3)
                except AssertionError:
                    raise AssertionError(f"{path}: the help needs {help_lines(screen)[0]} lines, "
                                         f"the box shows {help_lines(screen)[1]}") from None


async def test_a_long_line_of_a_file_is_folded_with_a_continuation_mark():
    from hawizard.render.renderer import render

    app = HawizardApp(preset="article", initial="review")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        await pilot.press("2")
        await pilot.pause(0.2)
        rendering = render(app.design)
        node = app.design.node_names[0]
        longest = max(rendering.for_node(node), key=lambda f: max(len(x) for x in f.preview(rendering.secrets)
                                                                  .splitlines()))
        files = app.screen.query_one("#file-list", OptionList)
        ids = [files.get_option_at_index(i).id for i in range(files.option_count)]
        files.highlighted = ids.index(f"{node}|{longest.id}")
        await pilot.pause(0.3)
        view = app.screen.query_one("#file-view")
        long_line = max(longest.preview(rendering.secrets).splitlines(), key=len).strip()
        assert len(long_line) > view.size.width  # the case at hand: a line wider than the view
        x0, x1 = view.scrollable_content_region.x, view.scrollable_content_region.right  # not the scroll bar
        height = view.scrollable_content_region.height
        rows: dict[int, str] = {}  # line of the content -> its text, read off the screen page by page
        offset = 0
        while True:
            view.scroll_to(y=offset, animate=False, immediate=True)
            await wait_for(pilot, lambda: view.scroll_y == min(offset, view.max_scroll_y))
            await pilot.pause(0.05)
            y0 = view.scrollable_content_region.y
            screen_rows = screen_text(app).splitlines()[y0:y0 + height]
            for i, line in enumerate(screen_rows):
                rows[int(view.scroll_y) + i] = line[x0:x1].rstrip()
            if view.scroll_y >= view.max_scroll_y:
                break
            offset += height
        lines = [rows[i] for i in sorted(rows)]
        assert any(r.startswith("↪") for r in lines), lines  # a continuation is marked as one
        joined: list[str] = []
        for r in lines:
            if r.startswith("↪") and joined:
                joined[-1] += r[1:]
            else:
                joined.append(r)
        squeeze = "".join(long_line.split())
        assert any(squeeze in "".join(r.split()) for r in joined)  # the pieces join back into the line


async def test_the_run_log_folds_long_commands_instead_of_cutting_them():
    from ui_fakes import fake_factory

    from hawizard.design.preset_file import load_preset
    from hawizard.plan.build import build_plan

    _made, factory = fake_factory(build_plan(load_preset("article")))
    app = HawizardApp(preset="article", initial="review", session_factory=factory, poll_scale=0.01)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("y")
        await answer_confirmations(pilot, app)
        assert isinstance(app.screen, RunScreen)
        await pilot.pause(0.3)
        out = app.screen.query_one("#out-0", Log)
        width = out.scrollable_content_region.width
        shown = [str(line) for line in out.lines]
        assert max(len(line) for line in shown) <= width  # nothing runs past the edge
        commands = [line for line in app.controller.lines[app.design.node_names[0]] if line.startswith("$ ")]
        long_ones = [c for c in commands if len(c) > width]
        assert long_ones
        unfolded: list[str] = []
        for line in shown:  # a line starting with the mark continues the one before
            if line.startswith("↪ ") and unfolded:
                unfolded[-1] += line[2:]
            else:
                unfolded.append(line)
        for command in long_ones:  # every character of each command is on screen, in order
            assert command in unfolded
