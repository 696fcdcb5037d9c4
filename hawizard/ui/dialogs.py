"""Small modal dialogs: typed confirmation, a one-line prompt, a yes/no question.

Each dialog has its own key line (Enter, Escape and its answers), so the keys of the screen
underneath, which do nothing while the dialog is up, are not offered. A yes/no question opens
with the safe answer (``no``: do not connect, keep the run going, keep editing) under the
cursor: a reflexive Enter never starts or destroys anything.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Static


class ConfirmPhraseScreen(ModalScreen[bool]):
    """A destructive step: the operator types the exact phrase; anything else stops the run."""

    # Enter is a priority binding so that the key line shows it (the Input's own Enter is hidden)
    BINDINGS = [Binding("enter", "submit", "Go ahead if the phrase matches", key_display="Enter", priority=True),
                Binding("escape", "refuse", "Stop the run", key_display="Esc")]

    def __init__(self, title: str, explain: str, phrase: str, *, where: str = "", dry_run: bool = False) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text, self.explain, self.phrase, self.where, self.dry_run = title, explain, phrase, where, dry_run

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog danger"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            body = Text()
            if self.where:
                body.append(f"On {self.where}. ", style="bold")
            body.append(self.explain or "This step destroys data.")
            if self.dry_run:
                body.append("\nDry run: nothing is sent to the nodes; the question is asked as it will be.",
                            style="italic")
            yield Static(body, classes="dialog-body")
            prompt = Text("Type ")
            prompt.append(self.phrase, style="bold reverse")
            prompt.append(" and press Enter to go ahead. Anything else, or Escape, stops the run.")
            yield Static(prompt, classes="dialog-body")
            yield Input(id="phrase")
        yield Footer()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#phrase", Input))

    def action_submit(self) -> None:
        self.dismiss(self.query_one("#phrase", Input).value.strip() == self.phrase)

    def action_refuse(self) -> None:
        self.dismiss(False)


class PromptScreen(ModalScreen[str | None]):
    """One line of input; ``check`` may refuse it with a sentence shown under the field."""

    BINDINGS = [Binding("enter", "submit", "OK", key_display="Enter", priority=True),
                Binding("escape", "cancel", "Cancel", key_display="Esc")]

    def __init__(self, title: str, explain: str, value: str = "", *, password: bool = False,
                 check: Callable[[str], str | None] | None = None, placeholder: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text, self.explain, self.value, self.password = title, explain, value, password
        self.check, self.placeholder = check, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            if self.explain:
                yield Static(self.explain, classes="dialog-body")
            yield Input(self.value, password=self.password, placeholder=self.placeholder, id="prompt-input")
            yield Static("", id="prompt-error", classes="field-msg")
        yield Footer()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#prompt-input", Input))

    def action_submit(self) -> None:
        raw = self.query_one("#prompt-input", Input).value
        value = raw if self.password else raw.strip()
        if self.check is not None:
            why = self.check(value)
            if why:
                self.query_one("#prompt-error", Static).update(Text(why, style="bold red"))
                return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class YesNoScreen(ModalScreen[bool]):
    """A question with two answers: y / n, Enter on the highlighted one, Escape = no.

    The ``no`` answer is the safe one and is highlighted when the dialog opens."""

    BINDINGS = [Binding("enter", "choose", "The highlighted answer", key_display="Enter", priority=True),
                Binding("left,right", "switch", "Switch", show=False)]

    def __init__(self, title: str, body: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text, self.body, self.yes, self.no = title, body, yes, no
        self._bindings.bind("y", "answer(True)", yes)
        self._bindings.bind("n", "answer(False)", no, key_display="n/Esc")
        self._bindings.bind("escape", "answer(False)", no, show=False)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            yield Static(self.body, classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", id="yes", compact=True)
                yield Button(f"{self.no} (n)", variant="primary", id="no", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#no", Button))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_choose(self) -> None:
        focused = self.focused
        self.dismiss(focused is not None and focused.id == "yes")

    def action_switch(self) -> None:
        other = "no" if self.focused is not None and self.focused.id == "yes" else "yes"
        self.set_focus(self.query_one(f"#{other}", Button))

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
