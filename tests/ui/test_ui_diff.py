"""The review's Diff tab: the same diff as ``hawizard diff``, read from the nodes when the operator presses r.

The nodes are two real sshds on loopback with prepared trees (tests/support/loopback_nodes.py); the
wizard asks the unknown host keys in its own dialog (typed "yes"), then shows the files and CIB objects;
a file changed on one node shows as a diff after another r; a node that cannot be reached is said, not
raised. Nothing is read before r.
"""

from __future__ import annotations

import pytest
from conftest import type_text, wait_for
from support.loopback_nodes import case_on, known_hosts, prepare, start_pair
from support.sshd import sshd_available
from textual.widgets import Static

from hawizard.design.preset_file import dump_preset
from hawizard.run import collect
from hawizard.ui.app import HawizardApp
from hawizard.ui.dialogs import ConfirmPhraseScreen
from hawizard.ui.review import ReviewScreen

LIMIT = 240  # a CIB made by crmsh offline, two SSH logins: seconds; the limit only ends a hang


@pytest.fixture(scope="module")
def servers():
    reason = sshd_available()
    if reason:
        pytest.skip(reason)
    a, b = start_pair()
    yield a, b
    a.cleanup()
    b.cleanup()


@pytest.fixture
def roots(monkeypatch):
    table: dict[str, str] = {}
    monkeypatch.setattr(collect, "TEST_ROOTS", table)
    return table


def _text(app) -> str:
    return str(app.screen.query_one("#diff-content", Static).render())


async def test_diff_tab_reads_the_nodes_on_r(servers, roots, tmp_path):
    kh = tmp_path / "kh" / "known_hosts"
    kh.parent.mkdir()
    kh.write_text("")  # both host keys unknown: the wizard must ask
    c = case_on("debian12", servers, kh)
    d = prepare(c, servers, tmp_path, roots)
    preset = tmp_path / "loopback.toml"
    preset.write_text(dump_preset(c.design))
    app = HawizardApp(preset=str(preset), initial="review")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.prepared is not None)
        review = app.screen
        await pilot.press("4")
        await pilot.pause()
        assert "Press r to compare" in _text(app)
        assert kh.read_text() == ""  # nothing read before r
        await pilot.press("r")
        for _ in servers:  # each node's unknown key, confirmed by typing yes
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmPhraseScreen), timeout=60)
            await type_text(pilot, "yes")
            await pilot.press("enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmPhraseScreen), timeout=10)
        await wait_for(pilot, lambda: review.diff is not None, timeout=LIMIT)
        assert not review.diff.differs
        text = _text(app)
        assert "The nodes match the design." in text and "0 added, changed or removed" in text
        assert len(kh.read_text().splitlines()) == 2  # the keys the operator trusted, kept
        # drift on srv2, read again
        conf = d / "srv2/etc/corosync/corosync.conf"
        conf.write_text(conf.read_text().replace("token: 3000", "token: 10000"))
        first = review.diff
        await pilot.press("r")
        await wait_for(pilot, lambda: review.diff is not first, timeout=LIMIT)
        text = _text(app)
        assert review.diff.differs and "A run would change the nodes:" in text
        assert "--- srv2:/etc/corosync/corosync.conf (collected)" in text
        assert "-\ttoken: 10000" in text and "+\ttoken: 3000" in text


async def test_an_unreachable_node_is_said_in_the_tab(servers, roots, tmp_path):
    from support.sshd import free_port

    kh = known_hosts(tmp_path, *servers)
    c = case_on("debian12", servers, kh)
    prepare(c, servers, tmp_path, roots)
    c.design.nodes[1].ssh_port = free_port()  # nothing listens there
    preset = tmp_path / "loopback.toml"
    preset.write_text(dump_preset(c.design))
    app = HawizardApp(preset=str(preset), initial="review")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.prepared is not None)
        await pilot.press("r")
        await wait_for(pilot, lambda: "could not be compared" in _text(app), timeout=LIMIT)
        assert "srv2" in _text(app) and "cannot be read over SSH" in _text(app)
        assert app.screen.diff is None
