"""The run: the plan with a state per step and node, live output per node, the DRBD sync, the cluster.

A view of ``RunController``: the run itself belongs to the App and goes on when this screen is
left (Escape); coming back redraws everything from the controller. Keys act on the run:
pause (before the next command), cancel, retry the failed step, skip it with a reason. The key
line offers only the keys that do something in the run's current state.

A node's output folds long lines to the pane's width, each continuation marked (wrapmark.py),
so a long command is never cut at the edge.
"""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Label,
    Log,
    ProgressBar,
    Sparkline,
    Static,
    TabbedContent,
    TabPane,
)

from hawizard.common.timefmt import fmt_eta
from hawizard.ui.runctl import ICONS, RunController
from hawizard.ui.runsink import LOG_LINES
from hawizard.ui.wrapmark import fold_plain

STATE_TEXT = {
    "idle": ("not started", ""),
    "running": ("running", "bold"),
    "paused": ("paused: the running command finishes, the next one waits (p resumes)", "bold yellow"),
    "confirming": ("waiting for the typed confirmation", "bold yellow"),
    "finished": ("finished (f: summary)", "bold green"),
    "failed": ("failed (t: retry the step, k: skip it with a reason, f: summary)", "bold red"),
    "cancelled": ("cancelled (t: retry from the stopped step, f: summary)", "bold yellow"),
    "error": ("stopped by an error (t: retry, f: summary)", "bold red"),
}
STATE_STYLE = {"done": "green", "already-done": "green", "failed": "bold red", "running": "bold yellow",
               "cancelled": "yellow", "skipped": "magenta"}


