"""Steps for fencing with a shared disk (fencing.method = sbd): initialise the disk, then set sbd up.

sbd-device (the first node only, destructive): ``sbd -d DEV -1 WATCHDOG -4 MSGWAIT create``
writes sbd's header and 255 empty message slots on each shared disk, with the design's timeouts.
Whatever the disk held is lost, so it is confirmed by a typed phrase; a disk that already carries
sbd's header with the same timeouts is left alone (the probe), so a re-run changes nothing.

sbd-config (each node): the sbd settings file, then ``systemctl enable sbd``. sbd refuses a
manual start (its unit has RefuseManualStart) and is required by corosync: enabled here, it
starts with the cluster in cluster-start, before Pacemaker, as sbd(8) requires. systemd must
have read that link (a reload when its loaded view of corosync does not require sbd yet), or a
start of corosync goes without sbd.

sbd-start (each node in turn, after cluster-start): on a cluster that was already running without
sbd (fencing added to an adopted cluster, or to one built earlier without it), enabling sbd does not
start it: its unit refuses a manual start and only comes up with corosync (sbd.service:
RefuseManualStart, PartOf=corosync.service, RequiredBy=corosync.service). So the node's stack is
restarted, one node at a time, with the cluster detached from its resources while it happens:
``maintenance-mode=true``, stop Pacemaker then Corosync, start Corosync (which brings sbd up) then
Pacemaker, wait for both nodes online, ``maintenance-mode=false``, wait for the service. This is the
"detach and reattach" way of restarting a cluster's stack without stopping its resources
(Pacemaker Administration, "Upgrading a Pacemaker Cluster": Detach and Reattach; Pacemaker
Explained, cluster option maintenance-mode: resources are neither started, stopped nor monitored).
Pacemaker reads whether sbd runs (the have-watchdog property) when it starts, which is why its
restart comes after sbd's. On a new build sbd starts with the cluster in cluster-start and the
probe finds it running.
"""

from __future__ import annotations

from hawizard.common.shellquote import q
from hawizard.plan.context import PlanContext
from hawizard.plan.types import Marker, Poll, Run, Step, Where, Write, check
from hawizard.plan.waits import NodesOnline, ServiceUp
from hawizard.render.renderer import STATE_DIR

MAINTENANCE = "crm_attribute -t crm_config -n maintenance-mode"
# set while sbd-start has the cluster detached, so that a resumed run knows the maintenance mode is its own
DETACHED = Marker("sbd-start.detached", directory=STATE_DIR)


def _requires_sbd(membership: str) -> str:
    """A probe: systemd's loaded view of ``membership`` (corosync) requires sbd.

    ``systemctl enable sbd`` links sbd into corosync.service.requires/ (sbd.service: RequiredBy=
    corosync.service) and reloads systemd; a package's own enabling may create the link without a
    reload (the by-hand lab run of 2026-12-08: sbd installed into a running cluster, is-enabled said
    enabled, the restart of corosync never started sbd and its journal was empty). systemctl show
    reports the loaded unit, so this sees what a start of corosync would do (systemctl(1), show)."""
    return f"systemctl show -p Requires {q(membership)} 2>/dev/null | grep -qw 'sbd\\.service'"


def _sbd(ctx: PlanContext) -> bool:
    return ctx.design.fencing.method == "sbd" and bool(ctx.stack.sbd_config)


def sbd_device(ctx: PlanContext) -> Step | None:
    if not _sbd(ctx):
        return None
    fe = ctx.design.fencing
    create = [check(f"test -b {q(dev)}", f"{dev} is not a block device on {ctx.a.name}") for dev in fe.sbd_devices]
    create += [Run(f"sbd -d {q(dev)} -1 {fe.watchdog_timeout_s} -4 {fe.msgwait_timeout_s} create",
                   f"sbd header and slots on {dev}") for dev in fe.sbd_devices]
    # sbd's dump prints "Timeout (watchdog) : 15" and "Timeout (msgwait) : 30" for an initialised disk
    probe = " && ".join(
        f"d=$(sbd -d {q(dev)} dump 2>/dev/null) && "
        f"echo \"$d\" | grep -Eq '^Timeout \\(watchdog\\) *: *{fe.watchdog_timeout_s}$' && "
        f"echo \"$d\" | grep -Eq '^Timeout \\(msgwait\\) *: *{fe.msgwait_timeout_s}$'"
        for dev in fe.sbd_devices)
    devices = ", ".join(fe.sbd_devices)
    return Step("sbd-device", "Initialise the sbd disk", "fencing", Where.PRIMARY, ctx.on_primary(*create),
                probe={ctx.a.name: probe}, destructive=True, confirm="sbd create", timeout_s=120,
                explain=f"Writes sbd's header and message slots on {devices} (watchdog {fe.watchdog_timeout_s} s, "
                        f"msgwait {fe.msgwait_timeout_s} s); whatever the disk held is lost. Both nodes use it.")


