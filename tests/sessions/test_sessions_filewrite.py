"""Safe file writes on every transport: mode exact at every moment, checksum first, backups."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
import threading
import time
from pathlib import Path

import pytest
from support.targets import TRANSPORTS, make_target

from hawizard.sessions import WriteFailed, open_session
from hawizard.sessions.target import SshTarget

pytestmark = pytest.mark.sshd


@pytest.fixture(scope="module", params=[*TRANSPORTS, "local"])
def root_or_local(request, tmp_path_factory):
    if request.param == "local":
        if os.geteuid() != 0:
            pytest.skip("writes root-owned files")
        s = open_session(SshTarget(name="here", host="localhost"), "local")
    else:
        srv = request.getfixturevalue("sshd")
        s = open_session(make_target(srv, tmp_path_factory.mktemp("kh")), request.param)
    yield s
    s.close()


@pytest.fixture
def node_dir():
    """A directory 'on the node' (the sshd runs here, so: a local directory)."""
    d = Path(tempfile.mkdtemp(prefix="hw-node-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


class ModeWatcher(threading.Thread):
    """Polls the directory as fast as it can, recording every entry's name, mode and uid."""

    def __init__(self, directory: Path, needle: str) -> None:
        super().__init__(daemon=True)
        self.directory, self.needle = directory, needle
        self.seen: list[tuple[str, int, int, int]] = []  # name, mode, uid, size
        self.polls = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.polls += 1
            try:
                names = os.listdir(self.directory)
            except FileNotFoundError:
                continue
            for name in names:
                if self.needle not in name:
                    continue
                try:
                    st = os.lstat(self.directory / name)
                except FileNotFoundError:
                    continue  # renamed between listdir and lstat: the next poll sees it
                self.seen.append((name, stat.S_IMODE(st.st_mode), st.st_uid, st.st_size))

    def stop(self) -> None:
        self._halt.set()
        self.join(5)


def test_authkeys_is_0600_at_every_observed_moment(root_or_local, node_dir):
    path = node_dir / "authkeys"
    watcher = ModeWatcher(node_dir, "authkeys")
    watcher.start()
    try:
        time.sleep(0.05)
        for i in range(4):  # create, replace (with backups), replace again
            content = f"auth 1\n1 sha1 secret-{i}\n".encode() * (2_000 if i % 2 else 1)
            res = root_or_local.write_file(str(path), content, mode=0o600)
            assert res.changed
    finally:
        watcher.stop()
    assert watcher.polls > 100
    names = {name for name, *_ in watcher.seen}
    assert "authkeys" in names
    bad = [(n, oct(m), uid) for n, m, uid, size in watcher.seen if m != 0o600 or uid != 0]
    assert not bad, f"observed at another mode/owner: {bad[:5]}"
    # the temp file lives for milliseconds, yet a tight poller catches it: it was 0600 too
    assert {n for n in names if ".authkeys.hawizard." in n}, "the temp file was never observed"
    assert not [n for n in os.listdir(node_dir) if ".hawizard." in n], "temp file left behind"


def test_read_only_mode_is_exact_from_the_first_byte(root_or_local, node_dir):
    path = node_dir / "corosync-authkey"
    watcher = ModeWatcher(node_dir, "authkey")
    watcher.start()
    try:
        root_or_local.write_file(str(path), os.urandom(128), mode=0o400)
    finally:
        watcher.stop()
    assert {m for _, m, _, size in watcher.seen if size} <= {0o400}
    assert stat.S_IMODE(path.stat().st_mode) == 0o400


def test_unchanged_content_writes_nothing(root_or_local, node_dir):
    path = node_dir / "drbd.conf"
    first = root_or_local.write_file(str(path), b"global { usage-count no; }\n", mode=0o644)
    assert first.changed and first.backup_path is None
    inode, mtime = path.stat().st_ino, path.stat().st_mtime_ns
    again = root_or_local.write_file(str(path), b"global { usage-count no; }\n", mode=0o644)
    assert (again.changed, again.backup_path, again.sha256) == (False, None, first.sha256)
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (inode, mtime)
    assert sorted(os.listdir(node_dir)) == ["drbd.conf"]


def test_changed_content_keeps_a_restorable_backup(root_or_local, node_dir):
    path = node_dir / "authkeys"
    root_or_local.write_file(str(path), b"old secret\n", mode=0o600)
    res = root_or_local.write_file(str(path), b"new secret\n", mode=0o600)
    assert res.changed and res.backup_path
    backup = Path(res.backup_path)
    assert backup.parent == node_dir
    assert backup.name.startswith("authkeys.") and backup.name.endswith(".hawizard~")
    assert backup.read_bytes() == b"old secret\n"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert path.read_bytes() == b"new secret\n"
    # a second change in the same second must not overwrite the first backup
    res2 = root_or_local.write_file(str(path), b"newer secret\n", mode=0o600)
    assert res2.backup_path != res.backup_path and backup.read_bytes() == b"old secret\n"
    # restoring = moving the backup back
    mv = root_or_local.run(f"mv -f {res.backup_path} {path}")
    assert mv.exit_status == 0
    assert root_or_local.read_file(str(path)) == b"old secret\n"


def test_owner_group_and_mode_are_applied_and_fixed(root_or_local, node_dir):
    path = node_dir / "ha.cf"
    root_or_local.write_file(str(path), b"x\n", mode=0o640, owner="nobody", group="nogroup")
    st = path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_uid == 65534
    os.chmod(path, 0o666)  # someone loosened it by hand: same content, wrong mode
    res = root_or_local.write_file(str(path), b"x\n", mode=0o640, owner="nobody", group="nogroup")
    assert res.changed and res.backup_path is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_content_never_on_a_command_line_nor_in_logs(root_or_local, node_dir, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    secret = "hush-" + os.urandom(8).hex()
    commands: list[str] = []
    real_run = root_or_local.run

    def spy(command, **kw):
        commands.append(command)
        return real_run(command, **kw)

    monkeypatch.setattr(root_or_local, "run", spy)
    root_or_local.write_file(str(node_dir / "authkeys"), f"1 sha1 {secret}\n".encode(), mode=0o600)
    assert commands and not [c for c in commands if secret in c]
    assert secret not in caplog.text


def test_binary_read_and_absent_file(root_or_local, node_dir):
    data = bytes(range(256)) * 64
    (node_dir / "blob").write_bytes(data)
    assert root_or_local.read_file(str(node_dir / "blob")) == data
    assert root_or_local.read_file(str(node_dir / "absent")) is None


def test_bad_arguments_are_refused_before_anything_runs(root_or_local, node_dir):
    for kw in ({"path": "relative/file"}, {"owner": "root; rm -rf /"}, {"mode": 0o17777}):
        args = {"path": str(node_dir / "f"), "owner": "root", "mode": 0o600} | kw
        with pytest.raises(WriteFailed):
            root_or_local.write_file(args["path"], b"x", mode=args["mode"], owner=args["owner"])
    assert os.listdir(node_dir) == []


def test_failure_message_names_the_path_not_the_content(root_or_local, node_dir):
    secret = b"secret-" + os.urandom(6).hex().encode()
    with pytest.raises(WriteFailed) as info:
        root_or_local.write_file(str(node_dir / "no-such-dir" / "authkeys"), secret, mode=0o600)
    assert "no-such-dir" in str(info.value) and secret.decode() not in str(info.value)
