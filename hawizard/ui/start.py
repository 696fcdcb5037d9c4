"""The first screen: start from a shipped preset or a saved one, or resume a run that did not finish.

Each shipped preset shows its name with its stack under it, in a column as wide as the longest
of them, and its whole description wrapped in a second column. A preset that cannot
be opened is explained with every problem as file:line, as the command line does.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from hawizard.design.preset_file import PresetError, load_preset, read_preset, shipped_presets

INTRO = ("hawizard takes a two-node active/standby cluster (Pacemaker, DRBD, Apache) from its design to "
         "a built cluster. Pick a starting point: every answer can be changed later, and nothing touches "
         "a node before the review.")


def describe_problems(err: Exception) -> str:
    """Every reason a preset was refused, each as file:line: key: message (as the command line says it)."""
    if isinstance(err, PresetError):
        return "\n".join(p.format(err.filename) for p in err.problems[:8]) + (
            f"\n… and {len(err.problems) - 8} more" if len(err.problems) > 8 else "")
    return str(err)


def preset_row(name: str, stack: str, about: str, width: int) -> Table:
    """One option of the list: the name over its stack, then the description wrapped in its own column."""
    row = Table.grid(padding=(0, 2, 0, 0))
    row.add_column(width=width, no_wrap=True, overflow="ellipsis")
    row.add_column(ratio=1)
    left = Text(name, style="bold")
    left.append(f"\n{stack}", style="cyan")
    row.add_row(left, Text(about))
    return row


class StartScreen(Screen):
    BINDINGS = [
        Binding("o", "open_file", "Open a preset file"),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.resume_journal = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(INTRO, id="start-intro")
        names = shipped_presets()
        loaded = {name: self._load_quietly(name) for name in names}
        self.name_width = max([len(n) for n in names] + [len("(running lab)")]
                              + [len(d.stack) for d in loaded.values() if not isinstance(d, Exception)])
        options = []
        for name in names:
            options.append(Option(self._preset_line(name, loaded[name]), id=f"preset:{name}"))
        options.append(Option(Text("Open a saved preset file…", style="bold"), id="open"))
        yield OptionList(*options, id="start-options")
        yield Static("", id="start-message")
        yield Footer()

    @staticmethod
    def _load_quietly(name: str):
        """The shipped preset's design, or why it cannot be loaded."""
        try:
            return load_preset(name)
        except Exception as exc:  # noqa: BLE001 - shown in its line, not fatal
            return exc

    def _preset_line(self, name: str, design) -> Table | Text:
        if isinstance(design, Exception):
            return Text(f"{name}: cannot be loaded ({describe_problems(design)})", style="red")
        return preset_row(name, design.stack, design.description, self.name_width)

    def on_mount(self) -> None:
        self.sub_title = "start"
        self.set_focus(self.query_one("#start-options", OptionList))
        self._look_for_more()

    @work(thread=True, group="start-scan", exit_on_error=False)
    def _look_for_more(self) -> None:
        """The lab's preset and an unfinished run, if any (file system reads: off the UI thread)."""
        extra: list[Option] = []
        try:
            from hawizard.lab.paths import LabPaths

            lab = LabPaths.resolve().preset
            if lab.is_file():
                extra.append(Option(preset_row("lab", "(running lab)", str(lab), self.name_width),
                                    id=f"file:{lab}"))
        except Exception:  # noqa: BLE001 - the lab is optional
            pass
        journal = None
        try:
            from hawizard.run.journal import latest_unfinished

            journal = latest_unfinished()
        except Exception:  # noqa: BLE001 - no state directory yet
            journal = None
        if journal is not None:
            text = Text("Resume ", style="bold")
            text.append(f"run {journal.run_id} of {journal.preset}")
            step = journal.first_unfinished()
            if step:
                text.append(f" (stopped at {step})", style="yellow")
            extra.append(Option(text, id="resume"))
        if extra:
            self.app.call_from_thread(self._add_options, extra, journal)

    def _add_options(self, extra: list[Option], journal) -> None:
        self.resume_journal = journal
        self.query_one("#start-options", OptionList).add_options(extra)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id or ""
        if choice.startswith("preset:"):
            self._load(choice.removeprefix("preset:"))
        elif choice.startswith("file:"):
            self._load(choice.removeprefix("file:"))
        elif choice == "open":
            self.action_open_file()
        elif choice == "resume" and self.resume_journal is not None:
            self.app.resume_run(self.resume_journal)  # type: ignore[attr-defined]

    def _load(self, ref: str) -> None:
        try:
            loaded = read_preset(ref)
        except Exception as exc:  # noqa: BLE001 - shown to the operator
            self.show_message(f"{ref}: cannot be used\n{describe_problems(exc)}")
            return
        self.show_message("")
        self.app.open_design(loaded.design, ref, loaded.source)  # type: ignore[attr-defined]

    def show_message(self, text: str) -> None:
        self.query_one("#start-message", Static).update(Text(text, style="bold red"))

    def action_open_file(self) -> None:
        from hawizard.ui.dialogs import PromptScreen

        loaded: dict[str, object] = {}

        def check(path: str) -> str | None:
            if not path:
                return "give the path of a preset file (.toml)"
            p = Path(os.path.expanduser(path))
            if not p.is_file():
                return f"{p}: no such file"
            try:
                loaded["preset"] = read_preset(p)
            except Exception as exc:  # noqa: BLE001
                return describe_problems(exc)
            loaded["path"] = str(p.resolve())
            return None

        def done(path: str | None) -> None:
            if path and "preset" in loaded:
                preset = loaded["preset"]
                self.app.open_design(preset.design, loaded["path"], preset.source)  # type: ignore[attr-defined]

        self.app.push_screen(PromptScreen("Open a saved preset", "Path of the preset file:",
                                          str(Path.cwd()) + os.sep, check=check), done)
