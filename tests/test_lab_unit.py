"""Unit tests of ``hawizard lab`` that need no VM: command lines, ports, recipe hash, errors.

Fast, part of the default run. Whatever boots qemu lives in tests/lab/ under ``-m lab``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

from hawizard.common.errors import EnvironmentProblem, InputError
from hawizard.lab import image, layout, network, preset, seed, ssh, tools, vm
from hawizard.lab.paths import LabPaths

LAB = [sys.executable, "-m", "hawizard", "lab"]
#: both ways to run the lab: through hawizard's CLI, and its own entry point for CI scripts
ENTRY_POINTS = {"hawizard lab": LAB, "python -m hawizard.lab": [sys.executable, "-m", "hawizard.lab"]}


def run_lab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The lab CLI in a child process, as an operator runs it."""
    return subprocess.run(
        [*LAB, *args],
        capture_output=True,
        text=True,
        env=env if env is not None else os.environ.copy(),
        timeout=60,
    )


@pytest.fixture
def paths(tmp_path: Path) -> LabPaths:
    return LabPaths(root=tmp_path / "lab", cache=tmp_path / "cache")


def _files(tmp_path: Path, name: str = "srv1") -> vm.NodeFiles:
    return vm.NodeFiles(tmp_path / "state" / "nodes" / name)


def _argv(node: layout.LabNode, tmp_path: Path) -> list[str]:
    return vm.qemu_argv(node, _files(tmp_path, node.name), tmp_path / "vmlinuz", tmp_path / "initrd.img", "0" * 32)


