"""Review: every problem, every file each node gets (highlighted), the plan outline, the diff against the
nodes; save, or run.

Rendering and planning run in a thread worker (the first rendering compiles the templates);
the screen shows what it has meanwhile. A problem opens the question it belongs to. Nodes are
contacted only when the operator asks for the diff (r, in the Diff view; diffview.py), read-only.

The screen opens with the cursor in the problem list (Up/Down work at once); the views are
switched with 1, 2, 3, 4, so the tab bar takes no Tab stop; a long line of a file is folded with
a continuation mark (wrapmark.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static, TabbedContent, TabPane, Tabs
from textual.widgets.option_list import Option

from hawizard.design.problems import ERROR, INFO, WARNING, Problem
from hawizard.ui import diffview
from hawizard.ui.design import problems_of
from hawizard.ui.forms import STYLE
from hawizard.ui.wrapmark import MarkedWrap


def lexer_for(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".sh") or name in ("ha.cf", "authkeys"):
        return "bash"
    if name.endswith(".html"):
        return "html"
    if "apache" in path or "httpd" in path:
        return "apacheconf"
    if name.endswith((".res", ".conf")) or name == "drbd.conf":
        return "nginx"  # brace-and-semicolon blocks: DRBD and corosync read alike
    return "text"


def short_path(path: str, width: int = 28) -> str:
    return path if len(path) <= width else "…" + path[-(width - 1):]


@dataclass
class Prepared:
    rendering: object | None
    plan: object | None
    error: str


class ReviewScreen(Screen):
    BINDINGS = [
        Binding("s", "app.save_preset", "Save preset"),
        Binding("d", "dry_run", "Dry run"),
        Binding("a", "apply", "Apply to nodes"),
        Binding("e,escape", "edit", "Edit design"),
        Binding("1", "tab('problems')", "Problems", show=False),
        Binding("2", "tab('files')", "Files", show=False),
        Binding("3", "tab('plan')", "Plan", show=False),
        Binding("4", "tab('diff')", "Diff", show=False),
        Binding("r", "diff_nodes", "Diff with the nodes", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[Problem] = []
        self.prepared: Prepared | None = None
        self.shown_file = ""  # the preview on screen (placeholders in place of secrets)
        self._reviewed: tuple[str, str] = ("", "")
        self.diff = None  # the last NodeDiff read from the nodes (hawizard/adopt/nodediff.py)
        self._diff_cancel = threading.Event()

    @property
    def design(self):
        return self.app.design  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="review-summary")
        with TabbedContent(id="review-tabs", initial="problems"):
            with TabPane("1 Problems", id="problems"):
                yield OptionList(id="problem-list")
            with TabPane("2 Files", id="files"):
                with Horizontal(id="files-body"):
                    yield OptionList(id="file-list")
                    with VerticalScroll(id="file-view"):
                        yield Static("Rendering…", id="file-content")
            with TabPane("3 Plan", id="plan"):
                with VerticalScroll(id="plan-view"):
                    yield Static("Planning…", id="plan-content")
            with TabPane("4 Diff", id="diff"):
                with VerticalScroll(id="diff-view"):
                    yield Static(Text(diffview.HINT, style="dim"), id="diff-content")
        yield Static("", id="review-status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"review: {self.design.name}"
        self.query_one("#review-tabs", TabbedContent).query_one(Tabs).can_focus = False  # 1, 2, 3 switch
        self.refresh_review()
        problems = self.query_one("#problem-list", OptionList)
        self.set_focus(problems)

    def on_screen_resume(self) -> None:
        if self._reviewed != self._fingerprint():  # back from the questions with changes
            self.refresh_review()

    def _fingerprint(self) -> tuple[str, str]:
        return repr(self.design), repr(sorted(self.app.field_errors.items()))  # type: ignore[attr-defined]

    def refresh_review(self) -> None:
        """Check the design again and render and plan it (in a worker)."""
        self._reviewed = self._fingerprint()
        self.prepared = None
        if self.diff is not None:  # the design changed: the last diff was of another one
            self.diff = None
            self.query_one("#diff-content", Static).update(Text(diffview.HINT, style="dim"))
        self.problems = problems_of(self.design, self.app.field_errors, self.app.design_source)  # type: ignore[attr-defined]
        self._show_problems()
        self._prepare()

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    def _show_problems(self) -> None:
        n_err = len(self.errors)
        n_warn = sum(p.severity == WARNING for p in self.problems)
        n_info = sum(p.severity == INFO for p in self.problems)
        summary = Text(f"{self.design.name} · {self.design.stack} · ")
        summary.append(f"{n_err} error(s)", style="bold red" if n_err else "green")
        summary.append(f", {n_warn} warning(s), {n_info} note(s). ")
        summary.append("Enter on a problem opens its question." if self.problems else "Nothing to report.",
                       style="dim")
        self.query_one("#review-summary", Static).update(summary)
        olist = self.query_one("#problem-list", OptionList)
        olist.clear_options()
        for i, p in enumerate(self.problems):
            icon, style = STYLE.get(p.severity, ("•", ""))
            text = Text(f"{icon} ", style=style)
            text.append(p.path or "(design)", style="bold")
            text.append(f" [{p.code}]\n", style="dim")
            text.append(p.message)
            olist.add_option(Option(text, id=f"p{i}"))
        if not self.problems:
            olist.add_option(Option(Text("No errors, warnings or notes.", style="green"), disabled=True))
        else:
            olist.highlighted = 0

    @work(thread=True, exclusive=True, group="review-prepare", exit_on_error=False)
    def _prepare(self) -> Prepared:
        from hawizard.plan.build import build_plan
        from hawizard.render.renderer import render

        if self.errors:
            return Prepared(None, None, "The design has errors; files and plan appear once they are fixed.")
        try:
            rendering = render(self.design)
            return Prepared(rendering, build_plan(self.design, rendering), "")
        except Exception as exc:  # noqa: BLE001 - shown, not fatal
            return Prepared(None, None, f"The design cannot be rendered: {exc}")

    def action_diff_nodes(self) -> None:
        """Read the nodes and show what a run would change (in a thread worker; questions come as dialogs)."""
        if not self._ready_to_run():
            return
        self.action_tab("diff")
        self.query_one("#diff-content", Static).update(Text("Reading the nodes (read-only)…", style="yellow"))
        self._diff_cancel.clear()
        self._read_nodes(self.design, self.prepared.rendering)  # type: ignore[union-attr]

    @work(thread=True, exclusive=True, group="review-diff", exit_on_error=False)
    def _read_nodes(self, design, rendering):
        return diffview.read_nodes(self.app, design, rendering, self._diff_cancel)

    def on_unmount(self) -> None:
        self._diff_cancel.set()  # a question still open is answered by nobody

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.worker.group == "review-diff":
            self._diff_done(event.worker, event.state)
            return
        if event.worker.group != "review-prepare":
            return
        if event.state == WorkerState.SUCCESS:
            self.prepared = event.worker.result
            self._show_prepared()
        elif event.state == WorkerState.ERROR:
            self.prepared = Prepared(None, None, f"Rendering failed: {event.worker.error}")
            self._show_prepared()

    def _diff_done(self, worker, state) -> None:
        from textual.worker import WorkerState

        from hawizard.common.errors import HawizardError
        from hawizard.common.terminal_text import clean

        view = self.query_one("#diff-content", Static)
        if state == WorkerState.SUCCESS:
            self.diff = worker.result
            view.update(diffview.diff_text(self.diff))
        elif state == WorkerState.ERROR:
            err = worker.error
            why = clean(str(err)) if isinstance(err, HawizardError) else f"{type(err).__name__}: {clean(str(err))}"
            view.update(Text(f"The nodes could not be compared: {why}\n\n{diffview.HINT}", style="yellow"))

    def _show_prepared(self) -> None:
        prepared = self.prepared
        files = self.query_one("#file-list", OptionList)
        files.clear_options()
        if prepared is None or prepared.rendering is None:
            note = Text(prepared.error if prepared else "", style="yellow")
            self.query_one("#file-content", Static).update(note)
            self.query_one("#plan-content", Static).update(note)
            return
        rendering = prepared.rendering
        for node in self.design.node_names:
            files.add_option(Option(Text(node, style="bold underline"), disabled=True))
            for f in rendering.for_node(node):
                files.add_option(Option(f"  {short_path(f.path)}", id=f"{node}|{f.id}"))
        self.query_one("#plan-content", Static).update(self._plan_text(prepared.plan))
        first = next((i for i in range(files.option_count) if not files.get_option_at_index(i).disabled), None)
        if first is not None:
            files.highlighted = first

    @on(OptionList.OptionHighlighted, "#file-list")
    def _file_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if not event.option.id or self.prepared is None or self.prepared.rendering is None:
            return
        node, file_id = event.option.id.split("|", 1)
        rendering = self.prepared.rendering
        f = rendering.get(file_id)
        head = Text(f"{f.path}", style="bold")
        head.append(f"  on {node}, mode {f.mode_str}, {f.owner}:{f.group}\n", style="dim")
        head.append(f"{f.description}\n", style="italic")
        self.shown_file = f.preview(rendering.secrets)
        body = Syntax(self.shown_file, lexer_for(f.path), theme="ansi_dark",
                      background_color="default").highlight(self.shown_file)
        head.append_text(body)
        self.query_one("#file-content", Static).update(MarkedWrap(head))

    def _plan_text(self, plan) -> Text:
        text = Text()
        text.append(f"Primary {plan.primary}, secondary {plan.secondary}. "
                    "Destructive steps ask for a typed phrase; optional steps run on request.\n", style="dim")
        for i, step in enumerate(plan.steps, 1):
            text.append(f"\n{i:2}. {step.id}", style="bold")
            text.append(f"  {step.title}  [{step.where.words}]")
            if step.destructive:
                text.append(f"  DESTRUCTIVE: type '{step.confirm}'", style="bold red")
            if step.optional:
                text.append("  optional", style="cyan")
            if step.explain:
                text.append(f"\n    {step.explain}", style="italic")
            for node, actions in step.actions.items():
                for act in actions:
                    text.append(f"\n    {node}: {act.describe(plan)}", style="dim")
        return text

    @on(OptionList.OptionSelected, "#problem-list")
    def _problem_selected(self, event: OptionList.OptionSelected) -> None:
        if not event.option.id:
            return
        problem = self.problems[int(event.option.id[1:])]
        self.app.edit_design(problem.path)  # type: ignore[attr-defined]

    def action_tab(self, tab: str) -> None:
        tabs = self.query_one("#review-tabs", TabbedContent)
        self.set_focus(None)  # keep focus out of the pane being hidden, or it pulls it back
        tabs.active = tab
        target = {"problems": "#problem-list", "files": "#file-list", "plan": "#plan-view", "diff": "#diff-view"}[tab]
        self.set_focus(self.query_one(target))  # at once: the next key typed is for this view

    def action_edit(self) -> None:
        self.app.edit_design(None)  # type: ignore[attr-defined]

    def set_status(self, text: str, style: str = "") -> None:
        self.query_one("#review-status", Static).update(Text(text, style=style))

    def _ready_to_run(self) -> bool:
        if self.errors:
            self.set_status(f"Fix the {len(self.errors)} error(s) first (Enter on one opens its question).",
                            "bold red")
            return False
        if self.prepared is None or self.prepared.plan is None:
            self.set_status("Still rendering; try again in a moment.", "yellow")
            return False
        return True

    def action_dry_run(self) -> None:
        if self._ready_to_run():
            self.app.start_run(self.prepared.plan, "dry-run")  # type: ignore[attr-defined]

    def action_apply(self) -> None:
        if not self._ready_to_run():
            return
        from hawizard.ui.dialogs import YesNoScreen

        d = self.design
        targets = "\n".join(f"  {n.name}: {n.ssh_user}@{n.ssh_host}:{n.ssh_port}" for n in d.nodes)
        n_destructive = sum(s.destructive for s in self.prepared.plan.steps)
        body = (f"hawizard will connect to\n{targets}\nand build the design step by step. "
                f"{n_destructive} step(s) destroy data and each asks for a typed phrase first. "
                "Every command and its output go to the run's audit log.")

        def answer(yes: bool | None) -> None:
            if yes:
                self.app.start_run(self.prepared.plan, "apply")  # type: ignore[attr-defined]
        self.app.push_screen(YesNoScreen("Apply the design to the nodes?", body, "Start", "Not now"), answer)
