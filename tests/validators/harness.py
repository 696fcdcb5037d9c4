"""Shared machinery of the validator tests: the designs checked, the rendered files on disk, the
tools, and a namespace runner that gives a parser the host name and addresses of one node.

Nothing here imitates a tool: every check runs the real binary from Debian's packages
(pacemaker-cli-utils, crmsh, pcs, drbd-utils, corosync, apache2, heartbeat, resource-agents,
fence-agents) and a test is skipped, with the reason, when the binary is missing.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hawizard.design import lint, stacks, validate
from hawizard.design.model import Design
from hawizard.design.preset_file import design_from_dict, design_to_dict, load_preset
from hawizard.design.problems import ERROR
from hawizard.render.renderer import Rendering, render

PRESETS = Path(__file__).resolve().parents[2] / "presets"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Dummy secrets. The fence password holds every character the crm and shell quoting must survive.
FENCE_PASSWORD = "p@ss w0rd\"q'$x\\y"
SECRET_VALUES = {
    "heartbeat-authkey": "0123456789abcdef0123456789abcdef",
    "corosync-authkey": "not-a-key-file",
    "drbd-secret": "Dummy0Secret0For0Validation",
}


def secrets_for(rendering: Rendering) -> dict[str, str]:
    values = dict(SECRET_VALUES)
    for name in rendering.secrets:
        if name.startswith("fence-"):
            values[name] = FENCE_PASSWORD
    return values


# -- the designs ------------------------------------------------------------------------

def _third_interconnect(d: dict) -> None:
    for i, n in enumerate(d["nodes"], start=1):
        n["interconnects"].append({"nic": "eth3", "address": f"10.3.0.{i}/24"})


def _other_disks(d: dict) -> None:
    d["nodes"][0]["backing_disk"] = "/dev/sdb1"
    d["nodes"][1]["backing_disk"] = "/dev/vdc"


def _web_root(d: dict) -> None:
    d["service"]["mount_point"] = "/srv/web"
    d["service"]["document_root"] = "/srv/web/htdocs"


def _no_fencing(d: dict) -> None:
    d["fencing"]["method"] = "none"
    d["fencing"]["race"] = "none"
    d["answers"]["switchover_failure"] = "manual"
    d["drbd"]["fencing"] = "dont-care"
    for n in d["nodes"]:
        n["fence_agent"] = ""
        n["fence_password_ref"] = ""
        n["fence_params"] = {}


def _article_ucast(d: dict) -> None:
    d["heartbeat"]["transport"] = "ucast"
    d["heartbeat"]["auth"] = "sha1"
    d["heartbeat"]["pacemaker_directive"] = "pacemaker respawn"
    d["drbd"]["shared_secret_ref"] = "generate"
    _other_disks(d)


def _article_wide(d: dict) -> None:
    _third_interconnect(d)
    _web_root(d)
    d["heartbeat"]["auth"] = "md5"
    d["drbd"]["fencing"] = "resource-only"
    d["drbd"]["on_io_error"] = "detach"
    d["drbd"]["local_io_error_handler"] = ""
    d["cluster"]["migration_threshold"] = 2
    d["cluster"]["failure_timeout_s"] = 600
    d["cluster"]["recheck_interval_s"] = 300  # Pacemaker 1.0 knows cluster-recheck-interval too


def _debian_wide(d: dict) -> None:
    _no_fencing(d)
    _third_interconnect(d)
    _other_disks(d)
    _web_root(d)
    d["drbd"]["shared_secret_ref"] = "generate"
    d["timing"]["default_action_timeout_s"] = 120
    d["cluster"]["drbd_promoted_monitor_interval_s"] = 0
    d["cluster"]["migration_threshold"] = 0
    d["cluster"]["failure_timeout_s"] = 600
    d["cluster"]["recheck_interval_s"] = 120
    d["corosync"]["link_mode"] = "rr"  # 3 knet links
    # the dynamic resync controller (drbd.conf(5) for 8.4 and 9, disk section)
    d["drbd"].update(c_plan_ahead=40, c_fill_target=200, c_max_rate="60M", c_min_rate="1M")


def _debian_udpu(d: dict) -> None:
    d["corosync"]["transport"] = "udpu"
    d["corosync"]["crypto_cipher"] = d["corosync"]["crypto_hash"] = "none"  # udpu has no crypto: refused otherwise
    for n in d["nodes"]:
        n["interconnects"] = n["interconnects"][:1]
    d["service"]["status_allow"] = "10.1.0.9"
    d["drbd"]["local_io_error_handler"] = "/usr/lib/drbd/notify-io-error.sh; echo \"io error\" >&2"
    d["corosync"]["wait_for_all"] = "off"  # votequorum's wait_for_all: 0 (lint warns of it; accepted)


def _el9_wide(d: dict) -> None:
    _debian_wide(d)
    d["cluster"]["ids"]["drbd_clone"] = "ms_drbd_r0"
    d["corosync"]["wait_for_all"] = "on"
    d["corosync"]["link_mode"] = "active"
    d["drbd"].update(c_plan_ahead=0, c_fill_target=0, c_min_rate="")  # the controller off: a fixed resync rate
    d["service"]["status_allow"] = "10.1.0.9"


def _qdevice(**net) -> dict:
    """A quorum device on a third host (corosync-qdevice(8)); two_node off, as votequorum requires."""
    return {"host": "192.168.0.50", **net}


def _debian_qdevice_onfail(d: dict) -> None:
    d["corosync"]["qdevice"].update(_qdevice())
    d["corosync"]["two_node"] = False
    # with el9-qdevice-quorum, every value Pacemaker 2.1 has for a primitive passes crm_verify somewhere
    d["cluster"]["on_fail"].update(monitor="ignore", promoted_monitor="demote", start="stop", promote="demote",
                                   demote="standby")


def _el9_qdevice_quorum(d: dict) -> None:
    d["corosync"]["qdevice"].update(_qdevice(port=5404, algorithm="lms", tls="off", tie_breaker="highest"))
    d["corosync"]["two_node"] = False
    d["drbd"].update(quorum="majority", on_no_quorum="io-error")  # DRBD 9 quorum (lint warns: two nodes)
    d["cluster"]["on_fail"].update(monitor="standby", promoted_monitor="demote", start="restart", stop="fence",
                                   promote="block", demote="stop")


def _article_onfail(d: dict) -> None:
    # the values Pacemaker 1.0 knows (resources-1.0.rng); no fencing, so no fence
    d["cluster"]["on_fail"].update(monitor="standby", start="stop", stop="block", promote="restart",
                                   demote="ignore")


def _ipmi(race: str) -> Callable[[dict], None]:
    """Each node fenced through its own BMC (fence_ipmilan), fence races settled by ``race``."""
    def change(d: dict) -> None:
        d["fencing"].update(method="agent", race=race, sbd_devices=[])
        for n, ip in zip(d["nodes"], ("192.168.0.11", "192.168.0.12"), strict=True):
            n.update(fence_agent="fence_ipmilan", fence_password_ref="env:HAWIZARD_IPMI_PASSWORD",
                     fence_params={"ip": ip, "username": "admin", "lanplus": "1"})
    return change


def _sbd(race: str) -> Callable[[dict], None]:
    """One shared sbd disk and the watchdog, fence races settled by ``race``."""
    def change(d: dict) -> None:
        d["fencing"].update(method="sbd", race=race,
                            sbd_devices=["/dev/disk/by-id/wwn-0x6001405a1b2c3d4e5f60718293a4b5c6"])
        for n in d["nodes"]:
            n.update(fence_agent="", fence_password_ref="", fence_params={})
    return change


@dataclass(frozen=True)
class CaseSpec:
    id: str
    preset: str
    stack: str
    change: Callable[[dict], None] | None = None
    note: str = ""


CASES: tuple[CaseSpec, ...] = (
    CaseSpec("article", "article", "centos5-heartbeat"),
    CaseSpec("article-ucast-sha1", "article", "centos5-heartbeat", _article_ucast,
             "heartbeat ucast + sha1 authkeys, 'pacemaker respawn', DRBD shared secret, different backing disks"),
    CaseSpec("article-3links-webroot", "article", "centos5-heartbeat", _article_wide,
             "3 interconnects, md5 authkeys, document root /srv/web/htdocs, DRBD resource-only fencing"),
    CaseSpec("debian12", "debian12", "debian12-crmsh"),
    CaseSpec("debian12-nofence-3links", "debian12", "debian12-crmsh", _debian_wide,
             "no fencing, 3 knet links in rr mode, the resync controller set, DRBD shared secret, different disks, /srv/web/htdocs, op_defaults"),
    CaseSpec("debian12-udpu", "debian12", "debian12-crmsh", _debian_udpu,
             "corosync udpu with one link, wait_for_all 0, server-status allowed from another address, a quoted io-error "
             "handler"),
    CaseSpec("debian12-pcs", "debian12-pcs", "debian12-pcs"),
    CaseSpec("debian12-ipmi-static", "debian12", "debian12-crmsh", _ipmi("static"),
             "fence_ipmilan per node, a static delay on the first node's device"),
    CaseSpec("debian12-ipmi-random", "debian12", "debian12-crmsh", _ipmi("random"),
             "fence_ipmilan per node, random delays (pcmk_delay_max)"),
    CaseSpec("debian12-pcs-ipmi-priority", "debian12-pcs", "debian12-pcs", _ipmi("priority"),
             "fence_ipmilan per node, priority-fencing-delay with a priority on the promotable clone"),
    CaseSpec("debian12-qdevice-onfail", "debian12", "debian12-crmsh", _debian_qdevice_onfail,
             "a quorum device (ffsplit, tls on), on-fail set per operation (demote on the promoted monitor and "
             "promote)"),
    CaseSpec("article-onfail", "article", "centos5-heartbeat", _article_onfail,
             "on-fail set per operation with Pacemaker 1.0's values"),
    CaseSpec("el9", "el9", "el9-pcs"),
    CaseSpec("el9-qdevice-quorum", "el9", "el9-pcs", _el9_qdevice_quorum,
             "a quorum device (lms, tls off, port 5404, tie-breaker highest), DRBD 9 quorum majority with io-error, "
             "on-fail set per operation"),
    CaseSpec("el9-sbd-static", "el9", "el9-pcs", _sbd("static"), "fence_sbd on one shared disk, a static delay"),
    CaseSpec("el9-nofence-3links", "el9", "el9-pcs", _el9_wide,
             "no fencing, 3 knet links in active mode, wait_for_all 1, the resync controller off, DRBD shared secret, different disks, clone id ms_drbd_r0"),
)


def case_ids(*stack_names: str, where: Callable[[CaseSpec], bool] | None = None) -> list[str]:
    return [c.id for c in CASES if (not stack_names or c.stack in stack_names) and (where is None or where(c))]


@dataclass
class Case:
    spec: CaseSpec
    design: Design
    rendering: Rendering

    @property
    def stack(self) -> stacks.Stack:
        return stacks.get(self.design.stack)

    def text(self, file_id: str) -> str:
        """A rendered file with dummy secrets filled in, as the runner would write it."""
        return self.rendering.get(file_id).with_secrets(secrets_for(self.rendering))


@functools.cache
def case(case_id: str) -> Case:
    spec = next(c for c in CASES if c.id == case_id)
    design = load_preset(PRESETS / f"{spec.preset}.toml")
    if spec.change:
        data = design_to_dict(design)
        spec.change(data)
        design = design_from_dict(data, f"<{spec.id}>")
    errors = [p for p in validate.check(design) + lint.check(design) if p.severity == ERROR]
    assert not errors, f"variant {spec.id} is not a valid design: {errors}"
    assert design.stack == spec.stack
    return Case(spec, design, render(design))


# -- running tools ----------------------------------------------------------------------

def require(*tools: str) -> None:
    missing = [t for t in tools if not (shutil.which(t) or (t.startswith("/") and os.access(t, os.X_OK)))]
    if missing:
        pytest.skip(f"validator tool(s) not installed: {', '.join(missing)} "
                    "(CI installs them from Debian's packages)")


def run(cmd: list[str] | str, *, env: dict[str, str] | None = None, cwd: str | Path | None = None,
        timeout: float = 60, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a tool with its own, new home directory (HOME and the XDG directories under it).

    Why a home per call: crmsh creates ~/.cache/crm and ~/.config/crm with a check-then-create
    (crmsh/userdir.py mv_user_files), so several crm processes started at once on a machine
    where crm never ran crash with FileExistsError; and a tool must not read the operator's
    own ~/.config/crm/crm.conf or ~/.pcs either. ``env`` may still set HOME explicitly.
    """
    full_env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="hawizard-tool-home-") as home:
        full_env.update(tool_home_env(Path(home)))
        full_env.update(env or {})
        full_env.setdefault("LC_ALL", "C.UTF-8")
        return subprocess.run(cmd, env=full_env, cwd=cwd, input=input, capture_output=True, text=True,
                              timeout=timeout, shell=isinstance(cmd, str), check=False)


