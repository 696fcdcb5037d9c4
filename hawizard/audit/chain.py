"""The audit log's format and its proof: canonical records, the hash chain, the head, verification.

Why: an audit trail must show when someone edited it afterwards. The writer (hawizard/audit/log.py)
and every reader (``hawizard audit verify``, the reports) must agree, to the byte, on what a
record is and how it is hashed; this module is that agreement, and the check built on it.

* One line per record: ``{"seq": n, "time", "kind", "data", "prev", "hash"}`` in canonical JSON
  (sorted keys, no spaces, UTF-8). ``prev`` is the SHA-256 of record ``n-1``'s line and ``hash``
  the SHA-256 of ``prev`` followed by the canonical JSON of record ``n`` without ``hash``.
  Editing, removing, inserting or reordering lines breaks the chain at a known ``seq``
  (``verify_chain``).
* ``audit.head`` beside the log holds the last seq and hash (one fixed-size line, rewritten in
  place), so that records cut from the *end* of the file show too (a chain alone cannot tell a
  truncated log from a short one). The head is required: a log of more than one record without
  it does not verify.
* ``verify_run`` adds what a run's log must look like: it starts with ``run-started`` and, unless
  the run is still going, ends with ``run-finished`` - so cutting records from the end *and*
  deleting the head still shows. ``hawizard audit verify RUN`` runs it (hawizard/cli/audit.py).

What the chain does not do: it is not a signature. Someone who can write the file can rewrite
the whole chain; it detects careless or partial tampering and storage corruption. For more,
copy the head hash somewhere the operator does not control.

Engine core: standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hawizard.audit import lock as runlock

HEAD_FILE = "audit.head"
GENESIS = "0" * 64
RECORD_KEYS = ("seq", "time", "kind", "data", "prev", "hash")
JOURNAL_FILE = "journal.json"  # hawizard/run/journal.py JOURNAL, read here as plain JSON: audit sits below run


# --- canonical form and hashing -----------------------------------------------------------------


def canonical_json(obj: Any) -> str:
    """The one serialisation that is hashed and written: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def line_hash(line: str) -> str:
    """The SHA-256 of one written line (without its end of line): the next record's ``prev``."""
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def record_hash(prev: str, record_without_hash: dict[str, Any]) -> str:
    return line_hash(prev + canonical_json(record_without_hash))


def head_line(seq: int, digest: str) -> bytes:
    """``hawizard-audit-head 000000000042 <sha256 of record 42's line>\n``: always 97 bytes."""
    return f"hawizard-audit-head {seq:012d} {digest}\n".encode("ascii")


# --- reading ------------------------------------------------------------------------------------


def raw_lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8", errors="surrogateescape", newline="\n") as fh:
        for line in fh:
            yield line[:-1] if line.endswith("\n") else line


