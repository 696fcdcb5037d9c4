"""Every key of the model is rendered, or refused, or explicitly accounted for: the issue's "render
what was asked, or refuse".

For each stack (through its shipped preset), every leaf key of the model (hawizard/design/model.py:
the dataclasses, their fields, list items, string tables and lists) is changed from the preset's value
to each of a few other values that pass the key's own field check. Each changed design must then
either be refused by validation (an error), or render different files (content, path, mode, nodes,
or where a secret comes from) or a different plan. A key for which neither happens must be in
NOT_RENDERED below, with the reason; a key there marked "lint" must at least change what the lint
says. A key nobody accounts for fails the test, so a key that silently stops being rendered (or a
new key that was never wired up) is caught.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hawizard.design import lint, stacks
from hawizard.design.fieldcheck import check_secret_ref, check_value
from hawizard.design.model import LIST_ITEM_TYPES, NESTED_TYPES, STRING_LISTS, STRING_TABLES, Design
from hawizard.design.preset_file import load_preset
from hawizard.plan.build import build_plan
from hawizard.render.renderer import render

PRESET_OF_STACK = {"centos5-heartbeat": "article", "debian12-crmsh": "debian12", "debian12-pcs": "debian12-pcs",
                   "el9-pcs": "el9"}


def _heartbeat(d: Design) -> bool:
    return stacks.get(d.stack).membership == "heartbeat"


# Keys that legitimately change neither the files nor the plan, with the reason; "key" uses [] for any
# list index. The predicate says when the entry applies (None: always). "lint": the key feeds the lint
# only, and changing it must change what the lint says; "none": nothing of the build depends on it.
NOT_RENDERED: dict[str, tuple[str, Callable[[Design], bool] | None, str]] = {
    # the preset file's own bookkeeping
    "schema_version": ("none", None, "the preset format's version, read by preset_file (migration) only"),
    "description": ("none", None, "free text for the reader of the preset and of exports"),
    # how hawizard reaches the nodes (hawizard/sessions), not what it builds there
    "nodes[].ssh_host": ("none", None, "the SSH connection: sessions, not the files or the plan"),
    "nodes[].ssh_port": ("none", None, "the SSH connection"),
    "nodes[].ssh_user": ("none", None, "the SSH connection (sudo for a non-root user is the session's)"),
    "nodes[].ssh_identity_file": ("none", None, "the SSH connection"),
    "nodes[].ssh_known_hosts": ("none", None, "the SSH connection's host key check"),
    "nodes[].ssh_fingerprint": ("none", None, "the SSH connection's pinned host key"),
    # the operator's intent: the lint holds the rendered values to it
    "answers.power_loss": ("lint", None, "intent; lint compares fencing and quorum with it"),
    "answers.kernel_panic": ("lint", None, "intent; lint compares fencing and quorum with it"),
    "answers.process_check": ("lint", None, "intent; lint compares service.apache_agent with it"),
    "answers.process_failure": ("lint", None, "intent; lint compares cluster.migration_threshold with it"),
    "answers.restart_attempts": ("lint", None, "intent; lint compares cluster.migration_threshold with it"),
    "answers.switchover_target_s": ("lint", None, "intent; lint compares the worst-case switch-over with it"),
    "answers.io_error": ("lint", None, "intent; lint compares drbd.on_io_error and its handler with it"),
    "answers.split_brain": ("lint", None, "intent; lint compares the after-sb policies with it"),
    # facts about the hardware, for the lint
    "network.interconnect_direct": ("lint", None, "a fact for the lint (crc auth, DRBD peer authentication)"),
    "network.replication_link_mbps": ("lint", None, "a fact for the lint (the resync rate against the link)"),
    # one membership layer per stack: the other one's section is not read
    "heartbeat.keepalive_s": ("none", lambda d: not _heartbeat(d), "Heartbeat only; this stack runs Corosync"),
    "heartbeat.warntime_s": ("none", lambda d: not _heartbeat(d), "Heartbeat only"),
    "heartbeat.deadtime_s": ("none", lambda d: not _heartbeat(d), "Heartbeat only"),
    "heartbeat.initdead_s": ("none", lambda d: not _heartbeat(d), "Heartbeat only"),
    "heartbeat.udpport": ("none", lambda d: not _heartbeat(d), "Heartbeat only"),
    "heartbeat.transport": ("none", lambda d: not _heartbeat(d), "Heartbeat only"),
    "heartbeat.auth": ("none", lambda d: not _heartbeat(d), "Heartbeat only"),
    "heartbeat.auth_secret_ref": ("none", lambda d: not _heartbeat(d) or d.heartbeat.auth == "crc",
                                  "Heartbeat only, and only with sha1/md5 authkeys (crc has no secret)"),
    "heartbeat.logfile": ("none", lambda d: not _heartbeat(d), "Heartbeat only"),
    "heartbeat.logfacility": ("none", lambda d: not _heartbeat(d), "Heartbeat only"),
    "heartbeat.pacemaker_directive": ("none", lambda d: not _heartbeat(d), "Heartbeat only"),
    "corosync.cluster_name": ("none", _heartbeat, "Corosync only; this stack runs Heartbeat"),
    "corosync.transport": ("none", _heartbeat, "Corosync only"),
    "corosync.crypto_cipher": ("none", _heartbeat, "Corosync only"),
    "corosync.crypto_hash": ("none", _heartbeat, "Corosync only"),
    "corosync.token_ms": ("none", _heartbeat, "Corosync only"),
    "corosync.two_node": ("none", _heartbeat, "Corosync only"),
    "corosync.authkey_ref": ("none", _heartbeat, "Corosync only"),
    # fencing settings of the other methods (lint: unused-setting, where a preset can leave them unset)
    "fencing.sbd_devices": ("lint", lambda d: d.fencing.method != "sbd", "sbd only"),
    "fencing.watchdog_device": ("none", lambda d: d.fencing.method != "sbd", "sbd only"),
    "fencing.watchdog_timeout_s": ("none", lambda d: d.fencing.method != "sbd", "sbd only"),
    "fencing.msgwait_timeout_s": ("none", lambda d: d.fencing.method != "sbd", "sbd only"),
    "nodes[].fence_agent": ("lint", lambda d: d.fencing.method != "agent", "fencing.method agent only"),
    "nodes[].fence_params": ("lint", lambda d: d.fencing.method != "agent", "fencing.method agent only"),
    "nodes[].fence_password_ref": ("lint", lambda d: d.fencing.method != "agent", "fencing.method agent only"),
    "cluster.ids.fence_prefix": ("none", lambda d: d.fencing.method != "agent",
                                 "names the agent's fence devices (sbd's device has its own name)"),
    "fencing.race": ("lint", lambda d: not d.fenced, "a fence race needs fencing"),
    "fencing.delay_s": ("none", lambda d: not d.fenced or d.fencing.race == "none", "the race's delay"),
    "fencing.stonith_timeout_s": ("lint", lambda d: not d.fenced, "stonith-timeout needs fencing"),
    "fencing.action": ("none", lambda d: not d.fenced, "what a fence does needs fencing"),
    # the quorum device's settings without a device (lint: unused-setting); a variant below has one
    "corosync.qdevice.port": ("lint", lambda d: not d.corosync.qdevice.host, "a quorum device's only"),
    "corosync.qdevice.algorithm": ("lint", lambda d: not d.corosync.qdevice.host, "a quorum device's only"),
    "corosync.qdevice.tls": ("lint", lambda d: not d.corosync.qdevice.host, "a quorum device's only"),
    "corosync.qdevice.tie_breaker": ("lint", lambda d: not d.corosync.qdevice.host, "a quorum device's only"),
    # what DRBD 9 does without quorum: nothing to do (lint: unused-setting); on 8.x it is refused
    "drbd.on_no_quorum": ("lint", lambda d: d.drbd.quorum == "off", "written with drbd.quorum only"),
    # an explicit stop on-fail equal to what answers.switchover_failure renders (block for manual, fence for
    # fence) changes nothing; the lint says what block costs (on-fail-block) or where the two disagree
    "cluster.on_fail.stop": ("lint", None, "the same value as answers.switchover_failure renders"),
    # a handler DRBD calls only with on-io-error call-local-io-error (lint: io-error-handler)
    "drbd.local_io_error_handler": ("none", lambda d: d.drbd.on_io_error != "call-local-io-error"
                                    and not d.drbd.local_io_error_handler, "rendered only when set"),
}


def _entry(path: str, design: Design) -> str | None:
    """The NOT_RENDERED kind that excuses this key in this design, or None."""
    key = re.sub(r"\[\d+\]", "[]", path)
    entry = NOT_RENDERED.get(key)
    if entry is None:
        return None
    kind, applies, _why = entry
    return kind if applies is None or applies(design) else None


# -- walking the model ------------------------------------------------------------------------------

@dataclasses.dataclass
class Key:
    path: str
    get: Callable[[Design], Any]
    set: Callable[[Design, Any], None]
    meta: dict
    shape: str  # scalar | table | list


def keys_of(design: Design) -> Iterator[Key]:
    def walk(cls: type, getobj: Callable[[Design], Any], prefix: str, sample: Any) -> Iterator[Key]:
        for f in dataclasses.fields(cls):
            path = f"{prefix}.{f.name}" if prefix else f.name

            def get(d, f=f, getobj=getobj):
                return getattr(getobj(d), f.name)

            if (cls, f.name) in NESTED_TYPES:
                yield from walk(NESTED_TYPES[(cls, f.name)], get, path, getattr(sample, f.name))
            elif (cls, f.name) in LIST_ITEM_TYPES:
                item_cls = LIST_ITEM_TYPES[(cls, f.name)]
                for i, item in enumerate(getattr(sample, f.name)):
                    yield from walk(item_cls, lambda d, i=i, get=get: get(d)[i], f"{path}[{i}]", item)
            else:
                def set_(d, v, f=f, getobj=getobj):
                    setattr(getobj(d), f.name, v)
                shape = ("table" if (cls, f.name) in STRING_TABLES else
                         "list" if (cls, f.name) in STRING_LISTS else "scalar")
                yield Key(path, get, set_, dict(f.metadata), shape)

    yield from walk(Design, lambda d: d, "", design)


def _other_ip(value: str, step: int = 10) -> str:
    return str(ipaddress.IPv4Address(value) + step)


# Values per kind that differ from any preset's and pass the field check; a key's candidates are
# made from its current value where the value's form matters (addresses, ids).
def candidates(key: Key, value: Any, design: Design) -> list[Any]:
    meta = key.meta
    if key.shape == "table":
        return [{**value, "port": "2"} if value else {"ip": "192.168.0.11", "username": "admin"}]
    if key.shape == "list":
        return [["/dev/disk/by-id/wwn-0x6001405a1b2c3d4e5f60718293a4b5c7"]]
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        lo, hi = meta.get("min"), meta.get("max")
        tries = (value + 1, value - 1, lo, hi)  # the bounds cross any threshold the lint has for the key
        out = [v for v in tries if v is not None and (lo is None or v >= lo) and (hi is None or v <= hi)
               and v != value]
        return list(dict.fromkeys(out))
    if meta.get("choices"):
        return [c for c in meta["choices"] if c != value]
    if meta.get("secret_ref"):
        out = ["env:HAWIZARD_OTHER_SECRET"] + (["generate"] if meta.get("ref_generate") else [])
        return out + ([""] if value else [])
    kind = (meta.get("kind") or "").rstrip("?")
    if key.path.endswith("replication_address"):
        i = int(key.path[len("nodes["):].split("]")[0])
        n = design.nodes[i]  # another interconnect's address, and the service address (refused)
        return [ic.address.split("/")[0] for ic in n.interconnects if ic.address.split("/")[0] != value] + \
            [n.service_address.split("/")[0]]
    by_kind: dict[str, Callable[[], list[Any]]] = {
        "ifname": lambda: ["eth7"],
        "cidr": lambda: [str(ipaddress.IPv4Interface(value).ip + 10) + "/" + value.split("/")[1]],
        "ip": lambda: [_other_ip(value)],
        "hostname": lambda: ["srv9"],
        "host": lambda: ["192.168.0.111"],
        "username": lambda: ["admin"],
        "path": lambda: ([value.rstrip("/") + "/site"] if key.path.endswith("document_root") else
                         ["/srv/web"] if key.path.endswith("mount_point") else [(value or "/etc/other") + ".other"]),
        "fingerprint": lambda: ["SHA256:" + "A" * 43],
        "word": lambda: ["fence_ipmilan"] if key.path.endswith("fence_agent") else [(value or "other") + "x"],
        "devpath": lambda: [value + "1" if value else "/dev/sdc"],
        "drbddev": lambda: ["/dev/drbd1"],
        "metadisk": lambda: ["/dev/sdd"],
        "rate": lambda: ["20M"],
        "crmid": lambda: [value + "_x"],
        "url": lambda: [value.replace("server-status", "status")],
        "servername": lambda: ["www.example.com:80"],
        "text": lambda: [(value or "some text") + " changed"],
        "": lambda: [(value or "some text") + " changed"],
    }
    return by_kind[kind]()


def _field_ok(key: Key, value: Any) -> bool:
    if key.shape != "scalar" or isinstance(value, bool | int):
        return True
    if key.meta.get("secret_ref"):
        return check_secret_ref(value, key.meta) is None
    if key.meta.get("choices"):
        return value in key.meta["choices"]
    return check_value(key.meta.get("kind"), value) is None


def fingerprint(design: Design) -> str:
    """What a build of this design consists of: the files, where their secrets come from, the plan."""
    rendering = render(design)
    files = [(f.id, f.path, f.content, f.mode, f.owner, f.group, f.nodes) for f in rendering.files]
    secrets = sorted((name, s.ref, s.kind) for name, s in rendering.secrets.items())
    plan = build_plan(design, rendering).to_dict()
    return json.dumps([files, secrets, plan], sort_keys=True, default=str)


def lint_view(design: Design) -> set[tuple[str, str, str, str]]:
    return {(p.severity, p.code, p.path, p.message) for p in lint.check(design)}


def _udpu(d: Design) -> None:
    d.corosync.transport, d.corosync.crypto_cipher, d.corosync.crypto_hash = "udpu", "none", "none"
    for n in d.nodes:
        n.interconnects = n.interconnects[:1]


# Designs besides the presets: where a key excused in the presets applies, or renders differently.
def _qdevice(d: Design) -> None:
    d.corosync.qdevice.host, d.corosync.two_node = "192.168.0.50", False


def _drbd9_quorum(d: Design) -> None:
    d.drbd.quorum = "majority"


VARIANTS: list[tuple[str, str, Callable[[Design], None]]] = [
    ("article-sha1", "article", lambda d: setattr(d.heartbeat, "auth", "sha1")),  # authkeys with a secret
    ("debian12-udpu", "debian12", _udpu),  # one link, no crypto: asking for crypto must be refused
    ("debian12-qdevice", "debian12", _qdevice),  # a quorum device: its settings are written
    ("el9-drbd-quorum", "el9", _drbd9_quorum),  # DRBD 9 quorum: on-no-quorum is written
]
CASES = [(stack, preset, None) for stack, preset in sorted(PRESET_OF_STACK.items())] + VARIANTS


def _base(preset: str, setup: Callable[[Design], None] | None) -> Design:
    d = load_preset(preset)
    if setup:
        setup(d)
    assert not [p for p in lint.check(d) if p.severity == "error"]
    return d


@pytest.mark.parametrize("case, preset, setup", CASES, ids=[c[0] for c in CASES])
def test_every_key_is_rendered_refused_or_accounted_for(case, preset, setup):
    base = _base(preset, setup)
    base_print, base_lint = fingerprint(base), lint_view(base)
    unaccounted, silent_lint, walked = [], [], 0
    for key in keys_of(base):
        value = key.get(base)
        options = candidates(key, value, base)
        assert options, f"{key.path}: the test has no other value to try"
        kind, effect, lint_tried = _entry(key.path, base), False, []
        for option in options:
            assert _field_ok(key, option), f"{key.path}: the test's value {option!r} fails the field check"
            d = copy.deepcopy(base)
            key.set(d, option)
            walked += 1
            if any(p.severity == "error" for p in lint.check(d)):
                effect = True
                continue  # refused, with a message naming the field (tests/test_lint.py checks the messages)
            if fingerprint(d) != base_print:
                effect = True
                continue  # rendered
            if kind is None:
                unaccounted.append(f"{key.path} = {option!r}")
            elif kind == "lint":
                lint_tried.append(repr(option))
                effect = effect or lint_view(d) != base_lint
        if lint_tried and not effect:  # a key that feeds the lint must change what it says, at least
            silent_lint.append(f"{key.path} = {' | '.join(lint_tried)}")
    assert walked > 100
    assert not unaccounted, f"{case}: neither rendered, nor refused, nor in NOT_RENDERED: {unaccounted}"
    assert not silent_lint, f"{case}: keys said to feed the lint change nothing it says: {silent_lint}"


def test_conditional_entries_are_rendered_somewhere():
    """A key excused on one stack (Heartbeat's keys on a Corosync stack, sbd's on an agent-fenced one)
    must be rendered or refused on a stack where it applies: the excuse is not a hole."""
    conditional = {k for k, (_kind, applies, _why) in NOT_RENDERED.items() if applies is not None}
    seen: set[str] = set()
    for _case, preset, setup in CASES:
        base = _base(preset, setup)
        base_print = fingerprint(base)
        for key in keys_of(base):
            generic = re.sub(r"\[\d+\]", "[]", key.path)
            if generic not in conditional or _entry(key.path, base) is not None:
                continue
            for option in candidates(key, key.get(base), base):
                d = copy.deepcopy(base)
                key.set(d, option)
                if any(p.severity == "error" for p in lint.check(d)) or fingerprint(d) != base_print:
                    seen.add(generic)
    assert conditional - seen == set(), f"excused everywhere, rendered nowhere: {sorted(conditional - seen)}"
