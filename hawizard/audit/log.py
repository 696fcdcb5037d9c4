"""The per-run audit log: append-only JSON lines, secrets redacted, each record hash-chained.

Why: the design card says runs are "exported for audit". An audit trail must say who ran what
where and with which result, must not leak the secrets it saw, and must show when someone
edited it afterwards. So:

* one file per run, ``$XDG_STATE_HOME/hawizard/runs/<run_id>/audit.jsonl``; the directories are
  0700 and the file is created 0600 from its first byte (``O_CREAT|O_EXCL``), then only ever
  appended to (``O_APPEND``, one ``write`` per record);
* every event goes through the run's ``Redactor`` before it is serialised;
* record ``n`` is ``{"seq": n, "time", "kind", "data", "prev", "hash"}`` where ``prev`` is the
  SHA-256 of record ``n-1``'s line (its canonical JSON) and ``hash`` is the SHA-256 of ``prev``
  followed by the canonical JSON of record ``n`` without ``hash``. Editing, removing, inserting
  or reordering lines breaks the chain at a known ``seq`` (``verify_chain``);
* a small ``audit.head`` beside the log holds the last seq and hash (one fixed-size line,
  rewritten in place), so that records cut from the *end* of the file show too (a chain alone
  cannot tell a truncated log from a short one). The head is required: a log of more than one
  record without it does not verify;
* ``verify_run`` adds what a run's log must look like: it starts with ``run-started`` and, unless
  the run is still going, ends with ``run-finished`` - so cutting records from the end *and*
  deleting the head still shows. ``hawizard audit verify RUN`` runs it (hawizard/cli/audit.py).

What the chain does not do: it is not a signature. Someone who can write the file can rewrite
the whole chain; it detects careless or partial tampering and storage corruption. For more,
copy the head hash somewhere the operator does not control.

Command output is batched per (step, node) into one ``output`` record - flushed when the
command finishes, the step ends, the batch grows large or old, or the sink closes - which keeps
the file small without losing a line (a process killed mid-command loses at most the unflushed
batch of that command).

Engine core: standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hawizard.common.errors import EnvironmentProblem, InputError, OperationFailed
from hawizard.common.redact import Redactor
from hawizard.common.statedir import make_private_dir, state_dir
from hawizard.events import (
    CommandFinished,
    Event,
    OutputLine,
    RunFinished,
    StepFinished,
    utc_now,
)

AUDIT_FILE = "audit.jsonl"
HEAD_FILE = "audit.head"
GENESIS = "0" * 64
RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
RECORD_KEYS = ("seq", "time", "kind", "data", "prev", "hash")


# --- where runs live (the state directory itself: hawizard/common/statedir.py) -----------------------


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


# --- canonical form and hashing -----------------------------------------------------------------


def canonical_json(obj: Any) -> str:
    """The one serialisation that is hashed and written: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_hash(prev: str, record_without_hash: dict[str, Any]) -> str:
    return _sha256(prev + canonical_json(record_without_hash))


def _json_safe(value: Any) -> Any:
    """Only JSON values: NaN/inf become None, unknown objects (a Path...) their str().

    A careless field type must never stop the log - the audit sink is critical to the run.
    """
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return str(value)


# --- the sink -----------------------------------------------------------------------------------


