"""Checks that need both nodes' answers: equal backing disks, clocks close together.

Why a separate check: one node alone cannot tell that its disk is smaller than its peer's or its
clock minutes off. Preflight reads these facts on each node (``Fact`` actions named ``DISK_BYTES``
and ``CLOCK``) and carries a ``NodesAgree`` that the runner applies once both nodes have
answered; a problem fails the step, a warning is shown and the build goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DISK_BYTES, CLOCK = "disk_bytes", "clock"  # the facts preflight reads (blockdev --getsize64, date +%s)
# when each node's clock was read, by the clock of the machine running the build (the runner, the exported
# script and the playbook record it): a step "each node in turn" reads the second node a whole step later
# (seconds here, a minute through Ansible on slow nodes), so the nodes' offsets from that clock are compared
CLOCK_AT = "clock_at"
# Clock skew between the nodes: above WARN it is reported, above FATAL the build stops. Emulated
# lab VMs drift by seconds; a minute apart means a broken or absent time service.
CLOCK_SKEW_WARN_S, CLOCK_SKEW_FATAL_S = 5, 60

Facts = Mapping[str, Mapping[str, str]]  # node -> fact name -> value


@dataclass(frozen=True)
class NodesAgree:
    """The two nodes' facts agree closely enough for DRBD and the cluster."""

    a: str
    b: str

    def _pair(self, facts: Facts, name: str) -> tuple[int, int] | None:
        try:
            return int(facts.get(self.a, {}).get(name, "")), int(facts.get(self.b, {}).get(name, ""))
        except ValueError:  # a node did not answer (a dry run, a failed read): nothing to compare
            return None

    def problems(self, facts: Facts) -> list[str]:
        out = []
        a, b = self.a, self.b
        disks = self._pair(facts, DISK_BYTES)
        if disks and disks[0] != disks[1]:
            out.append(f"backing disks differ in size: {a} has {disks[0]} bytes, {b} has {disks[1]} bytes; DRBD "
                       "needs the same size on both nodes (the larger one's extra space is wasted or the sync fails)")
        skew = self._skew(facts)
        if skew is not None and skew > CLOCK_SKEW_FATAL_S:
            out.append(f"the clocks of {a} and {b} differ by {skew} s; synchronise them (NTP) first")
        return out

    def _skew(self, facts: Facts) -> int | None:
        clocks = self._pair(facts, CLOCK)
        if clocks is None:
            return None
        read_at = self._pair(facts, CLOCK_AT)
        if read_at is None:
            return abs(clocks[0] - clocks[1])
        return abs((clocks[0] - read_at[0]) - (clocks[1] - read_at[1]))

    def warnings(self, facts: Facts) -> list[str]:
        skew = self._skew(facts)
        if skew is None:
            return []
        if CLOCK_SKEW_WARN_S < skew <= CLOCK_SKEW_FATAL_S:
            return [f"the clocks of {self.a} and {self.b} differ by {skew} s: logs of the two nodes will not line "
                    "up; synchronise them (NTP)"]
        return []
