"""One line per action, as the plan command, the dry run and the wizard's review show it."""

from __future__ import annotations


def describe_action(act, plan) -> str:
    """What an action does, in one line: a command, a file write with its mode, a fact read, a wait."""
    if act.kind == "write":
        f = plan.rendering.get(act.file_id)
        return f"write {f.path} (mode {f.mode_str}, {f.owner}:{f.group})"
    if act.kind == "fact":
        return f"read {act.fact}: {act.command}"
    if act.kind == "poll":
        return f"watch until {act.until}: {act.command}"
    return f"$ {act.command}"
