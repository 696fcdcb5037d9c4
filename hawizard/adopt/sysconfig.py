"""Shell-variable files: sbd's settings (/etc/default/sbd, /etc/sysconfig/sbd), CentOS ifcfg files.

``NAME=value`` lines, the value unquoted once (single or double quotes); comments and blank
lines skipped. Nothing is evaluated. Pure: text in, data out.
"""

from __future__ import annotations

import re
import shlex


def parse(text: str) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)", line)
        if not m:
            continue
        try:
            words = shlex.split(m.group(2), comments=True)
        except ValueError:
            words = [m.group(2)]
        out[m.group(1)] = (" ".join(words), no)
    return out
