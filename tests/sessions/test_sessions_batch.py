"""Batches of commands (``NodeSession.run_batch``) over every transport: one round trip, same results.

The runner sends the consecutive commands of a step in one batch (issue 15: ``hawizard apply``
within 5 % of the exported plain script). A batch must give each command exactly what ``run``
gives it alone (exit status, output, streamed lines, its own timeout), stop at the first failure
so that no command runs after one that failed, and tell its listener when each command starts
and ends, in the order one by one would. The pty shell (ssh, local) sends the whole batch in one
write; paramiko keeps one channel per command (the default of the interface).
"""

from __future__ import annotations

import threading
import time

import pytest

from hawizard.common.shellquote import q
from hawizard.sessions.base import BatchCommand
from hawizard.sessions.frames import FrameReader, batch_frame

COMMANDS = [
    "echo one; echo 'to stderr' >&2",
    "printf 'no newline'",
    "printf 'a\\n\\nb\\n'",
    "exit 0",
    "set -e; false; echo never",
    "echo after the failure",
]


def _events(session, commands, timeout=30.0):
    seen: list[tuple] = []
    batch = [BatchCommand(c, timeout=timeout, on_output=lambda stream, line, k=k: seen.append(("out", k, line)))
             for k, c in enumerate(commands)]
    results = session.run_batch(batch, on_start=lambda k: seen.append(("start", k)),
                                on_finish=lambda k, r: seen.append(("end", k, r.exit_status)))
    return results, seen


def _one_by_one(session, commands):
    seen: list[tuple] = []
    results = []
    for k, c in enumerate(commands):
        seen.append(("start", k))
        r = session.run(c, timeout=30, on_output=lambda stream, line, k=k: seen.append(("out", k, line)))
        seen.append(("end", k, r.exit_status))
        results.append(r)
        if not r.ok:
            break
    return results, seen


def test_a_batch_gives_what_one_by_one_gives_and_stops_at_the_first_failure(any_session):
    results, seen = _events(any_session, COMMANDS)
    expected, expected_seen = _one_by_one(any_session, COMMANDS)
    assert [(r.command, r.exit_status, r.stdout, r.stderr, r.timed_out) for r in results] == \
        [(r.command, r.exit_status, r.stdout, r.stderr, r.timed_out) for r in expected]
    assert len(results) == 5 and results[-1].exit_status == 1  # "set -e; false" ended it
    assert seen == expected_seen  # starts, streamed lines and ends in the same order


def test_nothing_runs_after_the_failure(any_session, tmp_path):
    mark = tmp_path / "ran"
    results, _ = _events(any_session, ["true", "exit 7", f"touch {q(str(mark))}"])
    assert [r.exit_status for r in results] == [0, 7]
    time.sleep(0.3)
    assert not mark.exists()
    assert any_session.run("echo usable").stdout.strip() == "usable"


def test_each_command_keeps_its_own_timeout_and_the_rest_does_not_run(any_session, tmp_path):
    mark = tmp_path / "ran"
    t0 = time.monotonic()
    results, seen = _events(any_session, ["echo quick", "sleep 20", f"touch {q(str(mark))}"], timeout=2.0)
    assert time.monotonic() - t0 < 15
    assert [r.exit_status for r in results] == [0, 124] and results[1].timed_out
    assert ("end", 1, 124) in seen and ("start", 2) not in seen
    time.sleep(0.3)
    assert not mark.exists()
    assert any_session.run("echo usable").stdout.strip() == "usable"


def test_cancel_stops_the_running_command_and_the_rest(any_session, tmp_path):
    mark = tmp_path / "ran"
    threading.Timer(1.0, any_session.cancel).start()
    t0 = time.monotonic()
    results, _ = _events(any_session, ["true", "sleep 30", f"touch {q(str(mark))}"])
    assert time.monotonic() - t0 < 15
    assert [r.exit_status for r in results] == [0, 130]
    assert not mark.exists()
    assert any_session.run("echo usable").stdout.strip() == "usable"


def test_the_pty_shell_sends_a_batch_in_one_round_trip(tmp_path):
    """The reason for batches: one write to the shell (and one prompt back) for the whole batch."""
    from hawizard.sessions import SshTarget, open_session

    session = open_session(SshTarget(name="here", host="localhost"), "local")
    sent: list[str] = []
    real_send = session._send

    def counting_send(text: str) -> None:
        sent.append(text)
        real_send(text)
    session._send = counting_send
    try:
        results, _ = _events(session, [f"echo {i}" for i in range(10)])
    finally:
        session.close()
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(10)]
    assert len(sent) == 1


def test_a_failing_listener_stops_the_batch_and_leaves_the_shell_usable(tmp_path):
    """The runner's sinks are the listener; a critical one that fails must not leave the batch running."""
    from hawizard.sessions import SshTarget, open_session

    session = open_session(SshTarget(name="here", host="localhost"), "local")
    mark = tmp_path / "ran"

    class Boom(Exception):
        pass

    def finish(k, result):
        if k == 0:
            raise Boom()
    try:
        with pytest.raises(Boom):
            session.run_batch([BatchCommand("true", 10), BatchCommand("sleep 5", 10),
                               BatchCommand(f"touch {q(str(mark))}", 10)], on_finish=finish)
        assert session.run("echo usable", timeout=30).stdout.strip() == "usable"
        time.sleep(0.3)
        assert not mark.exists()
    finally:
        session.close()


