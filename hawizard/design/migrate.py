"""Older preset schemas read as the current one, so a saved preset keeps working after an upgrade.

Why here, before the model: a preset is the operator's record of a cluster; hawizard must never
refuse one it wrote itself. Each schema step rewrites the parsed TOML table (nothing else is
touched), says where each moved key now lives (so problems are still shown at the line the
operator wrote), and leaves a note saying that the file is of an older schema; saving it again
writes the current schema.

  1 -> 2   [design] became [answers] (the design questions, answered);
           cluster.stonith_enabled became [fencing] method: true -> "agent" (a fence agent per
           node, as schema 1 meant), false -> "none"; a value that is not true or false is reported
           at its own key. Schema 1 had no fence-race delay: on a stack whose Pacemaker cannot delay a
           fence (Pacemaker 1.0) fencing.race becomes "none", as the preset meant, where the current
           default (priority) would make validate refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hawizard.common.errors import InputError
from hawizard.design import stacks
from hawizard.design.model import SCHEMA_VERSION


@dataclass
class Migration:
    """What reading an older schema did: the key paths that moved (new -> old), notes for the operator,
    and problems of old keys that have no place in the new schema (path in the file, message)."""

    moved: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def migrate(data: dict[str, Any]) -> Migration:
    """Rewrite ``data`` (a parsed preset) in place to the current schema; what moved, and why."""
    done = Migration()
    if data.get("schema_version") == 1:
        _one_to_two(data, done)
        data["schema_version"] = 2
        done.notes.append(f"this preset is of schema_version 1 and was read as {SCHEMA_VERSION}: [design] is now "
                          "[answers], cluster.stonith_enabled is now fencing.method; saving it writes the new form")
    return done


def _one_to_two(data: dict[str, Any], done: Migration) -> None:
    if "design" in data and "answers" not in data:
        data["answers"] = data.pop("design")
        done.moved["answers"] = "design"
    cluster = data.get("cluster")
    if isinstance(cluster, dict) and "stonith_enabled" in cluster:
        on = cluster.pop("stonith_enabled")
        if not isinstance(on, bool):
            # named at the key the operator wrote, with the type it had: fencing.method would be a riddle
            done.problems.append(("cluster.stonith_enabled", "must be true or false (schema 1; schema 2 "
                                  "says fencing.method = \"agent\" or \"none\")"))
            return
        fencing = data.setdefault("fencing", {})
        if isinstance(fencing, dict) and "method" not in fencing:
            fencing["method"] = "agent" if on else "none"
            done.moved["fencing.method"] = "cluster.stonith_enabled"
            done.moved["fencing"] = "cluster"
            if "race" not in fencing and not _delays_fences(data.get("stack")):
                fencing["race"] = "none"


def _delays_fences(stack: Any) -> bool:
    """Whether the preset's stack can delay a fence (an unknown stack is left for the field check)."""
    try:
        return stacks.get(stack).fence_delays if isinstance(stack, str) else True
    except InputError:  # an unknown name: the field check reports the stack itself
        return True
