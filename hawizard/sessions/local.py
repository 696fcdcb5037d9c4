"""A session on this very machine (a node that is the machine hawizard runs on).

Why the same pty shell as over ssh rather than ``subprocess``: the steps then meet the same
terminal, prompts and sudo behaviour on every node, and one driver (pty.py) gets all the testing.
The shell is ``bash --noprofile --norc -i``: no operator rc file can change its behaviour.
"""

from __future__ import annotations

import getpass

from hawizard.sessions.base import SudoPassword
from hawizard.sessions.pty import PtyShellSession


class LocalSession(PtyShellSession):
    kind = "local"

    def __init__(self, name: str, *, become_root: bool = False,
                 sudo_password: SudoPassword | None = None, start_timeout: float = 15) -> None:
        user = getpass.getuser()
        super().__init__(name, who=f"{name} (local, {user})", user=user,
                         become_root=become_root, sudo_password=sudo_password)
        self._start_timeout = start_timeout
        self._start()

    def _start(self) -> None:
        self._open(["bash", "--noprofile", "--norc", "-c", self._ready_command()],
                   ready_limit=self._start_timeout, setup_limit=self._start_timeout,
                   failure="cannot start a local shell")
