"""Finish: what was built, how long each phase took, where the audit log is; export, save, test."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from hawizard.common.timefmt import fmt_elapsed
from hawizard.ui.outcome import RunOutcome

HEADLINE = {"finished": ("Run finished", "bold green"), "failed": ("Run failed", "bold red"),
            "cancelled": ("Run cancelled", "bold yellow"), "error": ("Run stopped by an error", "bold red")}


def outcome_text(o: RunOutcome) -> Text:
    title, style = HEADLINE.get(o.status, (f"Run {o.status}", "bold"))
    text = Text(title, style=style)
    text.append(f"  ({'dry run: nothing was sent to the nodes' if o.mode == 'dry-run' else 'applied'})\n",
                style="dim")
    if o.message:
        text.append(o.message + "\n", style="red" if o.status != "finished" else "")
    text.append("\nWhat was built\n", style="bold underline")
    for line in o.built:
        text.append(f"  {line}\n")
    counts: dict[str, int] = {}
    for _, _, states in o.steps:
        for part in states.split():
            st = part.rsplit(":", 1)[-1]
            counts[st] = counts.get(st, 0) + 1
    text.append("  step results per node: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + "\n")
    for step_id, reason in o.skipped.items():
        text.append(f"  skipped {step_id}: {reason}\n", style="magenta")
    text.append("\nHow long each phase took\n", style="bold underline")
    for phase, seconds in o.phases:
        text.append(f"  {phase:<12} {fmt_elapsed(seconds):>12}\n")
    text.append(f"  {'total':<12} {fmt_elapsed(o.total_s):>12}\n", style="bold")
    text.append("\nAudit log\n", style="bold underline")
    text.append(f"  {o.audit_path or '(none)'}\n")
    text.append(f"  run id {o.run_id}; hawizard export {o.run_id} --format md\n", style="dim")
    return text


class FinishScreen(Screen):
    BINDINGS = [
        Binding("x", "export", "Export report"),
        Binding("s", "app.save_preset", "Save preset"),
        Binding("w", "switchover", "Switch-over test"),
        Binding("escape", "back", "Back to the run"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, outcome: RunOutcome) -> None:
        super().__init__()
        self.outcome = outcome

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="finish-body"):
            yield Static(outcome_text(self.outcome), id="finish-text")
        yield Static("", id="finish-status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"finish: {self.outcome.design_name}"

    def _say(self, text: str, style: str = "") -> None:
        self.query_one("#finish-status", Static).update(Text(text, style=style))

    def action_export(self) -> None:
        controller = getattr(self.app, "controller", None)
        if controller is None or not controller.run_id:
            self._say("No run to export.", "yellow")
            return
        self._say("Exporting…")
        self._export(controller)

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, controller) -> None:
        try:
            path = controller.export_report()
        except Exception as exc:  # noqa: BLE001 - shown to the operator
            self.app.call_from_thread(self._say, f"Export failed: {exc}", "bold red")
            return
        self.app.call_from_thread(self._say, f"Report written to {path}", "green")

    def action_switchover(self) -> None:
        controller = getattr(self.app, "controller", None)
        if controller is None or controller.live:
            return
        if self.outcome.status != "finished":
            self._say("The switch-over test needs a finished run.", "yellow")
            return
        step = next((s for s in controller.plan.steps if s.id == "switchover"), None)
        if step is None:
            self._say("This plan has no switch-over test.", "yellow")
            return
        controller.run_extra({step.id})
        self.app.show_run()  # type: ignore[attr-defined]

    def action_back(self) -> None:
        self.app.pop_screen()
