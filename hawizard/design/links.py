"""Which interconnect carries what: DRBD's replication link and Corosync's preferred membership link.

The renderer (knet_link_priority in corosync.conf) and the lint (a membership link shared with
DRBD) must agree on this, so it is said once, here.

corosync.conf(5), link_mode: knet's default mode is passive, in which "the active link with the
highest priority (highest number) will be used" for all membership traffic; the other links stand
by. DRBD's replication (every write of the service with protocol C, and every resync) can fill the
link it runs on, and Corosync's token then waits behind it. So the link DRBD replicates over gets
the lowest priority: membership prefers a link of its own and falls back to the replication link
only when its own fails. The other links keep the order the design lists them in.
"""

from __future__ import annotations

from hawizard.design import stacks
from hawizard.design.model import Design


def replication_link(design: Design) -> int | None:
    """The index of the interconnect DRBD replicates over (from the first node), or None if on none."""
    a = design.nodes[0]
    for j, ic in enumerate(a.interconnects):
        if ic.address.split("/")[0] == a.replication_address:
            return j
    return None


def knet_priorities(design: Design) -> list[int]:
    """knet_link_priority of each interconnect, in the design's order: highest for the first link DRBD
    does not use, lowest (1) for the replication link."""
    n = len(design.nodes[0].interconnects)
    rep = replication_link(design)
    order = [j for j in range(n) if j != rep] + ([rep] if rep is not None else [])
    prio = [0] * n
    for rank, j in enumerate(order):
        prio[j] = n - rank
    return prio


def preferred_membership_link(design: Design, stack: stacks.Stack) -> int | None:
    """The interconnect Corosync's membership traffic uses while every link is up (knet passive mode, or
    the only link of udpu); None for Heartbeat, which sends on every medium at once. ``stack`` is the
    design's."""
    if stack.membership != "corosync" or not design.nodes[0].interconnects:
        return None
    prio = knet_priorities(design)
    return prio.index(max(prio))
