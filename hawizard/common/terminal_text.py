"""Text from the nodes made safe to show on a terminal or put in a report.

Why: command output is whatever a node's programs print. With a pty (the paramiko transport,
``-v``) it holds colour codes, window-title (OSC) strings, clear-screen and cursor moves; with
plain ssh a stray BEL or a ``\\r`` progress bar. Echoed raw, a node can retitle or clear the
operator's terminal, hide lines it printed before, or make a Markdown report lie; bidirectional
override characters reorder what a line seems to say ("Trojan Source", CVE-2021-42574). Every
place that shows or exports node text (hawizard/run/console.py, hawizard/audit/report/view.py, the wizard)
passes it through ``clean`` here, so that they all agree on what is removed.

What is removed (ECMA-48, 5th edition, sections 5.3-5.7 and 8.3; the C1 set per ISO/IEC 6429):

* control strings: OSC (``ESC ]``), DCS (``ESC P``), SOS (``ESC X``), PM (``ESC ^``), APC
  (``ESC _``) up to their terminator (BEL or ST), or to the end of the text when unterminated;
* control sequences: CSI (``ESC [`` or the 8-bit ``U+009B``) with parameters and final byte;
* other escape sequences (``ESC`` + intermediates + final byte, e.g. ``ESC c``, ``ESC ( B``);
* the remaining C0 controls (all but TAB, and LF when ``keep_newlines``), DEL and C1 controls;
* Unicode bidirectional embedding, override and isolate controls (U+202A-U+202E,
  U+2066-U+2069) and the Arabic letter mark U+061C (Unicode Standard Annex #9).

Removal, not escaping: what is left is the text a person would have read on a plain terminal.
The audit log keeps the raw text (JSON-escaped); only what is shown is cleaned.
Engine core: standard library only.
"""

from __future__ import annotations

import re

_C1_STRING_START = "\x90\x98\x9d\x9e\x9f"  # DCS SOS OSC PM APC as single 8-bit controls
_BIDI = "\u061c\u202a-\u202e\u2066-\u2069"

_SEQUENCES = re.compile(
    # control strings: ESC ] / ESC P / ESC X / ESC ^ / ESC _ (or their C1 forms) ... BEL | ST | end
    r"(?:\x1b[\]PX^_]|[" + _C1_STRING_START + r"])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c|(?=\x1b)|\Z)"
    # CSI: parameter bytes 0x30-0x3F, intermediate bytes 0x20-0x2F, final byte 0x40-0x7E
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    # any other escape sequence: ESC, intermediates, a final byte (or a lone ESC)
    r"|\x1b[ -/]*[0-~]?"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f" + _BIDI + "]")
_CONTROLS_NO_LF = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "]")
_ANY = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f" + _BIDI + "]")


def has_controls(text: str) -> bool:
    """True if ``clean`` would change ``text`` (a fast test before doing the work)."""
    return bool(_ANY.search(text))


def clean(text: str, *, keep_newlines: bool = False, tab_size: int | None = None) -> str:
    """``text`` without escape sequences, control characters or bidi controls (see the module doc).

    ``keep_newlines`` keeps LF (for multi-line text such as a report's output block); otherwise
    a LF becomes a space. CR is always removed. ``tab_size`` expands tabs to that many columns;
    by default tabs stay.
    """
    if not isinstance(text, str) or not text:
        return text
    if not _ANY.search(text) and (tab_size is None or "\t" not in text):
        return text
    text = _SEQUENCES.sub("", text)
    if not keep_newlines:
        text = text.replace("\n", " ")
    text = (_CONTROLS_NO_LF if keep_newlines else _CONTROLS).sub("", text)
    if tab_size is not None:
        text = text.expandtabs(tab_size)
    return text
