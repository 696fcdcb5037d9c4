"""Driving `hawizard` against the lab from the lab tests: run it, read its step times, ask the
cluster where the service runs, wait for the page through the VIP, kill an apply mid-way.

Shared by the crmsh build (tests/lab/test_stage2_cluster.py) and the pcs build
(tests/lab/test_stage5_pcs.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

from hawizard.design.preset_file import load_preset
from hawizard.readers.crm_mon.parse import parse_crm_mon

PAGE = "hawizard test page"
VIP = "192.168.0.200"


def hawizard(*args: str, env: dict, timeout: float = 3600) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "hawizard", *args], capture_output=True, text=True, env=env,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    print(f"$ hawizard {' '.join(args)} -> {r.returncode}\n{r.stdout[-20000:]}\n{r.stderr[-5000:]}")
    return r


def step_times(output: str) -> dict[str, float]:
    """'[srv1] initial-sync: ok in 18.3 s' -> {'initial-sync': 18.3} (the longest node)."""
    out: dict[str, float] = {}
    for m in re.finditer(r"^\[\S+\] ([a-z-]+): (?:ok|already done) in ([\d.]+) s", output, re.M):
        out[m.group(1)] = max(out.get(m.group(1), 0.0), float(m.group(2)))
    return out


def cluster(lab, node: str):
    r = lab.ssh(node, "crm_mon -1 --output-as=xml", check=False, timeout=60)
    return parse_crm_mon(r.stdout) if r.returncode == 0 else None


def serving_node(lab, via: str, timeout: float = 300) -> str:
    """Ask the cluster (through node ``via``) where the group runs, waiting until it runs somewhere."""
    design = load_preset(str(lab.preset))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = cluster(lab, via)
        if st and st.all_started_on(design.cluster.ids.group):
            return st.all_started_on(design.cluster.ids.group)
        time.sleep(3)
    raise AssertionError("the service group is not running anywhere")


def wait_page(lab, from_node: str, path: str, want: str, timeout: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        r = lab.ssh(from_node, f"curl -fsS --max-time 3 http://{VIP}/{path}", check=False, timeout=30)
        if r.returncode == 0 and want in r.stdout:
            return time.monotonic() - t0
        time.sleep(1)
    raise AssertionError(f"http://{VIP}/{path} did not answer from {from_node} within {timeout} s")


def apply_killed_at(preset: str, marker: str, env: dict, timeout: float = 3600) -> str:
    """Start `hawizard apply --yes` (or --resume), SIGKILL it when ``marker`` appears in its output."""
    proc = subprocess.Popen([sys.executable, "-m", "hawizard", "apply", preset, "--yes",
                             *(["--resume"] if "resume" in env.get("_HW_MODE", "") else [])],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            stdin=subprocess.DEVNULL)
    seen = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            proc.kill()
            break
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"{marker!r} not reached in {timeout} s")
    proc.wait()
    out = "".join(seen)
    print(out[-8000:])
    assert proc.returncode == -9, f"apply ended before {marker!r} (exit {proc.returncode})"
    return out


def adopt_over_ssh(lab, out, name: str, env: dict) -> subprocess.CompletedProcess:
    """``hawizard adopt --node`` of both lab nodes (the lab's key and known_hosts) into ``out``."""
    design = load_preset(str(lab.preset))
    args = ["adopt", "-o", str(out), "--name", name, "-i", design.nodes[0].ssh_identity_file,
            "--known-hosts", design.nodes[0].ssh_known_hosts]
    for n in design.nodes:
        args += ["--node", f"{n.ssh_user}@{n.ssh_host}:{n.ssh_port}"]
    return hawizard(*args, env=env, timeout=900)
