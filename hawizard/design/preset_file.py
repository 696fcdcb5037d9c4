"""TOML presets: read with tomllib, written with tomli-w, checked against the model's table.

A preset is the whole design of one cluster. Loading refuses unknown keys (suggesting the
closest valid one), wrong types and values of the wrong form, each with its key path and,
where it can be found, the line in the file. Saving writes every key out, defaults included,
so that a saved preset says exactly what will be built.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import os
import re
import stat
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w

from hawizard.common.errors import InputError
from hawizard.design import stacks
from hawizard.design.fieldcheck import check_secret_ref, check_value, fence_param_problems
from hawizard.design.migrate import migrate
from hawizard.design.model import (
    LIST_ITEM_TYPES,
    NESTED_TYPES,
    SCHEMA_VERSION,
    STRING_LISTS,
    STRING_TABLES,
    Design,
)
from hawizard.design.problems import ERROR, Problem


class PresetError(InputError):
    """A preset that cannot be used; ``problems`` lists every reason found."""

    def __init__(self, filename: str, problems: list[Problem]):
        self.filename = filename
        self.problems = problems
        lines = [p.format(filename) for p in problems]
        super().__init__(f"{filename}: invalid preset\n  " + "\n  ".join(lines))


# -- reading ---------------------------------------------------------------------------

_TYPE_NAMES = {int: "an integer", str: "a string", bool: "true or false", float: "a number"}


def _type_of(cls: type, name: str) -> Any:
    hints = {f.name: f.type for f in dataclasses.fields(cls)}
    return hints[name]


def _scalar_type(annotation: Any) -> type | None:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return {"int": int, "str": str, "bool": bool, "float": float}.get(text)


class _Builder:
    """Turns a parsed TOML table into model objects, collecting problems instead of raising."""

    def __init__(self, source: PresetSource):
        self.problems: list[Problem] = []
        self._source = source

    def problem(self, path: str, message: str, code: str = "field") -> None:
        self.problems.append(Problem(ERROR, code, path, message, self._source.line_of(path)))

    def build(self, cls: type, data: Any, path: str) -> Any:
        if not isinstance(data, dict):
            self.problem(path, f"must be a table, not {type(data).__name__}", "type")
            return cls()
        obj = cls()
        known = [f.name for f in dataclasses.fields(cls)]
        for key, value in data.items():
            kpath = f"{path}.{_toml_key(key)}" if path else _toml_key(key)
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys here: {', '.join(known)}"
                self.problem(kpath, f"unknown key{hint}", "unknown-key")
                continue
            setattr(obj, key, self.value(cls, key, value, kpath))
        return obj

    def value(self, cls: type, key: str, value: Any, path: str) -> Any:
        fld = next(f for f in dataclasses.fields(cls) if f.name == key)
        default = getattr(cls(), key)
        if (cls, key) in NESTED_TYPES:
            return self.build(NESTED_TYPES[(cls, key)], value, path)
        if (cls, key) in LIST_ITEM_TYPES:
            if not isinstance(value, list):
                self.problem(path, "must be an array of tables", "type")
                return default
            item_cls = LIST_ITEM_TYPES[(cls, key)]
            return [self.build(item_cls, item, f"{path}[{i}]") for i, item in enumerate(value)]
        if (cls, key) in STRING_LISTS:
            kind, least, most = STRING_LISTS[(cls, key)]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.problem(path, "must be an array of strings", "type")
                return default
            if not least <= len(value) <= most:
                self.problem(path, f"has {len(value)} item(s); {least} to {most} are allowed", "range")
            for i, item in enumerate(value):
                msg = check_value(kind, item)
                if msg:
                    self.problem(f"{path}[{i}]", f"'{_shorten(item)}' {msg}", "form")
            return list(value)
        if (cls, key) in STRING_TABLES:
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                self.problem(path, "must be a table of strings", "type")
                return default
            for k, why in fence_param_problems(value):
                # the key is shown as TOML would quote it; the value is not echoed (it may hold a secret)
                self.problem(f"{path}.{_toml_key(k)}", why, "field")
            return dict(value)
        want = _scalar_type(_type_of(cls, key))
        if want is not None and not (type(value) is want or (want is float and type(value) is int)):
            self.problem(path, f"must be {_TYPE_NAMES.get(want, want.__name__)}, not {_toml_type(value)}",
                         "type")
            return default
        meta = fld.metadata
        if meta.get("choices") and value not in meta["choices"]:
            # every choice that starts with what was typed ('debian12' -> both Debian stacks), else the closest
            close = [c for c in meta["choices"] if str(value) and c.startswith(str(value))] or \
                difflib.get_close_matches(str(value), meta["choices"], n=1, cutoff=0.5)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            self.problem(path, f"'{value}' is not one of: {', '.join(meta['choices'])}{hint}", "choice")
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            lo, hi = meta.get("min"), meta.get("max")
            if lo is not None and value < lo or hi is not None and value > hi:
                self.problem(path, f"{value} is out of range ({lo} to {hi})", "range")
                return value
        if isinstance(value, str):
            if meta.get("secret_ref"):
                msg = check_secret_ref(value, meta)
                if msg:  # never echo what may be a secret typed in the wrong place
                    self.problem(path, f"the value {msg}", "form")
            else:
                msg = check_value(meta.get("kind"), value)
                if msg:
                    self.problem(path, f"'{_shorten(value)}' {msg}", "form")
        return value


def _toml_key(key: str) -> str:
    """A table key for a message: bare when TOML allows it, else a quoted string with every
    character that is not printable ASCII escaped (a key may hold control or bidi characters)."""
    if re.fullmatch(r"[A-Za-z0-9_-]+", key):
        return key
    return json.dumps(key, ensure_ascii=True)


def _shorten(value: str, n: int = 60) -> str:
    return value if len(value) <= n else value[: n - 1] + "…"


def _toml_type(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


_HEADER = re.compile(r"^\s*\[(\[)?\s*([A-Za-z0-9_.\-\s\"]+?)\s*\]?\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


def line_of(lines: list[str], path: str) -> int | None:
    """Best-effort line number of a key path such as ``nodes[1].ssh_port`` in TOML source."""
    if not lines or not path:
        return None
    parts = re.findall(r"([A-Za-z0-9_\-]+)(?:\[(\d+)\])?", path)
    if not parts:
        return None
    want_table = []
    for name, idx in parts[:-1]:
        want_table.append((name, int(idx) if idx else None))
    leaf, leaf_idx = parts[-1]
    counters: dict[str, int] = {}
    current: list[tuple[str, int | None]] = []
    found_table = not want_table
    table_line = None
    for no, raw in enumerate(lines, start=1):
        m = _HEADER.match(raw)
        if m and raw.strip().startswith("["):
            names = [p.strip() for p in m.group(2).split(".")]
            is_array = m.group(1) is not None
            key = ".".join(names)
            if is_array:
                counters[key] = counters.get(key, -1) + 1
            current = []
            for i, n in enumerate(names):
                sub = ".".join(names[: i + 1])
                current.append((n, counters.get(sub) if (is_array and i == len(names) - 1) or
                                sub in counters else None))
            found_table = _table_matches(current, want_table)
            if found_table:
                table_line = no
            # a table header may itself be the leaf (e.g. path "drbd")
            if _table_matches(current, want_table + [(leaf, int(leaf_idx) if leaf_idx else None)]):
                return no
            continue
        if found_table:
            k = _KEY.match(raw)
            if k and k.group(1) == leaf:
                return no
    return table_line


def _table_matches(current: list[tuple[str, int | None]], want: list[tuple[str, int | None]]) -> bool:
    if len(current) != len(want):
        return False
    for (cn, ci), (wn, wi) in zip(current, want, strict=True):
        if cn != wn:
            return False
        if wi is not None and ci != wi:
            return False
    return True


@dataclass(frozen=True)
class PresetSource:
    """Where a design was read from: the file as the operator named it, and its lines.

    Problems are found on the design, which knows nothing of files; where they are shown, the
    source places them (``place``) so that each says file:line. A design edited since it was
    read has no source any more (its lines no longer match).
    """

    filename: str
    lines: tuple[str, ...] = ()
    moved: tuple[tuple[str, str], ...] = ()  # key paths an older schema wrote elsewhere: (new, old)
    notes: tuple[str, ...] = ()  # what reading it did that the operator should know (an older schema)

    def line_of(self, path: str) -> int | None:
        for new, old in self.moved:  # the longest match first: moved is kept sorted so
            if path == new or path.startswith(new + ".") or path.startswith(new + "["):
                path = old + path[len(new):]
                break
        return line_of(list(self.lines), path)

    def place(self, problems: Iterable[Problem]) -> list[Problem]:
        """The problems, each with the line of its key in this file when it has none yet."""
        return [p if p.line or not p.path else dataclasses.replace(p, line=self.line_of(p.path)) for p in problems]


@dataclass(frozen=True)
class LoadedPreset:
    """A preset read from a file: the design, and the source its problems are placed in."""

    design: Design
    source: PresetSource


def parse_preset(text: str, filename: str = "<preset>") -> LoadedPreset:
    """Parse and check a preset's text; raise PresetError listing every field problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        where = f"{filename}:{m.group(1)}:{m.group(2)}" if m else filename
        plain = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        raise InputError(f"{where}: TOML syntax error: {plain}") from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise InputError(f"{filename}: arrays or tables nested too deeply to be a preset") from None
    except ValueError as exc:  # e.g. a date that does not exist; not a TOMLDecodeError
        raise InputError(f"{filename}: not a valid TOML preset: {exc}") from None
    migration = migrate(data)
    moved = tuple(sorted(migration.moved.items(), key=lambda kv: -len(kv[0])))
    source = PresetSource(filename, tuple(text.splitlines()), moved, tuple(migration.notes))
    builder = _Builder(source)
    for path, message in migration.problems:
        builder.problem(path, message, "type")
    version = data.get("schema_version")
    if version is None:
        builder.problem("schema_version", f"is missing; this hawizard reads schema_version = {SCHEMA_VERSION}",
                        "schema")
    elif version != SCHEMA_VERSION:
        builder.problem("schema_version", f"is {version!r}; this hawizard reads schema_version 1 to "
                        f"{SCHEMA_VERSION}", "schema")
    design = builder.build(Design, data, "")
    if builder.problems:
        raise PresetError(filename, builder.problems)
    resolve_defaults(design)
    return LoadedPreset(design, source)


