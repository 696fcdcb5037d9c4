"""Steps 2 and 3: install the stack's packages, then check what they brought and leave services to the cluster.

After the install: the resource agents and tools the later steps need exist, the DRBD module is
the series the configuration is rendered for, Debian's placeholder cluster is stopped, and
Apache and DRBD no longer start at boot on their own (the cluster starts them).
"""

from __future__ import annotations

from hawizard.common.shellquote import q
from hawizard.design.model import Design
from hawizard.design.stacks import Stack
from hawizard.plan.context import PlanContext
from hawizard.plan.types import Action, Fact, Run, Step, Where, check


def install(ctx: PlanContext) -> Step:
    stack = ctx.stack
    packages = list(stack.packages) + fence_packages(ctx.design, stack) + qdevice_packages(ctx.design, stack)
    pk = " ".join(q(p) for p in packages)
    if stack.os_family == "debian":
        probe = (f"test \"$(dpkg-query -W -f='${{Status}}\\n' {pk} 2>/dev/null | grep -c 'ok installed')\" "
                 f"-eq {len(packages)}")
    else:
        probe = f"rpm -q {pk} >/dev/null 2>&1"
    commands = [Run(c) for c in stack.install_prepare] + [Run(f"{stack.install_command} {pk}")]
    return Step("install", "Install the cluster packages", "install", Where.BOTH, ctx.each(lambda n: commands),
                probe={n: probe for n in ctx.names}, timeout_s=1800,
                explain=f"Installs {', '.join(packages)} on both nodes at once.")


def qdevice_packages(design: Design, stack: Stack) -> list[str]:
    """corosync-qdevice on both nodes when the design has a quorum device (corosync-qdevice(8): the daemon
    runs on each node; the qnetd server on the third host is the operator's, as the lint says)."""
    return list(stack.qdevice_packages) if design.corosync.qdevice.host else []


def fence_packages(design: Design, stack: Stack) -> list[str]:
    """Packages that carry the fence agents the design names (crmsh and pcs need their metadata), or sbd."""
    if design.fencing.method == "sbd":
        return list(stack.sbd_packages)
    agents = sorted({n.fence_agent for n in design.nodes if n.fence_agent}) if design.fencing.method == "agent" else []
    if not agents:
        return []
    if stack.os_family == "debian":
        return ["fence-agents"]
    if stack.os_family == "el9":
        return [f"fence-agents-{a.removeprefix('fence_')}" for a in agents]
    return ["cman"]  # CentOS 5 ships its fence agents in cman


def post_install(ctx: PlanContext) -> Step:
    return Step("post-install", "Check agents and DRBD versions; leave Apache and DRBD to the cluster",
                "install", Where.EACH, ctx.each(lambda n: _after_install(ctx)), timeout_s=120,
                explain="The resource agents exist, the DRBD module matches the configuration dialect, and "
                        "Apache and DRBD do not start at boot on their own.")


def _after_install(ctx: PlanContext) -> list[Action]:
    stack = ctx.stack
    agents = ["linbit/drbd", "heartbeat/IPaddr2", "heartbeat/Filesystem"]
    if ctx.design.service.apache_agent == "ocf:heartbeat:apache":
        agents.append("heartbeat/apache")
    acts: list[Action] = [check(f"test -x {q(stack.ocf_root + '/resource.d/' + ag)}", f"resource agent {ag} is missing")
                          for ag in agents]
    for tool in ("fuser", "curl"):  # the Filesystem agent needs fuser; the apache agent curl (or wget)
        acts.append(check(f"command -v {tool} >/dev/null", f"{tool} is missing; the resource agents need it"))
    # the tools the later steps run: better said now than as a cluster that never answers
    for tool in ("crm_mon", "cibadmin", "crm_resource", "crm_verify", stack.config_tool):
        acts.append(check(f"command -v {tool} >/dev/null",
                          f"{tool} is missing; hawizard needs it to configure and watch the cluster"))
    if ctx.design.fencing.method == "sbd":
        acts.append(check("command -v sbd >/dev/null", "sbd is missing; fencing.method = sbd needs it"))
    acts.append(Fact("drbdadm --version 2>/dev/null | sed -n 's/^DRBDADM_VERSION=//p'", "drbd_utils",
                     "drbd-utils version"))
    want = {"8.3": "8.3.", "8.4": "8.4.", "9": "9."}[stack.drbd]
    acts.append(check(f"(modinfo -F version drbd 2>/dev/null || sed -n '1s/^version: //p' /proc/drbd) | "
                      f"grep -q {q('^' + want)}",
                      f"the DRBD kernel module is not the {stack.drbd} series this stack is rendered for"))
    if stack.os_family == "debian":
        # Debian starts corosync and pacemaker on install with a one-node placeholder configuration
        # (and a CIB that names 'node1'): stop them until hawizard's own files are in place. A cluster
        # whose CIB has resources is no placeholder (one built by hand, adopted): it is left running.
        has_resources = ("{ cibadmin -Q -o resources 2>/dev/null || cat /var/lib/pacemaker/cib/cib.xml 2>/dev/null; } "
                         "| grep -q '<primitive'")
        acts.append(Run(f"grep -qs 'written by hawizard' /etc/corosync/corosync.conf || {has_resources} || {{ "
                        "systemctl stop pacemaker corosync; rm -f /var/lib/pacemaker/cib/cib*; }",
                        "stop the placeholder cluster Debian starts on install (a cluster with resources runs on)"))
    cluster_up = (stack.service("status", "pacemaker") if stack.init == "systemd"
                  else "/etc/init.d/heartbeat status") + " >/dev/null 2>&1"
    acts.append(Run(f"{cluster_up} || {{ {stack.boot_setting('disable', stack.apache_service)} >/dev/null 2>&1; "
                    f"{stack.service('stop', stack.apache_service)} >/dev/null 2>&1; }}; true",
                    "Apache is started by the cluster only (left alone once the cluster runs it)"))
    acts.append(Run(f"{stack.boot_setting('disable', stack.drbd_service)} >/dev/null 2>&1; true",
                    "DRBD is started by the cluster only"))
    return acts
