"""Preflight on real nodes: backing disks of different sizes stop the run before anything changes.

The lab is brought up again with a larger DRBD disk on srv2; `hawizard apply` must fail in
preflight, name both sizes, and leave the nodes untouched (no package installed, no metadata).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.lab_extended  # outside the CI budget: -m lab_extended (docs/lab.md)

def test_preflight_refuses_unequal_disks(lab_session, tmp_path):
    lab = lab_session
    lab.cli("down", "--timeout", "60", check=False)
    lab.cli("up", "--nodes", "2", "--port-base", str(lab.port_base), "--disk-mib-srv2", "192")
    try:
        env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
        r = subprocess.run([sys.executable, "-m", "hawizard", "apply", str(lab.preset), "--yes"],
                           capture_output=True, text=True, env=env, timeout=600, stdin=subprocess.DEVNULL)
        print(r.stdout[-4000:], r.stderr[-2000:])
        assert r.returncode == 1
        assert "backing disks differ in size" in r.stderr
        assert f"{128 * 1024 * 1024} bytes" in r.stderr and f"{192 * 1024 * 1024} bytes" in r.stderr
        assert "install:" not in r.stdout  # stopped before the first change
        assert lab.ssh("srv1", "command -v drbdadm", check=False).returncode != 0
    finally:
        lab.cli("down", "--timeout", "60", check=False)
