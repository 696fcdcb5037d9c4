"""Operation timeouts, derived from the switch-over target, and the worst case they allow.

The article states a target ("about 5 minutes from failure to switch-over") but never turns
it into timeouts. Here the target becomes numbers: each operation's timeout starts at the
resource agent's recommended value and is scaled down, never below a safe floor, until the
worst-case switch-over fits the target. The same arithmetic tells the lint when explicit
values (such as the article's blanket 240 s) cannot meet the target.

Worst case means every step takes its whole timeout. Notifications of the DRBD clone are not
counted (they run beside promote/demote and are short in practice).
"""

from __future__ import annotations

from dataclasses import dataclass

from hawizard.design import stacks
from hawizard.design.model import Design

# Recommended timeouts (seconds) from the agents' metadata (resource-agents, drbd-utils).
AGENT_DEFAULTS: dict[str, dict[str, int]] = {
    "drbd": {"start": 240, "stop": 100, "promote": 90, "demote": 90, "notify": 90, "monitor": 20},
    "ip": {"start": 20, "stop": 20, "monitor": 20},
    "fs": {"start": 60, "stop": 60, "monitor": 40},
    "web": {"start": 40, "stop": 60, "monitor": 20},
}
FLOOR_S = 20  # below this, a busy node misses a timeout: the article's "too sensitive" design
# Pacemaker's default stonith-timeout (pacemaker-schedulerd metadata): also the time a fence agent's
# action is given, so the longest a fence through an agent (fencing.method = agent) may take
FENCE_TIMEOUT_S = 60
AGENTS = ("drbd", "ip", "fs", "web")


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


def _scale(design: Design, stack: stacks.Stack) -> float:
    """Factor applied to the recommended timeouts so that the worst case fits the target.

    The largest factor (at most 1) for which both worst cases, with every scaled timeout held
    at or above the floor, fit the target; found by bisection since the floor makes the sum
    piecewise linear.
    """
    target = design.answers.switchover_target_s
    fixed_service = design.timing.monitor_interval_s + _monitor_timeout_unscaled(design)
    fixed_node = detection_s(design, stack) + fence_path_s(design)
    service_ops = [("web", "stop"), ("fs", "stop"), ("ip", "stop"), ("drbd", "demote"), ("drbd", "promote"),
                   ("ip", "start"), ("fs", "start"), ("web", "start")]
    node_ops = [("drbd", "promote"), ("ip", "start"), ("fs", "start"), ("web", "start")]

    def total(ops: list[tuple[str, str]], s: float) -> float:
        return sum(max(FLOOR_S, min(round(AGENT_DEFAULTS[a][o] * s), AGENT_DEFAULTS[a][o])) for a, o in ops)

    def fits(s: float) -> bool:
        return fixed_service + total(service_ops, s) <= target and fixed_node + total(node_ops, s) <= target

    if fits(1.0):
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(30):
        mid = (lo + hi) / 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _monitor_timeout_unscaled(design: Design) -> int:
    if design.timing.monitor_timeout_s:
        return design.timing.monitor_timeout_s
    if design.timing.default_action_timeout_s:
        return design.timing.default_action_timeout_s
    return AGENT_DEFAULTS["web"]["monitor"]


def rendered_timeout(design: Design, agent: str, op: str, stack: stacks.Stack | None = None) -> int | None:
    """The timeout to write on an operation, or None when the configuration leaves it to a default.

    ``stack`` is the design's stack when the caller has it (it is looked up otherwise)."""
    if op == "monitor" and design.timing.monitor_timeout_s:
        return design.timing.monitor_timeout_s
    if design.timing.default_action_timeout_s:
        return None  # the cluster-wide default applies (the article's way)
    if op == "monitor":
        return AGENT_DEFAULTS[agent]["monitor"]
    if op == "start" and agent == "drbd":
        return AGENT_DEFAULTS["drbd"]["start"]  # not on the switch-over path: keep the agent's value
    if op == "notify":
        return AGENT_DEFAULTS["drbd"]["notify"]
    scaled = round(AGENT_DEFAULTS[agent][op] * _scale(design, stack or stacks.get(design.stack)))
    return max(FLOOR_S, min(scaled, AGENT_DEFAULTS[agent][op]))


def effective_timeout(design: Design, agent: str, op: str, stack: stacks.Stack | None = None) -> int:
    """What the cluster will actually wait for this operation."""
    t = rendered_timeout(design, agent, op, stack)
    if t is not None:
        return t
    return design.timing.default_action_timeout_s or 20  # Pacemaker's built-in default is 20 s


def estimate(design: Design, stack: stacks.Stack | None = None) -> Estimate:
    """Worst-case times of the switch-overs the design promises (``stack``: the design's, if known)."""
    stack = stack or stacks.get(design.stack)

    def t(agent: str, op: str) -> float:
        return float(effective_timeout(design, agent, op, stack))

    det = detection_s(design, stack)
    fence = fence_path_s(design)
    starts = t("ip", "start") + t("fs", "start") + t("web", "start")
    stops = t("web", "stop") + t("fs", "stop") + t("ip", "stop")
    node_loss = det + fence + t("drbd", "promote") + starts
    monitor_detect = design.timing.monitor_interval_s + t("web", "monitor")
    service = monitor_detect + stops + t("drbd", "demote") + t("drbd", "promote") + starts
    restart = monitor_detect + t("web", "stop") + t("web", "start")
    notes = []
    if fence:
        notes.append(f"fencing adds up to {fence:.0f} s before the survivor takes over (delay "
                     f"{fence_delay_s(design):.0f} s, fence {fence_action_s(design):.0f} s)")
    return Estimate(node_loss, service, restart, det, tuple(notes), fence)
