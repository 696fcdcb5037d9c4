"""Durations as Pacemaker writes them, into whole seconds (``20s``, ``20``, ``1min``, ``90000ms``, ``PT20S``).

Pacemaker Explained, "Specifying a duration": a number with an optional unit (ms, s, m/min, h), or
an ISO 8601 duration. None for a text that is none of these. Pure.
"""

from __future__ import annotations

import re

_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "ms": 0.001, "msec": 0.001, "m": 60.0, "min": 60.0, "h": 3600.0,
          "hr": 3600.0}


def seconds(text: str) -> int | None:
    t = text.strip().lower()
    m = re.fullmatch(r"(\d+)\s*([a-z]*)", t)
    if m and m.group(2) in _UNITS:
        return int(round(int(m.group(1)) * _UNITS[m.group(2)]))
    m = re.fullmatch(r"pt(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", t)
    if m and any(m.groups()):
        h, mi, s = (int(g or 0) for g in m.groups())
        return h * 3600 + mi * 60 + s
    return None