class AuditSink:
    """An ``events.Sink`` that appends each event to the run's audit log.

    Create with ``AuditSink.for_run(run_id, redactor)`` (or ``AuditSink(path, ...)`` for an
    explicit file); continue a resumed run's log with ``AuditSink.resume(path, redactor)``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        redactor: Redactor | None = None,
        batch_output: bool = True,
        max_batch_lines: int = 500,
        max_batch_bytes: int = 256 * 1024,
        max_batch_age: float = 5.0,
        fsync: bool = False,
        _resume: bool = False,
    ) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(HEAD_FILE)
        self.redactor = redactor if redactor is not None else Redactor()
        self.batch_output = batch_output
        self.max_batch_lines = max_batch_lines
        self.max_batch_bytes = max_batch_bytes
        self.max_batch_age = max_batch_age
        self.fsync = fsync
        self._lock = threading.RLock()
        self._batches: dict[tuple[str, str], _Batch] = {}
        self.seq = 0
        self.last_hash = GENESIS  # sha256 of the last line written
        self._fd: int | None = None
        self._head_fd: int | None = None
        if _resume:
            self._open_existing()
        else:
            self._create()

    @classmethod
    def for_run(cls, run_id: str, *, redactor: Redactor | None = None, **kwargs: Any) -> AuditSink:
        return cls(run_dir(run_id, create=True) / AUDIT_FILE, redactor=redactor, **kwargs)

    @classmethod
    def resume(cls, path: str | os.PathLike[str], *, redactor: Redactor | None = None, **kwargs: Any) -> AuditSink:
        """Append to an existing log after checking its chain (a broken log is not continued)."""
        return cls(path, redactor=redactor, _resume=True, **kwargs)

    # -- opening ---------------------------------------------------------------------------------

    def _create(self) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        try:
            self._fd = os.open(self.path, flags, 0o600)
        except FileExistsError:
            raise InputError(f"the audit log {self.path} already exists; use resume to continue it") from None
        except OSError as exc:
            raise EnvironmentProblem(f"cannot create the audit log {self.path}: {exc.strerror or exc}") from None
        os.fchmod(self._fd, 0o600)  # the umask can only narrow the mode; make it exact anyway

    def _open_existing(self) -> None:
        ok, bad, message = verify_chain(self.path)
        if not ok:
            raise OperationFailed(f"will not continue the audit log {self.path}: {message}")
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise EnvironmentProblem(f"cannot open the audit log {self.path}: {exc.strerror or exc}") from None
        os.fchmod(self._fd, 0o600)
        for line in _raw_lines(self.path):
            rec = json.loads(line)
            self.seq = rec["seq"]
            self.last_hash = _sha256(line)
        self.write_record("audit-resumed", {"pid": os.getpid()})

    # -- writing ---------------------------------------------------------------------------------

    def write_record(
        self, kind: str, data: dict[str, Any], time_: str | None = None, *, _redacted: bool = False
    ) -> dict[str, Any]:
        """Redact ``data``, chain and append one record. Returns the record as written."""
        with self._lock:
            if self._fd is None:
                raise OperationFailed(f"the audit log {self.path} is closed")
            rec: dict[str, Any] = {
                "seq": self.seq + 1,
                "time": time_ or utc_now(),
                "kind": kind,
                "data": _json_safe(data if _redacted else self.redactor.redact(data)),
                "prev": self.last_hash,
            }
            rec["hash"] = record_hash(self.last_hash, rec)
            line = canonical_json(rec)
            payload = (line + "\n").encode("utf-8")
            try:
                view = memoryview(payload)
                while view:
                    n = os.write(self._fd, view)
                    view = view[n:]
                if self.fsync:
                    os.fsync(self._fd)
            except OSError as exc:
                raise EnvironmentProblem(f"cannot write the audit log {self.path}: {exc.strerror or exc}") from None
            self.seq += 1
            self.last_hash = _sha256(line)
            self._write_head()
            return rec

    def _write_head(self) -> None:
        """Rewrite the fixed-size head line in place (one small pwrite: cheap, and never torn
        across a page). A rename per record would cost more than the record itself."""
        try:
            if self._head_fd is None:
                flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
                self._head_fd = os.open(self.head_path, flags, 0o600)
                os.fchmod(self._head_fd, 0o600)
            os.pwrite(self._head_fd, _head_line(self.seq, self.last_hash), 0)
        except OSError as exc:
            # verification needs the head (records cut from the end show only through it): a run
            # that cannot keep it cannot be recorded, like one that cannot append to its log
            raise EnvironmentProblem(f"cannot write {self.head_path}: {exc.strerror or exc}") from None

    def handle(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, OutputLine) and self.batch_output:
                key = (event.step_id, event.node)
                batch = self._batches.setdefault(key, _Batch())
                batch.add(event)
                if batch.lines >= self.max_batch_lines or batch.size >= self.max_batch_bytes:
                    self._flush_key(key)
                self._flush_old()
                return
            if isinstance(event, OutputLine):
                self._write_output(event.step_id, event.node, [[event.time, event.stream, event.text]])
                return
            # the output of a command comes before its end, a step's before the step's end
            if isinstance(event, RunFinished):
                self.flush()
            else:
                node = getattr(event, "node", None)
                step = getattr(event, "step_id", None)
                if isinstance(event, CommandFinished | StepFinished) or (step, node) in self._batches:
                    self._flush_key((step, node))
            self._flush_old()
            data = event.to_dict()
            data.pop("kind", None)
            t = data.pop("time", None)
            self.write_record(event.kind, data, t)
            if isinstance(event, RunFinished) and self._fd is not None:
                try:
                    os.fsync(self._fd)
                except OSError:
                    pass

    def _write_output(self, step_id: str, node: str, lines: list[list[str]]) -> None:
        lines = self._redact_lines(lines)
        data = {"step_id": self.redactor.redact(step_id), "node": self.redactor.redact(node), "lines": lines}
        self.write_record("output", data, lines[0][0], _redacted=True)

    def _redact_lines(self, lines: list[list[str]]) -> list[list[str]]:
        """Redact runs of same-stream lines as one text, so a secret wrapped over lines is caught."""
        out: list[list[str]] = []
        i = 0
        while i < len(lines):
            j = i
            while j < len(lines) and lines[j][1] == lines[i][1]:
                j += 1
            run = lines[i:j]
            joined = "\n".join(t for _, _, t in run)
            red = self.redactor.redact_text(joined)
            if red == joined:
                out.extend([list(x) for x in run])
            else:
                texts = red.split("\n")
                if len(texts) == len(run):
                    out.extend([[run[k][0], run[k][1], texts[k]] for k in range(len(run))])
                else:  # a match spanned lines: keep the text, the first line's time
                    out.extend([[run[0][0], run[0][1], t] for t in texts])
            i = j
        return out

    def _flush_key(self, key: tuple[Any, Any]) -> None:
        batch = self._batches.pop(key, None)
        if batch and batch.items:
            self._write_output(key[0], key[1], batch.items)

    def _flush_old(self) -> None:
        if not self._batches:
            return
        now = time.monotonic()
        for key in [k for k, b in self._batches.items() if now - b.started >= self.max_batch_age]:
            self._flush_key(key)

    def flush(self) -> None:
        with self._lock:
            for key in list(self._batches):
                self._flush_key(key)

    def close(self) -> None:
        with self._lock:
            if self._fd is None:
                return
            self.flush()
            try:
                os.fsync(self._fd)
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None
            if self._head_fd is not None:
                os.close(self._head_fd)
                self._head_fd = None

    def __enter__(self) -> AuditSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Batch:
    __slots__ = ("items", "size", "started")

    def __init__(self) -> None:
        self.items: list[list[str]] = []
        self.size = 0
        self.started = time.monotonic()

    @property
    def lines(self) -> int:
        return len(self.items)

    def add(self, ev: OutputLine) -> None:
        self.items.append([ev.time, ev.stream, ev.text])
        self.size += len(ev.text) + 8


# --- reading and verifying ----------------------------------------------------------------------


def _raw_lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8", errors="surrogateescape", newline="\n") as fh:
        for line in fh:
            yield line[:-1] if line.endswith("\n") else line


def read_records(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """All records that parse, plus a list of problems (unparsable lines). Never raises on content."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        for n, line in enumerate(_raw_lines(Path(path)), 1):
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


