"""The CIB's fencing, read into the design: the method, the devices, the race delay, the timeouts.

What hawizard writes is hawizard/render/fencing.py's: stonith-enabled, stonith-action, stonith-timeout
and priority-fencing-delay; one sbd device (stonith:external/sbd or fence_sbd) or one device per node
found by its pcmk_host_list; a race delay as priority-fencing-delay, pcmk_delay_base or
pcmk_delay_max (pacemaker-fenced and pacemaker-schedulerd metadata). A password parameter is never
copied: the preset reads it from env:HAWIZARD_FENCE_PASSWORD_<NODE> at apply time.
"""

from __future__ import annotations

import re

from hawizard.adopt.cib import Cib, Container, Primitive
from hawizard.adopt.findings import CHANGED, DEFAULTED, DROPPED, GUESSED, LEFT, SECRET, Findings
from hawizard.adopt.units import seconds
from hawizard.common.errors import InputError
from hawizard.design import stacks, timing
from hawizard.design.fieldcheck import check_fence_param_key, check_fence_param_value
from hawizard.design.model import Design

SBD_TYPES = ("external/sbd", "fence_sbd")


def fence_password_env(node: str) -> str:
    """The environment variable a fence password of NODE is read from at apply time."""
    return "HAWIZARD_FENCE_PASSWORD_" + re.sub(r"[^A-Za-z0-9]", "_", node).upper()


def apply(cib: Cib, d: Design, stack: stacks.Stack, findings: Findings, where: str,
             sbd: dict[str, tuple[str, int]], sbd_where: str, clone: Container) -> None:
    fe = d.fencing
    enabled = cib.properties.get("stonith-enabled", "true").lower() in ("true", "yes", "1", "on", "y")
    devices = [p for p in cib.primitives if p.cls == "stonith"]
    if not enabled:
        fe.method, fe.race = "none", "none"
        for p in devices:
            findings.add(f"CIB: fence device {p.id} ({p.agent})", where, LEFT,
                         "stonith-enabled=false: the design has no fencing; the device is left as it is")
        d.answers.switchover_failure = "manual"
        _stop_on_fail(d, cib, findings, where)
        return
    if not devices:
        raise InputError(f"{where}: stonith-enabled is true but the CIB has no fence device; hawizard cannot "
                         "express a cluster that would never fence (add the devices, or set stonith-enabled=false "
                         "knowingly, then adopt again)")
    fe.race = "none"  # until a delay is found on a device or in the properties
    fe.action = cib.properties.get("stonith-action", "reboot").lower()
    if fe.action == "poweroff":
        fe.action = "off"
    sbd_dev = [p for p in devices if p.type in SBD_TYPES]
    if sbd_dev:
        _sbd(sbd_dev[0], d, stack, findings, where, sbd, sbd_where)
        rest = [p for p in devices if p is not sbd_dev[0]]
    else:
        rest = _agents(devices, d, findings, where)
    for p in rest:
        findings.add(f"CIB: fence device {p.id} ({p.agent})", where, LEFT, "a second fencing level the design "
                     "cannot express; a re-apply does not touch it")
    pfd = cib.properties.get("priority-fencing-delay")
    if pfd and (seconds(pfd) or 0) > 0:
        fe.race, fe.delay_s = "priority", seconds(pfd) or fe.delay_s
        if clone.meta.get("priority", "0") in ("0", ""):
            findings.add(f"CIB: {clone.id} meta priority", where, CHANGED,
                         "not set, so priority-fencing-delay protects no node; a re-apply sets priority=1")
    d.answers.switchover_failure = "manual"
    _stop_on_fail(d, cib, findings, where)
    st = cib.properties.get("stonith-timeout")
    if st:
        value = seconds(st)
        fe.stonith_timeout_s = 0
        if value is not None and value != timing.derived_stonith_timeout_s(d):
            fe.stonith_timeout_s = value


