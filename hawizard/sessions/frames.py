"""The framing protocol of a pty shell: how one command is sent, and how its output is read back.

Why a protocol at all: a pty has one output stream, with no boundary between what a command
prints, what the shell echoes and the next prompt. So each command travels in a frame
(tests/sessions/test_sessions_frames.py runs frames through a real bash):

* a start marker and an end marker that carries ``$?``; both are printed by ``printf`` from
  split formats, so an echoed command never looks like one;
* the command runs in a subshell ``( ... )`` so ``exit 3`` or ``set -e`` cannot end the
  session, with stdin from /dev/null (a stray question gets EOF instead of eating the next
  frame) or from the ``stdin`` bytes, sent base64-encoded in a here-document (short lines,
  so the tty's 4096-byte line limit never bites; the data is never in any argv);
* after the command, the terminal's mode set again (``MODE``: pty.py says why), so that a
  command that changed it cannot change how the next frame is read;
* under sudo, the frame's first lines belong to sudo: its prompt (answered once, by the
  session) or its refusal, until the escalated command prints its started marker (sudo.py).

stderr arrives merged into stdout (``CommandResult.stderr`` is ``''``); ANSI escape sequences
are removed from the lines. Pure text in, text out: the session (pty.py) does the I/O.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess

from hawizard.sessions import sudo
from hawizard.sessions.base import EXIT_UNKNOWN, CommandResult, OutputCallback

# an OSC string (ESC ] ... BEL, e.g. a window title) first: its opening "ESC ]" also matches the
# two-character escape branch, which would leave the title and the BEL in the text
ANSI = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
CRLF = re.compile(r"\r+\n")


#: The shell variable of a batch that holds the last command's exit status.
BATCH_STATUS = "__hw_batch_status"
#: The shell variable that holds a frame's exit status while the terminal's mode is set again.
STATUS = "__hw_status"
#: The terminal's mode for the next text the shell reads (pty.py: no echo, no canonical input, no
#: readline), set again after each command and each batch: a command that changed it cannot
#: change how the next frame is read.
MODE = "stty -echo -icanon 2>/dev/null"


def frame(m: str, body: str, stdin: bytes | None) -> str:
    """The text that runs ``body`` in frame ``m`` (a fresh random tag per command)."""
    return (
        f"printf '__HWS_%s__\\n' {m}; ( {body}\n) "
        + _stdin_redirect(m, stdin)
        + f"; {STATUS}=$?; {MODE}; printf '\\n__HWE_%s_%d__\\n' {m} \"${STATUS}\"\n"
    )


def batch_frame(frames: list[tuple[str, str]]) -> str:
    """The text that runs the bodies ``(m, body)`` in their own frames, one after another, in one round trip.

    Each body runs exactly as in ``frame`` (its own subshell, stdin from /dev/null, its own start
    and end markers with its own ``$?``); a body runs only if the one before it exited 0, so the
    batch stops at the first failure and its markers say which commands ran. The whole batch is
    one brace group: the interactive shell reads all of it before it runs any of it, and prints
    its prompt once, at the end; the terminal's mode is set again once, at its end. Ctrl-C (a timeout, a cancel) ends the body that runs; its
    status 130 skips the rest.
    """
    v = BATCH_STATUS
    parts = [f"{v}=0; {{\n"]
    for m, body in frames:
        parts.append(
            f"[ \"${v}\" -ne 0 ] || {{ printf '__HWS_%s__\\n' {m}; ( {body}\n) </dev/null; "
            f"{v}=$?; printf '\\n__HWE_%s_%d__\\n' {m} \"${v}\"; }}\n"
        )
    parts.append(f"{MODE}\n}}\n")
    return "".join(parts)


def parses(text: str) -> bool:
    """Whether bash parses ``text`` (``bash -n``, on this machine): a batch that does not is sent one by one.

    Why: the shell reads a whole batch before it runs any of it, so one command that does not
    parse (a hawizard bug, but it must stay diagnosable) would keep the whole batch from running
    and make its first command look timed out. Sent alone, each command fails as it always did.
    No bash here: no batch either.
    """
    bash = shutil.which("bash")
    if bash is None:
        return False
    try:
        return subprocess.run([bash, "--noprofile", "--norc", "-n"], input=text.encode(), capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _stdin_redirect(m: str, data: bytes | None) -> str:
    if data is None:
        return "</dev/null"
    encoded = base64.encodebytes(data).decode()  # 76-column lines
    return f"< <(base64 -d <<'__HWD_{m}__'\n{encoded}__HWD_{m}__\n)"


class FrameReader:
    """Parses one framed command's output from the pty stream, fed as it arrives."""

    def __init__(self, m: str, on_output: OutputCallback | None, sudo_nonce: str | None) -> None:
        self.start = f"__HWS_{m}__\n"
        self.end = re.compile(rf"__HWE_{m}_(\d+)__")
        self.on_output = on_output
        self.seen_start = False
        self.done = False
        self.exit_status = EXIT_UNKNOWN
        self.lines: list[str] = []
        self._held_empty = False
        # sudo
        self.sudo_nonce = sudo_nonce
        self.sudo_started = sudo_nonce is None
        self.sudo_prompt = sudo.prompt_for(sudo_nonce) if sudo_nonce else ""
        self.sudo_marker = sudo.started_marker(sudo_nonce) if sudo_nonce else ""
        self.sudo_prompts = 0
        self.password_sent = False
        self.sudo_text = ""
        self.sudo_failure: str | None = None

    def feed(self, pending: str) -> str:
        """Consume what can be consumed; return the unconsumed rest.

        Nothing after the end marker is consumed: that is the prompt, or the next frame of a batch.
        """
        pending = CRLF.sub("\n", pending)
        if pending.endswith("\r") or self.done:
            return pending  # maybe half of a CR LF; or after the end: another reader's
        if not self.seen_start:
            i = pending.find(self.start)
            if i < 0:
                return pending[-len(self.start):]
            self.seen_start = True
            pending = pending[i + len(self.start):]
        if not self.sudo_started:
            pending = self._feed_sudo(pending)
            if not self.sudo_started and not self.done:
                return pending
        *complete, rest = pending.split("\n")
        for i, line in enumerate(complete):
            if line.startswith("__HWE_"):
                mm = self.end.fullmatch(line)
                if mm:
                    self.done = True
                    self.exit_status = int(mm.group(1))
                    return "\n".join([*complete[i + 1:], rest])  # the prompt, or the next frame
            self._line(ANSI.sub("", line))
        return rest

    def _feed_sudo(self, pending: str) -> str:
        """Before the command starts: answer sudo's prompt once; catch its refusals."""
        while True:
            marker_at = pending.find(self.sudo_marker + "\n")
            prompt_at = pending.find(self.sudo_prompt)
            end = self.end.search(pending)
            if prompt_at >= 0 and (marker_at < 0 or prompt_at < marker_at):
                self.sudo_text += pending[:prompt_at]
                pending = pending[prompt_at + len(self.sudo_prompt):]
                self.sudo_prompts += 1
                if self.sudo_prompts > 1:
                    self.sudo_failure = "wrong"
                continue
            if marker_at >= 0:
                self.sudo_text += pending[:marker_at]
                self.sudo_started = True
                pending = pending[marker_at + len(self.sudo_marker) + 1:]
                break
            if end is not None:  # sudo ended without running the command
                self.sudo_text += pending[: end.start()]
                self.done = True
                self.exit_status = int(end.group(1))
                return ""
            break
        if self.sudo_failure is None and sudo.WRONG_PASSWORD.search(self.sudo_text):
            self.sudo_failure = "wrong"
        elif self.sudo_failure is None and sudo.NOT_ALLOWED.search(self.sudo_text):
            self.sudo_failure = "refused"
        return pending

    def _line(self, line: str) -> None:
        self.lines.append(line)
        if self.on_output is None:
            return
        # The end marker is preceded by one '\n' of ours: hold an empty line back until we
        # know it is not that one.
        if self._held_empty:
            self.on_output("stdout", "")
            self._held_empty = False
        if line == "":
            self._held_empty = True
        else:
            self.on_output("stdout", line)

    def result(self, command: str, status: int, duration: float, timed_out: bool = False
               ) -> CommandResult:
        return CommandResult(command, status, "\n".join(self.lines), "", duration, timed_out)
