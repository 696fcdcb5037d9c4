"""An operator at a root shell: types commands into an interactive ``ssh -tt`` session and reads the prompt.

Why typed, not run: issue 14 (b) adopts a cluster built by hand, and a hand build is an interactive
shell, heredocs and all, with Debian's login environment, readline and a terminal. Each command's exit
status comes back in the prompt (``PS1`` starts with ``[rc=$?``); a command that fails stops the
session with what the screen showed, as it would stop an operator. ``crm configure`` is typed at
crmsh's own prompt, the way the article enters its configuration, and committed once.
Everything the session printed is kept (``transcript``) for the test's output.
"""

from __future__ import annotations

import re
import time

import pexpect

PROMPT = re.compile(r"\[rc=(\d+) root@(\S+)\]# ")
CRM_PROMPT = re.compile(r"configure# ")


class TypingFailed(AssertionError):
    pass


class Typist:
    def __init__(self, argv: list[str], node: str, timeout: float = 60) -> None:
        self.node = node
        self.transcript: list[str] = []
        self.child = pexpect.spawn(argv[0], ["-tt", *argv[1:]], encoding="utf-8",
                                   codec_errors="replace", timeout=timeout, dimensions=(50, 200))
        self.child.expect([r"# ", r"\$ "], timeout=timeout)
        # the prompt carries the last exit status; no history, no bracketed paste, no colours
        self.child.sendline("export PS1='[rc=$? \\u@\\h]# ' TERM=dumb HISTFILE=/dev/null; "
                            "bind 'set enable-bracketed-paste off' 2>/dev/null")
        self.child.expect(PROMPT, timeout=timeout)

    def type(self, block: str, timeout: float = 120, ok: tuple[int, ...] = (0,)) -> str:
        """Type one command (several lines for a heredoc); its screen output. Fails unless its status is in ``ok``."""
        for line in block.splitlines():
            self.child.sendline(line)
        self.child.expect(PROMPT, timeout=timeout)
        out = self.child.before or ""
        rc = int(self.child.match.group(1))
        self.transcript.append(f"[{self.node}]# {block}\n{out}")
        if rc not in ok:
            raise TypingFailed(f"{self.node}: {block.splitlines()[0]!r} exited {rc}:\n{out[-3000:]}")
        return out

    def type_until(self, command: str, done: str, timeout: float, every: float = 3.0) -> str:
        """Type ``command`` again and again (``cat /proc/drbd``) until its output shows ``done``."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.type(command)
            if done in out:
                return out
            if time.monotonic() > deadline:
                raise TypingFailed(f"{self.node}: {command!r} never showed {done!r}; last:\n{out}")
            time.sleep(every)

    def crm_configure(self, lines: list[str], timeout: float = 300) -> str:
        """``crm configure``, then each line at crmsh's prompt, ``commit``, ``quit``."""
        self.child.sendline("crm configure")
        self.child.expect(CRM_PROMPT, timeout=timeout)
        shown = []
        for line in [*lines, "commit"]:
            self.child.sendline(line)
            i = self.child.expect([CRM_PROMPT, r"\(y/n\)"], timeout=timeout)
            shown.append(f"{line}\n{self.child.before}")
            if i == 1:
                raise TypingFailed(f"{self.node}: crm asked a question after {line!r}:\n{self.child.before}")
            if re.search(r"^ERROR", self.child.before or "", re.M):
                raise TypingFailed(f"{self.node}: crm said ERROR after {line!r}:\n{self.child.before}")
        self.child.sendline("quit")
        self.child.expect(PROMPT, timeout=timeout)
        self.transcript.append(f"[{self.node}]# crm configure\n" + "\n".join(shown))
        return "\n".join(shown)

    def close(self) -> None:
        if self.child.isalive():
            self.child.sendline("exit")
            try:
                self.child.expect(pexpect.EOF, timeout=10)
            except (pexpect.TIMEOUT, pexpect.EOF):
                pass
            self.child.close(force=True)