def _stop_on_fail(d: Design, cib: Cib, findings: Findings, where: str) -> None:
    """switchover_failure from the stop operations' on-fail (render/fencing.py writes fence or block)."""
    prims = [p for c in cib.containers for p in c.children] + [p for p in cib.primitives if p.cls != "stonith"]
    ons = {o.on_fail for p in prims for o in p.ops if o.name == "stop"}
    if "fence" in ons and d.fenced:
        d.answers.switchover_failure = "fence"
    # one other value on every stop is carried as cluster.on_fail.stop (cib_map._on_fail), several are reported
    # there; a stop without on-fail is reported with the operations (engine)


def _sbd(dev: Primitive, d: Design, stack: stacks.Stack, findings: Findings, where: str,
         sbd: dict[str, tuple[str, int]], sbd_where: str) -> None:
    fe = d.fencing
    fe.method = "sbd"
    d.cluster.ids.fence_prefix = dev.id[:-3] if dev.id.endswith("sbd") else d.cluster.ids.fence_prefix
    if not dev.id.endswith("sbd"):
        findings.add(f"CIB: fence device id {dev.id}", where, CHANGED,
                     f"a re-apply names it {fe_id(d)} (fence_prefix + 'sbd')")
    devices = sbd.get("SBD_DEVICE", ("", 0))[0] or dev.params.get("devices", "").replace(",", ";")
    fe.sbd_devices = [x for x in devices.split(";") if x][:3]
    if not fe.sbd_devices:
        raise InputError(f"{sbd_where or where}: sbd fencing without a disk (SBD_DEVICE): hawizard builds sbd "
                         "with a shared disk, not diskless sbd")
    if "SBD_WATCHDOG_DEV" in sbd:
        fe.watchdog_device = sbd["SBD_WATCHDOG_DEV"][0]
    if sbd.get("SBD_WATCHDOG_TIMEOUT", ("", 0))[0].isdigit():
        fe.watchdog_timeout_s = int(sbd["SBD_WATCHDOG_TIMEOUT"][0])
    pt = dev.params.get("power_timeout", "")
    if pt.isdigit() and int(pt) > 10:
        fe.msgwait_timeout_s = int(pt) - 10  # render/fencing.py: power_timeout = msgwait + 10
        findings.add("sbd msgwait timeout", where, GUESSED, f"from {dev.id} power_timeout={pt} (hawizard writes "
                     "msgwait + 10); the disk's own value is shown by sbd -d DEV dump")
    else:
        findings.add("sbd msgwait and watchdog timeouts on the disk", "(not in the collected files)", DEFAULTED,
                     f"written on the disk, not in a file (sbd -d DEV dump shows them); the preset says msgwait "
                     f"{fe.msgwait_timeout_s} s: check it")
    written = {"SBD_DEVICE", "SBD_PACEMAKER", "SBD_STARTMODE", "SBD_DELAY_START", "SBD_WATCHDOG_DEV",
               "SBD_WATCHDOG_TIMEOUT", "SBD_TIMEOUT_ACTION", "SBD_OPTS"}
    for k, (v, no) in sbd.items():
        if k not in written:
            findings.add(f"sbd: {k}={v}", f"{sbd_where}:{no}", DROPPED, "a re-apply writes the file without it")
        elif k in ("SBD_PACEMAKER", "SBD_STARTMODE", "SBD_DELAY_START", "SBD_TIMEOUT_ACTION", "SBD_OPTS"):
            want = {"SBD_PACEMAKER": "yes", "SBD_STARTMODE": "always", "SBD_DELAY_START": "no",
                    "SBD_TIMEOUT_ACTION": "flush,reboot", "SBD_OPTS": ""}[k]
            if v != want:
                findings.add(f"sbd: {k}={v}", f"{sbd_where}:{no}", CHANGED, f"a re-apply writes {k}={want}")
    _delay(dev.params, d, findings, where, dev.id)
    for k, v in dev.params.items():
        if k == "pcmk_host_list" and set(re.split(r"[\s,;]+", v.strip())) == set(d.node_names):
            continue  # what hawizard writes (render/fencing.py)
        if k == "pcmk_host_list":
            findings.add(f"CIB: {dev.id} param {k}={v}", where, CHANGED,
                         f"a re-apply names the two nodes: {' '.join(d.node_names)}")
        elif k not in ("devices", "power_timeout", "pcmk_delay_base", "pcmk_delay_max"):
            findings.add(f"CIB: {dev.id} param {k}={v}", where, DROPPED, "a re-apply writes the device without it")


