"""Pure pieces of the session layer: dry run, factory, known_hosts parsing, quoting, sudo wrap."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shlex
import subprocess

import pytest

from hawizard.common.errors import InputError
from hawizard.sessions import SshTarget, open_session
from hawizard.sessions.base import CommandResult, LineSplitter
from hawizard.sessions.dryrun import DryRunSession
from hawizard.sessions.hostkeys import (
    add_known_host,
    entries_for,
    fingerprint,
    read_known_hosts,
)
from hawizard.sessions.sudo import prompt_for, wrap


def test_dry_run_records_without_content_and_answers_probes():
    s = DryRunSession("srv1", probe_answer=lambda cmd: 1 if cmd.startswith("test -e") else None)
    assert s.run("test -e /etc/drbd.d/r0.res").exit_status == 1
    assert s.run("apt-get install -y drbd-utils", sudo=True).exit_status == 0
    secret = b"1 sha1 topsecret\n"
    w = s.write_file("/etc/ha.d/authkeys", secret, mode=0o600)
    assert w.changed and w.sha256 == hashlib.sha256(secret).hexdigest()
    assert s.read_file("/etc/hosts") is None
    kinds = [r.kind for r in s.recorded]
    assert kinds == ["run", "run", "write", "read"]
    rec = s.recorded[2]
    assert (rec.path, rec.mode, rec.owner, rec.size) == ("/etc/ha.d/authkeys", 0o600, "root", len(secret))
    assert "topsecret" not in repr(s.recorded) and "topsecret" not in rec.describe()
    assert s.recorded[1].sudo and s.recorded[1].describe().startswith("sudo ")


def test_dry_run_probe_may_return_a_full_result_and_streams_it():
    s = DryRunSession("n", probe_answer=lambda c: CommandResult(c, 0, "a\nb\n", "", 0.0))
    lines: list[tuple[str, str]] = []
    s.run("x", on_output=lambda st, line: lines.append((st, line)))
    assert lines == [("stdout", "a"), ("stdout", "b")]


def test_factory_kinds():
    t = SshTarget(name="srv1", host="192.0.2.1")
    with open_session(t, "dry-run") as s:
        assert isinstance(s, DryRunSession) and s.name == "srv1"
    with pytest.raises(InputError, match="unknown session kind"):
        open_session(t, "telnet")
    assert t.host_label == "192.0.2.1"
    assert SshTarget(name="a", host="h", port=2222).host_label == "[h]:2222"


def test_known_hosts_reader_matches_like_openssh(tmp_path):
    blob = os.urandom(51)
    b64 = base64.b64encode(blob).decode()
    salt = os.urandom(20)
    digest = hmac.new(salt, b"[10.0.0.5]:2222", hashlib.sha1).digest()
    hashed = f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"
    kh = tmp_path / "kh"
    kh.write_text(
        "# comment\n"
        f"[127.0.0.1]:2222 ssh-ed25519 {b64}\n"  # '[' is literal, not a glob class
        f"srv1,srv1.example.org ssh-ed25519 {b64}\n"
        f"{hashed} ssh-ed25519 {b64}\n"
        f"*.lab,!bad.lab ssh-ed25519 {b64}\n"
        f"@cert-authority *.ca ssh-ed25519 {b64}\n"
        "garbage line\n"
    )
    assert len(read_known_hosts(kh)) == 5
    assert [e.lineno for e in entries_for("[127.0.0.1]:2222", [kh])] == [2]
    assert [e.lineno for e in entries_for("1[127.0.0.1]:2222", [kh])] == []
    assert [e.lineno for e in entries_for("srv1.example.org", [kh])] == [3]
    assert [e.lineno for e in entries_for("[10.0.0.5]:2222", [kh])] == [4]
    assert [e.lineno for e in entries_for("n1.lab", [kh])] == [5]
    assert entries_for("bad.lab", [kh]) == [] and entries_for("x.ca", [kh]) == []
    assert entries_for("anything", [tmp_path / "missing"]) == []


def test_fingerprint_matches_ssh_keygen(tmp_path):
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    kind, b64 = key.with_suffix(".pub").read_text().split()[:2]
    out = subprocess.run(["ssh-keygen", "-l", "-f", str(key) + ".pub"], capture_output=True,
                         text=True, check=True).stdout
    assert fingerprint(base64.b64decode(b64)) == out.split()[1]
    kh = tmp_path / "state" / "known_hosts"
    add_known_host(kh, "[h]:22", kind, base64.b64decode(b64))
    add_known_host(kh, "h2", kind, base64.b64decode(b64))
    assert oct(kh.stat().st_mode & 0o777) == "0o600" and oct(kh.parent.stat().st_mode & 0o777) == "0o700"
    assert [e.hosts for e in read_known_hosts(kh)] == ["[h]:22", "h2"]
    # ssh-keygen agrees with what we wrote
    found = subprocess.run(["ssh-keygen", "-F", "[h]:22", "-f", str(kh)], capture_output=True, text=True)
    assert found.returncode == 0


def test_sudo_wrap_quotes_the_command_and_hides_nothing_secret():
    cmd = "echo 'it''s' \"$HOME\"; exit 3"
    line = wrap(cmd, "abc123", password_on_stdin=True)
    argv = shlex.split(line)
    assert argv[:3] == ["LC_ALL=C", "sudo", "-S"]
    assert argv[argv.index("-p") + 1] == prompt_for("abc123")
    assert argv[-3:-1] == ["bash", "-c"] and argv[-1].endswith(cmd)
    assert "-S" not in shlex.split(wrap(cmd, "n", password_on_stdin=False))


def test_line_splitter_keeps_text_and_calls_back_per_line():
    got: list[tuple[str, str]] = []
    sp = LineSplitter("stderr", lambda s, line: got.append((s, line)))
    for chunk in ("ab", "c\nde", "f\n\nlast"):
        sp.feed(chunk)
    assert sp.finish() == "abc\ndef\n\nlast"
    assert got == [("stderr", "abc"), ("stderr", "def"), ("stderr", ""), ("stderr", "last")]


def test_an_osc_title_is_removed_whole_from_pty_output():
    """ESC ] 0;title BEL (a shell setting the window title): neither the title nor the BEL stays."""
    from hawizard.sessions.frames import ANSI

    raw = "a\x1b]0;user@srv1: ~\x07b\x1b[1;31mred\x1b[0m\x1b]2;t\x1b\\c"
    assert ANSI.sub("", raw) == "abredc"