def _head_line(seq: int, digest: str) -> bytes:
    """``hawizard-audit-head 000000000042 <sha256 of record 42's line>\n``: always 97 bytes."""
    return f"hawizard-audit-head {seq:012d} {digest}\n".encode("ascii")


def read_head(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    try:
        text = Path(path).with_name(HEAD_FILE).read_text(encoding="ascii")
    except (OSError, ValueError):
        return None
    m = re.fullmatch(r"hawizard-audit-head (\d{12}) ([0-9a-f]{64})\n", text)
    return {"seq": int(m.group(1)), "hash": m.group(2)} if m else None


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
        prev = _sha256(line)
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
        if hseq >= 1 and _sha256(lines[hseq - 1].decode("utf-8")) != head["hash"]:
            return False, hseq, f"record {hseq} does not match {HEAD_FILE}: the end of the log was rewritten"
        if hseq < count - 1:
            return False, hseq + 1, f"{HEAD_FILE} says {hseq} records, the log has {count}: records were appended by something else"
    return True, None, f"chain intact: {count} records"


JOURNAL_FILE = "journal.json"  # hawizard/run/journal.py JOURNAL (read here as plain JSON: no import cycle)


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
            from hawizard.audit import lock as runlock

            holder = runlock.holder_of_run(p.parent.name)
            if holder is not None:
                return True, None, f"{message}; the run is still going ({runlock.describe_holder(holder)})"
        said = f"its journal says {status}" if status else "it has no journal and no live process"
        return False, (count + 1) if isinstance(count, int) else None, (
            f"the log ends with record {count} ({last_rec.get('kind')!r}), not with 'run-finished', although "
            f"the run is not running ({said}): records were cut from the end"
        )
    return True, None, message


# --- listing runs -------------------------------------------------------------------------------


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
