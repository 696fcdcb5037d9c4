"""Steps for fencing with a shared disk (fencing.method = sbd): initialise the disk, then set sbd up.

sbd-device (the first node only, destructive): ``sbd -d DEV -1 WATCHDOG -4 MSGWAIT create``
writes sbd's header and 255 empty message slots on each shared disk, with the design's timeouts.
Whatever the disk held is lost, so it is confirmed by a typed phrase; a disk that already carries
sbd's header with the same timeouts is left alone (the probe), so a re-run changes nothing.

sbd-config (each node): the sbd settings file, then ``systemctl enable sbd``. sbd refuses a
manual start (its unit has RefuseManualStart) and is required by corosync: enabled here, it
starts with the cluster in cluster-start, before Pacemaker, as sbd(8) requires.
"""

from __future__ import annotations

from hawizard.common.shellquote import q
from hawizard.plan.context import PlanContext
from hawizard.plan.types import Run, Step, Where, Write, check


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
        acts.append(Run(stack.service("enable", "sbd") + " >/dev/null 2>&1", "sbd starts with the cluster"))
        return acts
    return Step("sbd-config", "sbd settings, enabled to start with the cluster", "fencing", Where.EACH,
                ctx.each(actions), timeout_s=60,
                explain=f"{stack.sbd_config} names the disk and the watchdog; sbd is enabled so that it starts "
                        "with corosync, before Pacemaker.")
