"""Steps 16 and 17: verify the running service, and the optional switch-over test.

Verify waits until the DRBD clone is promoted and the service group started on the same node,
then fetches the test page through the VIP from both nodes. The switch-over test moves the group
to the secondary and back (the article's migrate/unmigrate), always clearing the move constraint.
"""

from __future__ import annotations

from hawizard.common.shellquote import q
from hawizard.plan.context import PlanContext
from hawizard.plan.steps.service import page_check
from hawizard.plan.types import Poll, Run, Step, Where
from hawizard.plan.waits import GroupOn, ServiceUp


def _wait_s(ctx: PlanContext) -> int:
    return max(300, ctx.design.answers.switchover_target_s)


def verify(ctx: PlanContext) -> Step:
    ids = ctx.design.cluster.ids
    # the page is fetched on both nodes: whichever one the cluster chose, the other one is its peer
    fetch = page_check(ctx, "the page is not served through the VIP", "the page through the VIP, from this node",
                       exact=ctx.design.service.verify_page == "test-page")
    up = Poll(ctx.mon_command, ctx.mon_reader, ServiceUp(ids.group, ids.drbd_clone), interval_s=3,
              timeout_s=_wait_s(ctx), description=f"{ids.drbd_clone} promoted and {ids.group} started")
    return Step("verify", "Verify: cluster state, and the page through the VIP from both nodes", "verify", Where.EACH,
                {ctx.a.name: (up, fetch), ctx.b.name: (fetch,)}, timeout_s=600, progress="cluster")


def switchover(ctx: PlanContext) -> Step:
    stack, a, b = ctx.stack, ctx.a.name, ctx.b.name
    group = ctx.design.cluster.ids.group
    g = q(group)
    tool = f"crm resource {stack.move}" if stack.config_tool == "crm" else "pcs resource move"
    clear = Run(f"crm resource {stack.clear} {g}" if stack.config_tool == "crm" else f"pcs resource clear {g}")

    def move(node: str) -> Run:
        # moving to where it already runs is an error for crm_resource: skip that case
        return Run(f"crm_resource --locate --resource {g} 2>/dev/null | grep -q {q('running on: ' + node)} || "
                   f"{tool} {g} {q(node)}")

    def moved_to(node: str) -> Poll:
        return Poll(ctx.mon_command, ctx.mon_reader, GroupOn(group, node), interval_s=3, timeout_s=_wait_s(ctx),
                    description=f"{group} runs on {node}")
    return Step("switchover", f"Switch-over test: {stack.move} to {b} and back", "verify", Where.PRIMARY,
                ctx.on_primary(move(b), moved_to(b), clear, move(a), moved_to(a), clear),
                timeout_s=4 * _wait_s(ctx), optional=True, progress="cluster",
                explain=f"The article's migrate/unmigrate ({stack.move}/{stack.clear} here): the service moves "
                        "and comes back; the move constraint is always cleared.")
