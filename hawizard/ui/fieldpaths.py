"""Addressing one value of a design by its key path (``nodes[1].interconnects[0].address``).

The wizard's forms are built from the model's field metadata; this module finds the field
behind a path, reads and writes its value, and turns what the operator typed into a typed
value or a sentence saying why it cannot be one. The checks are the engine's own
(hawizard/design/fieldcheck.py and the field's min/max/choices); nothing here decides policy.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from hawizard.design.fieldcheck import check_secret_ref, check_value, fence_param_problems
from hawizard.design.model import LIST_ITEM_TYPES, STRING_LISTS, Design

_PART = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$")
_PARAM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class FieldInfo:
    """What a form needs to know about one leaf field."""

    path: str
    name: str
    type: str  # "str" | "int" | "bool" | "dict" | "list[str]"
    doc: str
    kind: str | None
    choices: tuple[str, ...] | None
    minimum: float | None
    maximum: float | None
    secret_ref: bool
    meta: Any = None  # the field's whole metadata (hawizard/design/model.py), for the checks that read more of it
    items: tuple[int, int] | None = None  # a list of strings: how many items it may hold (model.STRING_LISTS)


def _split(path: str) -> list[tuple[str, int | None]]:
    out = []
    for part in path.split("."):
        m = _PART.match(part)
        if not m:
            raise KeyError(path)
        out.append((m.group(1), int(m.group(2)) if m.group(2) is not None else None))
    return out


def _owner(design: Design, path: str) -> tuple[Any, str]:
    parts = _split(path)
    obj: Any = design
    for name, idx in parts[:-1]:
        obj = getattr(obj, name)
        if idx is not None:
            obj = obj[idx]
    name, idx = parts[-1]
    if idx is not None:
        raise KeyError(f"{path}: a leaf path ends in a field name")
    return obj, name


def field_info(design: Design, path: str) -> FieldInfo:
    obj, name = _owner(design, path)
    fld = next((f for f in dataclasses.fields(obj) if f.name == name), None)
    if fld is None:
        raise KeyError(path)
    type_text = fld.type if isinstance(fld.type, str) else getattr(fld.type, "__name__", str(fld.type))
    kind = "dict" if type_text.startswith("dict") else type_text
    meta = fld.metadata
    listed = STRING_LISTS.get((type(obj), name))
    return FieldInfo(path, name, kind, meta.get("doc", ""), listed[0] if listed else meta.get("kind"),
                     meta.get("choices"), meta.get("min"), meta.get("max"), bool(meta.get("secret_ref")), dict(meta),
                     listed[1:] if listed else None)


def get_value(design: Design, path: str) -> Any:
    obj, name = _owner(design, path)
    return getattr(obj, name)


def set_value(design: Design, path: str, value: Any) -> None:
    obj, name = _owner(design, path)
    setattr(obj, name, value)


def leaf_paths(design: Design) -> list[str]:
    """Every editable leaf of the design, in model order (the constant schema_version excluded)."""
    out: list[str] = []

    def walk(obj: Any, prefix: str) -> None:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            path = f"{prefix}{f.name}"
            if dataclasses.is_dataclass(value):
                walk(value, path + ".")
            elif (type(obj), f.name) in LIST_ITEM_TYPES:  # a list of tables; a list of strings is one field
                for i, item in enumerate(value):
                    walk(item, f"{path}[{i}].")
            elif path != "schema_version":
                out.append(path)
    walk(design, "")
    return out


# -- text <-> value --------------------------------------------------------------------------

def format_params(params: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())


def display_value(info: FieldInfo, value: Any) -> str:
    if info.type == "dict":
        return format_params(value or {})
    if info.items is not None:
        return " ".join(value or [])
    return "" if value is None else str(value)


def parse_input(info: FieldInfo, text: str) -> tuple[Any, str | None]:
    """The typed value of ``text`` for this field, or (None, why it is refused)."""
    if info.type == "int":
        try:
            value = int(text.strip())
        except ValueError:
            return None, "must be a whole number"
        lo, hi = info.minimum, info.maximum
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return None, f"must be between {lo:.15g} and {hi:.15g}"
        return value, None
    if info.type == "dict":
        params: dict[str, str] = {}
        for word in text.split():
            key, sep, val = word.partition("=")
            if not sep or not _PARAM.match(key):
                return None, f"'{word}' is not name=value (e.g. ip=10.0.0.9 username=admin)"
            params[key] = val
        # the engine's own checks of a fence_params table (names, password-like keys, values)
        problems = fence_param_problems(params)
        if problems:
            key, why = problems[0]
            return None, f"{key}: {why}"
        return params, None
    if info.items is not None:  # an array of strings, typed separated by spaces
        items = text.split()
        least, most = info.items
        if len(items) > most:
            return None, f"{len(items)} given; at most {most}, separated by spaces"
        if len(items) < least:
            return None, f"{len(items)} given; at least {least}, separated by spaces"
        for item in items:
            why = check_value(info.kind, item)
            if why:
                return None, f"'{item}' {why}"
        return items, None
    if info.choices is not None:
        if text not in info.choices:
            return None, f"must be one of: {', '.join(info.choices)}"
        return text, None
    if info.secret_ref:
        why = check_secret_ref(text, info.meta)
        return (None, f"the value {why}") if why else (text, None)
    why = check_value(info.kind, text)
    return (None, why) if why else (text, None)
