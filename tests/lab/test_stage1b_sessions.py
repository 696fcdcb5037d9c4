"""The node sessions against the lab's VMs: the same checks as against the test sshd, on real nodes.

Both transports (the OpenSSH client driven by pexpect, and paramiko), with the lab's key and its
known_hosts: exit codes, large output on both streams, a timeout the session survives, a secret
file that is 0600 from the first byte, and a refused host key when the key on record is wrong.
"""

from __future__ import annotations

import dataclasses

import pytest

from hawizard.design.preset_file import load_preset
from hawizard.run.targets import target_for
from hawizard.sessions import open_session
from hawizard.sessions.base import HostKeyRefused

TRANSPORTS = ("ssh", "paramiko")


@pytest.fixture
def node(lab):
    return load_preset(str(lab.preset)).nodes[0]


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_session_on_a_vm(node, kind):
    with open_session(target_for(node), kind) as s:
        assert s.run("uname -n", timeout=60).stdout.strip() == node.name
        assert s.run("exit 42", timeout=60).exit_status == 42
        big = s.run("head -c 3000000 /dev/zero | tr '\\0' a; head -c 1000000 /dev/zero | tr '\\0' b >&2",
                    timeout=300)
        assert big.exit_status == 0
        assert (big.stdout + big.stderr).count("a") == 3_000_000 and (big.stdout + big.stderr).count("b") == 1_000_000
        slow = s.run("sleep 30", timeout=2)
        assert slow.timed_out and slow.exit_status == 124
        assert s.run("echo still here", timeout=60).stdout.strip() == "still here"
        w = s.write_file(f"/root/authkeys-{kind}", b"auth 1\n1 sha1 not-a-real-secret\n", mode=0o600)
        assert w.changed
        assert s.run(f"stat -c %a /root/authkeys-{kind}", timeout=60).stdout.strip() == "600"
        again = s.write_file(f"/root/authkeys-{kind}", b"auth 1\n1 sha1 not-a-real-secret\n", mode=0o600)
        assert not again.changed and again.backup_path is None


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_wrong_pinned_key_is_refused(node, kind, tmp_path):
    target = dataclasses.replace(target_for(node), known_hosts=str(tmp_path / "empty_known_hosts"),
                                 ssh_config=False, pinned_fingerprint="SHA256:" + "A" * 43)
    with pytest.raises(HostKeyRefused):
        open_session(target, kind)
