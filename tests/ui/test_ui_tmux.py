"""A real terminal: tmux runs ``python -m hawizard`` at 80x24, keys are sent, the pane is read back."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time

import pytest

from hawizard.design.preset_file import load_preset

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


class Pane:
    def __init__(self, socket: str, session: str) -> None:
        self.base = [TMUX, "-L", socket]
        self.session = session

    def tmux(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, check=True).stdout

    def text(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def send(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.session, *keys)

    def wait_for(self, *needles: str, timeout: float = 60.0) -> str:
        """The pane's text once it shows every one of ``needles``."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.text()
            if all(n in screen for n in needles):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{needles!r} never all appeared; the pane shows:\n{screen}")
            time.sleep(0.1)


def test_wizard_in_a_real_terminal(tmp_path):
    socket, session = f"hawizard-test-{os.getpid()}", "wizard"
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "HAWIZARD_LAB_DIR": str(tmp_path / "lab"),
           "TERM": "xterm-256color", "HOME": str(tmp_path)}
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = (f"cd {shlex.quote(str(tmp_path))} && env {exports} {shlex.quote(sys.executable)} -m hawizard; "
               f"echo $? > {shlex.quote(str(tmp_path / 'exit-status'))}; sleep 60")
    pane = Pane(socket, session)
    pane.tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", command)
    try:
        pane.wait_for("Pick a starting point", "article", "debian12", "el9", "o Open a preset file")
        pane.send("Enter")  # the article preset
        pane.wait_for("1. Failure scope", "Power loss", "^n Next section")  # bindings shown in the footer
        pane.send("C-n")
        pane.wait_for("2. Monitoring", "sensitive")  # the article's warning, on its question
        pane.send("C-r")
        pane.wait_for("review: article", "10 warning(s)", "s Save preset")
        pane.send("s")
        pane.wait_for("Save the preset")
        pane.send("Enter")  # the proposed file: ./article.toml
        pane.wait_for("Preset saved to")
        pane.send("C-q")
        deadline = time.monotonic() + 15
        while not (tmp_path / "exit-status").exists():
            assert time.monotonic() < deadline, pane.text()
            time.sleep(0.1)
        assert (tmp_path / "exit-status").read_text().strip() == "0"
    finally:
        subprocess.run([TMUX, "-L", socket, "kill-server"], capture_output=True)
    assert load_preset(tmp_path / "article.toml") == load_preset("article")


def test_a_burst_of_keys_in_a_real_terminal_gives_the_typed_value(tmp_path):
    """Keys sent by tmux in one go (as SSH delivers them) reach the field in order: Dead time becomes 45."""
    socket, session = f"hawizard-burst-{os.getpid()}", "wizard"
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "HAWIZARD_LAB_DIR": str(tmp_path / "lab"),
           "TERM": "xterm-256color", "HOME": str(tmp_path)}
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = (f"cd {shlex.quote(str(tmp_path))} && env {exports} {shlex.quote(sys.executable)} -m hawizard; "
               f"sleep 60")
    pane = Pane(socket, session)
    pane.tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", command)
    try:
        pane.wait_for("Pick a starting point", "article")
        pane.send("Enter")  # the article preset
        pane.wait_for("1. Failure scope")
        pane.send("C-n", "C-n", "C-n", "C-n", "C-n", "C-n")  # to 7. Membership, in one burst too
        pane.wait_for("7. Membership", "Keepalive")
        pane.send("Tab", "Tab", "End", "BSpace", "BSpace", "4", "5", "C-r")  # Dead time: 30 -> 45, then review
        pane.wait_for("review: article")
        pane.send("s")
        pane.wait_for("Save the preset")
        pane.send("Enter")
        pane.wait_for("Preset saved to")
    finally:
        subprocess.run([TMUX, "-L", socket, "kill-server"], capture_output=True)
    assert load_preset(tmp_path / "article.toml").heartbeat.deadtime_s == 45
