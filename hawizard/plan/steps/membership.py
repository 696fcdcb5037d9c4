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
from hawizard.plan.types import Action, Run, Step, Where, Write, check

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


# What a running cluster does not take node by node: a node restarted with another transport or other crypto
# settings cannot talk to the one still running with the old (corosync.conf(5): crypto and several links only
# with knet; both ends must encrypt and authenticate alike), and the cluster name is read at start by
# Pacemaker (cluster-name) and DLM, so hawizard does not rename a running cluster either.
# Each key: (the value corosync uses when the file does not set it, corosync.conf(5) "The default is ...";
# the value ``secauth: on`` implies instead, or None).
ROLLING_KEYS = {
    "cluster_name": ("", None),
    "transport": ("knet", None),
    "crypto_cipher": ("none", "aes256"),
    "crypto_hash": ("none", "sha256"),
}


def running_value(key: str) -> str:
    """Shell: the value of ``totem.KEY`` the running corosync uses (its cmap; the default when unset)."""
    default, by_secauth = ROLLING_KEYS[key]
    get = f"corosync-cmapctl -g totem.{key} 2>/dev/null | sed 's/^[^=]*= //'"
    if by_secauth is None:
        return f'v=$({get}); [ -n "$v" ] || v={q(default)}'
    secauth = "corosync-cmapctl -g totem.secauth 2>/dev/null | grep -q '= on$'"
    return f'v=$({get}); [ -n "$v" ] || {{ {secauth} && v={q(by_secauth)} || v={q(default)}; }}'


def _rolling_checks(ctx: PlanContext, n: Node) -> list[Action]:
    """Before a new corosync.conf goes onto a running node: its cluster name, transport and crypto are those
    the running corosync uses. Otherwise the next restart of one node (sbd-start's, an operator's, a
    reboot) leaves it unable to join the other: refused before the file is written."""
    c = ctx.design.corosync
    wanted = {"cluster_name": c.cluster_name, "transport": c.transport}
    if c.transport == "knet":  # the template writes crypto_* only for knet
        wanted |= {"crypto_cipher": c.crypto_cipher, "crypto_hash": c.crypto_hash}
    running = ctx.stack.service("status", "corosync") + " >/dev/null 2>&1"
    acts: list[Action] = []
    for key, value in wanted.items():
        acts.append(check(
            f"! {running} || {{ {running_value(key)}; [ \"$v\" = {q(str(value))} ]; }}",
            f"corosync runs on {n.name} with another {key} than the design's {value}: a node restarted with the "
            "new file could not talk to the other, so it is not rolled node by node. Keep the running value "
            "in the design, or stop the cluster on both nodes and apply again (the file is left as it was)"))
    return acts


def membership_files(ctx: PlanContext) -> Step:
    files = [f for f in ctx.rendering.files if f.id in MEMBERSHIP_FILES]
    which = " (ha.cf, authkeys)" if ctx.stack.membership == "heartbeat" else " (corosync.conf, authkey)"
    corosync = ctx.stack.membership == "corosync"

    def actions(n: Node) -> list[Action]:
        return [*(_rolling_checks(ctx, n) if corosync else []), *(Write(f.id, f.path) for f in files)]
    return Step("membership-files", "Membership files" + which, "membership", Where.EACH,
                ctx.each(actions), timeout_s=60,
                explain="Identical files on both nodes; secrets are generated now or read from their reference "
                        "and never shown.")
