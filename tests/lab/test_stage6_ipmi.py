"""IPMI fencing checked against a real BMC: the ``fence_ipmilan`` device that hawizard renders,
run by the real agent against a real IPMI LAN BMC whose power is a lab VM's.

The BMC is OpenIPMI's ``ipmi_sim`` on 127.0.0.1 (``hawizard lab bmc start``, hawizard/lab/bmc.py):
chassis power status is "srv2's qemu is alive", off is a power loss (SIGKILL of that qemu), on
boots srv2 again on its disks. The design is the lab's preset with fencing on and each node's
fence device its BMC (bmc.fence_keys); hawizard renders it, the rendered crm file is loaded
into a file CIB with crmsh (as tests/validators/test_cluster_config.py does, the password
filled in from the BMC's 0600 password file), and the stonith primitive of srv2 is read back
from the CIB XML. Its instance attributes go to fence_ipmilan on stdin as Pacemaker's fencer
passes them (``key=value`` lines, its own pcmk_* attributes left out, plus the target as
``nodename`` and as ``plug``, the host argument the fencer picks from the agent's metadata;
Pacemaker Explained, "Special Fencing Device Attributes"; the fence-agent API) with
``action=status``, ``off``, ``status``, ``on``. Every packet goes to 127.0.0.1; nothing runs
in the guests. Each call's time is printed.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hawizard.design.preset_file import design_from_dict
from hawizard.lab import bmc, control, ssh, vm
from hawizard.render.renderer import render

pytestmark = pytest.mark.lab_extended  # outside the CI budget: -m lab_extended (docs/lab.md)

TOOLS = ("ipmi_sim", "fence_ipmilan", "cibadmin", "crm")
STACK = "debian12-crmsh"  # the crm file is what this test loads; lab.toml may be for pcs after stage 5


@pytest.fixture
def bmcs(lab):
    """Both nodes' BMCs started; afterwards, even when the test failed: BMCs stopped, srv2 up."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (apt-get install openipmi fence-agents "
                    "pacemaker-cli-utils crmsh)")
    lab.cli("bmc", "start")
    try:
        yield lab
    finally:
        _wait_for_boot_outcome(lab, "srv2", control.DEFAULT_BOOT_TIMEOUT + 60)  # a boot the BMC began
        lab.cli("bmc", "stop", check=False)
        if lab.pid("srv2") is None:  # the test stopped between off and on: power srv2 on again
            lab.cli("start", "srv2", check=False)
        assert bmc.running_pid(bmc.files_of(lab.paths, "srv2")) is None


def _wait_for_boot_outcome(lab, name: str, timeout: float) -> str:
    """The outcome line of the BMC's latest background boot, once it wrote one ('' if none began)."""
    log = bmc.files_of(lab.paths, name).events
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(errors="replace") if log.exists() else ""
        began = text.rfind("powering on in the background")
        if began < 0:
            return ""
        for line in text[began:].splitlines():
            if "powered on; SSH answers" in line or "power on failed" in line:
                return line
        if time.monotonic() > deadline:
            return ""
        time.sleep(2)


def _design(lab):
    """lab.toml with fencing on, each node fenced by its own lab BMC."""
    data = tomllib.loads(lab.preset.read_text())
    data["stack"] = STACK
    data["fencing"] = {"method": "agent", "race": "priority"}  # a fence agent per node instead of sbd
    for node in data["nodes"]:
        node.update(bmc.fence_keys(lab.paths, lab.node(node["name"])))
    return design_from_dict(data, str(lab.preset))


