"""Operation timeouts, and the worst-case switch-over they allow.

Every operation hawizard writes gets at least the timeout its resource agent advertises
(hawizard/design/agent_timeouts.py): a timeout never shrinks to fit the switch-over target, since a
stop that times out gets the node fenced or the resource blocked, the "so sensitive that the HA
layer becomes the failure" design the source article warns against. The only shorter timeout is
one the operator set exactly (timing.monitor_timeout_s), and the lint warns about it.

timing.default_action_timeout_s is the default of every operation without its own timeout
(op_defaults; Pacemaker 1.0: the default-action-timeout property). It never shortens an
operation: one whose agent asks for more keeps its own value, written on the operation.

The target then only tells whether the worst case fits: when it does not, the lint says so and
what would make it fit (hawizard/design/lint.py). Worst case means every step takes its whole
timeout. Notifications of the DRBD clone are not counted (they run beside promote/demote and are
short in practice).
"""

from __future__ import annotations

from dataclasses import dataclass

from hawizard.design import agent_timeouts, stacks
from hawizard.design.model import Design

# Pacemaker's default stonith-timeout (pacemaker-schedulerd metadata): also the time a fence agent's
# action is given, so the longest a fence through an agent (fencing.method = agent) may take
FENCE_TIMEOUT_S = 60
AGENTS = tuple(agent_timeouts.AGENT_TYPES)  # drbd, ip, fs, web


def fence_delay_s(design: Design) -> float:
    """The longest the fencing of the lost active node waits before it starts (the fence-race delay).

    priority-fencing-delay delays the fencing of the node with the highest resource priority,
    which is the one that ran the promoted DRBD: the very node lost (pacemaker-schedulerd
    metadata); pcmk_delay_base delays the fencing of the first node, which runs the service
    after a build; pcmk_delay_max delays every fencing by up to its value.
    """
    fe = design.fencing
    if fe.method == "none" or fe.race == "none":
        return 0.0
    return float(fe.delay_s)


def fence_action_s(design: Design) -> float:
    """The longest the fence itself takes once started: sbd's msgwait, or a fence agent's action."""
    if design.fencing.method == "sbd":
        return float(design.fencing.msgwait_timeout_s)  # sbd(8): the fencer returns after msgwait
    if design.fencing.method == "agent":
        return float(FENCE_TIMEOUT_S)
    return 0.0