def read_records(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """All records that parse, plus a list of problems (unparsable lines). Never raises on content."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        for n, line in enumerate(raw_lines(Path(path)), 1):
            if not line.strip():
                problems.append(f"line {n} is empty")
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                problems.append(f"line {n} is not valid JSON")
                continue
            if not isinstance(rec, dict):
                problems.append(f"line {n} is not a record")
                continue
            records.append(rec)
    except OSError as exc:
        problems.append(f"cannot read {path}: {exc.strerror or exc}")
    return records, problems


def read_head(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    try:
        text = Path(path).with_name(HEAD_FILE).read_text(encoding="ascii")
    except (OSError, ValueError):
        return None
    m = re.fullmatch(r"hawizard-audit-head (\d{12}) ([0-9a-f]{64})\n", text)
    return {"seq": int(m.group(1)), "hash": m.group(2)} if m else None


# --- verifying ----------------------------------------------------------------------------------


def verify_chain(path: str | os.PathLike[str], *, use_head: bool = True) -> tuple[bool, int | None, str]:
    """Check the whole chain. Returns ``(ok, first_bad_seq, message)``.

    ``first_bad_seq`` is the sequence number at which the log stops being trustworthy: the
    edited record, the position of a removed or moved record, or, when records were cut from
    the end (seen through ``audit.head``), the first missing one.

    An empty log does not verify (every log the sink writes starts with a record), and neither
    does a log of two or more records without its ``audit.head``: the sink writes the head with
    every record, so a missing head means records may have been cut from the end unseen. (A
    head may lag its log by one record - the process died between the two writes - so a log of
    one record without a head is a run that died at once, not a damaged log.)
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        return False, None, f"no audit log at {p}"
    except OSError as exc:
        return False, None, f"cannot read {p}: {exc.strerror or exc}"
    if not data:
        return False, 1, "the log is empty: a run's log starts with its run-started record"
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    else:
        n = len(lines)
        return False, n, f"record {n} is incomplete (no end of line): the file was truncated or is being written"
    prev = GENESIS
    for n, raw in enumerate(lines, 1):
        try:
            line = raw.decode("utf-8")
            rec = json.loads(line)
        except (UnicodeDecodeError, ValueError):
            return False, n, f"record {n} is not valid JSON: the line was edited or damaged"
        if not isinstance(rec, dict) or set(rec) != set(RECORD_KEYS):
            return False, n, f"record {n} does not have the fields {', '.join(RECORD_KEYS)}"
        if rec.get("seq") != n:
            return False, n, (
                f"line {n} holds record {rec.get('seq')!r}, expected {n}: "
                "a record was removed, inserted or moved here"
            )
        if rec.get("prev") != prev:
            return False, n, f"record {n} does not follow record {n - 1}: a record before it was changed, removed or inserted"
        claimed = rec.pop("hash")
        if not isinstance(claimed, str) or record_hash(prev, rec) != claimed:
            return False, n, f"record {n} was modified after it was written (hash mismatch)"
        rec["hash"] = claimed
        try:
            canonical = canonical_json(rec)
        except ValueError:
            canonical = None
        if canonical != line:
            return False, n, f"record {n} is not in its written form: the line was edited"
        prev = line_hash(line)
    count = len(lines)
    if use_head:
        head = read_head(p)
        if head is None:
            if p.with_name(HEAD_FILE).exists():
                return False, None, f"{count} records chain correctly, but {HEAD_FILE} is unreadable"
            if count > 1:
                return False, None, (
                    f"{count} records chain correctly, but {HEAD_FILE} is missing: the log cannot show "
                    "whether records were cut from its end (the head is written with every record)"
                )
            head = {"seq": 0, "hash": GENESIS}
        hseq = head["seq"]
        if hseq > count:
            return False, count + 1, (
                f"the log ends at record {count} but {HEAD_FILE} says {hseq} were written: "
                f"records {count + 1}-{hseq} were removed from the end"
            )
        # the head may lag by one record if the process died between the two writes
        if hseq >= 1 and line_hash(lines[hseq - 1].decode("utf-8")) != head["hash"]:
            return False, hseq, f"record {hseq} does not match {HEAD_FILE}: the end of the log was rewritten"
        if hseq < count - 1:
            return False, hseq + 1, f"{HEAD_FILE} says {hseq} records, the log has {count}: records were appended by something else"
    return True, None, f"chain intact: {count} records"


def _journal_status(run_directory: Path) -> str | None:
    try:
        data = json.loads((run_directory / JOURNAL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, str) else None


def verify_run(path: str | os.PathLike[str]) -> tuple[bool, int | None, str]:
    """``verify_chain`` and what a run's log must be: it starts with run-started and, unless the
    run is still going, ends with run-finished. Returns ``(ok, first_bad_seq, message)``.

    "Still going" is what the run's journal says ("running": a live run, or one whose process
    died and can be resumed); a run without a journal (a dry run) is still going while a live
    process holds its lock (hawizard/audit/lock.py). A log that ends early and whose run says it
    ended was cut short - even when its head was cut with it.
    """
    p = Path(path)
    ok, bad, message = verify_chain(p)
    if not ok:
        return ok, bad, message
    try:
        lines = p.read_bytes().rstrip(b"\n").split(b"\n")
        first_rec, last_rec = json.loads(lines[0]), json.loads(lines[-1])
    except (OSError, ValueError):  # verify_chain read them; only a concurrent change gets here
        return False, None, "the log changed while it was being verified"
    if first_rec.get("kind") != "run-started":
        return False, 1, (f"record 1 is {first_rec.get('kind')!r}, not 'run-started': the start of the log is "
                          "missing, or this is not the log of a run")
    count = last_rec.get("seq")
    if last_rec.get("kind") != "run-finished":
        status = _journal_status(p.parent)
        if status == "running":
            return True, None, f"{message}; the run has not finished (its journal says running)"
        if status is None:
            holder = runlock.holder_of_run(p.parent.name)
            if holder is not None:
                return True, None, f"{message}; the run is still going ({runlock.describe_holder(holder)})"
        said = f"its journal says {status}" if status else "it has no journal and no live process"
        return False, (count + 1) if isinstance(count, int) else None, (
            f"the log ends with record {count} ({last_rec.get('kind')!r}), not with 'run-finished', although "
            f"the run is not running ({said}): records were cut from the end"
        )
    return True, None, message
