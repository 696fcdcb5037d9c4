"""Steps 6 to 10: DRBD's files, its metadata, starting it, the initial sync, the filesystem.

The order is the article's: configuration on both nodes, ``create-md`` on both (destructive),
DRBD up on both at once (each waits for its peer), then on the primary only: force it to be the
sync source and wait for the initial sync (destructive for the secondary's disk), then mkfs
(destructive). Once DRBD has been handed to the cluster (``HANDED_OVER``), none of these runs
again behind the cluster's back.
"""

from __future__ import annotations

from hawizard.common.shellquote import q
from hawizard.design.fieldcheck import parse_rate
from hawizard.plan.context import PlanContext
from hawizard.plan.types import Marker, Poll, Run, Step, Where, Write, check
from hawizard.plan.waits import Connected, DrbdCState, Synced

# Once DRBD has been handed to the cluster (the drbd-down step's marker), the manual DRBD steps are done for
# good: DRBD may be down, or Secondary on this node, and must not be set up again behind the
# cluster's back (a resumed run found exactly that).
HANDED_OVER = Marker("drbd-down")


def in_cib(resource: str) -> str:
    """A probe: the cluster's configuration has a resource for this DRBD resource (the cluster runs DRBD).

    A cluster built by hand, then adopted, has none of hawizard's markers; its CIB says the same thing.
    The nvpair's attributes are matched in either order (crmsh writes name, value, id; pcs id, name, value).
    """
    nv = f'name="drbd_resource" value="{resource}"'
    vn = f'value="{resource}"[^>]*name="drbd_resource"'
    return f"cibadmin -Q -o resources 2>/dev/null | grep -Eq {q(nv + '|' + vn)}"


def unless_handed_over(ctx: PlanContext, probe: str) -> str:
    """``probe``, unless DRBD is the cluster's already: handed over by this plan (its marker), or by hand."""
    return f"{HANDED_OVER.exists} || {in_cib(ctx.design.drbd.resource)} || {{ {probe}; }}"


def drbd_files(ctx: PlanContext) -> Step:
    files = [f for f in ctx.rendering.files if f.id.startswith("drbd-")]
    return Step("drbd-files", "DRBD configuration", "drbd", Where.EACH,
                ctx.each(lambda n: [Write(f.id, f.path) for f in files]
                         + [check(f"drbdadm dump {q(ctx.design.drbd.resource)} >/dev/null",
                                  "drbdadm does not accept the DRBD configuration")]),
                timeout_s=60)


def drbd_adjust(ctx: PlanContext) -> Step:
    """Changed DRBD files take effect on a running resource: ``drbdadm adjust`` (each node in turn).

    The DRBD user's guides ("Changing the configuration on the fly", 8.4 and 9): edit the files on both
    nodes, then ``drbdadm adjust <resource>`` on both. ``drbdadm -d adjust`` prints what it would change and
    nothing when the running resource matches its files: the probe. A resource that is not up (a new build,
    or one the cluster stopped) or StandAlone (a split brain being resolved by hand) is left alone.
    """
    r = q(ctx.design.drbd.resource)
    # the value in an assignment, not inside double quotes: the resource name stays one single-quoted word
    same = f"{{ hw_adj=$(drbdadm -d adjust {r} 2>&1); test -z \"$hw_adj\"; }}"
    return Step("drbd-adjust", "Changed DRBD settings applied to the running resource", "drbd", Where.EACH,
                ctx.each(lambda n: [Run(f"drbdadm adjust {r}", "apply the files to the running resource")]),
                probe={n: f"! ({ctx.drbd.is_up}) || {same}" for n in ctx.names}, timeout_s=120,
                explain="Only on a node where the resource is up and differs from its files (a changed design "
                        "applied to a running cluster).")


def create_md(ctx: PlanContext) -> Step:
    return Step("create-md", "Create DRBD metadata", "drbd", Where.BOTH,
                ctx.each(lambda n: [Run(ctx.drbd.create_md, f"metadata on {n.backing_disk}")]),
                probe={n: unless_handed_over(ctx, ctx.drbd.has_md) for n in ctx.names}, destructive=True,
                confirm=f"create-md {ctx.design.drbd.resource}", timeout_s=120,
                explain="Writes DRBD metadata at the end of each backing disk; whatever was there is lost.")


def drbd_up(ctx: PlanContext) -> Step:
    return Step("drbd-up", "Start DRBD on both nodes", "drbd", Where.BOTH,
                ctx.each(lambda n: [Run(ctx.drbd.up),
                                    Poll(ctx.drbd.cstate, DrbdCState(), Connected(), interval_s=2, timeout_s=120,
                                         description="the peers connect")]),
                probe={n: unless_handed_over(ctx, ctx.drbd.is_up) for n in ctx.names}, timeout_s=180,
                explain="Both nodes at once: each waits for its peer.")


def initial_sync(ctx: PlanContext) -> Step:
    a, b, drbd = ctx.a, ctx.b, ctx.design.drbd
    rate_hint = ""
    try:
        rate_hint = f" (at {drbd.resync_rate}/s at most: {parse_rate(drbd.resync_rate) // 1024**2} MiB/s)"
    except ValueError:
        pass
    return Step("initial-sync", "Force the first primary and run the initial sync", "drbd", Where.PRIMARY,
                ctx.on_primary(Run(ctx.drbd.force_primary, f"{a.name} becomes the sync source"),
                               Poll(ctx.drbd.progress, ctx.drbd.progress_reader, Synced(), interval_s=2, timeout_s=0,
                                    description="initial sync" + rate_hint)),
                probe={a.name: unless_handed_over(ctx, ctx.drbd.synced)}, destructive=True,
                confirm=f"overwrite {b.name}", timeout_s=7 * 24 * 3600, progress="drbd-sync",
                explain=f"{a.name}'s disk becomes the good copy and overwrites {b.name}'s. The sync runs "
                        "until both disks are UpToDate.")


def mkfs(ctx: PlanContext) -> Step:
    fstype, device = ctx.design.service.fstype, ctx.design.drbd.device
    command = {"ext3": "mkfs.ext3 -q", "ext4": "mkfs.ext4 -q", "xfs": "mkfs.xfs -q"}[fstype]
    return Step("mkfs", f"Make the {fstype} filesystem on {device}", "drbd", Where.PRIMARY,
                ctx.on_primary(check(f"drbdadm role {q(ctx.design.drbd.resource)} | grep -q '^Primary'",
                                     f"{device} is not Primary here; mkfs only runs on the sync source"),
                               Run(f"{command} {q(device)}")),
                probe={ctx.a.name: unless_handed_over(ctx, f"blkid -p -o value -s TYPE {q(device)} 2>/dev/null | "
                                                       f"grep -qx {q(fstype)}")},
                destructive=True, confirm=f"mkfs {device}", timeout_s=600,
                explain="On the primary only; DRBD replicates it.")
