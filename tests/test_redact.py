"""Redaction: registered secrets in all their encodings, and the pattern rules."""

from __future__ import annotations

import base64
import os
import textwrap

import pytest

from hawizard.common.redact import REDACTED, Redactor, redact_patterns

PK = "PRIVATE" + " KEY"  # a fake key header, assembled so no file in the repo looks like a real key

SUDO = "Tr0ub4dor&3 x'y"
AUTHKEYS = "K8fz3QpL0s9VxYw2"
DRBD = "drbd-Sh4red-S3cret"
COROSYNC = bytes(range(256))[::-1][:128]


@pytest.fixture
def red():
    r = Redactor([SUDO, AUTHKEYS, DRBD])
    r.add_secret(COROSYNC)
    return r


def test_plain_and_shell_quoted(red):
    text = f"echo {SUDO} | sudo -S true; printf %s 'Tr0ub4dor&3 x'\"'\"'y'"
    out = red.redact_text(text)
    assert SUDO not in out and "Tr0ub4dor" not in out
    assert out.count(REDACTED) >= 2


def test_base64_any_alignment_and_wrapped(red):
    for prefix in (b"", b"a", b"ab", b"auth 1\n1 sha1 "):
        blob = base64.b64encode(prefix + AUTHKEYS.encode() + b"\nmore bytes after it\n").decode()
        wrapped = "\n".join(textwrap.wrap(blob, 7))  # wrapped very short on purpose
        for text in (blob, wrapped):
            out = red.redact_text(f"base64 -d > /tmp/x <<'EOF'\n{text}\nEOF")
            assert REDACTED in out, (prefix, text)
            # nothing left that decodes to the secret
            rest = out.replace(REDACTED, "\n")
            for chunk in rest.split("\n"):
                for k in range(4):
                    try:
                        dec = base64.b64decode(chunk[k:] + "===", validate=False)
                    except ValueError:
                        continue
                    assert AUTHKEYS.encode() not in dec


def test_bytes_secret_hex_and_base64(red):
    hexdump = "\n".join(textwrap.wrap(COROSYNC.hex(), 60))  # xxd -p layout
    for text in (COROSYNC.hex(), COROSYNC.hex().upper(), base64.b64encode(COROSYNC).decode(), hexdump):
        out = red.redact_text(f"key: {text}")
        assert COROSYNC.hex() not in out.replace("\n", "").lower()
        assert REDACTED in out


def test_nested_structures_and_keys(red):
    data = {"cmd": [f"x {DRBD}", ("t", {"deep": AUTHKEYS})], DRBD: 1, "n": 5, "none": None}
    out = red.redact(data)
    flat = repr(out)
    assert DRBD not in flat and AUTHKEYS not in flat
    assert out["n"] == 5 and out["none"] is None and isinstance(out["cmd"][1], tuple)


def test_short_secrets_do_not_eat_hashes():
    r = Redactor(["abc"])
    sha = "616263" + "0" * 58
    assert r.redact_text(sha) == sha  # hex of a short secret is not matched
    assert r.redact_text("xabcx") == f"x{REDACTED}x"


@pytest.mark.parametrize(
    "text,secret",
    [
        ("auth 1\n1 sha1 HI-there-123\n", "HI-there-123"),
        ("auth 2\n2 md5 Hello!\n", "Hello!"),
        ("#3 md5 Hello again!", "Hello again!"),
        ('net {\n  cram-hmac-alg sha1;\n  shared-secret "FooFunFactory";\n}', "FooFunFactory"),
        ("shared-secret FooFun;", "FooFun"),
        ("password=hunter2 next", "hunter2"),
        ("db_password: 'p w'", "p w"),
        ("passwd = \"quoted pass\"", "quoted pass"),
        ("crm configure primitive st stonith:fence_ipmilan params passwd=ipmi-pass", "ipmi-pass"),
        ("--password=abc123 --x", "abc123"),
        (f"-----BEGIN OPENSSH {PK}-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH {PK}-----", "b3BlbnNzaC1rZXk"),
    ],
)
def test_pattern_rules(text, secret):
    out = redact_patterns(text)
    assert secret not in out and REDACTED in out
    assert Redactor().redact_text(text) == out


def test_patterns_leave_ordinary_config_alone():
    for text in ("auth 1\n1 crc\n", "token: 5000", "secauth: on", "crypto_hash: sha256", "sudo_password_source = ask"):
        assert redact_patterns(text) == text
    assert redact_patterns(redact_patterns("password=x")) == f"password={REDACTED}"


def test_thread_safe_registration_and_contains():
    r = Redactor()
    assert not r.has_secrets and r.redact_text("abc") == "abc"
    secret = os.urandom(8).hex()
    r.add_secret(secret)
    r.add_secret("")
    r.add_secret(None)
    assert r.contains_secret(f"a{secret}b") and not r.contains_secret("nothing")
    assert secret in r.secret_forms()


@pytest.mark.parametrize(
    "text",
    ["a-" * 200_000, "1 sha1 x" + " " * 100_000 + "y", "password" + " " * 100_000, f"-----BEGIN RSA {PK}-----\n" * 20_000],
    ids=["hyphen-words", "authkeys-blanks", "password-blanks", "pem-no-end"],
)
def test_no_pathological_backtracking(text):
    import time

    r = Redactor([SUDO, AUTHKEYS, COROSYNC])
    start = time.perf_counter()
    r.redact_text(text)
    assert time.perf_counter() - start < 3.0


def test_a_secret_split_by_terminal_controls_is_caught_as_it_would_be_shown():
    """Everything shown is cleaned of escape sequences first (hawizard/common/terminal_text.py): a secret with
    a colour code or a BEL in the middle is whole again on the screen, so it must be redacted too."""
    from hawizard.audit.report.view import shown as _r
    from hawizard.common.terminal_text import clean
    from hawizard.events import OutputLine
    from hawizard.run.console import ConsoleSink

    r = Redactor(["hunter2-secret"])
    for raw in ("pw: hunter2\x1b[0m-secret", "pw: hun\x07ter2-secret", "pw: \x1b]0;x\x07hunter2-se\u202ecret",
                "password=abc\x1b[1mdef"):
        out = r.redact_text(raw)
        shown = clean(out)
        assert "hunter2-secret" not in shown and "abcdef" not in shown, (raw, out)
        assert REDACTED in shown
    # text without controls is untouched by the check
    assert r.redact_text("plain text\twith tab") == "plain text\twith tab"
    # the console shows it cleaned and redacted; the export's pattern pass does the same for what it shows
    import io

    buf = io.StringIO()
    ConsoleSink(buf, tty=False, verbose=True, redactor=r).handle(
        OutputLine("s", "srv1", "stdout", "pw: hun\x1b[31mter2-secret"))
    assert "hunter2-secret" not in buf.getvalue() and "\x1b" not in buf.getvalue()
    assert "abcdef" not in _r("password=abc\x1b[1mdef")
