"""What an exporter returns: files by relative path, with their bytes and mode.

Why not write them directly: an exporter stays pure (tests read its output without a disk), and
the one writer (the CLI) decides where and how (atomically, refusing a non-empty directory).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportedFile:
    path: str  # relative to the export directory, with '/' separators
    content: str
    mode: int = 0o644


@dataclass(frozen=True)
class Export:
    files: tuple[ExportedFile, ...]

    def get(self, path: str) -> ExportedFile:
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]


def comment(text: str) -> str:
    """Text made safe for one comment line (sh, YAML): no line break or control character can end it."""
    # YAML also breaks lines at NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR (YAML 1.1, 5.4)
    return "".join(" " if ord(c) < 32 or ord(c) == 0x7F or c in "\x85\u2028\u2029" else c
                   for c in text).strip()
