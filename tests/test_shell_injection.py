"""No value a user can type ends up unquoted in a shell command.

Every free-form string of a design is replaced, one at a time, by a hostile value (quotes,
semicolons, command substitution, newlines); every command and probe of the plan must keep
exactly the shell structure it has with a harmless value. Validation is bypassed on purpose:
this checks the quoting itself, not the input filters in front of it.
"""

from __future__ import annotations

import copy
import dataclasses
import shlex

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hawizard.design.model import Design
from hawizard.design.preset_file import load_preset
from hawizard.plan.build import build_plan
from hawizard.plan.types import Write

BASE = load_preset("debian12")
ARTICLE = load_preset("article")
SKIP = {"name", "description", "stack", "device", "resync_rate", "schema_version"}  # top level only


def string_fields(obj, path=""):
    """(path, setter) for every free-form string field reachable from obj."""
    out = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        p = f"{path}.{f.name}" if path else f.name
        if dataclasses.is_dataclass(value):
            out += string_fields(value, p)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if dataclasses.is_dataclass(item):
                    out += string_fields(item, f"{p}[{i}]")
        elif isinstance(value, str) and not (path == "" and f.name in SKIP) and f.name not in ("device", "resync_rate") \
                and not f.metadata.get("choices") \
                and not f.metadata.get("secret_ref"):
            out.append(p)
    return out


def set_path(design: Design, path: str, value: str) -> None:
    obj = design
    parts = path.replace("]", "").split(".")
    for part in parts[:-1]:
        name, _, idx = part.partition("[")
        obj = getattr(obj, name)
        if idx:
            obj = obj[int(idx)]
    setattr(obj, parts[-1], value)


def structure(command: str):
    lex = shlex.shlex(command, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    tokens = list(lex)
    return len(tokens), [t for t in tokens if t and set(t) <= set("();<>|&")]


def commands(design: Design) -> list[str]:
    plan = build_plan(design)
    out = []
    for step in plan.steps:
        out += list(step.probe.values())
        for acts in step.actions.values():
            out += [a.command for a in acts if not isinstance(a, Write) and a.command]
    return out


FIELDS = string_fields(BASE) + [f"article:{p}" for p in string_fields(ARTICLE)]
hostile = st.text(alphabet=list("ab'\"$;|&()<>`\\ *?!#~{}[]\n\t=/-"), min_size=1, max_size=20).map(
    lambda s: "x" + s + "$(touch /tmp/pwned)';\"")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), payload=hostile)
def test_no_value_changes_command_structure(field, payload):
    base = ARTICLE if field.startswith("article:") else BASE
    path = field.removeprefix("article:")
    benign, evil = copy.deepcopy(base), copy.deepcopy(base)
    set_path(benign, path, "xbenignx")
    set_path(evil, path, payload)
    good, bad = commands(benign), commands(evil)
    assert len(good) == len(bad)
    for g, b in zip(good, bad, strict=True):
        assert structure(g) == structure(b), (field, b)


def test_every_reachable_field_is_covered():
    # node names, disks, NICs, addresses, mount point, VIP, resource ids, the index page text, ...
    for must in ("nodes[0].name", "nodes[0].backing_disk", "nodes[0].interconnects[0].nic", "service.mount_point",
                 "service.vip", "cluster.ids.group", "service.index_page", "drbd.resource"):
        assert must in FIELDS


def test_known_payload_is_quoted():
    d = copy.deepcopy(BASE)
    d.nodes[0].backing_disk = "/dev/sdb; rm -rf /"
    cmds = commands(d)
    assert any("'/dev/sdb; rm -rf /'" in c for c in cmds)
    benign = copy.deepcopy(BASE)
    benign.nodes[0].backing_disk = "/dev/sdbxxxxxxxxx"
    assert [structure(c) for c in cmds] == [structure(c) for c in commands(benign)]
