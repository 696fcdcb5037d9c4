"""Steps 11 to 13: Apache's server-status, the service rehearsed by hand and undone, DRBD stopped.

The rehearsal is the article's manual run on the primary: mount the DRBD filesystem, add the
VIP, start Apache, fetch the test page through the VIP; then everything is undone in reverse and
DRBD is stopped on both nodes, so that the cluster starts from a clean state and owns it all.
"""

from __future__ import annotations

from hawizard.common.shellquote import q
from hawizard.design.model import Node
from hawizard.plan.context import PlanContext
from hawizard.plan.steps.drbd import HANDED_OVER, in_cib
from hawizard.plan.types import Action, Marker, Run, Step, Where, Write, check


def apache(ctx: PlanContext) -> Step:
    stack = ctx.stack

    def actions(n: Node) -> list[Action]:
        acts: list[Action] = [Write("apache-status", stack.apache_status_snippet)]
        if stack.apache_enable_snippet:
            acts.append(Run(stack.apache_enable_snippet))
        acts.append(check(f"{stack.apache_ctl} -t", "Apache does not accept its configuration"))
        return acts
    return Step("apache", "Apache server-status for the monitor", "service", Where.EACH, ctx.each(actions),
                timeout_s=60)


def page_check(ctx: PlanContext, failure: str, description: str = "", exact: bool = True) -> Run:
    """Fetch the test page through the VIP and find its line exactly as index.html holds it.

    The line is HTML-escaped and looked for as a whole line: the raw text would not be found once
    escaped ('Tom & Jerry'), and a part of a line could be found in any page. ``exact=False`` (the
    design's ``verify_page = "any-answer"``: a site whose pages hawizard did not write) wants a
    non-empty page with a success status.
    """
    svc = ctx.design.service
    fetch = f"curl -fsS --max-time 10 http://{q(svc.vip)}:{svc.port}/"
    if not exact:
        return check(f"{fetch} | grep -q .", failure, description)
    return check(f"{fetch} | grep -qxF -e {q(ctx.page_line)}", failure, description)


def rehearsal(ctx: PlanContext) -> Step:
    svc, stack = ctx.design.service, ctx.stack
    mp, dev = q(svc.mount_point), q(ctx.design.drbd.device)
    vip_cidr, label = q(f"{svc.vip}/{svc.vip_prefix}"), q(f"{svc.vip_nic}:0")
    marker = Marker("rehearsal")
    return Step("rehearsal", "Rehearse the service by hand, then undo it", "service", Where.PRIMARY,
                ctx.on_primary(
                    Run(f"mkdir -p {mp} && mount {dev} {mp}", "mount the DRBD filesystem"),
                    Run(f"ip addr add {vip_cidr} dev {q(svc.vip_nic)} label {label}", "add the VIP"),
                    Write("index-html", "test page"),
                    Run(stack.service("start", stack.apache_service), "start Apache"),
                    page_check(ctx, "the test page is not served through the VIP"),
                    Run(stack.service("stop", stack.apache_service), "stop Apache"),
                    Run(f"umount {mp}", "unmount"),
                    Run(f"ip addr del {vip_cidr} dev {q(svc.vip_nic)}", "drop the VIP"),
                    Run(ctx.drbd.secondary, "demote")),
                probe={ctx.a.name: f"{marker.exists} || {in_cib(ctx.design.drbd.resource)}"}, marker=marker,
                timeout_s=300,
                explain="The article's manual run: mount, VIP, Apache, fetch the page through the VIP; then "
                        "everything is undone in reverse so the cluster can take over.")


def drbd_down(ctx: PlanContext) -> Step:
    return Step("drbd-down", "Stop DRBD on both nodes (the cluster starts it)", "service", Where.BOTH,
                ctx.each(lambda n: [Run(ctx.drbd.down)]),
                probe={n: f"{HANDED_OVER.exists} || {in_cib(ctx.design.drbd.resource)} || ! ({ctx.drbd.is_up})"
                       for n in ctx.names},
                marker=HANDED_OVER, timeout_s=120)
