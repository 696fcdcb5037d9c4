"""The lab for real: two qemu VMs, SSH, DRBD module, apt from the in-image repository,
power loss and power-on, clean shutdown. Minutes; run with ``pytest -m lab``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hawizard.lab import vm

pytestmark = pytest.mark.lab


def test_both_nodes_answer_with_their_own_hostname(lab) -> None:
    for name in ("srv1", "srv2"):
        result = lab.cli("ssh", name, "hostname")
        assert result.stdout.strip() == name


def test_host_keys_are_distinct_and_the_ones_in_known_hosts(lab) -> None:
    known = {}
    for line in lab.paths.known_hosts.read_text().splitlines():
        host, kind, key = line.split()
        known[host] = (kind, key)
    seen = {}
    for node in lab.nodes:
        fields = lab.ssh(node.name, "cat /etc/ssh/ssh_host_ed25519_key.pub").stdout.split()
        seen[node.name] = fields[1]
        assert known[f"[127.0.0.1]:{node.ssh_port}"] == (fields[0], fields[1])
    assert seen["srv1"] != seen["srv2"]
    ids = {lab.ssh(n.name, "cat /etc/machine-id").stdout.strip() for n in lab.nodes}
    assert len(ids) == 2


def test_the_links_carry_the_layout_addresses(lab) -> None:
    addrs = lab.ssh("srv1", "ip -br -4 addr").stdout
    for expected in ("192.168.0.101/24", "10.1.0.1/24", "10.2.0.1/24"):
        assert expected in addrs
    for peer in ("192.168.0.102", "10.1.0.2", "10.2.0.2"):
        lab.ssh("srv1", f"ping -c 1 -W 5 {peer}")
    assert lab.ssh("srv2", "lsblk -bndo SIZE /dev/vdb").stdout.strip() == str(128 << 20)


def test_drbd_module_loads(lab) -> None:
    t0 = time.monotonic()
    out = lab.ssh("srv1", "modprobe drbd && cat /proc/drbd").stdout
    assert "version: 8.4" in out, out
    lab.timings["modprobe drbd"] = f"{time.monotonic() - t0:.1f}s ({out.splitlines()[0]})"
    assert "version: 8.4" in lab.ssh("srv2", "modprobe drbd && cat /proc/drbd").stdout


def test_apt_sources_are_the_in_image_repository_only(lab) -> None:
    """The guests' apt knows one source, the repository inside the image (the network rule)."""
    sources = lab.ssh("srv2", "cat /etc/apt/sources.list; ls /etc/apt/sources.list.d/ | wc -l").stdout
    assert sources.splitlines()[0] == "deb [trusted=yes] file:/srv/lab-repo ./"
    assert sources.splitlines()[-1].strip() == "0"


@pytest.mark.lab_extended  # 2.5 min in CI; the fenced build's install step runs real apt from the same source
def test_apt_installs_from_the_in_image_repository_only(lab) -> None:
    test_apt_sources_are_the_in_image_repository_only(lab)
    assert lab.ssh("srv2", "dpkg -s curl", check=False).returncode != 0  # present in the repo, not installed
    t0 = time.monotonic()
    lab.ssh("srv2", "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl")
    lab.timings["apt-get install curl (TCG)"] = f"{time.monotonic() - t0:.1f}s"
    assert "file:/srv/lab-repo" in lab.ssh("srv2", "apt-cache policy curl").stdout
    assert lab.ssh("srv2", "curl --version").stdout.startswith("curl ")


@pytest.mark.lab_extended
def test_power_loss_and_power_on_keep_the_disks(lab) -> None:
    lab.ssh("srv2", "echo before-power-loss > /root/marker && sync")
    pid = lab.pid("srv2")
    assert pid is not None
    lab.cli("kill", "srv2")
    assert not Path(f"/proc/{pid}").exists() or vm.proc_state(pid) in ("Z", "X")
    assert lab.pid("srv2") is None
    assert lab.ssh("srv2", "true", check=False, timeout=60).returncode == 255  # nobody answers
    assert "srv1" == lab.ssh("srv1", "hostname").stdout.strip()  # the other node lives on
    status = lab.cli("status", "--no-probe").stdout
    assert "srv2:   stopped" in status
    t0 = time.monotonic()
    lab.cli("start", "srv2")
    lab.timings["lab start srv2 (to SSH)"] = f"{time.monotonic() - t0:.1f}s"
    assert lab.pid("srv2") not in (None, pid)
    assert lab.ssh("srv2", "cat /root/marker").stdout.strip() == "before-power-loss"


def test_preset_points_at_the_lab(lab) -> None:
    import tomllib

    data = tomllib.loads(lab.preset.read_text())
    ports = [n["ssh_port"] for n in data["nodes"]]
    assert ports == [lab.port_base + 1, lab.port_base + 2]
    assert Path(data["nodes"][0]["ssh_identity_file"]).is_file()
    assert Path(data["nodes"][0]["ssh_known_hosts"]) == lab.paths.known_hosts


@pytest.mark.lab_extended
def test_down_leaves_no_qemu_process(lab) -> None:
    pids = {n.name: lab.pid(n.name) for n in lab.nodes}
    assert all(pids.values())
    t0 = time.monotonic()
    result = lab.cli("down")
    lab.timings["lab down (clean power-off)"] = f"{time.monotonic() - t0:.1f}s"
    for name, pid in pids.items():
        pidfile = lab.paths.node_dir(name) / "qemu.pid"
        assert not vm.pid_is_ours(pid, pidfile), f"{name}'s qemu (pid {pid}) is still running"
        assert f"{name}: powered off cleanly" in result.stdout
    assert lab.pid("srv1") is None and lab.pid("srv2") is None