def _options(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


# -- the qemu command line ---------------------------------------------------------------------


def test_management_nic_is_restricted_and_forwards_only_from_loopback(tmp_path: Path) -> None:
    srv1, srv2 = layout.plan_nodes(2, 2220)
    netdevs = _options(_argv(srv1, tmp_path), "-netdev")
    user = [n for n in netdevs if n.startswith("user,")]
    assert user == ["user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:2221-:22"]
    assert _options(_argv(srv2, tmp_path), "-netdev")[0].endswith("hostfwd=tcp:127.0.0.1:2222-:22")
    for argv in (_argv(srv1, tmp_path), _argv(srv2, tmp_path)):
        text = " ".join(argv)
        assert "0.0.0.0" not in text and "tap" not in text and "bridge" not in text
        assert "-daemonize" in argv and "-pidfile" in argv


def test_socket_links_pair_up_between_the_two_nodes(tmp_path: Path) -> None:
    srv1, srv2 = layout.plan_nodes(2, 3000)

    def links(node: layout.LabNode) -> list[tuple[int, int]]:
        out = []
        for nd in _options(_argv(node, tmp_path), "-netdev"):
            if nd.startswith("socket,"):
                opts = dict(kv.split("=", 1) for kv in nd.split(",")[1:])
                assert opts["udp"].startswith("127.0.0.1:") and opts["localaddr"].startswith("127.0.0.1:")
                out.append((int(opts["localaddr"].split(":")[1]), int(opts["udp"].split(":")[1])))
        return out

    one, two = links(srv1), links(srv2)
    assert len(one) == len(two) == 3
    for (own1, peer1), (own2, peer2) in zip(one, two, strict=True):
        assert peer1 == own2 and peer2 == own1  # each end sends to the other's bound port
    ports = [p for pair in one for p in pair]
    assert len(set(ports)) == 6 and 2221 not in ports


def test_nics_keep_the_layout_order_and_distinct_macs(tmp_path: Path) -> None:
    nodes = layout.plan_nodes(2, 2220)
    macs = [nic.mac for node in nodes for nic in node.nics]
    assert len(set(macs)) == len(macs)
    srv1 = nodes[0]
    assert [n.ifname for n in srv1.nics] == ["eth0", "eth1", "eth2", "eth3"]
    assert srv1.nic("service").address == "192.168.0.101/24"
    assert nodes[1].nic("interconnect1").address == "10.1.0.2/24"
    assert nodes[1].nic("interconnect2").address == "10.2.0.2/24"
    devices = [d for d in _options(_argv(srv1, tmp_path), "-device") if d.startswith("virtio-net-pci")]
    assert [d.split("mac=")[1].split(",")[0] for d in devices] == [n.mac for n in srv1.nics]


def test_qemu_memory_and_accel_fit_the_small_machine(tmp_path: Path) -> None:
    argv = _argv(layout.plan_nodes(1)[0], tmp_path)
    assert _options(argv, "-m") == ["768"]
    assert _options(argv, "-smp") == ["1"]
    assert _options(argv, "-accel") == ["tcg,tb-size=128"]
    assert "systemd.hostname=srv1" in _options(argv, "-append")[0]


def test_disk_order_root_then_drbd_then_seed(tmp_path: Path) -> None:
    argv = _argv(layout.plan_nodes(1)[0], tmp_path)
    drives = _options(argv, "-drive")
    assert [d.split("id=")[1].split(",")[0] for d in drives] == ["root", "drbd", "seed"]
    assert "readonly=on" in drives[2]


def test_fencing_hardware_shared_sbd_disk_and_a_watchdog_that_resets(tmp_path: Path) -> None:
    """Both nodes open the same SBD image writable (share-rw), coherent through the host's cache."""
    sbd = tmp_path / "sbd.img"
    argvs = [vm.qemu_argv(n, _files(tmp_path, n.name), tmp_path / "k", tmp_path / "i", "0" * 32, sbd_disk=sbd)
             for n in layout.plan_nodes(2)]
    for argv in argvs:
        drives = _options(argv, "-drive")
        assert [d.split("id=")[1].split(",")[0] for d in drives][-1] == "sbd"
        assert f"file={sbd}" in drives[-1] and "cache=writethrough" in drives[-1]
        assert f"virtio-blk-pci,drive=sbd,share-rw=on,serial={layout.SBD_SERIAL}" in _options(argv, "-device")
        assert "i6300esb" in _options(argv, "-device")
        assert _options(argv, "-action") == ["watchdog=reset"]
    assert layout.SBD_DEVICE == "/dev/disk/by-id/virtio-labsbd"


def test_cluster_links_are_the_interconnect_netdevs() -> None:
    """'lab cut' acts on the netdevs of the interconnects, never the management or service NIC."""
    node = layout.plan_nodes(2)[0]
    ids = [vm.netdev_of(node, role) for role in layout.CLUSTER_LINKS]
    assert ids == ["net2", "net3"]
    assert [node.nics[int(i[3:])].ifname for i in ids] == ["eth2", "eth3"]
    assert vm.netdev_of(node, "management") == "net0"


@pytest.mark.parametrize("name", ["", "Up", "a/b", "../x", "x" * 42, "-x"])
def test_snapshot_names_are_checked(name: str) -> None:
    from hawizard.lab import snapshot

    with pytest.raises(InputError):
        snapshot.check_name(name)


def test_snapshot_of_a_lab_without_disks_is_refused(paths: LabPaths) -> None:
    from hawizard.lab import snapshot

    state = {"image": {"hash": "h", "build_id": "b"}, "machine_ids": {}, "disk_mib": {}}
    with pytest.raises(EnvironmentProblem):
        snapshot.save(paths, state, layout.plan_nodes(2), "post-install")
    assert not (paths.snapshots / "post-install").exists()
    assert not list(paths.snapshots.glob(".*partial"))


def test_commas_in_paths_are_escaped_for_qemu(tmp_path: Path) -> None:
    weird = tmp_path / "a,b"
    argv = vm.qemu_argv(layout.plan_nodes(1)[0], vm.NodeFiles(weird), tmp_path / "k", tmp_path / "i", "0" * 32)
    assert any("a,,b" in d for d in _options(argv, "-drive"))


def test_per_node_disk_size_override() -> None:
    srv1, srv2 = layout.plan_nodes(2, disk_mib=128, disk_mib_by_node={"srv2": 256})
    assert (srv1.disk_mib, srv2.disk_mib) == (128, 256)


@pytest.mark.parametrize("count", [0, 3])
def test_node_count_out_of_range_is_input_error(count: int) -> None:
    with pytest.raises(InputError):
        layout.plan_nodes(count)


# -- ports -----------------------------------------------------------------------------------


def test_taken_tcp_port_is_named_with_exit_code_3() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert not network.port_is_free(port, "tcp")
        nodes = layout.plan_nodes(1, port - 1)  # srv1's SSH forward = base + 1
        with pytest.raises(EnvironmentProblem) as err:
            network.check_ports_free(nodes)
    assert err.value.exit_code == 3
    assert f"port {port}/tcp" in str(err.value) and "srv1" in str(err.value)


def test_taken_udp_port_is_named() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        base = port - layout.link_port(0, 1, 1)  # srv1's end of the service link
        if base < 1024:
            pytest.skip("the kernel gave a port too low to place the plan around")
        with pytest.raises(EnvironmentProblem) as err:
            network.check_ports_free(layout.plan_nodes(2, base))
    assert f"port {port}/udp" in str(err.value) and "service link of srv1" in str(err.value)


def test_cli_up_reports_a_taken_port_exit_3(tmp_path: Path) -> None:
    """Through the CLI: no traceback, exit 3, the port in the message (a fake image is enough)."""
    paths = LabPaths(root=tmp_path / "lab", cache=tmp_path / "lab" / "cache")
    img_dir = paths.image_dir(image.recipe_hash())
    img_dir.mkdir(parents=True)
    for name in ("base.img", "vmlinuz", "initrd.img"):
        (img_dir / name).write_bytes(b"x")
    (img_dir / "manifest.json").write_text(json.dumps({"build_id": "x", "recipe_hash": image.recipe_hash()}))
    if not (tools.find("qemu-system-x86_64") and tools.find("qemu-img") and tools.find("ssh-keygen")):
        pytest.skip("qemu or ssh-keygen is not installed: up stops at the tool check first")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("HAWIZARD_LAB")}
        result = run_lab("--dir", str(paths.root), "up", "--port-base", str(port - 1), env=env)
    assert result.returncode == 3, result.stderr
    assert f"port {port}/tcp" in result.stderr
    assert "Traceback" not in result.stderr


