"""One question field, built from the model's metadata: label, control, and what is wrong with it.

The control follows the field: a switch for true/false, a list for fields with choices, an
integer-only input for numbers, a text input otherwise. What the operator types is checked
as it is typed (the engine's field checks); a refused value is explained under the field and
never reaches the design. Lint findings about the field are shown in the same place.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Select, Static

from hawizard.model import Design
from hawizard.problems import Problem

from .fieldpaths import FieldInfo, display_value, field_info, get_value, parse_input

UNITS = {"_s": " (s)", "_ms": " (ms)", "_mbps": " (Mbit/s)"}
STYLE = {"error": ("✗", "bold red"), "warning": ("⚠", "yellow"), "info": ("ℹ", "cyan")}


def field_id(path: str) -> str:
    """A widget id for a key path (ids allow letters, digits, '_' and '-')."""
    return "f-" + path.replace(".", "--").replace("[", "_").replace("]", "")


def label_for(info: FieldInfo) -> str:
    name = info.name
    suffix = ""
    for end, unit in UNITS.items():
        if name.endswith(end):
            name, suffix = name[: -len(end)], unit
            break
    text = name.replace("_", " ")
    if ".interconnects[" in info.path:
        j = int(info.path.split(".interconnects[")[1].split("]")[0])
        text = f"link {j + 1} {text}"
    return text[:1].upper() + text[1:] + suffix


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def problem_text(problems: list[Problem], error: str | None = None) -> Text:
    out = Text()
    if error:
        icon, style = STYLE["error"]
        out.append(f"{icon} {error}", style=style)
    for p in problems:
        icon, style = STYLE.get(p.severity, ("•", ""))
        if out:
            out.append("\n")
        out.append(f"{icon} {p.message}", style=style)
    return out


class FieldRow(Container):
    """A labelled control for one key path of the design."""

    class Edited(Message):
        """The operator changed the field: ``value`` is set, or ``error`` says why it was refused."""

        def __init__(self, row: FieldRow, value: Any, error: str | None) -> None:
            super().__init__()
            self.row, self.value, self.error = row, value, error

    def __init__(self, design: Design, path: str) -> None:
        super().__init__(id=field_id(path), classes="field")
        self.path = path
        self.info = field_info(design, path)
        self.initial = get_value(design, path)
        self._shown: tuple = (None, ())

    @property
    def label(self) -> str:
        return label_for(self.info)

    def compose(self) -> ComposeResult:
        # a grid of label | control, and a message line under both once there is something to say:
        # few widgets per row keeps a section of thirty questions quick to open
        info, value = self.info, self.initial
        yield Label(self.label, classes="field-label")
        if info.type == "bool":
            yield Checkbox(yes_no(bool(value)), bool(value), compact=True, classes="field-control")
        elif info.choices is not None:
            options = [(c, c) for c in info.choices]
            if value not in info.choices:  # only a preset could hold it; keep it visible
                options.insert(0, (f"{value} (not valid)", value))
            yield Select(options, value=value, allow_blank=False, compact=True, classes="field-control")
        else:
            lo, hi = info.minimum, info.maximum
            placeholder = f"{lo:g} to {hi:g}" if info.type == "int" and lo is not None else ""
            if info.kind and info.kind.endswith("?"):
                placeholder = "(empty: not used)"
            yield Input(display_value(info, value), type="integer" if info.type == "int" else "text",
                        compact=True, placeholder=placeholder, classes="field-control")

    def show_problems(self, problems: list[Problem], error: str | None = None) -> None:
        key = (error, tuple(problems))
        if key == self._shown:
            return  # restyling a row costs a layout pass: only when something changed
        self._shown = key
        text = problem_text(problems, error)
        found = self.query(".field-msg")
        if found:
            msg = found.first(Static)
            msg.update(text)
        elif text:
            msg = Static(text, classes="field-msg")
            self.mount(msg)
        else:
            return
        msg.display = bool(text)
        self.set_class(bool(error) or any(p.severity == "error" for p in problems), "-error")
        self.set_class(not error and any(p.severity == "warning" for p in problems), "-warning")

    def focus_control(self, scroll: bool = True) -> None:
        self.query_one(".field-control").focus(scroll_visible=scroll)

    def current_text(self) -> str:
        control = self.query_one(".field-control")
        if isinstance(control, Input):
            return control.value
        if isinstance(control, Select):
            return str(control.value)
        return str(control.value)

    # -- the controls' messages ---------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        value, error = parse_input(self.info, event.value)
        self.post_message(self.Edited(self, value, error))

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value, error = parse_input(self.info, str(event.value))
        self.post_message(self.Edited(self, value, error))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        event.checkbox.label = yes_no(event.value)
        self.post_message(self.Edited(self, bool(event.value), None))
