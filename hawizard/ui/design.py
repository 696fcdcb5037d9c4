"""The design questions: one section per question, in the article's order, then the concrete parts.

The section list on the left shows where the lint found something; the open section shows its
question, what the choice costs and protects, and one row per field. A value is checked as it
is typed; the whole design is linted after every accepted change (about a millisecond), and
each finding is shown at the field it names. The switch-over section shows the worst-case
switch-over times for the current values.

The field being edited, with its message, is kept on screen: after a change of focus, after
every check (a new message can push it down) and when the help box changes size. Changing the
target stack lets the old stack's own values follow the new stack (hawizard/design/stackswitch.py)
and says which did.

One module for one screen (about 450 lines): the section list, the rows of the open section, and
keeping the focused field in view all act on the same widgets and the same events; the pieces that
stand alone already live apart (questions, forms, fieldpaths, keyorder).
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import DescendantFocus
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Footer, Header, Label, ListItem, ListView, Select, Static

from hawizard.design import lint, stackswitch, timing
from hawizard.design.model import Design, Interconnect
from hawizard.design.preset_file import PresetSource
from hawizard.design.problems import ERROR, INFO, WARNING, Problem
from hawizard.ui.fieldpaths import get_value, parse_input, set_value
from hawizard.ui.forms import STYLE, FieldRow, field_id, label_for, problem_text
from hawizard.ui.keyorder import KEY_WAIT_S
from hawizard.ui.questions import CHOICE_NOTES, SECTIONS, Entry, Heading, Section

_STRUCTURAL = ("stack", "name")  # edits after which other sections' rows or headings may change
_RESHAPING = ("fencing.method",)  # edits after which the open section shows other rows


def problems_of(design: Design, field_errors: dict[str, str], source: PresetSource | None = None) -> list[Problem]:
    """The lint's findings (at their file:line while the design still matches its file) and the
    values refused at their fields."""
    try:
        found = lint.check(design)
    except Exception as exc:  # noqa: BLE001 - a half-edited design must not take the wizard down
        found = [Problem(ERROR, "lint", "", f"the design cannot be checked: {exc}")]
    if source is not None:
        found = source.place(found)
    return [Problem(ERROR, "field", path, f"{msg} (not applied)") for path, msg in field_errors.items()] + found


def _below(path: str, row: str) -> bool:
    """``path`` names a part of the value of ``row`` (one disk of a list, one fence parameter)."""
    return path.startswith(row + ".") or path.startswith(row + "[")


def _row_sections(design: Design) -> dict[str, str]:
    """Each row's path, in the order asked, and the section that asks it."""
    row_section: dict[str, str] = {}
    for s in SECTIONS:
        for e in s.entries(design):
            if isinstance(e, str):
                row_section.setdefault(e, s.key)
    return row_section


def row_of(design: Design, path: str) -> str | None:
    """The row that shows ``path``: the row itself, or the row whose value holds it
    (fencing.sbd_devices[1] is one disk of the list typed in fencing.sbd_devices)."""
    return _row_in(_row_sections(design), path)


def _row_in(rows: dict[str, str], path: str) -> str | None:
    if path in rows:
        return path
    return next((r for r in rows if _below(path, r)), None)


def place_problems(design: Design, problems: list[Problem]) -> tuple[dict[str, list[Problem]],
                                                                      dict[str, list[Problem]], list[Problem]]:
    """Where each finding shows: at a field (by path, or a part of its value), at a section (a path
    above fields), or nowhere."""
    row_section = _row_sections(design)
    at_row: dict[str, list[Problem]] = {}
    at_section: dict[str, list[Problem]] = {}
    unplaced: list[Problem] = []
    for p in problems:
        row = _row_in(row_section, p.path) if p.path else None
        if row is not None:
            at_row.setdefault(row, []).append(p)
            continue
        owner = next((row_section[r] for r in row_section
                      if p.path and (r.startswith(p.path + ".") or r.startswith(p.path + "["))), None)
        if owner is not None:
            at_section.setdefault(owner, []).append(p)
        else:
            unplaced.append(p)
    return at_row, at_section, unplaced