# -- recipe hash -------------------------------------------------------------------------------


def test_recipe_hash_changes_with_the_package_lists() -> None:
    files = {name: image.recipe_text(name) for name in image.RECIPE_FILES}
    before = image.recipe_hash(files)
    assert before == image.recipe_hash()  # stable for the shipped recipe
    changed = dict(files, **{"recipe-cluster.txt": files["recipe-cluster.txt"] + "psmisc\n"})
    assert image.recipe_hash(changed) != before
    changed = dict(files, **{"guest-finish.sh": files["guest-finish.sh"] + "\ntrue\n"})
    assert image.recipe_hash(changed) != before


def test_recipe_lists_name_the_cluster_packages() -> None:
    cluster = [p.rstrip("?") for p in image.package_list(image.recipe_text("recipe-cluster.txt"))]
    for name in ("pacemaker", "corosync", "crmsh", "pcs", "resource-agents", "drbd-utils", "apache2", "curl",
                 "heartbeat"):
        assert name in cluster
    assert "linux-image-amd64" in image.package_list(image.recipe_text("recipe-guest.txt"))


def test_a_build_tree_without_manifest_is_not_an_image(paths: LabPaths) -> None:
    img_dir = paths.image_dir(image.recipe_hash())
    img_dir.mkdir(parents=True)
    for name in ("base.img", "vmlinuz", "initrd.img"):
        (img_dir / name).write_bytes(b"x")
    assert image.find_image(paths) is None  # half-built: no manifest yet
    (img_dir / "manifest.json").write_text('{"build_id": "b"}')
    assert image.find_image(paths) is not None


# -- missing tools -----------------------------------------------------------------------------


def test_missing_tool_names_tool_and_package() -> None:
    with pytest.raises(EnvironmentProblem) as err:
        tools.require("surely-not-a-tool-hawizard")
    assert err.value.exit_code == 3
    assert "surely-not-a-tool-hawizard" in str(err.value)