def sbd_config(ctx: PlanContext) -> Step | None:
    if not _sbd(ctx):
        return None
    fe, stack = ctx.design.fencing, ctx.stack
    conf = ctx.rendering.get("sbd-config")

    def actions(n) -> list:
        acts: list = [check(f"test -b {q(dev)}", f"the sbd disk {dev} is not a block device on {n.name}")
                      for dev in fe.sbd_devices]
        acts.append(check(f"test -c {q(fe.watchdog_device)}",
                          f"no watchdog device {fe.watchdog_device} on {n.name}: load the board's watchdog "
                          "driver (or softdog, which cannot reset a hung kernel)"))
        acts.append(Write(conf.id, conf.path))
        acts.append(Run(stack.boot_setting("enable", "sbd") + " >/dev/null 2>&1", "sbd starts with the cluster"))
        if stack.init == "systemd":
            requires = _requires_sbd(stack.membership_services[0])
            acts.append(Run(f"{requires} || systemctl daemon-reload",
                            "systemd has loaded sbd's link to corosync (reloaded when a package's enabling left it "
                            "unread)"))
            acts.append(check(requires, f"corosync does not require sbd on {n.name} after `systemctl enable sbd` and "
                                        "a reload: starting the cluster would not start sbd (look at `systemctl "
                                        "cat sbd`, its [Install] section)"))
        return acts
    return Step("sbd-config", "sbd settings, enabled to start with the cluster", "fencing", Where.EACH,
                ctx.each(actions), timeout_s=60,
                explain=f"{stack.sbd_config} names the disk and the watchdog; sbd is enabled so that it starts "
                        "with corosync, before Pacemaker.")


# sbd.service is Type=forking and ordered Before=pacemaker.service (sbd's src/sbd.service.in): started with the
# stack it is normally up when pacemaker's start returns; the wait covers a unit still activating on a slow node
SBD_UP_WAIT_S = 30


def _sbd_came_up(active: str, wait_s: int = SBD_UP_WAIT_S) -> str:
    """``active`` within ``wait_s`` seconds; if not, sbd's last journal lines on stderr, then a failure.

    The journal is what the operator needs next (sbd names the disk or watchdog it could not use), and
    the run's output and audit log keep it.
    """
    return (f"i=0; until {active}; do i=$((i+1)); [ $i -ge {int(wait_s)} ] && break; sleep 1; done; "
            f"{active} || {{ journalctl -u sbd -b -n 12 --no-pager -o short-precise 2>/dev/null | "
            "sed 's/^/sbd journal: /' >&2; echo \"sbd is not active; its journal ends: $(journalctl -u sbd -b -n 2 "
            "--no-pager -o cat 2>/dev/null | tr '\\n' ' ')\" >&2; false; }")


def sbd_start(ctx: PlanContext) -> Step | None:
    if not _sbd(ctx) or ctx.stack.init != "systemd":
        return None
    stack, ids = ctx.stack, ctx.design.cluster.ids
    active = stack.service("status", "sbd") + " >/dev/null 2>&1"
    stops = [Run(stack.service("stop", s), f"stop {s} (its resources keep running: maintenance mode)",
                 timeout_s=300) for s in reversed(stack.membership_services)]
    starts = [Run(stack.service("start", s), f"start {s}" + (" (and sbd with it)" if s == "corosync" else ""))
              for s in stack.membership_services]
    both = tuple(ctx.names)

    def actions(n) -> list:
        left = (f"the cluster is left in maintenance mode (its resources run, unmonitored): once {n.name}'s stack "
                f"runs with sbd, run again, or `{MAINTENANCE} -v false`")
        return [
            Poll(ctx.mon_command, ctx.mon_reader, NodesOnline(both), interval_s=3, timeout_s=60,
                 description="both nodes online before either is restarted"),
            check(f"{DETACHED.exists} || ! {MAINTENANCE} -G -q 2>/dev/null | grep -qix true",
                  "the cluster is in maintenance mode already; hawizard restarts a node's stack only from a "
                  "cluster that manages its resources (set maintenance-mode=false first, or restart it by hand)"),
            check(_requires_sbd(stack.membership_services[0]),
                  f"corosync does not require sbd on {n.name}, so restarting it would not start sbd: nothing was "
                  "restarted (run its sbd-config step again: `hawizard apply PRESET --only sbd-config,sbd-start`)"),
            Run(f"mkdir -p {q(STATE_DIR)} && touch {q(DETACHED.path)} && {MAINTENANCE} -v true",
                "detach: the cluster leaves the resources as they are"),
            *stops, *starts,
            Run(_sbd_came_up(active), f"sbd did not start with corosync on {n.name}; {left}"),
            Poll(ctx.mon_command, ctx.mon_reader, NodesOnline(both), interval_s=3, timeout_s=300,
                 description=f"{n.name} back in the cluster"),
            Run(f"{MAINTENANCE} -v false && rm -f {q(DETACHED.path)}",
                "reattach: the cluster manages the resources again"),
            Poll(ctx.mon_command, ctx.mon_reader, ServiceUp(ids.group, ids.drbd_clone), interval_s=3, timeout_s=300,
                 description="the service running before the next node"),
        ]
    return Step("sbd-start", "sbd running on a cluster that ran without it (one node at a time)", "fencing",
                Where.EACH, ctx.each(actions), probe={n: active for n in ctx.names}, timeout_s=1200,
                explain="Only where the cluster already runs without sbd: the node's cluster stack is restarted "
                        "so that sbd starts with corosync, the cluster detached from its resources meanwhile "
                        "(maintenance mode), so the service keeps running.")
