"""Host keys against a real sshd: unknown refused, confirmed or pinned accepted, changed refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.targets import TRANSPORTS

from hawizard.sessions import HostKeyChanged, HostKeyRefused, open_session

pytestmark = pytest.mark.sshd


@pytest.fixture(params=TRANSPORTS)
def kind(request):
    return request.param


def test_changed_key_is_refused_naming_both_fingerprints(fresh_sshd, target_for, kind):
    t = target_for(fresh_sshd)  # known_hosts holds key A
    old_fp = fresh_sshd.host_fingerprint
    with open_session(t, kind) as s:
        assert s.run("echo hi").stdout == "hi\n"
    fresh_sshd.restart(new_host_key=True)  # same port, key B
    new_fp = fresh_sshd.host_fingerprint
    assert new_fp != old_fp
    with pytest.raises(HostKeyChanged) as info:
        open_session(t, kind)
    msg = str(info.value)
    assert old_fp in msg and new_fp in msg
    assert f"[127.0.0.1]:{fresh_sshd.port}" in msg and "CHANGED" in msg
    assert info.value.exit_code == 3
    assert _fingerprints(Path(t.known_hosts)) == [old_fp]  # nothing was added


def test_unknown_key_without_confirmation_is_refused(sshd, target_for, kind):
    t = target_for(sshd, trusted=False)
    with pytest.raises(HostKeyRefused) as info:
        open_session(t, kind)
    assert not isinstance(info.value, HostKeyChanged)
    assert sshd.host_fingerprint in str(info.value) and "unknown" in str(info.value)
    assert not _fingerprints(Path(t.known_hosts))
    # the advice names the preset key as it is spelt, with a value that loads
    assert f'ssh_fingerprint = "{sshd.host_fingerprint}"' in str(info.value)
    _loads_as_a_pin(sshd.host_fingerprint)


def _loads_as_a_pin(fp: str) -> None:
    from hawizard.design.model import Design, Node
    from hawizard.design.preset_file import dump_preset, parse_preset_text

    design = Design()
    design.nodes[0].ssh_host, design.nodes[1].ssh_host = "127.0.0.1", "127.0.0.2"
    text = dump_preset(design).replace('ssh_fingerprint = ""', f'ssh_fingerprint = "{fp}"', 1)
    assert parse_preset_text(text).nodes[0].ssh_fingerprint == fp
    assert "ssh_fingerprint" in Node.__dataclass_fields__


def test_operator_refusing_the_key_is_refused(sshd, target_for, kind):
    t = target_for(sshd, trusted=False)
    with pytest.raises(HostKeyRefused):
        open_session(t, kind, confirm_host_key=lambda label, kt, fp: False)
    assert not _fingerprints(Path(t.known_hosts))


def test_confirmed_key_is_accepted_and_saved(sshd, target_for, kind):
    t = target_for(sshd, trusted=False)
    shown: list[tuple[str, str, str]] = []

    def confirm(label: str, key_type: str, fp: str) -> bool:
        shown.append((label, key_type, fp))
        return True

    with open_session(t, kind, confirm_host_key=confirm) as s:
        assert s.run("echo hi").stdout == "hi\n"
    assert len(shown) == 1
    label, key_type, fp = shown[0]
    assert (label, fp) == (f"[127.0.0.1]:{sshd.port}", sshd.host_fingerprint)
    assert "ED25519" in key_type.upper()
    assert _fingerprints(Path(t.known_hosts)) == [sshd.host_fingerprint]
    assert Path(t.known_hosts).stat().st_mode & 0o077 == 0
    # the saved key works without asking again, on either transport
    for k in TRANSPORTS:
        with open_session(t, k) as s:
            assert s.run("true").exit_status == 0


def test_pinned_fingerprint_accepts_the_right_key_only(sshd, target_for, kind, tmp_path):
    from dataclasses import replace

    t = target_for(sshd, trusted=False, pinned_fingerprint=sshd.host_fingerprint)
    with open_session(t, kind) as s:
        assert s.run("true").exit_status == 0
    assert _fingerprints(Path(t.known_hosts)) == [sshd.host_fingerprint]

    wrong = "SHA256:" + "A" * 43
    t2 = replace(t, pinned_fingerprint=wrong, known_hosts=str(tmp_path / "other_known_hosts"))
    with pytest.raises(HostKeyChanged) as info:
        open_session(t2, kind)
    assert wrong in str(info.value) and sshd.host_fingerprint in str(info.value)
    assert "ssh_fingerprint of srv1" in str(info.value)
    # a pin that contradicts the recorded key is refused before connecting
    with pytest.raises(HostKeyChanged):
        open_session(replace(t, pinned_fingerprint=wrong), kind)


def _fingerprints(path: Path) -> list[str]:
    from hawizard.sessions.hostkeys import read_known_hosts

    return [e.fingerprint for e in read_known_hosts(path)]


def test_key_of_another_type_than_on_record_is_refused(sshd, target_for, kind, tmp_path):
    import subprocess

    other = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", str(other)], check=True)
    key_type, blob = other.with_suffix(".pub").read_text().split()[:2]
    t = target_for(sshd, trusted=False)
    Path(t.known_hosts).write_text(f"[127.0.0.1]:{sshd.port} {key_type} {blob}\n")
    recorded = _fingerprints(Path(t.known_hosts))
    with pytest.raises(HostKeyChanged) as info:
        open_session(t, kind, confirm_host_key=lambda *a: True)  # even a yes-sayer is not asked
    assert recorded[0] in str(info.value) and sshd.host_fingerprint in str(info.value)
    assert _fingerprints(Path(t.known_hosts)) == recorded
