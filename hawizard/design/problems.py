"""Problems found in a design: field errors, cross-field errors, design warnings.

One type for all of them so that the CLI, the wizard and the audit log show them alike. An
error stops rendering and applying; a warning explains a risk the operator may accept.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"
INFO = "info"
_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass(frozen=True)
class Problem:
    severity: str  # error | warning | info
    code: str  # short stable id, e.g. "fencing-off"
    path: str  # key path in the preset, e.g. "nodes[1].service_address"; "" for the whole design
    message: str  # one or two plain sentences
    line: int | None = None  # line in the preset file, when known

    def where(self, filename: str | None = None) -> str:
        loc = self.path or "(design)"
        if filename and self.line:
            return f"{filename}:{self.line}: {loc}"
        return loc

    def format(self, filename: str | None = None) -> str:
        return f"{self.where(filename)}: {self.severity} [{self.code}] {self.message}"

    def to_dict(self) -> dict:
        return {"severity": self.severity, "code": self.code, "path": self.path,
                "message": self.message, "line": self.line}


def sort_problems(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (_ORDER.get(p.severity, 9), p.path, p.code))


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == ERROR]


def warnings(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == WARNING]