@pytest.mark.parametrize(
    ("args", "tool"),
    [
        (["up"], "qemu-system-x86_64"),
        (["build"], "debootstrap"),
        (["start", "srv1"], "qemu-system-x86_64"),
    ],
)
def test_cli_without_tools_on_path_exits_3_naming_the_tool(tmp_path: Path, args: list[str], tool: str) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = dict(os.environ, PATH=str(empty), HAWIZARD_LAB_DIR=str(tmp_path / "lab"))
    result = run_lab(*args, env=env)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert tool in result.stderr
    assert "apt-get install" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_unknown_node_exits_2(tmp_path: Path) -> None:
    result = run_lab("--dir", str(tmp_path), "ssh", "srv9", "hostname")
    assert result.returncode == 2
    assert "srv9" in result.stderr and "Traceback" not in result.stderr


def test_cli_ssh_without_a_lab_exits_3(tmp_path: Path) -> None:
    if not tools.find("ssh"):
        pytest.skip("no ssh client")
    result = run_lab("--dir", str(tmp_path), "ssh", "srv1", "hostname")
    assert result.returncode == 3 and "hawizard lab up" in result.stderr


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_both_entry_points_report_errors_alike_and_cleaned(tmp_path: Path, entry: str) -> None:
    """One message, one exit code, no traceback, and nothing in it that drives the terminal (the
    lab directory here names an escape sequence), whichever entry point runs the lab."""
    if not tools.find("ssh"):
        pytest.skip("no ssh client")
    lab_dir = tmp_path / "lab\x1b]0;owned\x07\x1b[2J"
    result = subprocess.run([*ENTRY_POINTS[entry], "--dir", str(lab_dir), "ssh", "srv1", "hostname"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, result.stderr
    assert result.stderr == f"hawizard: there is no lab in {tmp_path}/lab; make one with: hawizard lab up\n"
    for usage in ([], ["srv9"]):  # bad usage: argparse's exit 2, also alike
        bad = subprocess.run([*ENTRY_POINTS[entry], "--dir", str(tmp_path), "ssh", *usage],
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2 and "Traceback" not in bad.stderr


# -- pid files ---------------------------------------------------------------------------------


def test_pid_file_of_a_live_foreign_process_is_not_trusted(tmp_path: Path) -> None:
    files = _files(tmp_path)
    files.dir.mkdir(parents=True)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        files.pidfile.write_text(f"{sleeper.pid}\n")
        assert vm.running_pid(files) is None  # alive, but not started with this pid file
        assert not files.pidfile.exists()  # the stale file is dropped
        assert vm.kill(files) is None
        assert sleeper.poll() is None  # and nothing was signalled
    finally:
        sleeper.kill()
        sleeper.wait()


def test_pid_file_of_our_process_is_found_and_killed(tmp_path: Path) -> None:
    files = _files(tmp_path)
    files.dir.mkdir(parents=True)
    # a stand-in for qemu: a process whose command line names the pid file, as qemu's does
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "-pidfile", str(files.pidfile)])
    try:
        files.pidfile.write_text(f"{proc.pid}\n")
        assert vm.running_pid(files) == proc.pid
        assert vm.kill(files) == proc.pid
        proc.wait(timeout=10)
        assert proc.returncode == -9
        assert not files.pidfile.exists()
        assert vm.running_pid(files) is None
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("content", ["", "garbage", "-5", "0"])
def test_unusable_pid_files(tmp_path: Path, content: str) -> None:
    pidfile = tmp_path / "qemu.pid"
    pidfile.write_text(content)
    assert vm.read_pidfile(pidfile) is None
    assert vm.read_pidfile(tmp_path / "absent.pid") is None


# -- ssh, seed, preset -------------------------------------------------------------------------


def test_ssh_argv_is_strict_and_loopback_only(paths: LabPaths) -> None:
    node = layout.plan_nodes(1)[0]
    argv = ssh.ssh_argv(paths, node, ["hostname"])
    assert argv[0] == "ssh" and argv[-3:] == ["--", "127.0.0.1", "hostname"]
    assert "StrictHostKeyChecking=yes" in argv
    assert f"UserKnownHostsFile={paths.known_hosts}" in argv
    assert argv[argv.index("-p") + 1] == "2221" and argv[argv.index("-l") + 1] == "root"


def test_remote_command_quoting() -> None:
    assert ssh.remote_command([]) is None
    assert ssh.remote_command(["cat /proc/drbd | head -1"]) == "cat /proc/drbd | head -1"
    assert ssh.remote_command(["echo", "a b", "$(x)"]) == "echo 'a b' '$(x)'"


@pytest.mark.skipif(not tools.find("ssh-keygen"), reason="ssh-keygen (openssh-client) is not installed")
def test_keys_known_hosts_and_seed(paths: LabPaths) -> None:
    nodes = layout.plan_nodes(2, 2220)
    ssh.ensure_keys(paths, nodes)
    ssh.write_known_hosts(paths, nodes)
    lines = paths.known_hosts.read_text().splitlines()
    assert lines[0].startswith("[127.0.0.1]:2221 ssh-ed25519 ")
    assert lines[1].startswith("[127.0.0.1]:2222 ssh-ed25519 ")
    assert lines[0].split()[2] != lines[1].split()[2]  # distinct host keys
    out = paths.root / "seed.tar"
    paths.ensure(paths.root)
    seed.write_seed(paths, nodes[0], out)
    assert out.stat().st_size % 512 == 0
    with tarfile.open(out) as tar:
        members = {m.name: m for m in tar.getmembers()}
        key = members["etc/ssh/ssh_host_ed25519_key"]
        assert key.mode == 0o600 and key.uid == 0
        auth = tar.extractfile("root/.ssh/authorized_keys").read().decode()
        assert auth.startswith("ssh-ed25519 ")
        unit = tar.extractfile("etc/systemd/network/10-hawizard-lab-eth2.network").read().decode()
        assert "MACAddress=52:54:00:4c:01:02" in unit and "Address=10.1.0.1/24" in unit


def test_lab_preset_has_the_node_facts(tmp_path: Path) -> None:
    nodes = layout.plan_nodes(2, 2220, 128, {"srv2": 256})
    out = preset.make_lab_preset(nodes, tmp_path / "lab.toml")
    data = tomllib.loads(out.read_text())
    assert data["stack"] == "debian12-crmsh"
    assert data["service"] == {"vip": "192.168.0.200", "vip_prefix": 24, "vip_nic": "eth1"}
    srv1, srv2 = data["nodes"]
    assert (srv1["ssh_host"], srv1["ssh_port"], srv1["ssh_user"]) == ("127.0.0.1", 2221, "root")
    assert srv2["ssh_port"] == 2222
    assert srv1["ssh_identity_file"] == str(tmp_path / "keys" / "id_ed25519")
    assert srv1["ssh_known_hosts"] == str(tmp_path / "known_hosts")
    assert srv1["service_nic"] == "eth1" and srv1["service_address"] == "192.168.0.101/24"
    assert srv2["interconnects"] == [{"nic": "eth2", "address": "10.1.0.2/24"},
                                     {"nic": "eth3", "address": "10.2.0.2/24"}]
    assert srv1["replication_address"] == "10.1.0.1" and srv1["backing_disk"] == "/dev/vdb"
    assert data["drbd"]["port"] == 7789
    # the lab has fencing hardware (a disk both VMs share, a watchdog each): a fenced design by default
    assert data["schema_version"] == 2
    assert data["fencing"]["method"] == "sbd" and data["fencing"]["sbd_devices"] == [layout.SBD_DEVICE]
    assert data["fencing"]["watchdog_device"] == layout.WATCHDOG_DEVICE
    assert data["drbd"]["fencing"] == "resource-and-stonith" and data["answers"]["switchover_failure"] == "fence"
    # and the article's unfenced design when asked for
    bare = tomllib.loads(preset.make_lab_preset(nodes, tmp_path / "bare.toml", fencing="none").read_text())
    assert bare["fencing"] == {"method": "none"} and bare["drbd"]["fencing"] == "dont-care"
    assert bare["answers"]["switchover_failure"] == "manual"


def test_lab_preset_for_each_lab_stack_validates(tmp_path: Path) -> None:
    """lab.toml can be written for each stack the image carries, and each is a clean design."""
    from hawizard.design.preset_file import load_preset
    from hawizard.design.validate import check

    for stack in layout.STACKS:
        out = preset.make_lab_preset(layout.plan_nodes(2, 2220), tmp_path / f"{stack}.toml", stack=stack)
        design = load_preset(str(out))
        assert design.stack == stack
        assert not [p for p in check(design) if p.severity == "error"], stack


def test_lab_up_refuses_a_stack_the_image_does_not_carry(tmp_path: Path) -> None:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "hawizard", "lab", "--dir", str(tmp_path), "up", "--stack", "el9-pcs"],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and "--stack" in r.stderr and "Traceback" not in r.stderr