def test_batch_text_never_holds_its_own_markers():
    """The shell may echo what it is sent: no echo may look like a start or end marker."""
    text = batch_frame([("0123456789ab", "true"), ("ba9876543210", "false")])
    for m in ("0123456789ab", "ba9876543210"):
        assert f"__HWS_{m}__" not in text and f"__HWE_{m}_" not in text


def test_a_frame_reader_leaves_the_next_frame_for_the_next_reader():
    stream = "__HWS_aaaaaaaaaaaa__\none\n\n__HWE_aaaaaaaaaaaa_0__\n__HWS_bbbbbbbbbbbb__\ntwo\n\n__HWE_bbbbbbbbbbbb_3__\n"
    first, second = FrameReader("aaaaaaaaaaaa", None, None), FrameReader("bbbbbbbbbbbb", None, None)
    rest = first.feed(stream)
    assert first.done and first.exit_status == 0 and first.lines == ["one", ""]
    second.feed(rest)
    assert second.done and second.exit_status == 3 and second.lines == ["two", ""]


def test_a_command_that_does_not_parse_fails_alone_as_it_always_did(any_session, tmp_path):
    """A batch that bash cannot parse is sent one by one: the broken command is the one that fails
    (here: the shell never starts it, so it times out, as it does when sent alone), not the first."""
    mark = tmp_path / "ran"
    commands = ["echo fine", "echo 'broken ( ; )", f"touch {q(str(mark))}"]
    results, seen = _events(any_session, commands, timeout=3.0)
    assert [r.exit_status for r in results][0] == 0 and results[0].stdout == "fine\n"
    assert len(results) == 2 and not results[1].ok
    assert ("start", 2) not in seen and not mark.exists()
    assert any_session.run("echo usable", timeout=30).stdout.strip() == "usable"


@pytest.fixture(params=["ssh", "local"])
def pty_session(request, tmp_path_factory):
    """The pty shell (the transports that batch), over the test sshd and locally."""
    from hawizard.sessions import SshTarget, open_session

    if request.param == "local":
        s = open_session(SshTarget(name="here", host="localhost"), "local")
    else:
        from support.targets import make_target

        srv = request.getfixturevalue("sshd")
        s = open_session(make_target(srv, tmp_path_factory.mktemp("kh")), "ssh")
    yield s
    s.close()


def test_the_shell_reads_without_line_editing_and_takes_long_lines_whole(pty_session):
    """pty.py: the session's bash reads without readline (about 8 us a byte of command text with it,
    1 us without) on a non-canonical terminal, so a line longer than the tty's 4096-byte canonical
    limit still arrives whole; a command that puts the terminal back to canonical mode does not
    change how the next command is read."""
    options = pty_session.run("set -o | grep -E '^(emacs|vi) '").stdout.split()
    assert options == ["emacs", "off", "vi", "off"]
    word = "x" * 10000
    r = pty_session.run(f"printf %s {word} | wc -c; echo after")
    assert r.stdout.split() == ["10000", "after"]
    assert pty_session.run("stty icanon echo </dev/tty").exit_status == 0  # stdin is /dev/null: the tty by name
    r = pty_session.run(f"printf %s {word} | wc -c; echo after")
    assert r.stdout.split() == ["10000", "after"]
    batch = pty_session.run_batch([BatchCommand("stty icanon echo </dev/tty", 30), BatchCommand("true", 30)])
    assert [x.exit_status for x in batch] == [0, 0]
    r = pty_session.run(f"printf %s {word} | wc -c; echo after")
    assert r.stdout.split() == ["10000", "after"]


@pytest.mark.parametrize("kind", ["ssh", "paramiko"])
def test_a_connection_lost_in_a_batch_names_the_command_under_way(fresh_sshd, target_for, kind, tmp_path):
    """The link dies during the second command: ConnectionLost carries that command's partial result,
    the listener heard its start but not its end (the runner records it as exit -1), the third never ran."""
    from hawizard.sessions import ConnectionLost, SessionError, open_session

    mark = tmp_path / "ran"
    s = open_session(target_for(fresh_sshd), kind)
    try:
        assert s.run("echo up").exit_status == 0
        seen: list[tuple] = []
        threading.Timer(0.7, fresh_sshd.kill_sessions).start()
        with pytest.raises(ConnectionLost) as info:
            s.run_batch([BatchCommand("echo first", 15), BatchCommand("echo started; sleep 20", 15),
                         BatchCommand(f"touch {q(str(mark))}", 15)],
                        on_start=lambda k: seen.append(("start", k)),
                        on_finish=lambda k, r: seen.append(("end", k, r.exit_status)))
        assert seen == [("start", 0), ("end", 0, 0), ("start", 1)]
        result = info.value.result
        assert result is not None and result.exit_status == -1 and "started" in result.stdout
        assert result.command == "echo started; sleep 20"
        with pytest.raises(SessionError):
            s.run("echo again")
    finally:
        s.close()
    assert not mark.exists()