def parse_preset_text(text: str, filename: str = "<preset>") -> Design:
    """The design of a preset's text (its source left out): see parse_preset."""
    return parse_preset(text, filename).design


def resolve_defaults(design: Design) -> Design:
    """Fill the values whose default depends on the stack (so a saved preset is explicit)."""
    info = stacks.get(design.stack)
    if not design.service.apache_config:
        design.service.apache_config = info.apache_config
    return design


# A whole design is a few KiB of TOML (the shipped presets are under 4 KiB); a larger file is the
# wrong file (a log, an image) and is refused before it is read.
MAX_PRESET_BYTES = 1024 * 1024


def load_preset(path: str | os.PathLike[str]) -> Design:
    """The design of a preset file or a shipped preset (see read_preset), without its source."""
    return read_preset(path).design


def read_preset(path: str | os.PathLike[str]) -> LoadedPreset:
    """Read a preset file, or a shipped preset by name ('article', 'debian12', 'el9')."""
    try:
        text = _read_preset_file(Path(path))
    except FileNotFoundError:
        if not Path(path).suffix and str(path) in shipped_presets():
            text = resources.files("hawizard.presets").joinpath(f"{path}.toml").read_text(encoding="utf-8")
            return parse_preset(text, f"presets/{path}.toml")
        names = ", ".join(shipped_presets())
        raise InputError(f"{path}: no such preset file (shipped presets: {names})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the preset: {exc.strerror or exc.__class__.__name__}") from None
    except ValueError as exc:  # an embedded NUL in the name
        raise InputError(f"{path}: cannot read the preset: {exc}") from None
    return parse_preset(text, str(path))


