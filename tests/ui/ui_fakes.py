"""FAKE node sessions for the UI tests: scripted answers, nothing runs anywhere.

``FakeScriptedSession`` answers the plan's commands from a script: every "already done?"
probe says "not done" (so every step runs), ``cat /proc/drbd`` walks through canned samples
of an initial sync (so the progress bar moves), ``drbdadm cstate`` says Connected, crm_mon
shows the article's cluster up, facts are equal on both nodes. Commands listed in ``fail``
exit 1 with a message on stderr; ``flood`` lines are printed by the first command that
contains ``flood_on``.
"""

from __future__ import annotations

import hashlib
import threading
import time

from hawizard.plan.build import Plan
from hawizard.sessions.base import CommandResult, NodeSession, WriteResult

PROC_DRBD_SYNCING = """version: 8.3.8 (api:88/proto:86-94)
GIT-hash: d78846e52224fd00562f7c225bcc25b2d422321d build by fake@example.org, 2010-06-04 08:04:16
 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r----
    ns:{ns} nr:0 dw:0 dr:{ns} al:0 bm:24 lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:{oos}
\t[=>..................] sync'ed: {pct}% ({oos}/2939764)K delay_probe: 48
\tfinish: 0:{eta} speed: {speed} ({speed}) K/sec
"""
PROC_DRBD_SYNCED = """version: 8.3.8 (api:88/proto:86-94)
 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r----
    ns:2939764 nr:0 dw:0 dr:2939764 al:0 bm:180 lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:0
"""


def sync_samples() -> list[str]:
    out = []
    for pct, speed, eta in ((13.8, "10,080", "04:04"), (45.0, "19,500", "01:10"), (81.2, "24,000", "00:23")):
        oos = int(2939764 * (1 - pct / 100))
        out.append(PROC_DRBD_SYNCING.format(ns=2939764 - oos, oos=oos, pct=pct, speed=speed, eta=eta))
    out.append(PROC_DRBD_SYNCED)
    return out


CRM_MON_UP = """============
Stack: Heartbeat
Current DC: srv1 - partition with quorum
Version: 1.0.10
2 Nodes configured, unknown expected votes
2 Resources configured.
============

Online: [ srv1 srv2 ]

 Master/Slave Set: ms_drbd0
     Masters: [ srv1 ]
     Slaves: [ srv2 ]
 Resource Group: rg_httpd
     res_ip\t(ocf::heartbeat:IPaddr2):\tStarted srv1
     res_fs_drbd0\t(ocf::heartbeat:Filesystem):\tStarted srv1
     res_httpd\t(ocf::heartbeat:apache):\tStarted srv1
"""


class FakeScriptedSession(NodeSession):
    """A fake node that answers from a script (see the module docstring)."""

    kind = "fake-scripted"

    def __init__(self, name: str, *, probes: set[str], fail: dict[str, str] | None = None,
                 flood: list[str] | None = None, flood_on: str = "", print_on: dict[str, str] | None = None,
                 delay: float = 0.0) -> None:
        self.name = name
        self.delay = delay
        self.probes = probes
        self.fail = dict(fail or {})
        self.flood, self.flood_on = flood or [], flood_on
        self.print_on = dict(print_on or {})
        self.samples = sync_samples()
        self.commands: list[str] = []
        self.writes: list[str] = []
        self._lock = threading.Lock()

    def _answer(self, command: str) -> tuple[int, str, str]:
        if command in self.probes:
            return 1, "", ""
        for needle, message in self.fail.items():
            if needle in command:
                return 1, "", message
        if self.flood and self.flood_on and self.flood_on in command:
            lines, self.flood = self.flood, []
            return 0, "\n".join(lines) + "\n", ""
        for needle, text in self.print_on.items():
            if needle in command:
                return 0, text + "\n", ""
        if command == "cat /proc/drbd":
            sample = self.samples.pop(0) if len(self.samples) > 1 else self.samples[0]
            return 0, sample, ""
        if command.startswith("drbdadm cstate"):
            return 0, "Connected\n", ""
        if command.startswith("crm_mon"):
            return 0, CRM_MON_UP, ""
        if command.startswith("blockdev --getsize64"):
            return 0, "1073741824\n", ""
        if command == "date +%s":
            return 0, "1700000000\n", ""
        return 0, "", ""

    def run(self, command: str, *, timeout: float | None = None, on_output=None, stdin: bytes | None = None,
            sudo: bool = False) -> CommandResult:
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.commands.append(command)
            status, out, err = self._answer(command)
        if on_output is not None:
            for line in out.splitlines():
                on_output("stdout", line)
            for line in err.splitlines():
                on_output("stderr", line)
        return CommandResult(command, status, out, err, 0.0)

    def write_file(self, path: str, data: bytes, *, mode: int, owner: str = "root", group: str = "root",
                   backup: bool = True) -> WriteResult:
        self.writes.append(path)
        return WriteResult(path, True, hashlib.sha256(data).hexdigest(), None)

    def read_file(self, path: str) -> bytes | None:
        return None

    def close(self) -> None:
        pass

    def cancel(self) -> None:
        pass


def fake_factory(plan: Plan, *, done_already: bool = False, **kwargs) -> tuple[dict[str, FakeScriptedSession],
                                                                               callable]:
    """A session factory for the app, and the sessions it made (by node name).

    ``done_already``: every probe answers "done", as on nodes an earlier run built.
    """
    made: dict[str, FakeScriptedSession] = {}

    def factory(node: str) -> FakeScriptedSession:
        probes = set() if done_already else {s.probe[node] for s in plan.steps if node in s.probe}
        made[node] = FakeScriptedSession(node, probes=probes, **kwargs)
        return made[node]
    return made, factory
