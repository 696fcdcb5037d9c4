"""The wizard's App: holds the design being edited and the live run; moves between the screens.

Screens stack up as the operator goes: start -> design -> review -> run -> finish; Escape goes
back one. The run belongs to the App (its worker, its controller), not to the run screen, so
it goes on while the operator looks at the review or the design. Only hawizard/ui imports Textual.

The App also remembers the design as it was opened or last saved: leaving the design or
quitting with changes not saved asks first, with "keep editing" as the answer under the cursor.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.timer import Timer

from hawizard.design.model import Design
from hawizard.design.preset_file import PresetSource
from hawizard.ui.keyorder import OrderedKeys
from hawizard.ui.start import StartScreen

DRAIN_INTERVAL_S = 0.1  # how often run events reach the screen (ten redraws a second at most)


class HawizardApp(OrderedKeys, App[int]):
    CSS_PATH = "hawizard.tcss"
    TITLE = "hawizard"
    ENABLE_COMMAND_PALETTE = False
    HORIZONTAL_BREAKPOINTS = [(0, "-normal"), (120, "-very-wide")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f5", "show_run", "Back to the run"),  # shown while a run exists (check_action)
    ]

    def __init__(self, *, preset: str | None = None, initial: str | Callable[[HawizardApp], Screen] = "start",
                 session_factory=None, transport: str = "ssh", poll_scale: float = 1.0,
                 ansi_color: bool = False) -> None:
        super().__init__(ansi_color=ansi_color)
        self._keyorder_init()
        self.design: Design | None = None
        self.clean_design: Design | None = None  # the design as opened or last saved
        self.design_ref = ""  # shipped preset name or the file it came from
        self.design_source: PresetSource | None = None  # the file's lines while the design matches it
        self.saved_path: Path | None = None
        self.field_errors: dict[str, str] = {}
        self.controller = None
        self.session_factory = session_factory
        self.transport = transport
        self.poll_scale = poll_scale
        self._initial = initial
        self._drain_timer: Timer | None = None
        if preset is not None:
            from hawizard.design.preset_file import read_preset

            loaded = read_preset(preset)
            self._set_design(loaded.design, preset, loaded.source)

    def _set_design(self, design: Design, ref: str, source: PresetSource | None = None) -> None:
        self.design, self.design_ref, self.field_errors = design, ref, {}
        self.design_source = source
        self.clean_design = copy.deepcopy(design)
        self.saved_path = Path(ref) if Path(ref).suffix == ".toml" and Path(ref).is_file() else None

    @property
    def unsaved(self) -> bool:
        """The design holds changes not saved, or fields hold typed values that were refused."""
        if self.design is None:
            return False
        return bool(self.field_errors) or self.design != self.clean_design

    def forget_changes(self) -> None:
        """The operator left the design for the start screen, agreeing to lose its changes.

        The design stays in place (a screen being taken down may still read it) and counts as
        saved; the start screen replaces it with the next one opened."""
        self.field_errors.clear()
        self.clean_design = copy.deepcopy(self.design)

    def ask_discard(self, title: str, leave: Callable[[], object]) -> None:
        """Run ``leave`` now if nothing is unsaved, else once the operator agrees to lose the changes."""
        if not self.unsaved:
            leave()
            return
        from hawizard.ui.dialogs import YesNoScreen

        name = self.design.name if self.design is not None else ""
        refused = (f" {len(self.field_errors)} field(s) also hold typed values that were refused."
                   if self.field_errors else "")
        body = (f"The changes to the design {name!r} since it was opened or last saved are lost.{refused} "
                "To keep them, choose Keep editing, then save from the review (Ctrl+R, then s).")

        def answer(discard: bool | None) -> None:
            if discard:
                leave()
        self.push_screen(YesNoScreen(title, body, "Discard the changes", "Keep editing"), answer)

    def on_mount(self) -> None:
        self._drain_timer = self.set_interval(DRAIN_INTERVAL_S, self._drain, pause=True)
        self.push_screen(StartScreen())
        if callable(self._initial):
            self.push_screen(self._initial(self))
        elif self._initial in ("design", "review") and self.design is not None:
            from hawizard.ui.design import DesignScreen

            self.push_screen(DesignScreen())
            if self._initial == "review":
                self.show_review()

    # -- moving between screens -----------------------------------------------------------
    def open_design(self, design: Design, ref: str, source: PresetSource | None = None) -> None:
        from hawizard.ui.design import DesignScreen

        self._set_design(design, ref, source)
        self.push_screen(DesignScreen())

    def show_review(self) -> None:
        from hawizard.ui.review import ReviewScreen

        self.push_screen(ReviewScreen())

    def edit_design(self, path: str | None) -> None:
        """Back to the questions (from the review), at the question that asks for ``path``."""
        from hawizard.ui.design import DesignScreen

        stack = list(self.screen_stack)
        if len(stack) >= 2 and isinstance(stack[-2], DesignScreen):
            design_screen = stack[-2]
            self.pop_screen()
        else:
            design_screen = DesignScreen()
            self.push_screen(design_screen)
        if path:
            self.call_after_refresh(lambda: self.run_worker(design_screen.goto(path), group="goto"))

    def action_show_run(self) -> None:
        self.show_run()

    def show_run(self) -> None:
        from hawizard.ui.run import RunScreen

        if self.controller is None or isinstance(self.screen, RunScreen | ModalScreen):
            return  # (a question on screen must be answered, not stepped over)
        for screen in self.screen_stack:
            if isinstance(screen, RunScreen):  # already under the current screen: go back to it
                while not isinstance(self.screen, RunScreen):
                    self.pop_screen()
                return
        self.push_screen(RunScreen(self.controller))

    def show_finish(self) -> None:
        from hawizard.ui.finish import FinishScreen

        if self.controller is not None:
            self.push_screen(FinishScreen(self.controller.outcome()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_run":  # F5 is offered while a run exists and is not on screen
            from hawizard.ui.run import RunScreen

            try:
                screen = self.screen
            except Exception:  # noqa: BLE001 - no screen yet
                return False
            return self.controller is not None and not isinstance(screen, RunScreen | ModalScreen)
        return True

    # -- runs ---------------------------------------------------------------------------------
    def start_run(self, plan, mode: str, *, resume=None) -> None:
        from hawizard.ui.runctl import RunController

        if self.controller is not None and self.controller.live:
            self.show_run()
            return
        if self.controller is not None:
            self.controller.close()
        self.controller = RunController(self, self.design, plan, mode=mode, preset_ref=self._preset_ref(),
                                        session_factory=self.session_factory, transport=self.transport,
                                        poll_scale=self.poll_scale, resume=resume)
        try:
            self.controller.start()
        except Exception as exc:  # noqa: BLE001 - e.g. the state directory cannot be written
            self.controller.state, self.controller.message = "error", f"the run cannot start: {exc}"
        self.show_run()
        self.refresh_bindings()

    def _preset_ref(self) -> str:
        if self.saved_path is not None:
            return str(self.saved_path.resolve())
        return self.design_ref

    def resume_run(self, journal) -> None:
        """Continue an unfinished run from the start screen (its preset must not have changed)."""
        from hawizard.design.preset_file import load_preset, preset_sha256
        from hawizard.plan.build import build_plan

        start = self.screen
        try:
            design = load_preset(journal.preset)
        except Exception as exc:  # noqa: BLE001
            getattr(start, "show_message", lambda _t: None)(f"cannot resume: {exc}")
            return
        if preset_sha256(design) != journal.preset_sha256:
            getattr(start, "show_message", lambda _t: None)(
                f"cannot resume run {journal.run_id}: {journal.preset} changed since; start a new run")
            return
        self.open_design(design, journal.preset)
        self.show_review()
        self.start_run(build_plan(design), "apply", resume=journal)

    def start_drain(self) -> None:
        if self._drain_timer is not None:
            self._drain_timer.resume()

    def _drain(self) -> None:
        if self.controller is not None:
            self.controller.drain()

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.worker.group != "run" or self.controller is None:
            return
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            if self._drain_timer is not None:
                self._drain_timer.pause()
            self.controller.worker_done(event.worker)

    # -- saving and quitting ----------------------------------------------------------------------
    def action_save_preset(self) -> None:
        from hawizard.design.preset_file import save_preset
        from hawizard.ui.dialogs import PromptScreen

        if self.design is None:
            return
        if self.field_errors:
            self._say(f"{len(self.field_errors)} field(s) hold values that were refused; fix them before "
                      "saving (the design still has the previous values).", "bold red")
            return
        default = self.saved_path or Path.cwd() / f"{self.design.name}.toml"

        outcome: list[str] = []

        def check(path: str) -> str | None:
            if not path:
                return "give a file name"
            target = Path(os.path.expanduser(path))
            if target.is_dir():
                return f"{target} is a directory"
            before = _siblings(target)
            existed = target.is_file()
            try:
                save_preset(self.design, target)
            except OSError as exc:
                return f"cannot write {target}: {exc.strerror or exc}"
            self.saved_path = target
            self.clean_design = copy.deepcopy(self.design)
            backups = sorted(_siblings(target) - before)
            outcome[:] = [_saved_words(target, existed, backups)]
            return None

        def done(path: str | None) -> None:
            if path and outcome:
                self._say(outcome[0], "green")

        self.push_screen(PromptScreen("Save the preset", "The whole design, every default written out; "
                                      "secrets are references only. File:", str(default), check=check), done)

    def _say(self, text: str, style: str = "") -> None:
        say = getattr(self.screen, "set_status", None) or getattr(self.screen, "_say", None)
        if say is not None:
            say(text, style)
        else:
            self.notify(text)

    async def action_quit(self) -> None:
        if self.controller is not None and self.controller.live:
            from hawizard.ui.dialogs import YesNoScreen

            def answer(yes: bool | None) -> None:
                if yes:
                    self.controller.cancel()
                    self.exit(130)
            if self.controller.dry_run:  # a dry run keeps no journal: there is nothing to resume
                title, body = "Quit during the dry run?", (
                    "The dry run stops here. Nothing was sent to the nodes, and a dry run leaves no journal to "
                    "resume: run it again from the review (d).")
            else:
                title, body = "Quit while the run is going?", (
                    "The run is cancelled: the running commands are interrupted and no new step starts. "
                    "hawizard apply --resume continues it later.")
            self.push_screen(YesNoScreen(title, body, "Quit", "Stay"), answer)
            return
        self.ask_discard("Quit without saving?", lambda: self.exit(0))

    def on_unmount(self) -> None:
        if self.controller is not None:
            self.controller.close()


def _siblings(target: Path) -> set[Path]:
    """The files beside ``target`` (to find the backup a save made)."""
    try:
        return {p for p in target.parent.iterdir() if p != target}
    except OSError:
        return set()


def _saved_words(target: Path, existed: bool, backups: list[Path]) -> str:
    """What a save did, in words: a new file, a replaced one (and its backup), or nothing changed."""
    if not existed:
        return f"Preset saved to {target} (a new file)."
    if backups:
        return f"Preset saved to {target}; the file it replaced is kept as {backups[-1].name}."
    return f"Preset saved to {target} (the file already held this design; unchanged)."


def run_app() -> int:
    """``hawizard`` with no arguments: the wizard, on a terminal."""
    app = HawizardApp(ansi_color=os.environ.get("TERM") == "linux")
    app.run()
    return app.return_code or 0
