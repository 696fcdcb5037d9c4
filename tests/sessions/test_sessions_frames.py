"""The pty shell's framing protocol on its own (hawizard/sessions/frames.py): a frame run by a real
bash, its output read back however the pty happens to cut it into reads.

The transports' tests (test_sessions_transport.py and others) drive frames through a real pty and
sshd; these pin the protocol itself: the reader must give the same lines and exit status whatever
the read boundaries, and sudo's part of a frame must be told apart from the command's.
"""

from __future__ import annotations

import subprocess

import pytest

from hawizard.sessions import sudo
from hawizard.sessions.frames import FrameReader, frame

TAG = "0123456789ab"


def _bash(text: str) -> str:
    """What a bash prints for ``text`` (no tty here: stdout only, as a pty would merge it)."""
    return subprocess.run(["bash", "--noprofile", "--norc"], input=text, capture_output=True, text=True,
                          timeout=60).stdout


def _read(output: str, chunk: int, reader: FrameReader) -> str:
    pending = ""
    for i in range(0, len(output), chunk):
        pending = reader.feed(pending + output[i:i + chunk])
    return pending


def test_the_frame_text_never_holds_its_own_markers():
    """The shell echoes what it is sent: an echo must never look like a start or end marker."""
    text = frame(TAG, "true", b"data")
    assert f"__HWS_{TAG}__" not in text and f"__HWE_{TAG}_" not in text


@pytest.mark.parametrize("chunk", [1, 2, 5, 13, 4096])
def test_a_frame_reads_back_the_same_whatever_the_read_boundaries(chunk):
    body = ("printf 'one\\n\\ntwo'; echo; printf '\\033[31mred\\033[0m\\n'; cat; echo 'to stderr' >&2; "
            "exit 3")
    out = _bash(frame(TAG, body, b"from stdin\nline 2\n"))
    # a tty turns LF into CR LF; the echoed frame and the last prompt surround the output
    stream = ("echo of the frame __HWS_" + TAG[:-1] + "\r\n" + out.replace("\n", "\r\n")
              + "__HWP_x__# ")
    lines: list[tuple[str, str]] = []
    reader = FrameReader(TAG, lambda stream_name, line: lines.append((stream_name, line)), None)
    rest = _read(stream, chunk, reader)
    assert reader.done and reader.exit_status == 3
    assert rest == "__HWP_x__# "  # the prompt is left for the session
    result = reader.result("cmd", reader.exit_status, 0.5)
    assert result.stdout == "one\n\ntwo\nred\nfrom stdin\nline 2\n" and result.stderr == ""
    # streamed line by line, the frame's own last newline not among them
    assert lines == [("stdout", w) for w in ("one", "", "two", "red", "from stdin", "line 2")]


def test_an_unfinished_frame_is_not_done():
    out = _bash(frame(TAG, "echo started", None)).split(f"__HWE_{TAG}")[0]
    reader = FrameReader(TAG, None, None)
    _read(out, 3, reader)
    assert not reader.done and reader.lines == ["started", ""]  # the last "" may yet be the frame's own


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_sudo_is_answered_once_and_its_lines_are_not_the_commands(chunk):
    nonce = "fedcba9876543210"
    stream = (f"__HWS_{TAG}__\r\n{sudo.prompt_for(nonce)}\r\n{sudo.started_marker(nonce)}\r\n"
              f"root here\r\n\r\n__HWE_{TAG}_0__\r\n")
    reader = FrameReader(TAG, None, nonce)
    _read(stream, chunk, reader)
    assert reader.sudo_prompts == 1 and reader.sudo_started and reader.sudo_failure is None
    assert reader.done and reader.exit_status == 0 and reader.lines == ["root here", ""]


@pytest.mark.parametrize("chunk", [1, 5, 4096])
def test_a_second_prompt_means_a_wrong_password(chunk):
    """sudo asks again after a wrong password: the session stops there instead of answering again."""
    nonce = "fedcba9876543210"
    stream = f"__HWS_{TAG}__\r\n{sudo.prompt_for(nonce)}\r\nSorry, try again.\r\n{sudo.prompt_for(nonce)}"
    reader = FrameReader(TAG, None, nonce)
    _read(stream, chunk, reader)
    assert reader.sudo_prompts == 2 and reader.sudo_failure == "wrong"
    assert not reader.sudo_started and not reader.done and reader.lines == []


@pytest.mark.parametrize("chunk", [1, 5, 4096])
def test_sudo_ending_without_the_command_leaves_its_words_for_the_session(chunk):
    nonce = "fedcba9876543210"
    said = "alice is not in the sudoers file.  This incident will be reported."
    stream = f"__HWS_{TAG}__\r\n{sudo.prompt_for(nonce)}\r\n{said}\r\n\r\n__HWE_{TAG}_1__\r\n"
    reader = FrameReader(TAG, None, nonce)
    _read(stream, chunk, reader)
    assert reader.done and reader.exit_status == 1 and not reader.sudo_started
    assert reader.lines == []  # sudo's words are not the command's output
    refusal = sudo.refusal("alice@srv1", reader.sudo_text)
    assert refusal is not None and "is not in the sudoers file" in str(refusal)
