"""Where runs live on this machine, how they are named and found, and what each one was.

Why a module of its own: the writer, the verifier, the journal, the reports and both front ends
all need to turn "a run" into a directory - from a fresh id, from what an operator typed
(``latest``, a prefix of an id, a directory, a file) or from a listing - and must agree on the
rule. Here is the one rule:

* every run has a directory ``$XDG_STATE_HOME/hawizard/runs/<run_id>/`` (mode 0700; the state
  directory itself: hawizard/common/statedir.py) holding its audit log ``audit.jsonl`` (its
  format: hawizard/audit/chain.py), and its journal when it has one (hawizard/run/journal.py);
* a run id sorts by time: the UTC start plus six random hex digits, so that listing a directory
  lists runs oldest first;
* a run id is a plain name (letters, digits, ``.``, ``_``, ``-``), never a path: what an
  operator types can name a run, not another file.

Engine core: standard library only.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hawizard.common.errors import EnvironmentProblem, InputError
from hawizard.common.statedir import make_private_dir, state_dir

AUDIT_FILE = "audit.jsonl"
RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


# --- ids and directories ------------------------------------------------------------------------


def runs_dir() -> Path:
    return state_dir() / "runs"


def new_run_id(now: datetime | None = None) -> str:
    """A sortable run id: UTC timestamp + 6 random hex digits, e.g. ``20261124T202213Z-3fa9c1``."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _check_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id) or ".." in run_id:
        raise InputError(f"not a valid run id: {run_id!r} (letters, digits, '.', '_', '-')")
    return run_id


def run_dir(run_id: str, *, create: bool = False) -> Path:
    d = runs_dir() / _check_run_id(run_id)
    if create:
        try:
            make_private_dir(d)
        except OSError as exc:
            raise EnvironmentProblem(f"cannot create the run directory {d}: {exc.strerror or exc}") from None
    return d


# --- what each run was --------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    path: Path
    started: str | None
    finished: str | None
    status: str | None
    operator: str | None
    preset_name: str | None
    preset_sha256: str | None


def _first_and_last_line(path: Path, tail: int = 256 * 1024) -> tuple[str | None, str | None]:
    try:
        with open(path, "rb") as fh:
            first = fh.readline().decode("utf-8", "replace").rstrip("\n") or None
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - tail))
            chunk = fh.read().decode("utf-8", "replace").rstrip("\n")
    except OSError:
        return None, None
    last = chunk.rsplit("\n", 1)[-1] if chunk else None
    return first, last


def summarize_run(path: str | os.PathLike[str]) -> RunSummary:
    """What a run's first and last records say (its start, and its end if it has one); reads no more."""
    p = Path(path)
    first, last = _first_and_last_line(p)

    def parse(line: str | None) -> dict[str, Any]:
        try:
            rec = json.loads(line) if line else {}
        except ValueError:
            return {}
        return rec if isinstance(rec, dict) else {}

    a, b = parse(first), parse(last)
    ad = a.get("data") if isinstance(a.get("data"), dict) else {}
    bd = b.get("data") if isinstance(b.get("data"), dict) else {}
    finished = b.get("kind") == "run-finished"
    return RunSummary(
        run_id=str(ad.get("run_id") or p.parent.name),
        path=p,
        started=a.get("time"),
        finished=b.get("time") if finished else None,
        status=bd.get("status") if finished else ("running or interrupted" if a else None),
        operator=ad.get("operator"),
        preset_name=ad.get("preset_name"),
        preset_sha256=ad.get("preset_sha256"),
    )


def list_runs() -> list[RunSummary]:
    """Every run under ``runs_dir()``, oldest first (run ids sort by time)."""
    root = runs_dir()
    try:
        entries = sorted(root.iterdir(), key=lambda d: d.name)
    except OSError:
        return []
    return [summarize_run(d / AUDIT_FILE) for d in entries if (d / AUDIT_FILE).is_file()]


# --- from what an operator typed to a run -------------------------------------------------------


def resolve_run(ref: str | Path) -> Path:
    """The audit file for a run id, a unique run-id prefix, ``latest``, a run directory or a file."""
    text = str(ref)
    p = Path(text).expanduser()
    if p.is_file():
        return p
    if p.is_dir() and (p / AUDIT_FILE).is_file():
        return p / AUDIT_FILE
    root = runs_dir()
    looked = [str(p.resolve())]
    if text in ("latest", "last"):
        runs = list_runs()
        if runs:
            return runs[-1].path
        raise InputError(f"no runs yet: {root} holds none, so there is no latest run "
                         "(hawizard apply records each run there)")
    elif RUN_ID_RE.match(text) and ".." not in text:
        exact = root / text / AUDIT_FILE
        if exact.is_file():
            return exact
        looked.insert(0, str(exact))
        try:
            matches = sorted(d for d in root.iterdir() if d.name.startswith(text) and (d / AUDIT_FILE).is_file())
        except OSError:
            matches = []
        if len(matches) == 1:
            return matches[0] / AUDIT_FILE
        if len(matches) > 1:
            names = ", ".join(m.name for m in matches[:10])
            raise InputError(f"run {text!r} is ambiguous: it starts {len(matches)} run ids ({names})")
        looked.insert(1, f"run ids starting with {text!r} in {root}")
    known = list_runs()
    hint = (
        "; known runs: " + ", ".join(r.run_id for r in known[-5:])
        if known
        else f"; there are no runs in {root}"
    )
    raise InputError(f"no run {text!r}: looked for " + "; ".join(looked) + hint)