def tool_home_env(home: Path) -> dict[str, str]:
    """HOME and XDG directories inside ``home``, created now (a fresh machine has none of them)."""
    dirs = {"XDG_CACHE_HOME": home / ".cache", "XDG_CONFIG_HOME": home / ".config",
            "XDG_DATA_HOME": home / ".local" / "share", "XDG_STATE_HOME": home / ".local" / "state"}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    return {"HOME": str(home), **{k: str(v) for k, v in dirs.items()}}


def plain(text: str) -> str:
    return ANSI.sub("", text)


def show(proc: subprocess.CompletedProcess[str]) -> str:
    cmd = proc.args if isinstance(proc.args, str) else shlex.join(proc.args)
    return f"$ {cmd}\nexit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


@functools.lru_cache(maxsize=1)
def _unshare_prefix() -> tuple[str, ...] | None:
    """unshare as root, or with a user namespace mapped to root; None when neither works."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        return None
    for prefix in (("unshare",), ("unshare", "--user", "--map-root-user")):
        if prefix == ("unshare",) and os.geteuid() != 0:
            continue
        probe = run([*prefix, "--uts", "--net", "--mount", "sh", "-c",
                     "hostname probe && ip link set lo up && ip addr add 192.0.2.1/32 dev lo && "
                     "mount -t tmpfs tmpfs /mnt"], timeout=10)
        if probe.returncode == 0:
            return prefix
    return None


def in_namespace(script: str, *args: str, pid: bool = False, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run a shell script in fresh UTS, network and mount namespaces (and a PID namespace if asked).

    Nothing the script does (host name, addresses, tmpfs mounts, processes) outlives it or reaches
    the host: the namespaces die with the script.
    """
    prefix = _unshare_prefix()
    if prefix is None:
        pytest.skip("cannot create UTS/network/mount namespaces here (needs root or user namespaces)")
    flags = ["--uts", "--net", "--mount"]
    if pid:  # a daemon inside: its processes and SysV IPC die with the script
        flags += ["--pid", "--fork", "--mount-proc", "--ipc"]
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write("set -e\n" + script)
        path = f.name
    try:
        return run([*prefix, *flags, "sh", path, *args], timeout=timeout)
    finally:
        os.unlink(path)


NS_NODE_SETUP = """\
hostname "$NODE"
ip link set lo up
for a in $ADDRS; do ip addr add "$a" dev lo; done
"""


def node_env_script(node: str, addresses: Iterable[str], body: str) -> str:
    """A namespace script that first becomes NODE, owning ADDRESSES (on lo), then runs BODY."""
    addrs = " ".join(f"{a}/32" if "/" not in a else a for a in addresses)
    return f"NODE={shlex.quote(node)}\nADDRS={shlex.quote(addrs)}\n" + NS_NODE_SETUP + body


def write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def report(request: pytest.FixtureRequest, title: str, lines: Iterable[str]) -> None:
    """Print accepted tool warnings: shown with -rP / -s, and attached to the JUnit report."""
    lines = list(lines)
    if lines:
        print(f"\n[{request.node.name}] {title}:\n  " + "\n  ".join(lines))
        request.node.user_properties.append((title, "\n".join(lines)))
