"""The review's Diff tab: what a run would change on the nodes, read from the nodes when the operator asks.

Why apart from review.py: reading the nodes is the one thing the review does that reaches them, in a
thread worker, with questions (an unknown host key, a sudo password) put to the operator as modal screens
from that thread. The engine is the command line's (``hawizard diff``): hawizard/run/collect.py reads the
nodes, hawizard/adopt/nodediff.py compares the files and the CIB objects; this module only asks and draws.
Nothing is read before the operator presses the key: the review never contacts a node on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text

from hawizard.adopt.nodediff import NodeDiff
from hawizard.ui.nodeasks import NodeQuestions

if TYPE_CHECKING:
    from textual.app import App

HINT = ("Press r to compare this design with the nodes: every file hawizard would write against the node's, "
        "and the cluster configuration's objects against the live CIB. Only reading commands run, over SSH "
        "(the design's ssh settings, the same host key rules as a run).")


class Asker(NodeQuestions):
    """The diff's questions to the operator, asked from the worker thread, answered on the UI thread."""

    def __init__(self, app: App, cancelled: threading.Event) -> None:
        self.app = app
        self.cancelled = cancelled

    def _ask(self, make_screen: Callable[[], Any]) -> Any:
        answered = threading.Event()
        box: list[Any] = []

        def done(result: Any) -> None:
            box.append(result)
            answered.set()

        try:
            self.app.call_from_thread(lambda: self.app.push_screen(make_screen(), callback=done))
        except RuntimeError:  # the app is closing
            return None
        while not answered.wait(0.1):
            if self.cancelled.is_set():
                return None
        return box[0] if box else None


def read_nodes(app: Any, design: Any, rendering: Any, cancelled: threading.Event) -> NodeDiff:
    """The diff of the design against its nodes (run in a thread worker)."""
    from hawizard.run import collect

    asker = Asker(app, cancelled)
    factory = getattr(app, "session_factory", None)
    access = collect.Access(app.transport, asker.confirm_host_key, asker.sudo_password,
                            (lambda target: factory(target.name)) if factory else None)
    return collect.diff_nodes(design, rendering, access)


def diff_text(result: NodeDiff) -> Text:
    """The files' unified diffs (removed lines red, added green) and the CIB objects, as the command prints them."""
    text = Text()
    head = result.files_summary()
    text.append(("The nodes match the design.\n" if not result.differs else "A run would change the nodes:\n"),
                style="bold green" if not result.differs else "bold yellow")
    text.append(head + "\n\n", style="dim")
    for chunk in result.file_lines():
        for line in chunk.splitlines():
            style = ("bold" if line.startswith(("---", "+++")) else "cyan" if line.startswith("@@")
                     else "red" if line.startswith("-") else "green" if line.startswith("+") else "")
            text.append(line + "\n", style=style)
    text.append("\n")
    for line in result.cib_text().splitlines():
        state = line.split(" ", 1)[0]
        style = {"added": "green", "changed": "yellow", "removed": "red", "left": "dim"}.get(state, "")
        text.append(line + "\n", style=style)
    return text