def _read_preset_file(p: Path) -> str:
    """The text of a preset file: a regular file, at most MAX_PRESET_BYTES, in UTF-8.

    The type is checked before the file is opened (opening a FIFO for reading waits for a writer,
    and a device may never end), opened without blocking, and checked again on the open file.
    Raises FileNotFoundError, InputError, or OSError/ValueError for the caller to report.
    """
    _check_preset_stat(p, os.stat(p))
    fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as fh:
        _check_preset_stat(p, os.fstat(fh.fileno()))
        data = fh.read(MAX_PRESET_BYTES + 1)
    if len(data) > MAX_PRESET_BYTES:
        raise InputError(f"{p}: larger than {MAX_PRESET_BYTES // 1024} KiB; a preset is a few KiB of TOML")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not UTF-8 text (byte {exc.start}); a preset is a TOML file") from None


def _check_preset_stat(p: Path, st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{p}: is a directory, not a preset file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{p}: not a regular file (a FIFO, socket or device); a preset is a TOML file")
    if st.st_size > MAX_PRESET_BYTES:
        raise InputError(f"{p}: larger than {MAX_PRESET_BYTES // 1024} KiB; a preset is a few KiB of TOML")


def shipped_presets() -> list[str]:
    """Names of the presets that ship with hawizard."""
    folder = resources.files("hawizard.presets")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


# -- writing ---------------------------------------------------------------------------

def design_to_dict(design: Design) -> dict[str, Any]:
    """The fully resolved preset as a plain dict (defaults written out), key order as the model."""
    def convert(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj):
            return {f.name: convert(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        if isinstance(obj, list):
            return [convert(x) for x in obj]
        if isinstance(obj, dict):
            return {k: convert(v) for k, v in obj.items()}
        return obj
    return convert(design)


def dump_preset(design: Design) -> str:
    """TOML text of the fully resolved preset."""
    head = ("# hawizard preset: the whole design of one two-node cluster.\n"
            "# Reference of every key: docs/presets.md. Secrets never go here: only references\n"
            "# (env:NAME or file:/path); what an empty reference means is said per key there.\n")
    return head + tomli_w.dumps(design_to_dict(design))


def save_preset(design: Design, path: str | os.PathLike[str]) -> Path:
    """Write the preset atomically (temp file + rename), keeping a backup of a replaced file."""
    from hawizard.common.localfiles import atomic_write

    return atomic_write(Path(path), dump_preset(design).encode(), mode=0o644, backup=True)


def design_from_dict(data: dict[str, Any], filename: str = "<dict>") -> Design:
    """Build a design from a dict shaped like a preset (used by the wizard and the lab)."""
    return parse_preset_text(tomli_w.dumps(data), filename)


def preset_sha256(design: Design) -> str:
    return hashlib.sha256(dump_preset(design).encode()).hexdigest()

