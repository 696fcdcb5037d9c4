"""The cluster's fencing as data the templates write out: properties, devices, and the race delay.

Why apart from the templates: crmsh and pcs write the same decisions in two syntaxes, and the
decisions (which property, which delay on which device, which timeout) must be one in both.
The templates only quote and spell.

Sources of the rules: pacemaker-schedulerd and pacemaker-fenced metadata (Pacemaker 2.1):
priority-fencing-delay "takes effect for the fencings that target the lost nodes with the highest
total resource priority" and "a promoted resource instance takes the base priority + 1", so a
priority on the DRBD clone makes the node running the promoted DRBD win; pcmk_delay_base takes a
node map ("node1:1s;node2:5"); pcmk_delay_max a random delay up to the value. sbd(8): the sbd
fence device returns after msgwait; stonith-timeout must cover it (hawizard/design/timing.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hawizard.design import stacks, timing
from hawizard.design.model import Design


@dataclass(frozen=True)
class FenceDevice:
    """One stonith resource: its id, agent (with class), parameters, and the node it must not run on."""

    id: str
    agent: str  # "stonith:fence_ipmilan", "stonith:external/sbd"
    params: tuple[tuple[str, str], ...] = ()  # in order; values raw (the template quotes them)
    password_secret: str = ""  # the name of the rendering's secret that goes in password=, or ""
    avoids: str = ""  # a node it must not run on (a device that fences itself is no use), or ""
    monitor_interval_s: int = 60

    @property
    def agent_type(self) -> str:
        """The agent without its class, as pcs wants it ('fence_sbd', 'external/sbd')."""
        return self.agent.split(":", 1)[1] if self.agent.startswith("stonith:") else self.agent


@dataclass(frozen=True)
class Fencing:
    enabled: bool
    properties: tuple[tuple[str, str], ...]  # cluster properties, in order
    devices: tuple[FenceDevice, ...] = ()
    clone_priority: int = 0  # meta priority of the promotable DRBD clone (priority-fencing-delay)
    stop_on_fail: str = ""  # on-fail of the resources' stop operations: fence | block | "" (the default)
    notes: tuple[str, ...] = field(default=())


def fencing_of(design: Design, stack: stacks.Stack) -> Fencing:
    """What the cluster configuration must say about fencing for this design."""
    fe = design.fencing
    # "what happens when switch-over fails": a stop that fails or times out either fences the node
    # (the service moves) or blocks the resource there for the operator (Pacemaker Explained,
    # "on-fail": the default is fence when fencing is on, block when it is off: said explicitly here)
    stop_on_fail = "fence" if design.answers.switchover_failure == "fence" else "block"
    if not design.fenced:
        return Fencing(False, (("stonith-enabled", "false"),), stop_on_fail=stop_on_fail)
    props = [("stonith-enabled", "true"), ("stonith-action", fe.action),
             ("stonith-timeout", f"{timing.stonith_timeout_s(design)}s")]
    if fe.race == "priority":
        props.append(("priority-fencing-delay", f"{fe.delay_s}s"))
    first = design.nodes[0].name
    devices: list[FenceDevice] = []
    if fe.method == "sbd":
        params: list[tuple[str, str]] = []
        if stack.sbd_agent == "stonith:fence_sbd":
            # fence_sbd talks to the disk itself; its power_timeout must outlast msgwait (fence_sbd metadata)
            params += [("devices", ",".join(fe.sbd_devices)), ("power_timeout", str(fe.msgwait_timeout_s + 10))]
        # the nodes it fences, named: pacemaker-fenced's pcmk_host_check is then static-list ("static-list if
        # either pcmk_host_list or pcmk_host_map is set, otherwise dynamic-list if the device supports the list
        # action": pacemaker-fenced metadata). With dynamic-list every fence first runs the agent's list action
        # (a Python start for fence_sbd): 13 s on the lab's emulated CPU, which ate a 15 s priority delay and
        # let the node without the service fence the one with it (seen in the lab's partition test).
        params += [("pcmk_host_list", " ".join(design.node_names))]
        params += _delay(design, first, sbd=True)
        devices.append(FenceDevice(f"{design.cluster.ids.fence_prefix}sbd", stack.sbd_agent, tuple(params),
                                   monitor_interval_s=3600))
    else:
        for n in design.nodes:
            params = list(n.fence_params.items()) + [("pcmk_host_list", n.name)]
            if fe.race in ("static", "random"):
                params += _delay(design, first, target=n.name)
            devices.append(FenceDevice(f"{design.cluster.ids.fence_prefix}{n.name}", f"stonith:{n.fence_agent}",
                                       tuple(params), f"fence-{n.name}" if n.fence_password_ref else "",
                                       avoids=n.name))
    return Fencing(True, tuple(props), tuple(devices), 1 if fe.race == "priority" else 0, stop_on_fail)


def _delay(design: Design, first: str, *, sbd: bool = False, target: str = "") -> list[tuple[str, str]]:
    """The race delay on a device: static protects the first node (its fencing waits), random delays all."""
    fe = design.fencing
    if fe.race == "random":
        return [("pcmk_delay_max", f"{fe.delay_s}s")]
    if fe.race == "static":
        if sbd:  # one device fences both nodes: a node map delays only the fencing of the first node
            others = [n.name for n in design.nodes if n.name != first]
            return [("pcmk_delay_base", ";".join([f"{first}:{fe.delay_s}s"] + [f"{o}:0s" for o in others]))]
        if target == first:
            return [("pcmk_delay_base", f"{fe.delay_s}s")]
    return []