def _tool(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """A cluster tool with a home of its own (crmsh writes ~/.cache/crm; see tests/validators/harness.py)."""
    with tempfile.TemporaryDirectory(prefix="hawizard-tool-home-") as home:
        full = dict(os.environ, HOME=home, XDG_CACHE_HOME=f"{home}/.cache", XDG_CONFIG_HOME=f"{home}/.config",
                    **env)
        return subprocess.run(argv, capture_output=True, text=True, env=full, timeout=120, stdin=subprocess.DEVNULL)


def _file_cib(crm_file: Path, where: Path, node_names: list[str]) -> Path:
    """The rendered crm file loaded into a file CIB, the nodes declared as membership would."""
    cib = where / "cib.xml"
    r = _tool(["cibadmin", "--empty"], {})
    assert r.returncode == 0, r.stderr
    cib.write_text(r.stdout)
    for i, name in enumerate(node_names, start=1):
        r = _tool(["cibadmin", "-C", "-o", "nodes", "-X", f'<node id="{i}" uname="{name}"/>'], {"CIB_file": str(cib)})
        assert r.returncode == 0, r.stderr
    r = _tool(["crm", "configure", "load", "update", str(crm_file)], {"CIB_file": str(cib)})
    assert r.returncode == 0, f"crm configure load update failed:\n{r.stdout}{r.stderr}"
    return cib


def _fencer_args(cib: Path, device: str, target: str) -> dict[str, str]:
    """What Pacemaker's fencer hands the agent for ``device`` fencing ``target``."""
    primitive = ET.parse(cib).getroot().find(f".//resources/primitive[@id='{device}']")
    assert primitive is not None, f"no primitive {device} in the CIB"
    assert (primitive.get("class"), primitive.get("type")) == ("stonith", "fence_ipmilan")
    args = {nv.get("name"): nv.get("value") for nv in primitive.findall("./instance_attributes/nvpair")}
    args = {k: v for k, v in args.items() if not k.startswith("pcmk_")}  # the fencer's own settings
    return {**args, "nodename": target, "plug": target}


def _fence(args: dict[str, str], action: str, timings: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    assert ipaddress.ip_address(args["ip"]).is_loopback, "the network rule: only 127.0.0.0/8"
    text = "".join(f"{k}={v}\n" for k, v in {**args, "action": action}.items())
    t0 = time.monotonic()
    r = subprocess.run(["fence_ipmilan"], input=text, capture_output=True, text=True, timeout=300)
    seconds = time.monotonic() - t0
    print(f"fence_ipmilan action={action}: exit {r.returncode} in {seconds:.1f}s: {r.stdout.strip()}")
    timings.setdefault(f"ipmi: fence_ipmilan {action}", f"{seconds:.1f}s")
    return r, seconds


def test_rendered_fence_ipmilan_device_powers_srv2_off_and_on_through_a_real_bmc(bmcs, tmp_path, lab_timings):
    lab = bmcs
    design = _design(lab)
    rendering = render(design)
    passwords = {f"fence-{n}": bmc.files_of(lab.paths, n).password.read_text().strip() for n in ("srv1", "srv2")}
    crm_file = tmp_path / "cluster.crm"
    crm_file.write_text(rendering.get("cluster-config").with_secrets(passwords))
    crm_file.chmod(0o600)
    cib = _file_cib(crm_file, tmp_path, design.node_names)
    args = _fencer_args(cib, f"{design.cluster.ids.fence_prefix}srv2", "srv2")
    srv2 = lab.node("srv2")
    assert args["ip"] == "127.0.0.1" and args["ipport"] == str(srv2.bmc_port)
    assert args["password"] == passwords["fence-srv2"]  # through the renderer's crm quoting, crmsh and the CIB

    pidfile = vm.NodeFiles(lab.paths.node_dir("srv2")).pidfile
    srv1_pid, srv2_pid = lab.pid("srv1"), lab.pid("srv2")
    assert srv1_pid and srv2_pid

    r, _ = _fence(args, "status", lab_timings)
    assert r.returncode == 0 and "Status: ON" in r.stdout, r.stdout + r.stderr

    r, _ = _fence(args, "off", lab_timings)
    assert r.returncode == 0 and "Powered OFF" in r.stdout, r.stdout + r.stderr
    assert not vm.pid_is_ours(srv2_pid, pidfile), f"srv2's qemu (pid {srv2_pid}) still runs after off"
    assert lab.pid("srv2") is None

    r, _ = _fence(args, "status", lab_timings)
    assert r.returncode == 2 and "Status: OFF" in r.stdout, r.stdout + r.stderr  # 2 = off, the fence-agent API

    log = bmc.files_of(lab.paths, "srv2").events
    since = log.stat().st_size
    t_on = time.monotonic()
    r, _ = _fence(args, "on", lab_timings)
    assert r.returncode == 0 and "Powered ON" in r.stdout, r.stdout + r.stderr
    new_pid = lab.pid("srv2")
    assert new_pid is not None and new_pid != srv2_pid
    deadline = t_on + control.DEFAULT_BOOT_TIMEOUT
    while not ssh.probe(lab.paths, srv2):
        assert time.monotonic() < deadline, f"SSH of srv2 did not answer within {control.DEFAULT_BOOT_TIMEOUT:.0f}s"
        assert lab.pid("srv2") is not None, "srv2's qemu died while booting:\n" + log.read_text()[since:]
        time.sleep(2)
    up_seconds = time.monotonic() - t_on
    print(f"srv2: SSH answers {up_seconds:.1f}s after fence_ipmilan action=on began")
    lab_timings["ipmi: on until SSH answers"] = f"{up_seconds:.1f}s"
    outcome = _wait_for_boot_outcome(lab, "srv2", control.DEFAULT_BOOT_TIMEOUT)
    assert "powered on; SSH answers" in outcome, log.read_text()[since:]
    assert lab.ssh("srv2", "hostname").stdout.strip() == "srv2"
    assert lab.pid("srv1") == srv1_pid  # the other node was never touched
    assert passwords["fence-srv2"] not in log.read_text()
