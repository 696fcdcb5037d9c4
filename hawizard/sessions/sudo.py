"""Becoming root with sudo: the command wrapper, the password cache, failure detection.

Why this shape (the way Invoke and Ansible answer sudo): a random prompt given with
``-p`` tells sudo's question apart from anything the command prints; the password is
written to sudo's stdin (exec channel, ``-S``) or its terminal (pty), so it is never on a
command line (``/proc/*/cmdline``) nor in a log; a marker printed by the command itself
shows that escalation succeeded, so the password is sent only when sudo asked, and stdin
data only after the command started. ``LC_ALL=C`` keeps sudo's messages in English.
"""

from __future__ import annotations

import re
import secrets
import threading

from hawizard.common.shellquote import q
from hawizard.sessions.base import SudoAuthFailed, SudoError, SudoPassword

#: sudo's messages after a wrong password (sudo 1.8/1.9, sudo-rs)
WRONG_PASSWORD = re.compile(
    r"Sorry, try again|incorrect password attempt|[Aa]uthentication failed|"
    r"[Ii]ncorrect password",
)
#: sudo refuses for reasons a password cannot fix
NOT_ALLOWED = re.compile(
    r"is not in the sudoers file|is not allowed to run sudo|may not run sudo|"
    r"you must have a tty to run sudo|no tty present and no askpass program|"
    r"a password is required|interactive authentication is required|"
    r"sudo: (?:command )?not found|sudo: not found",
)


def new_nonce() -> str:
    return secrets.token_hex(8)


def prompt_for(nonce: str) -> str:
    return f"[hawizard-sudo-{nonce}] "


def started_marker(nonce: str) -> str:
    """The line the escalated command prints first (never seen in the command text)."""
    return f"__HWU_{nonce}__"


def wrap(command: str, nonce: str, *, password_on_stdin: bool) -> str:
    """``sudo ... -- bash -c 'printf MARKER; COMMAND'`` with the prompt ``prompt_for(nonce)``.

    ``password_on_stdin``: ``-S`` for exec channels; without it sudo asks on the terminal.
    """
    inner = f"printf '__HWU_%s__\\n' {nonce}; {command}"
    flags = "-S " if password_on_stdin else ""
    return f"LC_ALL=C sudo {flags}-H -p {q(prompt_for(nonce))} -- bash -c {q(inner)}"


class SudoPasswordCache:
    """Asks the operator once per node and keeps the answer in memory only."""

    def __init__(self, ask: SudoPassword | None, who: str) -> None:
        self._ask = ask
        self._who = who
        self._password: str | None = None
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._password is None:
                if self._ask is None:
                    raise SudoError(
                        f"sudo on {self._who} asks for a password and none can be asked for "
                        f"(run interactively, or allow this user NOPASSWD in sudoers)"
                    )
                self._password = self._ask(self._who)
            return self._password

    def forget(self) -> None:
        with self._lock:
            self._password = None

    def wrong(self) -> SudoAuthFailed:
        self.forget()
        return SudoAuthFailed(f"sudo on {self._who} rejected the password (wrong password)")


def refusal(who: str, text: str) -> SudoError | None:
    """A clear error if ``text`` (sudo's own output, no secret in it) shows a refusal."""
    m = NOT_ALLOWED.search(text)
    if m:
        return SudoError(f"sudo on {who} refused: {m.group(0)}")
    return None
