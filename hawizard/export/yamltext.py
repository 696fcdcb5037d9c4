"""A small YAML writer for the Ansible export: fixed keys, quoted scalars, ``!unsafe`` values.

Why not PyYAML: it is not a dependency of hawizard, and the export needs two things a generic
dumper does not give: a comment line before each play (the step's title and why), and the tag
``!unsafe`` on every value that comes from the design, so that Ansible never evaluates a preset
value as a Jinja expression (Ansible docs, "Unsafe or raw strings"). Every scalar is written
double-quoted with all but printable ASCII escaped (YAML 1.2, 5.7 escaped characters), so no
value can end its line, open a mapping or change a tag.
"""

from __future__ import annotations

import re

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")


class Unsafe(str):
    """A value from the design: written as ``!unsafe "..."``, never templated by Ansible."""


class Expr(str):
    """A Jinja expression of the exporter's own (fixed text and variable names only)."""


def scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    out = []
    for c in text:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif " " <= c <= "~":
            out.append(c)
        elif ord(c) <= 0xFFFF:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    quoted = '"' + "".join(out) + '"'
    return f"!unsafe {quoted}" if isinstance(value, Unsafe) else quoted


def emit(value: object, indent: int = 0) -> list[str]:
    """Lines of ``value`` (dicts with str keys, lists, scalars) at ``indent`` spaces."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        lines = []
        for k, v in value.items():
            key = k if _PLAIN_KEY.match(k) else scalar(str(k))  # a host name from the design: quoted
            if isinstance(v, dict | list) and v:
                lines.append(f"{pad}{key}:")
                lines += emit(v, indent + 2)
            else:
                lines.append(f"{pad}{key}: {_inline(v)}")
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        lines = []
        for item in value:
            sub = emit(item, indent + 2)
            lines.append(pad + "- " + sub[0][indent + 2:])
            lines += sub[1:]
        return lines
    return [pad + scalar(value)]


def _inline(v: object) -> str:
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    return scalar(v)
