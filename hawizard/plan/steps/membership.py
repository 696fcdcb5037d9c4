"""Steps 4 and 5: name resolution in /etc/hosts (when the design manages it), and the membership layer's files.

Both nodes' names resolve to their first interconnect address, and the 127.0.1.1 line that
Debian's installer writes for the node's own name goes (the cluster must not find itself on
loopback). The membership files (ha.cf and authkeys, or corosync.conf and its authkey) are the
same on both nodes.
"""

from __future__ import annotations

from hawizard.common.shellquote import q
from hawizard.design.model import Node
from hawizard.plan.context import PlanContext
from hawizard.plan.types import Action, Run, Step, Where, Write

# sed expression deleting a 127.0.1.1 line that names the node (Debian's installer writes one)
LOOPBACK_LINE = r"/^127\.0\.1\.1[[:space:]].*[[:space:]]{name}\([[:space:]]\|$\)/d"
MEMBERSHIP_FILES = ("ha-cf", "authkeys", "corosync-conf", "corosync-authkey")  # rendered file ids


def _address(m: Node) -> str:
    return m.interconnects[0].address.split("/")[0]


def hosts(ctx: PlanContext) -> Step | None:
    if not ctx.design.network.manage_hosts:
        return None
    nodes = ctx.design.nodes

    def lines(n: Node) -> list[Action]:
        acts: list[Action] = []
        for m in nodes:
            ip, line = _address(m), f"{_address(m)} {m.name}"
            drop = q(LOOPBACK_LINE.format(name=m.name))
            acts.append(Run(f"sed -i.hawizard~ -e {drop} /etc/hosts; "
                            f"grep -qx {q(line)} /etc/hosts || echo {q(line)} >> /etc/hosts",
                            f"{m.name} resolves to {ip}"))
        return acts
    probe = " && ".join(f"grep -qx {q(_address(m) + ' ' + m.name)} /etc/hosts" for m in nodes)
    probe += "".join(f" && ! grep -q {q(LOOPBACK_LINE.format(name=m.name)[1:-2])} /etc/hosts" for m in nodes)
    return Step("hosts", "Name resolution in /etc/hosts", "membership", Where.EACH, ctx.each(lines),
                probe={n: probe for n in ctx.names}, timeout_s=30,
                explain="Both node names resolve to their first interconnect address on both nodes; "
                        "the 127.0.1.1 line for the node's own name is removed (a backup is kept).")


def membership_files(ctx: PlanContext) -> Step:
    files = [f for f in ctx.rendering.files if f.id in MEMBERSHIP_FILES]
    which = " (ha.cf, authkeys)" if ctx.stack.membership == "heartbeat" else " (corosync.conf, authkey)"
    return Step("membership-files", "Membership files" + which, "membership", Where.EACH,
                ctx.each(lambda n: [Write(f.id, f.path) for f in files]), timeout_s=60,
                explain="Identical files on both nodes; secrets are generated now or read from their reference "
                        "and never shown.")