def section_of(design: Design, path: str) -> Section | None:
    """The section that asks for ``path``, for a part of its value, or for the fields under it."""
    for s in SECTIONS:
        entries = [e for e in s.entries(design) if isinstance(e, str)]
        if any(e == path or _below(e, path) or _below(path, e) for e in entries):
            return s
    return None


def estimate_text(design: Design) -> Text:
    try:
        est = timing.estimate(design)
    except Exception as exc:  # noqa: BLE001
        return Text(f"No estimate: {exc}", style="yellow")
    target = design.answers.switchover_target_s
    out = Text("Worst case, every step at its timeout:\n", style="bold")

    def line(label: str, seconds: float, judged: bool = True) -> None:
        over = judged and seconds > target
        out.append(f"  {label:<18}{seconds:>6.0f} s", style="bold red" if over else "")
        out.append("  over target\n" if over else "\n", style="red")
    line("node lost", est.node_loss_s)
    line("service failed", est.service_failure_s, judged=design.answers.process_failure != "restart")
    line("restart in place", est.restart_s, judged=False)
    out.append(f"  target {target} s; peer declared dead after {est.detection_s:.0f} s", style="dim")
    for note in est.notes:
        out.append(f"\n  {note}", style="dim")
    return out


NAV_COLUMNS = 21  # the section list's text width at 80 columns (hawizard.tcss: #section-nav)


def nav_text(number: int, short: str, n_err: int, n_warn: int, width: int) -> Text:
    """A section's line in the section list: its number, name and counts of errors and warnings.
    The counts always show; the name gives way (with '…') when the line is wider than the list."""
    counts = [(f" {STYLE['error'][0]}{n_err}", STYLE["error"][1])] if n_err else []
    counts += [(f" {STYLE['warning'][0]}{n_warn}", STYLE["warning"][1])] if n_warn else []
    head = f"{number:>2} "
    room = width - len(head) - sum(len(c) for c, _ in counts)
    name = short if len(short) <= room else short[:max(room - 1, 1)].rstrip() + "…"
    label = Text(head + name)
    for text, style in counts:
        label.append(text, style=style)
    return label


class SectionPane(VerticalScroll):
    """The rows of one section."""

    def __init__(self, section: Section, design: Design, number: int) -> None:
        super().__init__(id=f"sec-{section.key}", classes="section-pane")
        self.section, self.number = section, number
        self.entries: list[Entry] = section.entries(design)
        self.design = design
        self.shown_problems: tuple[Problem, ...] = ()

    def compose(self) -> ComposeResult:
        s = self.section
        yield Static(Text(f"{self.number}. {s.title}", style="bold"), classes="section-title")
        yield Static(Text(s.question, style="italic"), classes="section-question")
        yield Static(s.brief, classes="section-brief")
        if s.shows_estimate:
            yield PaneText(estimate_text(self.design), id="estimate", classes="estimate")
        yield PaneText("", classes="section-msg")
        for i, e in enumerate(self.entries):
            if isinstance(e, Heading):
                yield Static(Text(e.text, style="bold underline"), classes="heading", id=f"h-{s.key}-{i}")
            else:
                yield FieldRow(self.design, e)
        if s.key == "nodes":
            with Horizontal(classes="section-buttons"):
                yield Button("Add a link", id="add-link", compact=True)
                yield Button("Remove the last link", id="remove-link", compact=True)

    @property
    def paths(self) -> list[str]:
        return [e for e in self.entries if isinstance(e, str)]

    def on_resize(self) -> None:
        keep_focus_in_view(self)


def keep_focus_in_view(widget) -> None:
    """``widget`` changed size: the field being edited may have moved; the design screen scrolls to it."""
    keep = getattr(widget.screen, "keep_focus_in_view", None)
    if keep is not None:
        keep()