def test_lab_preset_loads_with_the_preset_reader_if_present(tmp_path: Path) -> None:
    presets = pytest.importorskip("hawizard.design.preset_file", reason="hawizard.design.preset_file is not there yet")
    out = preset.make_lab_preset(layout.plan_nodes(2, 2220), tmp_path / "lab.toml")
    try:
        design = presets.load_preset(out)
    except ImportError as exc:  # a module the preset reader needs is still being written
        pytest.skip(f"the preset reader cannot load yet: {exc}")
    assert [n.name for n in design.nodes] == ["srv1", "srv2"]
    assert design.nodes[0].ssh_port == 2221


# -- paths -------------------------------------------------------------------------------------


def test_lab_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HAWIZARD_LAB_DIR", raising=False)
    monkeypatch.delenv("HAWIZARD_LAB_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert LabPaths.resolve().root == tmp_path / "xdg" / "hawizard" / "lab"
    monkeypatch.setenv("HAWIZARD_LAB_DIR", str(tmp_path / "env"))
    assert LabPaths.resolve().root == tmp_path / "env"
    assert LabPaths.resolve(tmp_path / "cli").root == tmp_path / "cli"
    assert LabPaths.resolve(tmp_path / "cli").cache == tmp_path / "cli" / "cache"
    monkeypatch.setenv("HAWIZARD_LAB_CACHE", str(tmp_path / "shared"))
    assert LabPaths.resolve(tmp_path / "cli").cache == tmp_path / "shared"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs under sudo")
def test_under_sudo_the_default_lab_dir_is_the_invoking_users(monkeypatch: pytest.MonkeyPatch) -> None:
    import pwd

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("SUDO_USER", "nobody")
    home = Path(pwd.getpwnam("nobody").pw_dir)
    from hawizard.lab.paths import default_lab_dir

    assert default_lab_dir() == home / ".cache" / "hawizard" / "lab"
    monkeypatch.delenv("SUDO_USER")
    assert default_lab_dir() == Path.home() / ".cache" / "hawizard" / "lab"


# -- BMC simulators (bmc.py) -------------------------------------------------------------------


def _all_ports(nodes: list[layout.LabNode]) -> list[int]:
    return [p for p, _k, _w in network.needed_ports(nodes)] + [p for p, _k, _w in network.bmc_ports(nodes)]


@pytest.mark.parametrize("base", [1024, layout.DEFAULT_PORT_BASE, 20000, 65535 - 202])
def test_port_plan_with_bmcs_has_no_collisions(base: int) -> None:
    nodes = layout.plan_nodes(2, base)
    ports = _all_ports(nodes)
    assert len(ports) == len(set(ports)), sorted(ports)
    assert [n.bmc_port for n in nodes] == [base + 201, base + 202]
    assert all(1025 <= p <= 65535 for p in ports)
    highest_qemu_port = max(p for p, _k, _w in network.needed_ports(nodes))
    assert min(n.bmc_port for n in nodes) > highest_qemu_port  # above every port qemu binds


def test_port_base_that_leaves_no_room_for_the_bmcs_is_refused() -> None:
    with pytest.raises(InputError) as err:
        layout.plan_nodes(2, 65535 - 201)  # the links still fit, srv2's BMC (base + 202) does not
    assert "65536" in str(err.value)


def _bmc_lab(tmp_path: Path, count: int = 2) -> tuple[LabPaths, list[layout.LabNode]]:
    """A lab state (lab.json) with nodes that never booted, on ports whose BMC ports are free."""
    from hawizard.lab import state

    paths = LabPaths(root=tmp_path / "lab", cache=tmp_path / "cache")
    for base in range(41000, 60000, 370):
        nodes = layout.plan_nodes(count, base)
        if all(network.port_is_free(p, "udp") for p, _k, _w in network.bmc_ports(nodes)):
            break
    paths.ensure(paths.state)
    state.save_state(paths, {"version": state.STATE_VERSION, "count": count, "port_base": base,
                             "disk_mib": {n.name: n.disk_mib for n in nodes}, "memory_mib": 768,
                             "image": {"hash": "none", "build_id": "none"}, "machine_ids": {}})
    return paths, nodes


def test_bmc_config_files(tmp_path: Path) -> None:
    from hawizard.lab import bmc

    paths, nodes = _bmc_lab(tmp_path)
    srv2 = nodes[1]
    files = bmc.write_config(paths, srv2)
    password = files.password.read_text()
    assert len(password) == bmc.PASSWORD_LENGTH and password.isalnum()
    assert files.dir == paths.state / "bmc" / "srv2"
    for path, mode in ((files.dir, 0o700), (files.password, 0o600), (files.lan_conf, 0o600),
                       (files.emu, 0o600), (files.chassis, 0o700)):
        assert path.stat().st_mode & 0o777 == mode, path
    lan = files.lan_conf.read_text()
    assert "startlan 1\n" in lan and "endlan\n" in lan
    assert f"  addr 127.0.0.1 {srv2.bmc_port}\n" in lan
    assert "  priv_limit admin\n" in lan and "  guid " in lan  # no GUID: ipmi_sim refuses RMCP+
    assert f'user 2 true "admin" "{password}" admin 10 md5\n' in lan
    assert f"chassis_control \"'{files.chassis}'\"" not in lan  # a plain path needs no quotes
    assert f'chassis_control "{files.chassis}"\n' in lan
    assert "none" not in lan.split("startlan")[1] and "straight" not in lan  # no unauthenticated IPMI 1.5
    emu = files.emu.read_text().splitlines()
    assert [line.split()[0] for line in emu if not line.startswith("#")] == ["mc_setbmc", "mc_add", "mc_enable"]
    assert "mc_enable 0x20" in emu  # without it ipmi_sim opens no LAN socket
    # the password is on no command line this module builds, nor in the program ipmi_sim runs
    for argv in (bmc.ipmi_sim_argv(files), bmc.chassis_argv(paths, "srv2")):
        assert not any(password in word for word in argv), argv
    assert password not in files.chassis.read_text()
    assert "-n" in bmc.ipmi_sim_argv(files) and "-p" in bmc.ipmi_sim_argv(files)
    # a new password at every start
    bmc.write_config(paths, srv2)
    assert files.password.read_text() != password
    assert password not in files.lan_conf.read_text()


def test_bmc_program_path_is_quoted_for_the_shell_ipmi_sim_uses(tmp_path: Path) -> None:
    from hawizard.lab import bmc

    paths = LabPaths(root=tmp_path / "a lab; touch x", cache=tmp_path / "cache")
    node = layout.plan_nodes(2, 30000)[1]
    lan = bmc.lan_conf_text(node, bmc.files_of(paths, "srv2"), "pw")
    assert f"chassis_control \"'{paths.root}/state/bmc/srv2/chassis'\"\n" in lan
    for bad in ('a"lab', "a\\lab", "a\nlab"):
        with pytest.raises(EnvironmentProblem) as err:
            bmc.lan_conf_text(node, bmc.files_of(LabPaths(root=tmp_path / bad, cache=tmp_path), "srv2"), "pw")
        assert "lan.conf" in str(err.value) and err.value.exit_code == 3


def test_bmc_fence_keys_are_the_preset_node_fields(tmp_path: Path) -> None:
    import dataclasses

    from hawizard.design.model import Node
    from hawizard.lab import bmc

    paths, nodes = _bmc_lab(tmp_path)
    keys = bmc.fence_keys(paths, nodes[1])
    assert set(keys) <= {f.name for f in dataclasses.fields(Node)}
    assert keys["fence_agent"] == "fence_ipmilan"
    assert keys["fence_params"] == {"ip": "127.0.0.1", "ipport": str(nodes[1].bmc_port), "username": "admin",
                                    "lanplus": "1", "cipher": "3"}
    assert keys["fence_password_ref"] == f"file:{paths.state / 'bmc' / 'srv2' / 'password'}"


def _fence(params: dict[str, str], action: str) -> subprocess.CompletedProcess:
    """The real fence_ipmilan with its arguments on stdin (as Pacemaker's fencer passes them)."""
    text = "".join(f"{k}={v}\n" for k, v in {**params, "action": action}.items())
    return subprocess.run(["fence_ipmilan"], input=text, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not all(tools.find(t) for t in ("ipmi_sim", "ipmitool", "fence_ipmilan")),
                    reason="ipmi_sim, ipmitool or fence_ipmilan missing (apt-get install openipmi ipmitool "
                           "fence-agents)")
def test_bmc_real_ipmi_sim_reports_and_cuts_the_power_of_the_node_process(tmp_path: Path) -> None:
    """The real ipmi_sim, ipmitool and fence_ipmilan on 127.0.0.1; the node's qemu is a stand-in
    process that names the node's qemu.pid (the lab trusts nothing else): status ON, off kills it
    (SIGKILL by pid), status OFF; a wrong password is refused; 'lab down' stops the BMC."""
    from hawizard.lab import bmc

    paths, nodes = _bmc_lab(tmp_path)
    srv2 = nodes[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAWIZARD_LAB")}
    env["HAWIZARD_LAB_CACHE"] = str(paths.cache)
    node_files = vm.NodeFiles(paths.node_dir("srv2"))
    node_files.dir.mkdir(parents=True)
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "-pidfile",
                                 str(node_files.pidfile)])
    files = bmc.files_of(paths, "srv2")
    try:
        node_files.pidfile.write_text(f"{stand_in.pid}\n")
        started = run_lab("--dir", str(paths.root), "bmc", "start", "srv2", env=env)
        assert started.returncode == 0, started.stderr
        password = files.password.read_text()
        assert f"127.0.0.1:{srv2.bmc_port}" in started.stdout and "user admin" in started.stdout
        assert str(files.password) in started.stdout and password not in started.stdout + started.stderr
        pid = bmc.running_pid(files)
        assert pid is not None and password.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
        assert bmc.running_pid(bmc.files_of(paths, "srv1")) is None  # only the node asked for

        ipmitool = ["ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", str(srv2.bmc_port),
                    "-U", "admin", "-f", str(files.password), "chassis", "power", "status"]
        r = subprocess.run(ipmitool, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "Chassis Power is on" in r.stdout, r.stdout + r.stderr

        params = {**bmc.fence_keys(paths, srv2)["fence_params"], "password": password}
        r = _fence(params, "status")
        assert r.returncode == 0 and "Status: ON" in r.stdout, r.stdout + r.stderr
        r = _fence({**params, "password": password[::-1]}, "status")
        assert r.returncode != 0 and "Status" not in r.stdout  # a wrong password gets no answer
        r = _fence(params, "off")
        assert r.returncode == 0 and "Powered OFF" in r.stdout, r.stdout + r.stderr
        stand_in.wait(timeout=10)
        assert stand_in.returncode == -9  # SIGKILL: a power loss, not a shutdown
        r = _fence(params, "status")
        assert r.returncode == 2 and "Status: OFF" in r.stdout, r.stdout + r.stderr  # 2 = off (fence-agent API)
        log = files.events.read_text()
        assert "set power 0: power cut" in log and password not in log

        status = run_lab("--dir", str(paths.root), "bmc", "status", env=env)
        assert status.returncode == 0 and f"ipmi_sim pid {pid}" in status.stdout
        down = run_lab("--dir", str(paths.root), "down", env=env)
        assert down.returncode == 0 and "BMC stopped" in down.stdout, down.stderr
        assert bmc.running_pid(files) is None and not vm.pid_is_ours(pid, files.lan_conf)
        assert network.port_is_free(srv2.bmc_port, "udp")
    finally:
        if stand_in.poll() is None:
            stand_in.kill()
        bmc.stop(files)
