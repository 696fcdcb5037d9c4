"""Step 1, preflight: read-only checks on each node before anything is changed.

The name, the backing disk (present, a block device, unused, empty), the interfaces and their
addresses, time synchronisation, the DRBD module, free ports and name resolution; the disk size
and the clock are read as facts that ``NodesAgree`` compares across the nodes.
"""

from __future__ import annotations

from hawizard.common.shellquote import q
from hawizard.design.model import Node
from hawizard.plan.context import PlanContext
from hawizard.plan.crosscheck import CLOCK, DISK_BYTES, NodesAgree
from hawizard.plan.types import Action, Fact, Step, Where, check


def preflight(ctx: PlanContext) -> Step:
    return Step("preflight", "Preflight checks", "preflight", Where.EACH, ctx.each(lambda n: _checks(ctx, n)),
                timeout_s=120, facts_check=NodesAgree(ctx.a.name, ctx.b.name),
                explain="Read-only checks on each node: name, disks (present, unused, equal size), "
                        "interfaces and addresses, time, DRBD module, free ports. Nothing is changed.")


def _checks(ctx: PlanContext, n: Node) -> list[Action]:
    design, disk = ctx.design, n.backing_disk
    acts: list[Action] = [
        check(f"test \"$(uname -n)\" = {q(n.name)}",
              f"the hostname (uname -n) is not {n.name}; the cluster knows nodes by that name"),
        check(f"test -b {q(disk)}", f"backing disk {disk} is not a block device here"),
        Fact(f"blockdev --getsize64 {q(disk)}", DISK_BYTES, f"size of {disk}"),
        check(f"! grep -q {q('^' + disk + ' ')} /proc/mounts", f"{disk} is mounted; DRBD needs it unused"),
        Fact("date +%s", CLOCK, "clock, compared across the nodes"),
        check("{ timedatectl show -p NTPSynchronized --value 2>/dev/null | grep -qx yes; } || "
              "{ command -v ntpstat >/dev/null && ntpstat >/dev/null; } || "
              "{ command -v chronyc >/dev/null && chronyc -n tracking 2>/dev/null | grep -q 'Normal'; }",
              "time is not synchronised by NTP on this node; cluster logs and DRBD decisions "
              "compare times between nodes", fatal=False),
    ]
    if not design.answers.reuse_data:
        acts.append(check(
            f"sig=$(blkid -p -o value -s TYPE {q(disk)} 2>/dev/null); test -z \"$sig\" -o \"$sig\" = drbd",
            f"{disk} holds a filesystem or other signature; DRBD would overwrite it. Use an "
            "empty disk, or set answers.reuse_data = true to keep its data"))
    for nic, addr in [(n.service_nic, n.service_address)] + [(ic.nic, ic.address) for ic in n.interconnects]:
        acts.append(check(f"test -d /sys/class/net/{q(nic)}", f"interface {nic} does not exist"))
        acts.append(check(f"ip -o -4 addr show dev {q(nic)} | grep -q {q(' ' + addr + ' ')}",
                          f"interface {nic} does not carry {addr}"))
    acts.append(check("modinfo drbd >/dev/null 2>&1 || test -e /proc/drbd", "no DRBD kernel module for the running kernel"))
    acts.append(Fact("modinfo -F version drbd 2>/dev/null || sed -n '1s/^version: \\([^ ]*\\).*/\\1/p' /proc/drbd",
                     "drbd_module", "DRBD module version"))
    acts.extend(_ports_free(ctx))
    if design.network.manage_hosts is False:
        for m in design.nodes:
            acts.append(check(f"getent hosts {q(m.name)} | awk '{{print $1}}' | grep -qv '^127\\.'",
                              f"{m.name} does not resolve to a non-loopback address (the 127.0.1.1 "
                              "line of /etc/hosts?)"))
    return acts


def _ports_free(ctx: PlanContext) -> list[Action]:
    """The replication port, and the membership layer's port unless its own daemon holds it."""
    design = ctx.design
    port_free = (f"! (ss -Htln 2>/dev/null || netstat -ltn 2>/dev/null) | "
                 f"grep -q {q(':' + str(design.drbd.port) + ' ')}")
    acts = [check(f"{{ command -v drbdadm >/dev/null && {ctx.drbd.is_up}; }} || {port_free}",
                  f"TCP port {design.drbd.port} (DRBD replication) is already in use")]
    if ctx.stack.membership == "corosync":
        acts.append(check("systemctl is-active -q corosync 2>/dev/null || "
                          "! (ss -Huln 2>/dev/null | grep -q ':5405 ')",
                          "UDP port 5405 (corosync) is in use by something that is not a running corosync"))
    else:
        acts.append(check(f"pidof heartbeat >/dev/null 2>&1 || ! (ss -Huln 2>/dev/null || netstat -lun) | "
                          f"grep -q {q(':' + str(design.heartbeat.udpport) + ' ')}",
                          f"UDP port {design.heartbeat.udpport} (heartbeat) is in use"))
    return acts
