"""Steps 14 and 15: start the cluster, then load its configuration in one atomic update.

The configuration (properties, resources, constraints) is loaded with ``crm configure load
update`` or, with pcs, built in a file CIB (``pcs -f``, as few pcs runs as pcs allows), verified
and pushed with one ``pcs cluster cib-push --config``. The step's completion marker
holds the hash of the configuration it loaded, so a changed configuration is loaded again; and
a checksum of hawizard's objects as the CIB held them after the load, so an object changed by
hand since (what ``hawizard diff`` shows) is loaded over too.
"""

from __future__ import annotations

import hashlib

from hawizard.common.shellquote import q
from hawizard.design.model import ResourceIds
from hawizard.plan.context import PlanContext
from hawizard.plan.types import DONE_DIR, Marker, Poll, Run, Step, Where, Write, check
from hawizard.plan.waits import NodesOnline
from hawizard.render.renderer import STATE_DIR, Rendering


def cluster_start(ctx: PlanContext) -> Step:
    stack = ctx.stack
    start = [Run(stack.boot_setting("enable", s) + " >/dev/null 2>&1; " + stack.service("start", s))
             for s in stack.membership_services]
    last = stack.membership_services[-1]
    running = (stack.service("status", last) if stack.init == "systemd" else f"/etc/init.d/{last} status")
    online = Poll(ctx.mon_command, ctx.mon_reader, NodesOnline(tuple(ctx.names)), interval_s=3, timeout_s=300,
                  description="both nodes online")
    return Step("cluster-start", "Start the cluster", "cluster", Where.BOTH, ctx.each(lambda n: [*start, online]),
                probe={n: running + " >/dev/null 2>&1" for n in ctx.names}, timeout_s=420, progress="cluster")


def config_hash(rendering: Rendering, file_id: str) -> str:
    return hashlib.sha256(rendering.get(file_id).content.encode()).hexdigest()[:16]


# A pcs run is a Python start-up plus the CIB read and written: seconds on a fast node, up to half a minute
# measured on the lab's emulated CPUs under load (the changed-design build of 2026-11-30 hit a flat 300 s
# limit). The limit only ends a hang, so it grows with the script's pcs runs instead of failing a slow node.
PCS_RUN_LIMIT_S = 60


def _pcs_script_timeout(script: str) -> float:
    runs = sum(1 for line in script.splitlines() if "$PCS " in line and not line.lstrip().startswith("#"))
    return float(max(300, PCS_RUN_LIMIT_S * runs))


# Where cluster-config keeps the digest of hawizard's objects as it loaded them (see owned_digest).
CIB_DIGEST = f"{DONE_DIR}/cluster-config.cib"


def owned_xpath(ids: ResourceIds) -> str:
    """XPath of the CIB objects hawizard's cluster configuration makes: the group and the DRBD clone (with
    the primitives inside them), the fence devices and their locations, the colocation and the order.

    Not the cluster's properties and defaults (Pacemaker and hawizard's own sbd-start write there:
    dc-version, have-watchdog, maintenance-mode), nor constraints others add and remove (crm resource
    move's cli-prefer-*, DRBD's handler's drbd-fence-by-handler-*: DRBD user's guide, resource-level
    fencing): those change without anyone changing hawizard's design."""
    fence, own = ids.fence_prefix, (ids.group, ids.drbd_clone, ids.colocation, ids.order)
    named = " or ".join(f"@id={_xpath_literal(i)}" for i in own)
    return (f"/cib/configuration/resources/*[{named} or starts-with(@id, {_xpath_literal(fence)})]"
            f" | /cib/configuration/constraints/*[{named} or starts-with(@id, {_xpath_literal('l_' + fence)})]")


def _xpath_literal(text: str) -> str:
    """``text`` as an XPath 1.0 string literal (ids are checked crm ids, without quotes; this holds anyway)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "concat(" + ", \"'\", ".join(f"'{part}'" for part in text.split("'")) + ")"


def owned_digest(ids: ResourceIds) -> str:
    """Shell: a checksum of hawizard's objects as the live CIB holds them (cibadmin(8) --query --xpath)."""
    return f"cibadmin --query --xpath {q(owned_xpath(ids))} 2>/dev/null | cksum"


def cluster_config(ctx: PlanContext) -> Step:
    cfg = ctx.rendering.get("cluster-config")
    marker = Marker("cluster-config", config_hash(ctx.rendering, "cluster-config"))
    colocation = 'id="' + ctx.design.cluster.ids.colocation + '"'
    if ctx.stack.config_tool == "crm":
        load = [Run(f"crm configure load update {q(cfg.path)}", "load properties, resources, constraints")]
    else:
        cib = q(f"{STATE_DIR}/cluster.cib.xml")
        # `pcs cluster cib FILE` is `cibadmin -l -Q` written to FILE (pcs 0.11 pcs/utils.py get_cib): the same
        # copy without a pcs run, which costs seconds of Python start-up on a slow node; the pcs runs left are
        # the script's `pcs -f` lines and the one push
        load = [Run(f"cibadmin --local --query > {cib}", "a copy of the cluster's CIB to build the new one in"),
                Run(f"sh {q(cfg.path)} {cib}", timeout_s=_pcs_script_timeout(cfg.content)),
                check(f"crm_verify -x {cib}", "the new cluster configuration does not verify"),
                Run(f"pcs cluster cib-push {cib} --config")]
    probe = f"{marker.holds_content} && cibadmin -Q -o constraints 2>/dev/null | grep -q {q(colocation)}"
    if ctx.stack.pacemaker != "1.0":
        # A change made by hand to one of hawizard's objects (hawizard diff shows it) makes the step run again,
        # which loads the design's definition over it: the digest recorded after the load no longer matches.
        # Pacemaker 1.0's cibadmin is left to the marker alone (its --xpath is not checked here).
        digest = owned_digest(ctx.design.cluster.ids)
        # its directory may not exist yet: on a cluster built by hand this can be the first step done that has
        # a marker (the runner makes the directory for the marker only after the step; the by-hand lab run)
        load.append(Run(f"mkdir -p {q(DONE_DIR)} && {digest} > {q(CIB_DIGEST)}",
                        "remember hawizard's objects as loaded"))
        probe += f' && d=$({digest}) && [ "$d" = "$(cat {q(CIB_DIGEST)} 2>/dev/null)" ]'
    return Step("cluster-config", "Cluster properties, resources and constraints", "cluster", Where.PRIMARY,
                ctx.on_primary(Write("cluster-config", cfg.path), *load),
                probe={ctx.a.name: probe},
                marker=marker, timeout_s=300,
                explain="One atomic update of the cluster configuration (the article enters the same lines "
                        "one by one in crm configure).")
