"""Fixtures for the session tests: a real sshd on loopback (tests/support/sshd.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = str(Path(__file__).resolve().parents[1])
if TESTS not in sys.path:  # tests/conftest.py does this too; `support` is tests/support
    sys.path.insert(0, TESTS)

from support.sshd import SshServer, SudoUser, sshd_available  # noqa: E402
from support.targets import TRANSPORTS, make_target  # noqa: E402

from hawizard.sessions import SshTarget, open_session  # noqa: E402


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


@pytest.fixture
def target_for(tmp_path):
    def factory(srv, **kw):
        return make_target(srv, tmp_path, **kw)

    return factory


def _open(kind: str, request, tmp_path_factory, user: str) -> object:
    if kind == "local":
        return open_session(SshTarget(name="here", host="localhost"), "local")
    srv = request.getfixturevalue("sshd")
    return open_session(make_target(srv, tmp_path_factory.mktemp("kh"), user=user), kind)


@pytest.fixture(scope="module", params=[*TRANSPORTS, "local"])
def any_session(request, tmp_path_factory):
    """A session per transport (and the local shell), shared by a test module.

    Over ssh it logs in as the temporary unprivileged user: the realistic non-root case.
    """
    user = request.getfixturevalue("sudo_user").name if request.param != "local" else ""
    s = _open(request.param, request, tmp_path_factory, user)
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
