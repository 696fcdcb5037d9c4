"""Small modal dialogs: typed confirmation, a one-line prompt, a yes/no question."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class ConfirmPhraseScreen(ModalScreen[bool]):
    """A destructive step: the operator types the exact phrase; anything else stops the run."""

    BINDINGS = [Binding("escape", "refuse", "Stop the run")]

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

    def on_mount(self) -> None:
        self.query_one("#phrase", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() == self.phrase)

    def action_refuse(self) -> None:
        self.dismiss(False)


class PromptScreen(ModalScreen[str | None]):
    """One line of input; ``check`` may refuse it with a sentence shown under the field."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

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

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value if self.password else event.value.strip()
        if self.check is not None:
            why = self.check(value)
            if why:
                self.query_one("#prompt-error", Static).update(Text(why, style="bold red"))
                return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class YesNoScreen(ModalScreen[bool]):
    """A question with two answers; y/n, Enter on a button, Escape = no."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, title: str, body: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text, self.body, self.yes, self.no = title, body, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            yield Static(self.body, classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", variant="primary", id="yes", compact=True)
                yield Button(f"{self.no} (n)", id="no", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
