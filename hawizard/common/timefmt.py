"""Durations and ETAs as people read them: one definition of each, for every place that shows time.

Why: the console, the wizard and the run reports each wrote their own, and the copies had begun
to differ. There are two duration styles, on purpose, and they share how minutes and hours read
(``2 min 05 s``, ``1 h 02 min``):

* ``fmt_duration`` - a measured duration in a report: a command that took 0.42 s says so, so
  short ones keep two decimals below 10 s; anything that is not a number reads ``?``;
* ``fmt_elapsed`` - a clock that ticks on a screen while a step runs: whole seconds, ``<1 s`` at
  first, so the text does not flicker;
* ``fmt_eta`` - the time left, as a clock (``4:05``, ``1:02:03``), ``--:--`` while unknown.

Engine core: standard library only.
"""

from __future__ import annotations

from typing import Any


def _minutes(total_seconds: int) -> str:
    """``m min ss s`` below an hour, ``h h mm min`` from an hour on."""
    m, s = divmod(total_seconds, 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


def fmt_duration(seconds: Any) -> str:
    """``0.42 s``, ``42 s`` (below two minutes), ``2 min 05 s``, ``1 h 02 min``; ``?`` for a non-number."""
    if not isinstance(seconds, int | float):
        return "?"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return _minutes(int(round(seconds)))


def fmt_elapsed(seconds: float) -> str:
    """``<1 s``, ``42 s``, ``1 min 30 s``, ``1 h 02 min``: whole seconds."""
    if seconds < 1:
        return "<1 s"
    whole = int(round(seconds))
    return f"{whole} s" if whole < 60 else _minutes(whole)


def fmt_eta(seconds: float | None) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` from an hour on (seconds cut, not rounded); ``--:--`` unknown.

    A negative estimate (a progress source that overshot) reads ``0:00``.
    """
    if seconds is None:
        return "--:--"
    h, rest = divmod(max(0, int(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
