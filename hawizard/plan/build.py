"""The step plan: the article's procedure as data, pure and without I/O.

preflight -> install -> hosts -> membership files -> DRBD files -> create-md (both) -> start
DRBD (both at once) -> force primary and initial sync (one node, with progress) -> mkfs ->
Apache + server-status -> rehearsal by hand (mount, VIP, start, check, undo) -> stop DRBD ->
start the cluster -> cluster configuration (properties, resources, constraints in one atomic
load) -> verify -> switch-over test (optional).

Each step says where it runs (each node in turn, both at once, the primary only), what it does
(commands, file writes, polls with a progress reader), how to tell it is already done (a probe,
so a re-run skips it), whether it destroys data (then it needs a typed confirmation), and its
timeout. The types are in hawizard/plan/types.py, one builder per step in hawizard/plan/steps/;
the runner (hawizard/run/runner.py) executes the plan; ``hawizard plan`` prints it.
"""

from __future__ import annotations

from hawizard.design import stacks, timing
from hawizard.design.model import Design
from hawizard.plan.commands import crm_mon_command
from hawizard.plan.context import PlanContext
from hawizard.plan.steps import BUILDERS
from hawizard.plan.types import Plan, Step, Where
from hawizard.render.renderer import Rendering

__all__ = ["Plan", "Step", "Where", "build_plan", "crm_mon_command", "estimate_note"]


def build_plan(design: Design, rendering: Rendering | None = None, stack: stacks.Stack | None = None) -> Plan:
    """The ordered steps that build this design. Pure: reads nothing, runs nothing.

    ``rendering`` and ``stack`` are the design's, when the caller has them already.
    """
    ctx = PlanContext.of(design, rendering, stack)
    steps = tuple(s for s in (build(ctx) for build in BUILDERS) if s is not None)
    return Plan(design.name, design.stack, ctx.a.name, ctx.b.name, steps, ctx.rendering)


def estimate_note(design: Design, stack: stacks.Stack | None = None) -> str:
    est = timing.estimate(design, stack)
    return (f"worst-case switch-over: node loss {est.node_loss_s:.0f} s, service failure "
            f"{est.service_failure_s:.0f} s (target {design.answers.switchover_target_s} s)")
