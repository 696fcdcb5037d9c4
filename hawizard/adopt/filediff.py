"""Every file hawizard would write for a design, compared with the collected copy: unified diffs.

Why here: the collected directory is adoption's input too (collected.py reads its layouts). A
file that holds a secret is compared with the secret masked on both sides: each rendered line
with a secret slot becomes a pattern that matches the collected line whatever its secret; a
collected line that does not match still has the text after the secret's anchor (``password=``,
``shared-secret``, ``1 sha1``) redacted before it is shown. A file that is one secret and nothing
else (the corosync authkey) is checked for presence only. No secret is ever printed.
Pure apart from reading the collected files.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from hawizard.adopt.collected import Collected
from hawizard.render.renderer import SECRET_RE, RenderedFile, Rendering

REDACTED = "«redacted»"
# one shell, crm or DRBD word: quoted and unquoted pieces with no blank or ";" between ('a'"'"'b' is one word)
_VALUE = r'(?:"(?:[^"\\]|\\.)*"|\'[^\']*\'|[^\s\'";]+)+'


# Where a secret stands in the files hawizard writes, whatever the design: redacted on every collected
# line shown, even where the rendering has no secret (a hand-made file may have one hawizard does not):
# authkeys(5) "N method [secret]" (commented out or not); drbd.conf(5) shared-secret; a fence agent's password/passwd parameter
# (crm and pcs lines, fence-agents metadata); corosync.conf never holds one (the key is a file).
_FIXED = (re.compile(r"^(\s*#?\s*\d+\s+\S+\s+)(\S.*)$"),  # a commented-out key is a key too
          re.compile(r"(shared-secret\s+)" + _VALUE),
          re.compile(r"(\b[A-Za-z_]*passw(?:or)?d\s*=\s*)" + _VALUE, re.IGNORECASE))


def redact(line: str, authkeys: bool = False) -> str:
    """A line with every secret it may hold replaced by «redacted»."""
    for i, rx in enumerate(_FIXED):
        if i == 0 and not authkeys:
            continue
        line = rx.sub(lambda m: m.group(1) + REDACTED, line)
    return line


@dataclass(frozen=True)
class FileDiff:
    node: str  # the node's name, or "" for a single collected copy
    path: str
    state: str  # same | differs | missing | secret-present | secret-missing
    diff: str = ""  # a unified diff (collected -> hawizard), secrets masked


def _shown(f: RenderedFile, rendering: Rendering) -> list[str]:
    return f.preview(rendering.secrets).splitlines(keepends=True)


def _masked(collected: str, f: RenderedFile, rendering: Rendering) -> list[str]:
    """The collected lines, each secret-bearing one replaced by hawizard's shown line when it matches
    the rendered line's shape, else with the text after each secret anchor redacted."""
    shown = f.preview(rendering.secrets).splitlines()
    raw = f.content.splitlines()
    shapes, anchors = [], set()
    for r_line, s_line in zip(raw, shown, strict=True):
        if not SECRET_RE.search(r_line):
            continue
        parts = SECRET_RE.split(r_line)
        literal = parts[::3]  # split() with two groups: text, name, quoting, text, ...
        shapes.append((re.compile("^" + ".+?".join(re.escape(x) for x in literal) + "$"), s_line))
        for m in SECRET_RE.finditer(r_line):
            before = r_line[:m.start()]
            anchor = re.search(r"(\S+[=\s]\s*|\S+\s+)$", before)
            if anchor:
                anchors.add(anchor.group(1))
    out = []
    for line in collected.splitlines(keepends=True):
        body = line.rstrip("\n")
        for rx, s_line in shapes:
            if rx.match(body):
                body = s_line
                break
        else:
            for a in anchors:
                body = re.sub(re.escape(a) + _VALUE, lambda m, a=a: a + REDACTED, body)
            body = redact(body, authkeys=f.path.endswith("/authkeys"))
        out.append(body + ("\n" if line.endswith("\n") else ""))
    return out


def compare(rendering: Rendering, col: Collected, written: dict[str, set[str]] | None = None) -> list[FileDiff]:
    """Each rendered file against its collected copy, per node. ``written``: {file id: nodes} where the plan
    writes the file (hawizard.plan); a file is compared only there (the cluster configuration is rendered
    for both nodes but written on the primary only: "missing" on the other would be untrue)."""
    per_node = col.node_dirs != (col.root,)
    out: list[FileDiff] = []
    for f in rendering.files:
        nodes = f.nodes if per_node else f.nodes[:1]
        if per_node and written is not None and f.id in written:
            nodes = tuple(n for n in nodes if n in written[f.id])
        for node in nodes:
            base = col.root / node if per_node else col.root
            p = base / f.path.lstrip("/")
            label = node if per_node else ""
            out.append(_one(f, rendering, col, p, label))
    return out


def _one(f: RenderedFile, rendering: Rendering, col: Collected, p: Path, node: str) -> FileDiff:
    where = f"{node + ':' if node else ''}{f.path}"
    exists = p.is_file()
    if f.whole_secret:
        return FileDiff(node, f.path, "secret-present" if exists else "secret-missing")
    theirs = _masked(col.read(p), f, rendering) if exists else []  # every line shown goes through redact()
    ours = _shown(f, rendering)
    if exists and theirs == ours:
        return FileDiff(node, f.path, "same")
    diff = "".join(difflib.unified_diff(theirs, ours, f"{where} (collected)" if exists else "/dev/null",
                                        f"{where} (hawizard)"))
    return FileDiff(node, f.path, "differs" if exists else "missing", diff)
