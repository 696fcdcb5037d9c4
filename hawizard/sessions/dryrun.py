"""A session that only records: what ``hawizard apply --dry-run`` would do, per node.

Why: the dry run must walk the very same code path as a real run (same runner, same
steps), so it needs a session, not a separate printer. It never records file *content*
(a file may hold a secret): only path, mode, owner, size and sha256.

``probe_answer`` lets the runner answer its "already done?" probes as "not done", so the
printed plan shows every step: a callable given the command, returning an exit status,
a full CommandResult, or None for the default (exit 0, no output).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from hawizard.sessions.base import CommandResult, NodeSession, OutputCallback, WriteResult

ProbeAnswer = Callable[[str], "int | CommandResult | None"]


@dataclass(frozen=True)
class Recorded:
    kind: str  # 'run' | 'write' | 'read'
    command: str = ""
    path: str = ""
    mode: int | None = None
    owner: str = ""
    group: str = ""
    sha256: str = ""
    size: int = 0
    sudo: bool = False
    stdin_size: int = 0
    backup: bool = False
    timeout: float | None = None
    exit_status: int = 0

    def describe(self) -> str:
        if self.kind == "write":
            return (f"write {self.path} ({self.size} bytes, mode {self.mode:04o}, "
                    f"{self.owner}:{self.group}, sha256 {self.sha256[:12]}…)")
        if self.kind == "read":
            return f"read {self.path}"
        return ("sudo " if self.sudo else "") + self.command


class DryRunSession(NodeSession):
    kind = "dry-run"

    def __init__(self, name: str, *, probe_answer: ProbeAnswer | None = None,
                 files: dict[str, bytes] | None = None) -> None:
        self.name = name
        self.probe_answer = probe_answer
        self.files = dict(files or {})  # what read_file answers; absent -> None
        self.recorded: list[Recorded] = []
        self.closed = False

    def run(self, command: str, *, timeout: float | None = None,
            on_output: OutputCallback | None = None, stdin: bytes | None = None,
            sudo: bool = False) -> CommandResult:
        answer = self.probe_answer(command) if self.probe_answer else None
        if isinstance(answer, CommandResult):
            result = answer
        else:
            result = CommandResult(command, int(answer or 0), "", "", 0.0)
        if on_output is not None:
            for line in result.stdout.splitlines():
                on_output("stdout", line)
        self.recorded.append(Recorded("run", command=command, sudo=sudo,
                                      stdin_size=len(stdin or b""), timeout=timeout,
                                      exit_status=result.exit_status))
        return result

    def write_file(self, path: str, data: bytes, *, mode: int, owner: str = "root",
                   group: str = "root", backup: bool = True) -> WriteResult:
        sha = hashlib.sha256(data).hexdigest()
        self.recorded.append(Recorded("write", path=path, mode=mode, owner=owner, group=group,
                                      sha256=sha, size=len(data), backup=backup))
        return WriteResult(path, True, sha, None)

    def read_file(self, path: str) -> bytes | None:
        self.recorded.append(Recorded("read", path=path))
        return self.files.get(path)

    def close(self) -> None:
        self.closed = True

    def cancel(self) -> None:
        pass