class NodeOutput(Log):
    """A node's live output that follows the end until the operator scrolls back (End follows again)."""

    BINDINGS = [
        Binding("up", "scroll_up", "Scroll up", show=False),
        Binding("down", "scroll_down", "Scroll down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "End: follow", show=False),
    ]
    following = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.raw_lines: deque[str] = deque(maxlen=LOG_LINES)  # the lines as they came, to fold again on a resize
        self.fold_width = 0

    def _fold_width_now(self) -> int:
        return self.scrollable_content_region.width  # the gutter of the scroll bar is kept (CSS)

    def add_lines(self, lines: list[str]) -> None:
        self.raw_lines.extend(lines)
        width = self._fold_width_now()
        if width != self.fold_width:
            self._refold(width)
            return
        if width:
            self.write_lines([piece for line in lines for piece in fold_plain(line, width)], scroll_end=False)
        self._follow()

    def _follow(self) -> None:
        if self.following:
            self.scroll_end(animate=False, x_axis=False)  # after the next layout, when the size is known

    def _refold(self, width: int) -> None:
        self.fold_width = width
        self.clear()
        if width:
            self.write_lines([piece for line in self.raw_lines for piece in fold_plain(line, width)], scroll_end=False)
        self._follow()

    def on_resize(self) -> None:
        if self._fold_width_now() != self.fold_width:
            self._refold(self._fold_width_now())

    def action_scroll_up(self) -> None:
        self.following = False
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self.following = False
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self.following = False
        super().action_scroll_home()

    def action_scroll_end(self) -> None:
        self.following = True
        super().action_scroll_end()

    def _on_mouse_scroll_up(self, event) -> None:
        self.following = False
        super()._on_mouse_scroll_up(event)


def cell(state: str) -> Text:
    return Text(ICONS.get(state, "?"), style=STATE_STYLE.get(state, "dim"), justify="center")


class RunScreen(Screen):
    # shown only when they do something now (check_action): no Pause or Cancel once the run ended
    BINDINGS = [
        Binding("p", "pause", "Pause"),
        Binding("p", "resume", "Resume"),
        Binding("c", "cancel", "Cancel"),
        Binding("t", "retry", "Retry"),
        Binding("k", "skip", "Skip"),
        Binding("n", "next_output", "Node"),
        Binding("f", "finish", "Summary"),
        Binding("escape", "leave", "Back"),
    ]

    def __init__(self, controller: RunController) -> None:
        super().__init__()
        self.controller = controller
        self.shown_states: dict[tuple[str, str], str] = {}
        self.highlighted_step = ""
        self._shown: dict[str, object] = {}  # what each status widget shows: redraw only on change
        self._keys_for = ""  # the run state the key line was last drawn for

    def compose(self) -> ComposeResult:
        c = self.controller
        yield Header()
        with Horizontal(id="run-body"):
            yield DataTable(id="steps", cursor_type="row", zebra_stripes=False)
            with Vertical(id="run-right"):
                with TabbedContent(id="outputs"):
                    for i, node in enumerate(c.design.node_names):
                        with TabPane(node, id=f"pane-{i}"):
                            yield NodeOutput(max_lines=LOG_LINES, id=f"out-{i}", classes="node-output")
        with Horizontal(id="sync-line"):
            yield Label("DRBD sync", id="sync-label")
            yield ProgressBar(total=100, show_eta=False, id="sync-bar")
            yield Label("", id="sync-stats")
            yield Sparkline([], id="sync-spark")
        yield Static("", id="cluster-state")
        yield Static("", id="run-status")
        yield Footer()

    def on_mount(self) -> None:
        c = self.controller
        self.sub_title = f"run: {c.design.name} ({'dry run' if c.dry_run else 'apply'})"
        table = self.query_one("#steps", DataTable)
        table.add_column("step", key="step")
        for node in c.design.node_names:
            table.add_column(node[:8], key=node, width=max(3, min(8, len(node))))
        for step in c.selected:
            table.add_row(step.id, *[cell(c.states[step.id].get(n, "")) if n in step.nodes else Text("")
                                     for n in c.design.node_names], key=step.id)
        for i, node in enumerate(c.design.node_names):
            out = self.query_one(f"#out-{i}", NodeOutput)
            earlier = [f"… {c.hidden_lines[node]} earlier line(s) are in the audit log only"] \
                if c.hidden_lines.get(node) else []
            out.add_lines(earlier + list(c.lines[node]))
        c.view = self
        self.update_from(c, {}, {})
        self.set_focus(table)

    def on_unmount(self) -> None:
        if self.controller.view is self:
            self.controller.view = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        c = self.controller
        if action == "pause":
            return c.state == "running"
        if action == "resume":
            return c.state == "paused"
        if action == "cancel":
            return c.live
        if action in ("retry", "skip"):
            return c.resumable_step() is not None
        if action == "finish":
            return not c.live
        return True

    # -- drawing -----------------------------------------------------------------------------
    def update_from(self, c: RunController, lines: dict[str, list[str]], dropped: dict[str, int]) -> None:
        if not self.is_attached or not self.query("#steps"):
            return  # being taken down; the controller keeps everything for the next time
        table = self.query_one("#steps", DataTable)
        for step in c.selected:
            if step.id not in table.rows:
                table.add_row(step.id, *[Text("") for _ in c.design.node_names], key=step.id)
            for node, state in c.states.get(step.id, {}).items():
                if self.shown_states.get((step.id, node)) != state and node in c.design.node_names:
                    table.update_cell(step.id, node, cell(state))
                    self.shown_states[(step.id, node)] = state
        for i, node in enumerate(c.design.node_names):
            new = lines.get(node)
            if new:
                out = self.query_one(f"#out-{i}", NodeOutput)
                skipped = [f"… {dropped[node]} line(s) went by too fast to show; the audit log has them"] \
                    if dropped.get(node) else []
                out.add_lines(skipped + new[-LOG_LINES:])
        self._show_progress(c)
        self._show_cluster(c)
        self._show_status(c)
        keys_for = f"{c.state}|{c.resumable_step()}"
        if keys_for != self._keys_for:
            self._keys_for = keys_for
            self.refresh_bindings()

    def _put(self, selector: str, content: Text) -> None:
        """Update a line of the screen only when its text changed (an update costs a layout pass)."""
        if self._shown.get(selector) != content:
            self._shown[selector] = content
            self.query_one(selector, Static).update(content)

    def _show_progress(self, c: RunController) -> None:
        p = c.progress
        if p is None:
            self._put("#sync-stats", Text("not started", style="dim"))
            return
        if self._shown.get("progress") is p:
            return
        self._shown["progress"] = p
        if p.percent is not None:
            self.query_one("#sync-bar", ProgressBar).update(progress=p.percent)
        if p.state == "synced":
            stats = Text("synced: both disks UpToDate", style="bold green")
        else:
            speed = f"{p.speed_kib_s / 1024:,.1f} MiB/s" if p.speed_kib_s is not None else "-- MiB/s"
            stats = Text(f"{speed}  ETA {fmt_eta(p.eta_s)}")
            if p.state and p.state not in ("SyncSource", "SyncTarget"):
                stats.append(f"  {p.state}", style="yellow")
        self._put("#sync-stats", stats)
        self.query_one("#sync-spark", Sparkline).data = list(c.speeds)

    def _show_cluster(self, c: RunController) -> None:
        st = c.cluster
        out = Text("cluster: ", style="bold")
        if st is None:
            out.append("not up yet", style="dim")
        else:
            out.append("online " + (" ".join(st.nodes_online) or "-"), style="green")
            if st.nodes_offline:
                out.append("  offline " + " ".join(st.nodes_offline), style="bold red")
            running = [f"{r.get('id')} {r.get('role') or ''}@{r.get('node')}" for r in st.resources if r.get("node")]
            if running:
                out.append("\n  " + ", ".join(running))
        self._put("#cluster-state", out)

    def _show_status(self, c: RunController) -> None:
        """The run's state, why it stopped (if it did), and the step under the cursor."""
        text, style = STATE_TEXT.get(c.state, (c.state, ""))
        out = Text(text, style=style)
        if c.live and c.current_step:
            out.append(f"  · step {c.current_step}")
        if c.message and not c.live:
            out.append(f"\n{c.message}", style="red" if c.state in ("failed", "error") else "")
        if self.highlighted_step:
            step = c.plan.step(self.highlighted_step)
            states = c.states.get(step.id, {})
            out.append(f"\n{step.id}: {step.title}", style="dim bold")
            out.append("  " + ", ".join(f"{n} {s}" for n, s in states.items()), style="dim")
        self._put("#run-status", out)

    @on(DataTable.RowHighlighted, "#steps")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value if event.row_key else None
        if key:
            self.highlighted_step = key
            self._show_status(self.controller)

    # -- actions -------------------------------------------------------------------------------
    def action_pause(self) -> None:
        if self.controller.state == "running":
            self.controller.toggle_pause()
        self._show_status(self.controller)
        self.refresh_bindings()

    def action_resume(self) -> None:
        if self.controller.state == "paused":
            self.controller.toggle_pause()
        self._show_status(self.controller)
        self.refresh_bindings()

    def action_cancel(self) -> None:
        if not self.controller.live:
            return
        from hawizard.ui.dialogs import YesNoScreen

        held = self.controller.hold()  # the run must not ask its next question over this one

        def answer(yes: bool | None) -> None:
            if yes:
                self.controller.cancel()
                self._show_status(self.controller)
            elif held:
                self.controller.release()
        self.app.push_screen(YesNoScreen("Cancel the run?", "The running commands are interrupted and no new "
                                         "step starts. A later retry continues from the stopped step.",
                                         "Cancel the run", "Keep running"), answer)

    def action_retry(self) -> None:
        if not self.controller.retry():
            self._say("Nothing to retry: the run is going, or nothing failed.")
        else:
            self.shown_states.clear()
            self.update_from(self.controller, {}, {})

    def action_skip(self) -> None:
        step_id = self.controller.resumable_step()
        if step_id is None:
            self._say("Nothing to skip: only a failed or stopped step can be skipped.")
            return
        from hawizard.ui.dialogs import PromptScreen

        def done(reason: str | None) -> None:
            if reason:
                self.controller.skip(reason)
                self.update_from(self.controller, {}, {})

        self.app.push_screen(PromptScreen(
            f"Skip step {step_id}?", "The step is recorded as skipped, with your reason, in the audit log; the "
            "run goes on with the next step. Why is it safe to skip?",
            check=lambda text: None if len(text) >= 3 else "give a reason (at least 3 characters)"), done)

    def action_next_output(self) -> None:
        tabs = self.query_one("#outputs", TabbedContent)
        ids = [f"pane-{i}" for i in range(len(self.controller.design.node_names))]
        tabs.active = ids[(ids.index(tabs.active) + 1) % len(ids)] if tabs.active in ids else ids[0]

    def action_finish(self) -> None:
        if self.controller.live:
            self._say("The run is still going; the summary comes when it stops.")
            return
        self.app.show_finish()  # type: ignore[attr-defined]

    def action_leave(self) -> None:
        if self.controller.view is self:
            self.controller.view = None
        self.app.pop_screen()

    def _say(self, text: str, style: str = "yellow") -> None:
        self._put("#run-status", Text(text, style=style))
