"""Fixtures for the session tests: a real sshd on loopback (tests/support/sshd.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # make `tests.support` importable however pytest was started
    sys.path.insert(0, str(ROOT))

from hawizard.sessions import SshTarget, open_session  # noqa: E402
from tests.support.sshd import SshServer, SudoUser, sshd_available  # noqa: E402

TRANSPORTS = ["ssh", "paramiko"]


@pytest.fixture(autouse=True)
def _private_state(tmp_path, monkeypatch):
    """Never touch the operator's ~/.local/state/hawizard from a test."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def _need_sshd() -> None:
    reason = sshd_available()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def sshd():
    """One sshd for the whole run (tests that restart or kill it use ``fresh_sshd``)."""
    _need_sshd()
    srv = SshServer().start()
    yield srv
    srv.cleanup()


@pytest.fixture
def fresh_sshd():
    _need_sshd()
    srv = SshServer().start()
    yield srv
    srv.cleanup()


def make_target(srv: SshServer, tmp_path: Path, *, user: str = "root", trusted: bool = True,
                **kw) -> SshTarget:
    kh = tmp_path / f"known_hosts-{srv.port}"
    if trusted and not kh.exists():
        kh.write_text(srv.known_hosts_line())
    return SshTarget(name="srv1", host=srv.host, port=srv.port, user=user,
                     identity_file=str(srv.client_key), known_hosts=str(kh), ssh_config=False,
                     keepalive=5, connect_timeout=10, **kw)


@pytest.fixture
def target_for(tmp_path):
    def factory(srv, **kw):
        return make_target(srv, tmp_path, **kw)

    return factory


@pytest.fixture(params=TRANSPORTS)
def session(request, sshd, tmp_path):
    """A root session to the shared sshd, once per transport."""
    s = open_session(make_target(sshd, tmp_path), request.param)
    yield s
    s.close()


@pytest.fixture(params=[*TRANSPORTS, "local"])
def any_session(request, tmp_path):
    """Like ``session``, plus the local shell (which needs no sshd)."""
    if request.param == "local":
        s = open_session(SshTarget(name="here", host="localhost"), "local")
    else:
        srv = request.getfixturevalue("sshd")
        s = open_session(make_target(srv, tmp_path), request.param)
    yield s
    s.close()


@pytest.fixture(scope="session")
def sudo_user():
    """A temporary user whose sudo wants its password (root only; removed afterwards)."""
    _need_sshd()
    if os.geteuid() != 0:
        pytest.skip("creating a sudo test user needs root")
    if not Path("/usr/bin/sudo").exists():
        pytest.skip("sudo is not installed (Debian package sudo)")
    user = SudoUser().create()
    yield user
    user.remove()
