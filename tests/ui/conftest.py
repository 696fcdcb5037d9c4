"""UI test helpers: an isolated state directory, no cursor blink, and drivers for runs."""

from __future__ import annotations

import asyncio
import inspect
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import Input

sys.path.insert(0, str(Path(__file__).resolve().parent))

SIZES = [(80, 24), (120, 40)]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run ``async def`` tests in a fresh event loop (no asyncio plugin needed)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Runs, audit logs, the lab and saved presets all live under tmp_path."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HAWIZARD_LAB_DIR", str(tmp_path / "lab"))
    monkeypatch.chdir(tmp_path)
    # a blinking cursor makes screenshots depend on timing
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    return tmp_path


async def wait_for(pilot, condition, timeout: float = 30.0, step: float = 0.02) -> None:
    """Let the app run until ``condition()`` holds (fails the test after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(step)


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[c if c != " " else "space" for c in text])


def key_event(app, key: str):
    """The Key event a terminal's driver posts for ``key`` (as Textual's own Pilot builds it)."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    original = REPLACED_KEYS.get(key, key)
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(original))
    except KeyError:
        char = key if len(key) == 1 else None
    event = events.Key(key, char)
    event.set_sender(app)
    return event


async def burst(pilot, *keys: str) -> None:
    """Send ``keys`` the way an SSH session delivers a burst: all queued at once, no pause between.

    (``pilot.press`` waits for the app to settle after every key, which hides ordering bugs.)"""
    app = pilot.app
    for key in keys:
        app._driver.send_message(key_event(app, key))
    await pilot.pause()


def screen_text(app) -> str:
    """The screen as plain text, the way the terminal shows it (modal screens over the ones below)."""
    import io

    from rich.console import Console

    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), force_terminal=True,
                      color_system=None, record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def footer_keys(screen) -> dict[str, str]:
    """The key line of ``screen`` as shown: key as displayed -> description."""
    from textual.widgets._footer import FooterKey

    return {k.key_display: k.description for k in screen.query(FooterKey)}


def in_view(widget, container) -> bool:
    """The whole of ``widget`` (or, if it is taller than ``container``, its top) is inside the visible part."""
    region, window = widget.region, container.scrollable_content_region
    if region.height == 0 or region.width == 0:
        return False
    top_part = region.crop_size((region.width, min(region.height, window.height)))
    return window.contains_region(top_part)


async def answer_confirmations(pilot, app, phrase_for=None, timeout: float = 60.0, typed: bool = False) -> list[str]:
    """Drive a run to its end, answering each asked phrase with itself (or ``phrase_for(expected)``).

    ``typed``: key by key, as an operator would (slower); otherwise the answer is put in the field
    and Enter is pressed. Returns the phrases asked, in order.
    """
    from hawizard.ui.dialogs import ConfirmPhraseScreen

    asked: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        if isinstance(app.screen, ConfirmPhraseScreen):
            expected = app.screen.phrase
            asked.append(expected)
            answer = phrase_for(expected) if phrase_for else expected
            if typed:
                await type_text(pilot, answer)
            else:
                app.screen.query_one("#phrase").value = answer
            await pilot.press("enter")
        c = app.controller
        if c is not None and c.state not in ("idle", "running", "paused", "confirming"):
            await pilot.pause(0.1)
            return asked
        if time.monotonic() > deadline:
            raise AssertionError(f"run did not end; state {c.state if c else None}")
        await asyncio.sleep(0.02)
        await pilot.pause()
