"""The report as JSON lines: the audit log itself, for machines, re-checked by the redaction patterns.

Why its own module, and why it does not read the report model: this export is evidence, so it is
the records as written, not a summary of them. Each record is re-checked by the redaction
patterns (a second line of defence). Node text keeps its raw form, JSON-escaped: JSON already
escapes C0 controls (ESC is ``\\u001b``), and the characters it would leave raw but a terminal
obeys (DEL, C1 controls, bidi controls) are written as ``\\uXXXX`` escapes too - the same JSON
value - so that printing the export cannot retitle or clear a terminal.

Engine core: standard library only.
"""

from __future__ import annotations

import json
import re

from hawizard.audit.chain import canonical_json
from hawizard.audit.report.model import RunReport
from hawizard.common.errors import InputError
from hawizard.common.redact import Redactor, redact_patterns

_pattern_redactor = Redactor(patterns=True)
_RAW_IN_JSON = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]")


def _escape_controls(line: str) -> str:
    """Controls JSON leaves raw (DEL, C1, bidi) as ``\\uXXXX``: inside a JSON string that is the same
    value; in a line that is not JSON (a damaged log) it keeps the terminal safe all the same."""
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


def render_jsonl(report: RunReport) -> str:
    """The audit records as they are, each re-checked by the redaction patterns.

    A record the patterns change is re-serialised (its hash no longer matches, which is the
    point: something was scrubbed); untouched records are byte-identical to the log, except that
    a character JSON leaves raw but a terminal obeys (DEL, C1 controls, bidi controls) is
    written as its ``\\uXXXX`` escape - the same JSON value, so the record still parses to what
    was hashed.
    """
    out: list[str] = []
    try:
        with open(report.path, encoding="utf-8", errors="replace", newline="\n") as fh:
            for line in fh:
                line = line.rstrip("\n")
                if not line:
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    out.append(_escape_controls(redact_patterns(line)))
                    continue
                red = _pattern_redactor.redact(rec)
                out.append(_escape_controls(line if red == rec else canonical_json(red)))
    except OSError as exc:
        raise InputError(f"cannot read {report.path}: {exc.strerror or exc}") from None
    return "\n".join(out) + ("\n" if out else "")
