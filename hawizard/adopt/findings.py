"""What adoption found that the preset cannot say, or said differently: one Finding per item.

Why a module of its own: every source-format reader adds to the same list, the report prints it
and writes it next to the preset, and the tests read it. Nothing the files say is dropped without
a Finding that names it, says where it was found and what adoption did with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# what adoption did with an item
KEPT = "kept"            # the preset carries it (perhaps in another form: said in the note)
DEFAULTED = "defaulted"  # not in the files: the preset holds hawizard's default (check it)
GUESSED = "guessed"      # not in the files: derived from something near it (check it)
CHANGED = "changed"      # the preset says it differently; a re-apply would write hawizard's form
LEFT = "left alone"      # the preset cannot express it: a re-apply does not touch it
DROPPED = "not carried"  # the preset cannot express it and hawizard's files would not write it
SECRET = "secret not copied"  # a secret: the preset holds a reference, never the value


@dataclass(frozen=True)
class Finding:
    name: str    # what: "ha.cf: warntime", "CIB: primitive res_extra"
    where: str   # the file it was found in (relative to the collected directory), or "(not found)"
    action: str  # one of the words above
    note: str = ""

    def line(self) -> str:
        return f"[{self.action}] {self.name} — {self.where}" + (f": {self.note}" if self.note else "")


@dataclass
class Findings:
    """The list every reader appends to."""

    items: list[Finding] = field(default_factory=list)

    def add(self, name: str, where: str, action: str, note: str = "") -> None:
        self.items.append(Finding(name, where, action, note))

    def by_action(self, action: str) -> list[Finding]:
        return [f for f in self.items if f.action == action]

    def names(self) -> list[str]:
        return [f.name for f in self.items]
