"""Commands over every transport against a real sshd: exit codes, streams, timeouts, loss."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest

from hawizard.sessions import ConnectionLost, SessionError, open_session

pytestmark = pytest.mark.sshd

LINE = "0123456789abcdef"  # 17 bytes with its newline


@pytest.mark.parametrize("code", [0, 1, 42])
def test_exit_status_is_the_commands(any_session, code):
    res = any_session.run(f"echo out; echo err >&2; exit {code}")
    assert res.exit_status == code
    assert not res.timed_out
    assert "out" in res.stdout
    both = res.stdout + res.stderr  # the pty merges stderr into stdout
    assert "err" in both
    if any_session.kind == "paramiko":
        assert (res.stdout, res.stderr) == ("out\n", "err\n")


def test_output_without_trailing_newline_and_blank_lines(any_session):
    assert any_session.run("printf no-newline").stdout == "no-newline"
    assert any_session.run("printf 'a\\n\\nb\\n\\n'").stdout == "a\n\nb\n\n"
    assert any_session.run("true").stdout == ""


def test_large_output_on_both_streams_at_once(any_session):
    """> 4 MiB on stdout and on stderr, written concurrently: no deadlock, nothing lost."""
    n = 260_000  # 260000 * 17 bytes = 4.4 MB > 4 MiB per stream
    t0 = time.monotonic()
    res = any_session.run(
        f"yes {LINE} | head -n {n} & yes ERR-{LINE} | head -n {n} >&2; wait", timeout=60
    )
    assert res.exit_status == 0, res.stderr[-300:]
    assert time.monotonic() - t0 < 30
    if any_session.kind == "paramiko":
        assert len(res.stdout) == n * 17 > 4 * 2**20
        assert len(res.stderr) == n * 21
        assert set(res.stdout.splitlines()) == {LINE}
        assert set(res.stderr.splitlines()) == {f"ERR-{LINE}"}
    else:
        # One pty stream: both contents arrive, but two concurrent writers interleave at
        # their write boundaries (not at lines), so count bytes and the letters only ERR has.
        assert len(res.stdout) == n * 17 + n * 21 > 8 * 2**20
        assert res.stdout.count("E") == n and res.stdout.count("R") == 2 * n


def test_streaming_callback_gets_lines_in_order_while_running(any_session):
    seen: list[tuple[float, str, str]] = []
    t0 = time.monotonic()
    res = any_session.run(
        "for i in 1 2 3 4 5; do echo line$i; sleep 0.15; done; echo oops >&2",
        on_output=lambda stream, line: seen.append((time.monotonic() - t0, stream, line)),
    )
    assert res.exit_status == 0
    out = [line for _, stream, line in seen if stream == "stdout" and line.startswith("line")]
    assert out == [f"line{i}" for i in range(1, 6)]
    assert ("stderr" if any_session.kind == "paramiko" else "stdout", "oops") in [
        (s, x) for _, s, x in seen
    ]
    first = next(t for t, _, line in seen if line == "line1")
    assert first < res.duration - 0.3, "line1 must arrive while the command still runs"


def test_timeout_interrupts_and_the_session_stays_usable(any_session):
    tag = f"{os.getpid() % 1000}.{time.monotonic_ns() % 10**6}"
    t0 = time.monotonic()
    res = any_session.run(f"sleep 3{tag}", timeout=1)
    assert res.timed_out and res.exit_status == 124
    assert time.monotonic() - t0 < 6
    after = any_session.run("echo still-here")
    assert (after.exit_status, after.stdout) == (0, "still-here\n")
    # the timed-out command itself was stopped on the node
    left = any_session.run(  # like `ps -eo args`, without needing procps on the node
        "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done"
        f" | grep -c '^sleep 3{tag} $'"
    )
    assert left.stdout.strip() == "0"


def test_cancel_from_another_thread(any_session):
    threading.Timer(0.5, any_session.cancel).start()
    t0 = time.monotonic()
    res = any_session.run("sleep 30", timeout=20)
    assert res.exit_status in (130, -1) and not res.timed_out
    assert time.monotonic() - t0 < 6
    assert any_session.run("echo ok").stdout == "ok\n"


def test_stdin_bytes_reach_the_command(any_session):
    data = bytes(range(256)) * 400 + b"no newline at the end"
    res = any_session.run("sha256sum", stdin=data)
    assert res.stdout.split()[0] == hashlib.sha256(data).hexdigest()


def test_a_command_reading_stdin_gets_eof_not_the_terminal(any_session):
    res = any_session.run("cat; echo done", timeout=10)
    assert (res.exit_status, res.timed_out, res.stdout) == (0, False, "done\n")


def test_exit_and_set_e_do_not_end_the_session(any_session):
    assert any_session.run("set -e; false; echo never").exit_status == 1
    assert any_session.run("exit 3").exit_status == 3
    assert any_session.run("echo alive").stdout == "alive\n"


def test_pty_quirks_are_invisible(any_session):
    """Colours, long lines (> 4096 bytes, the tty line limit), quotes and comments."""
    if any_session.kind != "paramiko":
        assert any_session.run("printf '\\033[31mred\\033[0m\\n'").stdout == "red\n"
    long_arg = "x" * 6000
    assert any_session.run(f"echo {long_arg} | wc -c").stdout.strip() == "6001"
    assert any_session.run("echo 'a \"b\" $HOME' # trailing comment").stdout.startswith("a \"b\"")
    res = any_session.run("echo $TERM; locale 2>/dev/null | grep -c . >/dev/null; echo ok")
    assert res.stdout.splitlines()[-1] == "ok"


def test_connection_killed_mid_command_is_connection_lost(fresh_sshd, target_for, request):
    for kind in ("ssh", "paramiko"):
        s = open_session(target_for(fresh_sshd), kind)
        request.addfinalizer(s.close)
        assert s.run("echo up").exit_status == 0
        threading.Timer(0.7, fresh_sshd.kill_sessions).start()
        t0 = time.monotonic()
        with pytest.raises(ConnectionLost) as info:
            s.run("echo started; sleep 20", timeout=15)
        assert time.monotonic() - t0 < 8, kind
        assert info.value.exit_status == -1
        assert info.value.result is not None and info.value.result.exit_status == -1
        assert "started" in info.value.result.stdout
        assert "lost" in str(info.value) and "srv1" in str(info.value)
        with pytest.raises(SessionError):
            s.run("echo again")


@pytest.mark.parametrize("kind", ["ssh", "paramiko"])
def test_through_a_jump_host(sshd, target_for, kind):
    """The jump host here is the same sshd: the node is reached through a forwarded channel."""
    from dataclasses import replace

    def logins() -> int:
        return sshd.log_path.read_text().count("Accepted publickey")

    jump = target_for(sshd)
    node = replace(target_for(sshd), jump=jump)
    before = logins()
    with open_session(node, kind) as s:
        res = s.run("echo via-jump")
        assert res.exit_status == 0 and res.stdout == "via-jump\n"
        assert logins() - before == 2  # one login to the jump host, one to the node


@pytest.mark.parametrize("kind", ["ssh", "paramiko"])
def test_unreachable_node_is_a_clear_environment_error(sshd, target_for, kind):
    from dataclasses import replace

    from support.sshd import free_port

    from hawizard.sessions import ConnectFailed

    t = replace(target_for(sshd), port=free_port())  # nothing listens there
    with pytest.raises(ConnectFailed) as info:
        open_session(t, kind)
    assert info.value.exit_code == 3
    assert "srv1" in str(info.value) and "refused" in str(info.value).lower()