def fe_id(d: Design) -> str:
    return f"{d.cluster.ids.fence_prefix}sbd"


def _delay(params: dict[str, str], d: Design, findings: Findings, where: str, dev_id: str) -> None:
    fe = d.fencing
    base, mx = params.get("pcmk_delay_base", ""), params.get("pcmk_delay_max", "")
    if mx and (seconds(mx) or 0) > 0:
        fe.race, fe.delay_s = "random", seconds(mx) or fe.delay_s
    elif base:
        longest = max((seconds(part.split(":")[-1]) or 0) for part in base.split(";") if part)
        if longest > 0:
            fe.race, fe.delay_s = "static", longest


def _agents(devices: list[Primitive], d: Design, findings: Findings, where: str) -> list[Primitive]:
    """One device per node (found by pcmk_host_list); returns the devices not used."""
    fe = d.fencing
    fe.method = "agent"
    used: list[Primitive] = []
    for n in d.nodes:
        mine = [p for p in devices if n.name in re.split(r"[\s,;]+", p.params.get("pcmk_host_list", ""))]
        if not mine:
            mine = [p for p in devices if p.id.endswith(n.name)]
        plug = ""
        if not mine:  # one device for both nodes, with a map of node names to its ports
            mapped = [(p, _host_map(p).get(n.name, "")) for p in devices]
            mine = [p for p, port in mapped if port]
            plug = next((port for _, port in mapped if port), "")
        if not mine:
            raise InputError(f"{where}: no fence device fences {n.name} (pcmk_host_list or pcmk_host_map); "
                             "hawizard builds one device per node")
        p = mine[0]
        if plug:
            findings.add(f"CIB: {p.id} fences {n.name} through pcmk_host_map ({n.name}:{plug})", where, CHANGED,
                         f"a re-apply makes a device per node, {d.cluster.ids.fence_prefix}{n.name} with plug={plug} "
                         f"and pcmk_host_list={n.name}; {p.id} is left as it is: remove it once they run")
        used.append(p)
        n.fence_agent = p.type
        if p.id.endswith(n.name):
            d.cluster.ids.fence_prefix = p.id[: -len(n.name)] or d.cluster.ids.fence_prefix
        params: dict[str, str] = {}
        for k, v in p.params.items():
            if k in ("pcmk_host_list", "pcmk_delay_base", "pcmk_delay_max") or (plug and k == "pcmk_host_map"):
                continue
            why = check_fence_param_key(k)
            if why and "password" in why:
                n.fence_password_ref = f"env:{fence_password_env(n.name)}"
                findings.add(f"CIB: {p.id} {k}", where, SECRET, f"not copied; the preset reads it from "
                             f"{n.fence_password_ref} at apply time")
                continue
            bad = why or check_fence_param_value(v)
            if bad:
                findings.add(f"CIB: {p.id} param {k}", where, DROPPED, f"not a fence_params entry: {bad}")
                continue
            params[k] = v
        if plug:
            params["plug"] = plug  # what pcmk_host_map passes as the port of this node (fence-agents' plug)
        n.fence_params = params
        _delay(p.params, d, findings, where, p.id)
    base = _host_map(next(iter(used)), "pcmk_delay_base") if used else {}
    if base and max(base, key=lambda k: seconds(base[k]) or 0) != d.nodes[0].name:
        findings.add("CIB: pcmk_delay_base " + ";".join(f"{k}:{v}" for k, v in base.items()), where, CHANGED,
                     f"hawizard's static delay protects the first node, {d.nodes[0].name}")
    return [p for p in devices if p not in used]


def _host_map(p: Primitive, param: str = "pcmk_host_map") -> dict[str, str]:
    """A node map parameter ('node1:port1;node2:port2', also with ',' or blanks; pacemaker-fenced metadata)."""
    out = {}
    for part in re.split(r"[;,\s]+", p.params.get(param, "")):
        if ":" in part:
            node, _, value = part.partition(":")
            out[node] = value
    return out
