"""Long lines folded to the width of the pane, each continuation marked, so one line never reads as several.

Why: the file preview wrapped a long crm line into three lines that looked like three commands,
and the run log cut long commands at the pane's edge. Here a line longer than the width is cut
(at the last space that leaves at least half a line, else at the width) and every piece after
the first starts with ``MARK`` (the "showbreak" convention of vim and less: ``↪``). Folding
never drops or reorders a character: the pieces without their marks join back into the line.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.cells import cell_len, get_character_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.text import Text

MARK = "↪ "
MARK_STYLE = "dim"


def _cut(plain: str, width: int) -> int:
    """Index where a line wider than ``width`` cells is cut: after a space if one is late enough."""
    used, end = 0, 0
    for i, ch in enumerate(plain):
        size = get_character_cell_size(ch)
        if used + size > width:
            break
        used += size
        end = i + 1
    end = max(end, 1)  # a character wider than the width still goes somewhere
    space = plain.rfind(" ", 0, end)
    if space >= 0 and space + 1 >= end // 2 and space + 1 < end:
        return space + 1
    return end


def fold_points(plain: str, width: int) -> list[int]:
    """Where ``plain`` is cut to fit ``width`` cells, continuation pieces having ``MARK`` in front."""
    width = max(width, len(MARK) + 2)
    points: list[int] = []
    start, room = 0, width
    while cell_len(plain[start:]) > room:
        cut = start + _cut(plain[start:], room)
        points.append(cut)
        start, room = cut, width - len(MARK)
    return points


def fold_plain(line: str, width: int) -> list[str]:
    """``line`` as pieces of at most ``width`` cells; the pieces after the first begin with ``MARK``."""
    points = fold_points(line, width)
    if not points:
        return [line]
    bounds = [0, *points, len(line)]
    pieces = [line[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    return [pieces[0], *(MARK + p for p in pieces[1:])]


def fold_text(line: Text, width: int) -> list[Text]:
    """As ``fold_plain``, keeping the styles (syntax highlighting) of ``line``."""
    points = fold_points(line.plain, width)
    if not points:
        return [line]
    pieces = list(line.divide(points))
    out = [pieces[0]]
    for piece in pieces[1:]:
        marked = Text(MARK, style=MARK_STYLE, end="")
        marked.append_text(piece)
        out.append(marked)
    return out


def unfold(lines: list[str]) -> list[str]:
    """The original lines of folded ones (for tests and for copying a log)."""
    out: list[str] = []
    for line in lines:
        if line.startswith(MARK) and out:
            out[-1] += line[len(MARK):]
        else:
            out.append(line)
    return out


class MarkedWrap:
    """A rich renderable: ``text`` folded to the width it is given, continuations marked."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def _lines(self, width: int) -> Iterator[Text]:
        lines = list(self.text.split("\n", allow_blank=True))
        if lines and self.text.plain.endswith("\n") and not lines[-1].plain:
            lines.pop()  # a final newline ends the last line; it does not start another
        for line in lines:
            yield from fold_text(line, width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        for line in self._lines(width):
            line.no_wrap, line.overflow, line.end = True, "crop", ""
            yield from line.render(console, "")
            yield Segment.line()
