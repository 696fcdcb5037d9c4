"""The run screen against FAKE scripted sessions and the dry-run session: progress, confirmations, control."""

from __future__ import annotations

import json

from conftest import answer_confirmations, type_text, wait_for
from textual.widgets import Log, ProgressBar, Sparkline, Static
from ui_fakes import fake_factory

from hawizard.audit import log as audit
from hawizard.audit import runs
from hawizard.common.redact import Redactor
from hawizard.design.preset_file import load_preset, shipped_presets
from hawizard.events import OutputLine
from hawizard.plan.build import build_plan
from hawizard.ui.app import HawizardApp
from hawizard.ui.dialogs import ConfirmPhraseScreen, YesNoScreen
from hawizard.ui.finish import FinishScreen
from hawizard.ui.review import ReviewScreen
from hawizard.ui.run import RunScreen
from hawizard.ui.runsink import LOG_LINES, UiSink


def records(run_id: str) -> list[dict]:
    path = runs.run_dir(run_id) / runs.AUDIT_FILE
    return [json.loads(line) for line in path.read_text().splitlines()]


async def start(pilot, app, mode: str = "apply") -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.prepared is not None)
    if mode == "apply":
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("y")  # "Apply the design to the nodes?"
    else:
        await pilot.press("d")
    await wait_for(pilot, lambda: app.controller is not None)


def scripted_app(**fake) -> tuple[HawizardApp, dict]:
    made, factory = fake_factory(build_plan(load_preset("article")), **fake)
    return HawizardApp(preset="article", initial="review", session_factory=factory, poll_scale=0.01), made


async def test_scripted_run_shows_sync_progress_cluster_state_and_asks_for_each_destructive_step():
    app, made = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, app)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmPhraseScreen))
        modal = app.screen
        assert modal.phrase == "create-md r0"
        assert not any("create-md" in c for c in made["srv1"].commands)  # asked before anything is done
        asked = await answer_confirmations(pilot, app, typed=True)
        c = app.controller
        assert asked == ["create-md r0", "overwrite srv2", "mkfs /dev/drbd0"]
        assert c.state == "finished", c.message
        run = app.screen
        assert isinstance(run, RunScreen)
        assert run.query_one("#sync-bar", ProgressBar).progress == 100
        assert list(run.query_one("#sync-spark", Sparkline).data) == [10080.0, 19500.0, 24000.0]
        assert "online srv1 srv2" in str(run.query_one("#cluster-state", Static).render())
        assert "res_httpd Started@srv1" in str(run.query_one("#cluster-state", Static).render())
        assert all(st in ("done",) for states in c.states.values() for st in states.values())
        srv1 = run.query_one("#out-0", Log)
        assert any(line.startswith("$ drbdadm -- --force create-md r0") for line in srv1.lines)
        assert any("sync'ed: 45.0%" in line or "45.0%" in line for line in srv1.lines)
    kinds = [r["kind"] for r in records(c.run_id)]
    assert kinds[0] == "run-started" and kinds.count("confirmed") == 3 and kinds[-1] == "run-finished"


async def test_a_wrong_phrase_cancels_and_retry_asks_again():
    app, made = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, app)
        asked = await answer_confirmations(pilot, app, phrase_for=lambda expected: "create-md r1")
        c = app.controller
        assert asked == ["create-md r0"]
        assert c.state == "cancelled" and "not confirmed" in c.message
        assert set(c.states["create-md"].values()) == {"cancelled"}
        assert not any("create-md" in cmd for cmd in made["srv1"].commands if not cmd.startswith("ds="))
        assert "cancelled" in str(app.screen.query_one("#run-status", Static).render())
        await pilot.press("t")  # retry from the step that was refused
        asked = await answer_confirmations(pilot, app)
        assert asked[0] == "create-md r0" and c.state == "finished"


async def test_a_failed_step_can_be_skipped_with_a_recorded_reason():
    app, made = scripted_app(fail={"apachectl -t": "Syntax error on line 3 of status.conf"})
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, app)
        await answer_confirmations(pilot, app)
        c = app.controller
        assert c.state == "failed" and c.failed_step == "apache"
        assert "Syntax error on line 3" in str(app.screen.query_one("#run-status", Static).render())
        for node in made.values():
            node.fail.clear()
        await pilot.press("k")
        await pilot.pause()
        await type_text(pilot, "checked by hand")
        await pilot.press("enter")
        await answer_confirmations(pilot, app)
        assert c.state == "finished"
        assert set(c.states["apache"].values()) <= {"skipped", "done"}
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FinishScreen))
        assert "skipped apache: checked by hand" in str(app.screen.query_one("#finish-text", Static).render())
    skipped = [r for r in records(c.run_id) if r["kind"] == "step-finished" and r["data"]["status"] == "skipped"]
    assert skipped and all("checked by hand" in r["data"]["message"] for r in skipped)


