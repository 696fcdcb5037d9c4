"""The writer of a run's audit log: an event sink that redacts, batches, chains and appends.

Why: the design card says runs are "exported for audit". An audit trail must say who ran what
where and with which result, must not leak the secrets it saw, and must show when someone
edited it afterwards. This sink is the only code that writes one; the format it writes and the
check that reads it back are hawizard/audit/chain.py, the place it writes to hawizard/audit/runs.py.

* one file per run, ``<run dir>/audit.jsonl``; the directories are 0700 and the file is created
  0600 from its first byte (``O_CREAT|O_EXCL``), then only ever appended to (``O_APPEND``, one
  ``write`` per record);
* every event goes through the run's ``Redactor`` before it is serialised;
* after each record the head file beside the log is rewritten in place (so that records cut
  from the end show: hawizard/audit/chain.py);
* a resumed run's log is continued only after its chain verifies.

Command output is batched per (step, node) into one ``output`` record - flushed when the
command finishes, the step ends, the batch grows large or old, or the sink closes - which keeps
the file small without losing a line (a process killed mid-command loses at most the unflushed
batch of that command).

Engine core: standard library only.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from hawizard.audit.chain import (
    GENESIS,
    HEAD_FILE,
    canonical_json,
    head_line,
    line_hash,
    raw_lines,
    record_hash,
    verify_chain,
)
from hawizard.audit.runs import AUDIT_FILE, run_dir
from hawizard.common.errors import EnvironmentProblem, InputError, OperationFailed
from hawizard.common.redact import Redactor
from hawizard.events import (
    CommandFinished,
    Event,
    OutputLine,
    RunFinished,
    StepFinished,
    utc_now,
)


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
        for line in raw_lines(self.path):
            rec = json.loads(line)
            self.seq = rec["seq"]
            self.last_hash = line_hash(line)
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
            self.last_hash = line_hash(line)
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
            os.pwrite(self._head_fd, head_line(self.seq, self.last_hash), 0)
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
