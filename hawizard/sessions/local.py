"""A session on this very machine (a node that is the machine hawizard runs on).

Why the same pty shell as over ssh rather than ``subprocess``: the steps then meet the same
terminal, prompts and sudo behaviour on every node, and one driver gets all the testing.
The shell is ``bash --noprofile --norc -i``: no operator rc file can change its behaviour.
"""

from __future__ import annotations

import getpass

from hawizard.sessions.base import ConnectFailed, SudoPassword
from hawizard.sessions.shell import PtyShellSession, _Eof


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
        self._spawn(["bash", "--noprofile", "--norc", "-c", self._ready_command()],
                    self._spawn_env())
        try:
            self._wait_for_ready(self._start_timeout)
            self._setup_shell(self._start_timeout)
        except _Eof:
            self._kill()
            raise ConnectFailed(f"cannot start a local shell: {self._tail()}") from None
        except BaseException:
            self._kill()
            raise