async def test_pause_holds_the_next_command_and_the_run_goes_on_behind_other_screens():
    app, made = scripted_app(delay=0.1)  # create-md's question comes some 40 commands (4 s) after the start
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, app)
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and made.get("srv1") is not None)
        await pilot.press("p")
        assert app.controller.state == "paused"
        await pilot.pause(0.1)
        paused_at = len(made["srv1"].commands)
        await pilot.pause(0.4)
        assert len(made["srv1"].commands) <= paused_at + 1  # at most the command already under way
        assert "paused" in str(app.screen.query_one("#run-status", Static).render())
        await pilot.press("p")
        assert app.controller.state == "running"
        await wait_for(pilot, lambda: len(made["srv1"].commands) > paused_at + 1)  # the next commands go out
        await pilot.press("escape")  # back to the review: the run goes on
        for fake in made.values():
            fake.delay = 0.0
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen | ConfirmPhraseScreen))
        await answer_confirmations(pilot, app)
        assert app.controller.state == "finished"
        await pilot.press("f5")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
        assert app.screen.query_one("#out-0", Log).line_count > 20  # replayed from the controller


async def test_cancel_asks_first_then_stops_before_the_next_command():
    app, made = scripted_app(delay=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, app)
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and made.get("srv1") is not None)
        await pilot.press("c")
        await pilot.pause(0.2)
        held_at = len(made["srv1"].commands)
        await pilot.pause(0.6)  # held while the question is open: no command, and no question put over it
        assert len(made["srv1"].commands) == held_at and app.controller.live
        assert isinstance(app.screen, YesNoScreen)
        await pilot.press("escape")  # "Keep running": the run goes on
        await wait_for(pilot, lambda: len(made["srv1"].commands) > held_at + 1)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.controller.live)
        c = app.controller
        assert c.state == "cancelled"
        sent = len(made["srv1"].commands)
        await pilot.pause(0.3)
        assert len(made["srv1"].commands) == sent
        for fake in made.values():
            fake.delay = 0.0
        await pilot.press("t")  # retry: from the first step that did not finish
        await answer_confirmations(pilot, app)
        assert c.state == "finished"


async def test_dry_run_finishes_and_exports_its_report():
    app = HawizardApp(preset="article", initial="review")
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, app, mode="dry-run")
        asked = await answer_confirmations(pilot, app)
        c = app.controller
        assert len(asked) == 3 and c.state == "finished" and c.dry_run
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FinishScreen))
        text = str(app.screen.query_one("#finish-text", Static).render())
        assert "Run finished" in text and "dry run" in text and c.audit_path in text
        assert "How long each phase took" in text and "drbd" in text
        await pilot.press("x")
        report = runs.run_dir(c.run_id) / "report.md"
        await wait_for(pilot, lambda: report.exists())
        assert "create-md" in report.read_text()


async def test_an_unfinished_run_is_resumed_from_the_start_screen():
    """Same run id and audit log; the probes find the built steps done, so nothing is asked again."""
    from textual.widgets import OptionList

    from hawizard.design.preset_file import preset_sha256
    from hawizard.events import RunStarted
    from hawizard.run.journal import Journal, latest_unfinished

    design = load_preset("article")
    plan = build_plan(design)
    run_id = "20260101T000000Z-abcdef"
    journal = Journal(run_id, "article", preset_sha256(design), plan.step_ids,
                      {"preflight": {"srv1": "done", "srv2": "done"}, "install": {"srv1": "failed"}}, status="failed")
    journal.save()
    with audit.AuditSink.for_run(run_id) as sink:
        sink.handle(RunStarted(run_id=run_id, preset_name="article", preset_sha256=journal.preset_sha256,
                               operator="op", stack=design.stack, plan=tuple(plan.step_ids)))
    _made, factory = fake_factory(plan, done_already=True)
    app = HawizardApp(session_factory=factory, poll_scale=0.01)
    async with app.run_test(size=(80, 24)) as pilot:
        options = app.screen.query_one("#start-options", OptionList)
        count = len(shipped_presets()) + 2  # the presets, "open a file", "resume"
        await wait_for(pilot, lambda: options.option_count == count)
        options.highlighted = count - 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.controller is not None and not app.controller.live)
        c = app.controller
        assert c.run_id == run_id and c.state == "finished"
        assert isinstance(app.screen, RunScreen)
        assert set(c.states["create-md"].values()) == {"already-done"}
    kinds = [r["kind"] for r in records(run_id)]
    assert kinds[0] == "run-started" and "audit-resumed" in kinds and kinds[-1] == "run-finished"
    assert latest_unfinished() is None


def test_ui_sink_bounds_a_flood_and_redacts():
    redactor = Redactor(["hunter2-secret"])
    sink = UiSink(redactor, max_lines=1000)
    for i in range(100_000):
        sink.handle(OutputLine(step_id="install", node="srv1", stream="stdout", text=f"line {i} \x1b[31mred\x1b[0m"))
    sink.handle(OutputLine(step_id="install", node="srv1", stream="stderr", text="password is hunter2-secret"))
    events, lines, dropped = sink.drain()
    assert events == []
    assert len(lines["srv1"]) == 1000 and dropped["srv1"] == 100_001 - 1000
    assert lines["srv1"][-2] == "line 99999 red"  # escape sequences removed
    assert "hunter2" not in lines["srv1"][-1] and "«redacted»" in lines["srv1"][-1]
    assert LOG_LINES >= 1000