class PaneText(Static):
    """A text of the open section (the estimate, the section's findings) that may change height."""

    def on_resize(self) -> None:
        keep_focus_in_view(self)


class DesignScreen(Screen):
    """Edits ``app.design`` in place."""

    BINDINGS = [
        Binding("ctrl+n", "next_section", "Next section"),
        Binding("ctrl+p", "previous_section", "Previous"),
        Binding("ctrl+r", "review", "Review"),
        Binding("f2", "focus_sections", "Sections"),
        Binding("escape", "leave", "Start over"),
    ]

    def __init__(self, section_key: str | None = None) -> None:
        super().__init__()
        self.first_section = section_key or SECTIONS[0].key
        self.current = ""
        self.problems: list[Problem] = []
        self.notes: dict[str, list[Problem]] = {}  # path -> what a stack change did there
        self._editing = asyncio.Lock()  # one edit at a time, and keys wait for it (before_key)
        self._switching = asyncio.Lock()  # one section change at a time (the App's task and this screen's)

    @property
    def design(self) -> Design:
        return self.app.design  # type: ignore[attr-defined]

    @property
    def field_errors(self) -> dict[str, str]:
        return self.app.field_errors  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="design-body"):
            yield ListView(*[ListItem(Label(f"{i:>2} {s.short}", id=f"nav-label-{s.key}"), id=f"nav-{s.key}")
                             for i, s in enumerate(SECTIONS, 1)], id="section-nav")
            with Vertical(id="section-area"):
                yield ContentSwitcher(id="sections")
                with VerticalScroll(id="field-help", can_focus=False):  # sized to its text (scrolls if ever longer)
                    yield Static("", id="field-help-text")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = f"design: {self.design.name}"
        nav = self.query_one("#section-nav", ListView)
        nav.index = [s.key for s in SECTIONS].index(self.first_section)
        await self.show_section(self.first_section)
        self.call_after_refresh(self._focus_first_row)

    # -- sections --------------------------------------------------------------------------
    async def show_section(self, key: str, focus_path: str | None = None) -> None:
        """Open section ``key`` (built, or rebuilt when its rows changed). Callers hold ``_switching``
        once keys can arrive: the App's task and this screen's both change sections."""
        switcher = self.query_one("#sections", ContentSwitcher)
        pane_id = f"sec-{key}"
        existing = list(self.query(f"#{pane_id}").results(SectionPane))
        section = next(s for s in SECTIONS if s.key == key)
        if existing and existing[0].entries != section.entries(self.design):
            for path in [p for p in self.field_errors if p in existing[0].paths]:
                self.field_errors.pop(path)  # the rebuilt rows show the design's values again
            await existing[0].remove()
            existing = []
        if not existing:
            number = [s.key for s in SECTIONS].index(key) + 1
            await switcher.mount(SectionPane(section, self.design, number))
        self.current = key
        switcher.current = pane_id
        self.call_after_refresh(self.refresh_problems)
        if focus_path:
            # at once, not after the next refresh: keys typed meanwhile must reach this field
            self.focus_field(focus_path)

    def focus_field(self, path: str) -> None:
        for row in self.query(f"#{field_id(path)}").results(FieldRow):
            row.focus_control()
        self.keep_focus_in_view()

    def keep_focus_in_view(self) -> None:
        """After the next layout, scroll the open section so the focused field and its message show."""
        self.call_after_refresh(self._scroll_to_focus)

    def _scroll_to_focus(self) -> None:
        focused = self.focused
        if focused is None:
            return
        pane = next((n for n in focused.ancestors if isinstance(n, SectionPane)), None)
        if pane is None or not pane.display:
            return
        row = next((n for n in focused.ancestors_with_self if isinstance(n, FieldRow)), None)
        target = row if row is not None else focused
        # a row taller than the pane shows from its top (its label and control); Region.crop_size
        pane.scroll_to_widget(target, animate=False, immediate=True)

    def _show_below(self, path: str) -> None:
        """Scroll the row of ``path`` to the top of its section, so the rows it brought show under it."""
        for row in self.query(f"#sec-{self.current} #{field_id(path)}").results(FieldRow):
            pane = next(n for n in row.ancestors if isinstance(n, SectionPane))
            pane.scroll_to_widget(row, animate=False, immediate=True, top=True)

    async def goto(self, path: str) -> None:
        """Show the section that asks for ``path`` and put the cursor on it."""
        section = section_of(self.design, path)
        if section is None:
            return
        async with self._switching:
            self.current = section.key  # the list's Highlighted message must not show it a second time
            self.query_one("#section-nav", ListView).index = [s.key for s in SECTIONS].index(section.key)
            await self.show_section(section.key, focus_path=row_of(self.design, path) or path)

    @on(ListView.Highlighted, "#section-nav")
    async def _nav_moved(self, event: ListView.Highlighted) -> None:
        # The App runs Ctrl+N/Ctrl+P in its own task while this message runs in the screen's: after a
        # burst of Ctrl+N the Highlighted of a section already left arrives late. Only the list's
        # present row counts, or an earlier section reopens under the action's feet.
        item = event.item
        if item is None or not item.id or item is not event.list_view.highlighted_child:
            return
        key = item.id.removeprefix("nav-")
        async with self._switching:
            if key != self.current:
                await self.show_section(key)

    @on(ListView.Selected, "#section-nav")
    def _nav_selected(self, event: ListView.Selected) -> None:
        for pane in self._open_pane():
            rows = list(pane.query(FieldRow))
            if rows:
                rows[0].focus_control()

    def _open_pane(self) -> list[SectionPane]:
        """The open section's pane, or none while the other task is still mounting it (``current`` names
        the section being opened from the moment Ctrl+N is taken: the queries must not assume it is there)."""
        return list(self.query(f"#sec-{self.current}").results(SectionPane))

    async def _move(self, delta: int) -> None:
        async with self._switching:  # one section change at a time, whichever task asks
            keys = [s.key for s in SECTIONS]
            i = keys.index(self.current) + delta
            if i >= len(keys):
                self.action_review()
                return
            i = max(0, i)
            self.current = keys[i]
            self.query_one("#section-nav", ListView).index = i
            await self.show_section(keys[i])
            self._focus_first_row()  # at once: keys typed after Ctrl+N belong to the new section

    def _focus_first_row(self) -> None:
        """Put the cursor on the section's first field, leaving the question itself in view."""
        panes = self._open_pane()
        if not panes:
            return
        pane = panes[0]
        rows = list(pane.query(FieldRow))
        pane.scroll_home(animate=False)
        if rows:
            rows[0].focus_control(scroll=False)
            self._show_help(rows[0])

    async def action_next_section(self) -> None:
        await self._move(1)

    async def action_previous_section(self) -> None:
        await self._move(-1)

    def action_focus_sections(self) -> None:
        self.set_focus(self.query_one("#section-nav", ListView))

    def action_review(self) -> None:
        self.app.show_review()  # type: ignore[attr-defined]

    def action_leave(self) -> None:
        """Back to the start screen; changes not saved are lost, so that asks first."""
        from hawizard.ui.start import StartScreen

        stack = self.app.screen_stack
        below = stack[-2] if len(stack) >= 2 else None
        if not isinstance(below, StartScreen):  # e.g. back to a review: nothing is lost
            self.app.pop_screen()
            return

        def leave() -> None:
            self.app.forget_changes()  # type: ignore[attr-defined]
            self.app.pop_screen()
        self.app.ask_discard("Leave this design?", leave)  # type: ignore[attr-defined]

    # -- edits ------------------------------------------------------------------------------
    async def on_field_row_edited(self, event: FieldRow.Edited) -> None:
        async with self._editing:
            await self._apply_edit(event.row, event.value, event.error)

    async def before_key(self) -> None:
        """Called by the App (keyorder) before each key: a choice picked in a list but not applied yet
        is applied now, and an edit being applied is finished first. The list's message reaches this
        screen after several hops, and a key typed right after the pick (Tab) must act on the rows the
        choice brings (sbd's rows, not the agent's)."""
        try:
            await asyncio.wait_for(self._editing.acquire(), KEY_WAIT_S)
        except TimeoutError:
            return  # an edit that hangs must not freeze the keyboard
        try:
            focused = self.focused
            row = next((n for n in focused.ancestors if isinstance(n, FieldRow)), None) \
                if isinstance(focused, Select) else None
            if row is not None and row.is_attached:
                value, error = parse_input(row.info, str(focused.value))
                if not error and get_value(self.design, row.path) != value:
                    await self._apply_edit(row, value, None)
        finally:
            self._editing.release()

    async def _apply_edit(self, row: FieldRow, value: object, error: str | None) -> None:
        """The operator changed the field of ``row``: ``value`` goes into the design, or ``error`` says why not."""
        path = row.path
        if not error and path not in self.field_errors and get_value(self.design, path) == value:
            return  # a control reporting the value it was built with (or a choice applied before the next key)
        if error:
            self.field_errors[path] = error
        else:
            self.field_errors.pop(path, None)
            if get_value(self.design, path) != value:
                self.notes.pop(path, None)
                if path == "stack":
                    await self._switch_stack(str(value))
                else:
                    set_value(self.design, path, value)
                self.app.design_source = None  # type: ignore[attr-defined]  # lines no longer match a file
                if path in _STRUCTURAL or path.endswith(".name"):
                    self._refresh_headings()
                    if path == "name":
                        self.sub_title = f"design: {self.design.name}"
                if path in _RESHAPING:  # e.g. sbd's disk and watchdog instead of a fence agent per node
                    async with self._switching:  # taken after _editing, never before it
                        await self.show_section(self.current, focus_path=path)
                    self.call_after_refresh(self._show_below, path)
        self._show_help(row)
        self.refresh_problems()

    async def _switch_stack(self, stack: str) -> None:
        """A new target stack: the old stack's own values follow it, and the operator is told which."""
        old = self.design.stack
        followed = stackswitch.switch_stack(self.design, stack)
        self.notes = {}  # what an earlier change of stack did is history now
        if not followed:
            return
        for f in followed:
            self.notes[f.path] = [Problem(INFO, "stack-followed", f.path,
                                          f"changed with the stack: {f.old} is {old}'s, {f.new} is {stack}'s")]
        self.notes["stack"] = [Problem(INFO, "stack-followed", "stack",
                                       "followed the stack: " + "; ".join(f.describe() for f in followed))]
        paths = {f.path for f in followed}
        for pane in list(self.query(SectionPane)):
            if pane.section.key != self.current and paths & set(pane.paths):
                for p in [p for p in self.field_errors if p in pane.paths]:
                    self.field_errors.pop(p)  # the rebuilt rows show the design's values
                await pane.remove()  # rebuilt with the new values when shown next

    def _refresh_headings(self) -> None:
        panes = self._open_pane()
        if not panes:
            return  # being mounted: it is built from the design as it is now
        pane = panes[0]
        fresh = pane.section.entries(self.design)
        if [e for e in fresh if isinstance(e, str)] != pane.paths:
            return  # the rows changed: rebuilt when the section is shown next
        for i, e in enumerate(fresh):
            if isinstance(e, Heading):
                for h in pane.query(f"#h-{pane.section.key}-{i}").results(Static):
                    h.update(Text(e.text, style="bold underline"))
        pane.entries = fresh

    @on(Button.Pressed, "#add-link")
    async def _add_link(self) -> None:
        for i, node in enumerate(self.design.nodes):
            n = len(node.interconnects)
            node.interconnects.append(Interconnect(nic=f"eth{n + 1}", address=f"10.{n + 1}.0.{i + 1}/24"))
        await self._links_changed("add-link")

    @on(Button.Pressed, "#remove-link")
    async def _remove_link(self) -> None:
        if all(len(n.interconnects) > 1 for n in self.design.nodes):
            for node in self.design.nodes:
                node.interconnects.pop()
            await self._links_changed("remove-link")

    async def _links_changed(self, button: str) -> None:
        """The nodes section is rebuilt with the new rows; the cursor stays on the button pressed."""
        self.app.design_source = None  # type: ignore[attr-defined]  # lines no longer match a file
        async with self._switching:
            await self.show_section("nodes")
            self._focus_button(button)  # at once: the next key goes to the button, as before the rebuild

    def _focus_button(self, button: str) -> None:
        for b in self.query(f"#sec-nodes #{button}").results(Button):
            self.set_focus(b, scroll_visible=False)
            self.keep_focus_in_view()

    # -- findings ---------------------------------------------------------------------------
    def refresh_problems(self) -> None:
        self.problems = problems_of(self.design, self.field_errors, self.app.design_source)  # type: ignore[attr-defined]
        at_row, at_section, _unplaced = place_problems(self.design, self.problems)
        for row in self.query(FieldRow):
            row.show_problems([p for p in at_row.get(row.path, []) if p.code != "field"]
                              + self.notes.get(row.path, []), self.field_errors.get(row.path))
        for pane in self.query(SectionPane):
            msgs = list(pane.query(".section-msg").results(Static))
            if not msgs:
                # mounted by the other task and not composed yet (CI of stop 22: NoMatches, the wizard
                # died); show_section refreshes again once the mount is done
                continue
            found = tuple(at_section.get(pane.section.key, []))
            if found != pane.shown_problems:
                pane.shown_problems = found
                text = problem_text(list(found))
                msgs[0].update(text)
                msgs[0].display = bool(text)
            for estimate in pane.query("#estimate").results(Static):
                estimate.update(estimate_text(self.design))
        for s in SECTIONS:
            paths = {e for e in s.entries(self.design) if isinstance(e, str)}
            found = [p for path, ps in at_row.items() if path in paths for p in ps]
            found += at_section.get(s.key, [])
            n_err = sum(p.severity == ERROR for p in found)
            n_warn = sum(p.severity == WARNING for p in found)
            nav_label = self.query_one(f"#nav-label-{s.key}", Label)
            width = nav_label.parent.content_region.width if nav_label.parent is not None else 0
            label = nav_text([x.key for x in SECTIONS].index(s.key) + 1, s.short, n_err, n_warn,
                             width or NAV_COLUMNS)
            if getattr(nav_label, "shown", None) != label:
                nav_label.shown = label
                nav_label.update(label)
        self.keep_focus_in_view()  # a new message may have pushed the field being edited down

    def on_resize(self) -> None:
        """The section list may be wider or narrower now: its lines are fitted again."""
        self.call_after_refresh(self.refresh_problems)

    # -- help for the focused field ---------------------------------------------------------
    def on_descendant_focus(self, event: DescendantFocus) -> None:
        self.keep_focus_in_view()
        for node in event.widget.ancestors_with_self:
            if isinstance(node, FieldRow):
                self._show_help(node)
                return

    def _show_help(self, row: FieldRow) -> None:
        info = row.info
        text = Text()
        text.append(label_for(info), style="bold")
        text.append(f"  {info.path}\n", style="dim")
        text.append(info.doc)
        if info.items is not None:
            text.append(" Several: separated by spaces.")
        key = ".".join(info.path.split(".")[-2:]) if info.path.count(".") else info.path
        notes = CHOICE_NOTES.get(key, {})
        value = str(get_value(self.design, info.path))
        if value in notes:
            text.append(f"\n{value}: ", style="bold")
            text.append(notes[value])
        help_text = self.query_one("#field-help-text", Static)
        if getattr(help_text, "shown", None) != text:
            help_text.shown = text
            help_text.update(text)
            self.query_one("#field-help", VerticalScroll).scroll_home(animate=False)
            self.keep_focus_in_view()  # the box may have grown over the field
