"""Keys are handled one at a time, in the order they were typed, however fast they arrive.

Why: Textual hands a printable key straight to the focused Input, which inserts it at once,
while a bound key (Backspace, Delete, End, Tab, Ctrl+N...) first travels up the DOM, one
message queue per ancestor, and runs its action only when it reaches the App. Keys that
arrive together (an SSH session delivers a burst in one read; a fast typist does the same) are
therefore applied out of order: in Membership › Deadtime, Backspace Backspace 4 5 gave an empty
field, and a value the operator never typed (4) reached the design. The same bug is Textual
issue #6605 (fix proposed in Textualize/textual PR #6631, for the focused widget's own bindings
only; keys bound on ancestors, such as Tab, can still overtake typing there). A second way to
lose keys: an action that moves the focus (Enter opening a list, Tab) usually does it with
``Widget.focus``, which only queues the change on the App, behind the keys already waiting.

``OrderedKeys`` routes each key to completion before it looks at the next one:
priority bindings first (as Textual does), then, for a key the focused widget consumes itself
(``check_consume_key``: a character for an Input, type-to-search in a list), the key goes to
that widget and the App waits until the widget has taken it; any other key runs its binding
at once, on the binding chain as it is now. A screen may also apply, before each key, what the
focused widget already holds but has not reported yet (``before_key``: the design screen applies
a choice picked in a list, which may bring other rows, before a Tab typed right after it moves). Before a key is looked at, the focused widget
finishes what it has queued (its Focus event selects its text: an End or Backspace run before
that would be undone by it). After each key the keys still waiting are held until the App has
done what that key queued for it (a focus change above all), so the next key goes where the
operator saw the cursor go. A key is never held longer than that, and never waits on a widget
that has gone away.
"""

from __future__ import annotations

import asyncio
from collections import deque

from textual import events
from textual.widget import Widget
from textual.widgets import Select

KEY_WAIT_S = 5.0  # longest wait for a widget to take a key (a stalled widget must not freeze the keyboard)
_POLL_S = 0.05
_PICK_ROUNDS = 4  # a pick crosses three queues (see _close_picked_list); one more round for slack


class OrderedKeys:
    """Mixin for the App (before ``App`` in the bases): keys in arrival order, see the module docstring."""

    def _keyorder_init(self) -> None:
        self._keys_waiting: deque[events.Key] = deque()
        self._keys_held = False  # True until the App has run what the last key queued
        # keys whose bindings were already looked up when they arrived: a key that no binding took
        # still travels up the DOM (Textual's own key handlers), and must not be bound a second
        # time later, when focus may have moved
        self._keys_routed: deque[events.Key] = deque(maxlen=64)
        self._keys_deferred: deque[events.Key] = deque(maxlen=8)  # keys sent back once behind a closing list

    async def on_event(self, event: events.Event) -> None:
        if (isinstance(event, events.Key) and not event.is_forwarded
                and self.screen.maximized is None):  # type: ignore[attr-defined]
            self._keys_waiting.append(event)
            await self._route_waiting()
            return
        await super().on_event(event)  # type: ignore[misc]

    async def _route_waiting(self) -> None:
        while self._keys_waiting and not self._keys_held:
            await self._route_key(self._keys_waiting.popleft())
            # hold the keys behind it (waiting, or still in the App's queue) until the App has
            # processed what this key queued for it: call_later goes to the back of that queue
            self._keys_held = self.call_later(self._release)  # type: ignore[attr-defined]

    async def _release(self) -> None:
        self._keys_held = False
        await self._route_waiting()

    async def _route_key(self, event: events.Key) -> None:
        app = self  # type: ignore[assignment]
        if not app.app_focus:  # type: ignore[attr-defined]
            app.app_focus = True  # type: ignore[attr-defined]
        focused: Widget | None = app.focused  # type: ignore[attr-defined]
        if focused is not None:
            await self._settle(focused)
            if event not in self._keys_deferred and await self._close_picked_list(focused):
                # the Select has queued its focus on the App: this key waits behind it (once)
                self._keys_deferred.append(event)
                self._keys_waiting.appendleft(event)
                return
        before_key = getattr(app.screen, "before_key", None)  # type: ignore[attr-defined]
        if before_key is not None:
            await before_key()
        if await app._check_bindings(event.key, priority=True):  # type: ignore[attr-defined]
            return
        focused = app.focused  # type: ignore[attr-defined]
        target = focused or app.screen  # type: ignore[attr-defined]
        if focused is not None:
            try:
                app.screen._clear_tooltip()  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - no screen while one is being swapped
                pass
        if not target.check_consume_key(event.key, event.character):
            if await app._check_bindings(event.key):  # type: ignore[attr-defined]
                return
            self._keys_routed.append(event)
        await self._deliver(target, event)

    async def _close_picked_list(self, focused: Widget) -> bool:
        """The cursor is in an open list (a Select's overlay): if the last key picked a choice, let the
        Select take it; True when that closed the list (the Select then queued its focus on the App).

        Picking travels through three queues (the overlay's OptionSelected, its UpdateSelection, then
        the Select's own handler, which queues its focus on the App): a Tab right after Enter would
        otherwise move on from the list's overlay, and the Select's late focus() would pull the
        cursor back; the Tab would be lost."""
        select = next((a for a in focused.ancestors if isinstance(a, Select)), None)
        if select is None:
            return False
        for _ in range(_PICK_ROUNDS):  # a key that keeps the list open (Down) costs these few rounds
            if not select.expanded:
                return True  # closed, and the cursor still in its list: the Select's focus is on its way
            await self._settle(focused)
            await self._settle(select)
        return not select.expanded

    async def _deliver(self, target: Widget, event: events.Key) -> None:
        """Give the key to ``target`` and wait until it has handled it (or is gone)."""
        target._forward_event(event)
        await self._settle(target)

    async def _settle(self, target: Widget) -> None:
        """Wait until ``target`` has handled every message queued for it so far (or is gone)."""
        taken = asyncio.Event()
        if not target.call_later(taken.set):
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + KEY_WAIT_S
        while not taken.is_set():
            if not target.is_attached or target._closing or target._closed or loop.time() > deadline:
                return
            try:
                await asyncio.wait_for(taken.wait(), _POLL_S)
            except TimeoutError:
                pass

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls the _on_key of every class in the MRO (App's runs the bindings) unless
        # one of them prevents the default
        for routed in self._keys_routed:
            if routed is event:  # its bindings were looked up on arrival and none took it
                self._keys_routed.remove(routed)
                event.prevent_default()
                return
