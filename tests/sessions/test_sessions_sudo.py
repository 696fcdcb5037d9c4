"""sudo through both transports: a real user, a real sudoers rule that wants the password."""

from __future__ import annotations

import hashlib
import logging

import pytest
from support.targets import TRANSPORTS

from hawizard.sessions import SudoAuthFailed, SudoError, open_session

pytestmark = pytest.mark.sshd


@pytest.fixture(params=TRANSPORTS)
def kind(request):
    return request.param


def _secret_free(password: str, *texts: object) -> None:
    for t in texts:
        assert password not in repr(t), "the sudo password leaked"


def test_right_password_asked_once_and_never_shown(sshd, sudo_user, target_for, kind, caplog):
    caplog.set_level(logging.DEBUG)
    asked: list[str] = []

    def ask(who: str) -> str:
        asked.append(who)
        return sudo_user.password

    with open_session(target_for(sshd, user=sudo_user.name), kind, sudo_password=ask) as s:
        plain = s.run("id -un")
        root = s.run("id -u; echo to-stderr >&2", sudo=True)
        again = s.run("id -un", sudo=True)
        data = b"\x00binary stdin\n" * 1000
        piped = s.run("sha256sum", sudo=True, stdin=data)
    assert plain.stdout.strip() == sudo_user.name
    assert root.exit_status == 0 and root.stdout.splitlines()[0] == "0"
    assert "to-stderr" in root.stdout + root.stderr
    assert again.stdout.strip() == "root"
    assert piped.stdout.split()[0] == hashlib.sha256(data).hexdigest()
    assert asked == [f"{sudo_user.name}@srv1"], "asked exactly once"
    for res in (plain, root, again, piped):
        assert "hawizard-sudo" not in res.stdout + res.stderr  # sudo's prompt is not output
        _secret_free(sudo_user.password, res)
    _secret_free(sudo_user.password, caplog.text)


def test_wrong_password_is_a_clear_error_without_the_password(sshd, sudo_user, target_for, kind,
                                                              caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-password-" + sudo_user.password[::-1]
    with open_session(target_for(sshd, user=sudo_user.name), kind,
                      sudo_password=lambda who: wrong) as s:
        with pytest.raises(SudoAuthFailed) as info:
            s.run("id -u", sudo=True, timeout=30)
        assert "wrong password" in str(info.value) and "srv1" in str(info.value)
        assert info.value.exit_code == 2
        _secret_free(wrong, str(info.value), repr(info.value), caplog.text)
        # the session survives a failed escalation
        assert s.run("echo fine").stdout == "fine\n"


def test_no_password_source_is_a_clear_error(sshd, sudo_user, target_for, kind):
    with open_session(target_for(sshd, user=sudo_user.name), kind) as s:
        with pytest.raises(SudoError, match="asks for a password"):
            s.run("id -u", sudo=True, timeout=30)
        assert s.run("echo fine").stdout == "fine\n"


def test_become_root_session_writes_root_files(sshd, sudo_user, target_for, kind, tmp_path):
    t = target_for(sshd, user=sudo_user.name, become_root=True)
    path = f"/tmp/hawizard-sudo-write-{sudo_user.name}-{kind}"
    try:
        with open_session(t, kind, sudo_password=lambda who: sudo_user.password) as s:
            assert s.run("id -u").stdout.strip() == "0"
            w = s.write_file(path, b"root only\n", mode=0o600)
            assert w.changed
            assert s.read_file(path) == b"root only\n"
            assert s.run(f"stat -c '%a %U' {path}").stdout.strip() == "600 root"
    finally:
        import os

        if os.path.exists(path):
            os.unlink(path)


def test_password_is_in_no_process_argv_or_environment(sshd, sudo_user, target_for, kind):
    import os
    import threading

    needle = sudo_user.password.encode()
    hits: list[str] = []
    halt = threading.Event()

    def scan() -> None:
        while not halt.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                for what in ("cmdline", "environ"):
                    try:
                        with open(f"/proc/{pid}/{what}", "rb") as f:
                            if needle in f.read():
                                hits.append(f"{pid}/{what}")
                    except OSError:
                        pass

    scanner = threading.Thread(target=scan, daemon=True)
    with open_session(target_for(sshd, user=sudo_user.name), kind,
                      sudo_password=lambda who: sudo_user.password) as s:
        scanner.start()
        try:
            assert s.run("sleep 0.6; id -u", sudo=True).stdout.strip() == "0"
        finally:
            halt.set()
            scanner.join(5)
    assert not hits


def test_a_batch_under_sudo_asks_once_and_runs_every_command_as_root(sshd, sudo_user, target_for, kind, caplog):
    """A become-root session's batch (the runner's consecutive commands): sudo's prompt answered once,
    each command as root, sudo's lines in no command's output, the password nowhere."""
    from hawizard.sessions.base import BatchCommand

    caplog.set_level(logging.DEBUG)
    asked: list[str] = []

    def ask(who: str) -> str:
        asked.append(who)
        return sudo_user.password

    target = target_for(sshd, user=sudo_user.name, become_root=True)
    with open_session(target, kind, sudo_password=ask) as s:
        results = s.run_batch([BatchCommand("id -u", 30), BatchCommand("id -un; echo err >&2", 30),
                               BatchCommand("exit 4", 30), BatchCommand("echo never", 30)])
    assert [r.exit_status for r in results] == [0, 0, 4]
    assert results[0].stdout.strip() == "0" and results[1].stdout.splitlines()[0] == "root"
    assert asked == [f"{sudo_user.name}@srv1"]
    for res in results:
        assert "hawizard-sudo" not in res.stdout + res.stderr and "__HWU_" not in res.stdout
        _secret_free(sudo_user.password, res)
    _secret_free(sudo_user.password, caplog.text)


def test_a_batch_with_a_wrong_sudo_password_is_a_clear_error(sshd, sudo_user, target_for, kind):
    from hawizard.sessions.base import BatchCommand

    target = target_for(sshd, user=sudo_user.name, become_root=True)
    with open_session(target, kind, sudo_password=lambda who: "wrong-" + sudo_user.password[::-1]) as s:
        with pytest.raises(SudoAuthFailed) as info:
            s.run_batch([BatchCommand("id -u", 30), BatchCommand("id -u", 30)])
    assert "wrong password" in str(info.value) and sudo_user.password not in str(info.value)