def derived_stonith_timeout_s(design: Design) -> int:
    """stonith-timeout that covers the delay and the fence with a 20 % margin, never below 60 s.

    sbd(8) asks stonith-timeout >= msgwait + 20 %; crmsh's sbd set-up uses
    max(1.2 * (pcmk_delay_max + msgwait), 60). The same rule with the design's own delay.
    """
    return max(FENCE_TIMEOUT_S, int(-(-1.2 * (fence_delay_s(design) + fence_action_s(design)) // 1)))


def stonith_timeout_s(design: Design) -> int:
    """The stonith-timeout the cluster gets: the design's own value, else the derived one."""
    return design.fencing.stonith_timeout_s or derived_stonith_timeout_s(design)


def fence_path_s(design: Design) -> float:
    """From the peer declared lost to the fence done: the race delay, then the fence."""
    return fence_delay_s(design) + fence_action_s(design)


@dataclass(frozen=True)
class Estimate:
    node_loss_s: float  # failure of the active node -> service answering on the other node
    service_failure_s: float  # the failure that makes the service move -> answering on the other node
    restart_s: float  # one restart in place, worst case
    detection_s: float  # membership notices a dead peer
    notes: tuple[str, ...]
    fence_s: float = 0.0  # the fence-race delay and the fence, before the survivor takes over


def detection_s(design: Design, stack: stacks.Stack | None = None) -> float:
    """How long the membership layer takes to declare the peer dead (``stack``: the design's, if known)."""
    if (stack or stacks.get(design.stack)).membership == "heartbeat":
        return float(design.heartbeat.deadtime_s)
    token = design.corosync.token_ms / 1000.0
    return token + 1.2 * token  # token, then consensus (1.2 x token by default)


def advertised(design: Design, agent: str, op: str, stack: stacks.Stack | None = None) -> int:
    """The timeout the agent of ``agent`` advertises for ``op`` on the design's stack."""
    return agent_timeouts.advertised((stack or stacks.get(design.stack)).name, agent, op)


def operator_timeout(design: Design, agent: str, op: str) -> int | None:
    """The timeout the operator set for exactly this operation, or None (only monitors have one)."""
    if op == "monitor" and design.timing.monitor_timeout_s:
        return design.timing.monitor_timeout_s
    return None


def effective_timeout(design: Design, agent: str, op: str, stack: stacks.Stack | None = None) -> int:
    """What the cluster will wait for this operation: the operator's own value for it, else the
    agent's advertised value, or the blanket default where that is longer."""
    own = operator_timeout(design, agent, op)
    if own is not None:
        return own
    return max(advertised(design, agent, op, stack), design.timing.default_action_timeout_s)


def rendered_timeout(design: Design, agent: str, op: str, stack: stacks.Stack | None = None) -> int | None:
    """The timeout to write on an operation, or None when the blanket default gives it its value.

    The blanket (op_defaults, or Pacemaker 1.0's default-action-timeout) is left to act where it is
    the operation's value: that keeps the article's own configuration as the article wrote it. pcs
    gets every value written: ``pcs resource create`` gives an operation it is not told about the
    agent's advertised timeout of its own, which the default would not override (seen with pcs
    0.11: "Defaults do not apply to resources which override them").
    ``stack`` is the design's stack when the caller has it (it is looked up otherwise)."""
    stack = stack or stacks.get(design.stack)
    t = effective_timeout(design, agent, op, stack)
    blanket = design.timing.default_action_timeout_s
    if (blanket and t == blanket and operator_timeout(design, agent, op) is None
            and stack.config_tool != "pcs"):
        return None
    return t


def below_advertised(design: Design, stack: stacks.Stack | None = None) -> list[tuple[str, str, int, int]]:
    """(resource, operation, timeout, advertised) of every operation whose timeout is below its agent's
    advertised value: only ones the operator set exactly can be."""
    stack = stack or stacks.get(design.stack)
    out = []
    for agent in AGENTS:
        for op in agent_timeouts.operations(agent):
            t, adv = effective_timeout(design, agent, op, stack), advertised(design, agent, op, stack)
            if t < adv:
                out.append((agent, op, t, adv))
    return out


@dataclass(frozen=True)
class PathPart:
    """One stretch of a switch-over's worst case: detection, fencing, or one resource's operations."""

    what: str  # "detection", "fencing", or a resource: drbd, ip, fs, web
    seconds: float
    ops: tuple[str, ...] = ()  # the resource's operations on the path


def node_loss_path(design: Design, stack: stacks.Stack | None = None) -> list[PathPart]:
    """Failure of the active node -> the service answering on the other: membership notices, the
    survivor fences the lost node, promotes DRBD and starts the group."""
    stack = stack or stacks.get(design.stack)
    parts = [PathPart("detection", detection_s(design, stack)), PathPart("fencing", fence_path_s(design))]
    parts += [_resource(design, stack, "drbd", ("promote",))]
    parts += [_resource(design, stack, r, ("start",)) for r in ("ip", "fs", "web")]
    return parts


def service_path(design: Design, stack: stacks.Stack | None = None) -> list[PathPart]:
    """A failed service -> answering on the other node: a monitor interval and its timeout, the group
    stopped, DRBD demoted and promoted on the other node, the group started."""
    stack = stack or stacks.get(design.stack)
    monitor = design.timing.monitor_interval_s + effective_timeout(design, "web", "monitor", stack)
    parts = [PathPart("detection", float(monitor))]
    parts += [_resource(design, stack, r, ("stop", "start")) for r in ("web", "fs", "ip")]
    parts += [_resource(design, stack, "drbd", ("demote", "promote"))]
    return parts


def _resource(design: Design, stack: stacks.Stack, agent: str, ops: tuple[str, ...]) -> PathPart:
    return PathPart(agent, float(sum(effective_timeout(design, agent, op, stack) for op in ops)), ops)


def estimate(design: Design, stack: stacks.Stack | None = None) -> Estimate:
    """Worst-case times of the switch-overs the design promises (``stack``: the design's, if known)."""
    stack = stack or stacks.get(design.stack)

    def t(agent: str, op: str) -> float:
        return float(effective_timeout(design, agent, op, stack))

    det = detection_s(design, stack)
    fence = fence_path_s(design)
    node_loss = sum(p.seconds for p in node_loss_path(design, stack))
    service = sum(p.seconds for p in service_path(design, stack))
    restart = design.timing.monitor_interval_s + t("web", "monitor") + t("web", "stop") + t("web", "start")
    notes = []
    if fence:
        notes.append(f"fencing adds up to {fence:.0f} s before the survivor takes over (delay "
                     f"{fence_delay_s(design):.0f} s, fence {fence_action_s(design):.0f} s)")
    return Estimate(node_loss, service, restart, det, tuple(notes), fence)
