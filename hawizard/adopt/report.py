"""The adoption report: what was read, and every finding grouped by what adoption did with it.

Plain text, printed by ``hawizard adopt`` and written next to the preset (PRESET.adopt.txt),
so the operator keeps the list of what the preset does not say with the preset itself.
Never holds a secret: findings name secrets, they never quote them.
"""

from __future__ import annotations

from hawizard.adopt.engine import Adoption
from hawizard.adopt.findings import CHANGED, DEFAULTED, DROPPED, GUESSED, KEPT, LEFT, SECRET

_ORDER = ((GUESSED, "Guessed: not in the files, check before an apply"),
          (DEFAULTED, "Defaulted: not in the files, hawizard's value is in the preset"),
          (CHANGED, "Changed: a re-apply would write these differently"),
          (DROPPED, "Not carried: the preset cannot say these; a re-apply writes hawizard's files without them"),
          (LEFT, "Left alone: not part of the design; a re-apply does not touch them"),
          (SECRET, "Secrets: never copied; the preset holds references"),
          (KEPT, "Kept, with a note"))


def text(adoption: Adoption, preset_path: str = "") -> str:
    d = adoption.design
    lines = [f"hawizard adopt: {adoption.source}" + (f" -> {preset_path}" if preset_path else ""),
             f"stack: {d.stack} ({adoption.stack_reason})",
             f"nodes: {', '.join(d.node_names)}; DRBD {d.drbd.resource} on {d.drbd.device}; "
             f"VIP {d.service.vip}/{d.service.vip_prefix}; fencing: {d.fencing.method}",
             ""]
    items = adoption.findings.items
    for action, title in _ORDER:
        group = [f for f in items if f.action == action]
        if not group:
            continue
        lines.append(f"{title} ({len(group)}):")
        lines += [f"  - {f.name} [{f.where}]" + (f": {f.note}" if f.note else "") for f in group]
        lines.append("")
    lines.append("Next: hawizard validate PRESET names the design's risks; answer the design questions "
                 "([answers]) before an apply.")
    return "\n".join(lines) + "\n"
