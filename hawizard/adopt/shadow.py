"""The CIB objects hawizard would create, made by the real tools offline: the rendered cluster configuration
loaded into an empty file CIB.

Why the real tools: the objects a re-apply makes are what crmsh or pcs make of hawizard's script
(ids of nvpairs and operations, the operations pcs adds from the agent's metadata, crmsh's
spelling of roles), not what a model of ours would guess. The load is the one the validators
run (tests/validators/test_cluster_config.py): ``cibadmin --empty`` (``pacemaker-1.0`` for a
Pacemaker 1.0 stack), the two nodes declared as membership would, then ``CIB_file=F crm configure
load update SCRIPT`` or ``PCS=pcs sh cluster.pcs.sh F`` (each line a ``pcs -f F ...``). The file
CIB is then upgraded (``cibadmin --upgrade --force``) to the schema the live CIB is upgraded to
(hawizard/adopt/cib.py), so the two compare element by element. Nothing touches a cluster.

Secrets: each secret slot of the script is filled with a marker (``HAWIZARD-SECRET-<name>``), never
a value; the comparison (cibdiff.py) treats an attribute holding a marker as "a secret is here",
compared for presence only. Every tool runs with a home directory of its own (crmsh creates
~/.cache/crm with a check-then-create race, and must not read the operator's crm.conf).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hawizard.common.errors import EnvironmentProblem, InputError
from hawizard.design import stacks
from hawizard.design.model import Design
from hawizard.render.renderer import Rendering

SECRET_MARK = "HAWIZARD-SECRET-"
_CRM_IDS = re.compile(r"^(?:primitive|ms|clone|group|colocation|order|location)\s+(\S+)", re.M)
# a pcs script is some twenty pcs processes of a second or more each; the limit only ends a hang
LOAD_LIMIT_S = 900


def secret_marker(name: str) -> str:
    return SECRET_MARK + name


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if not path:
        raise EnvironmentProblem(f"{name} is not installed on this machine; hawizard diff loads the cluster "
                                 f"configuration into a file CIB with it to compare objects (Debian: apt-get "
                                 f"install {package})")
    return path


def tool_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    dirs = {"XDG_CACHE_HOME": home / ".cache", "XDG_CONFIG_HOME": home / ".config",
            "XDG_DATA_HOME": home / ".local/share", "XDG_STATE_HOME": home / ".local/state"}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    return {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C.UTF-8",
            "HOME": str(home), **{k: str(v) for k, v in dirs.items()}, **extra}


def run_tool(argv: list[str], env: dict[str, str], what: str, timeout: float = 120) -> str:
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise EnvironmentProblem(f"{what}: no answer after {timeout:.0f} s") from None
    if proc.returncode != 0:
        # hawizard's own script failed on this machine's tool: no input of the operator's is at fault beyond the
        # design itself, whose values the tool names (the text is the tool's; markers stand for any secret)
        text = " ".join((proc.stderr or proc.stdout).split())[-600:]
        raise InputError(f"{what} refused hawizard's cluster configuration (exit {proc.returncode}): {text}")
    return proc.stdout


@contextmanager
def scratch_cib(prefix: str) -> Iterator[tuple[Path, dict[str, str]]]:
    """A private directory for one file CIB: its path (not yet written) and the tools' environment for it
    (``CIB_file`` set, a home of their own); removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        cib = Path(tmp) / "cib.xml"
        yield cib, tool_env(home, {"CIB_file": str(cib)})


def load_config(design: Design, rendering: Rendering, cib: Path, env: dict[str, str]) -> str:
    """Load the rendered cluster configuration into the file CIB ``cib`` as cluster-config does on a node
    (``crm configure load update``, or the pcs script on a copy); returns the script as loaded (markers for
    secrets). ``env`` names ``CIB_file`` and a home of the tools' own (:func:`tool_env`)."""
    stack = stacks.get(design.stack)
    f = rendering.get("cluster-config")
    tool = require_tool("crm", "crmsh") if stack.config_tool == "crm" else require_tool("pcs", "pcs")
    script_text = f.with_secrets({name: secret_marker(name) for name in {s.name for s in f.slots}})
    script = cib.parent / Path(f.path).name
    script.write_text(script_text)
    if stack.config_tool == "crm":
        run_tool([tool, "configure", "load", "update", str(script)], env, "crm configure load update",
                 timeout=LOAD_LIMIT_S)
    else:
        run_tool(["sh", str(script), str(cib)], {**env, "PCS": tool}, "pcs -f (cluster.pcs.sh)",
                 timeout=LOAD_LIMIT_S)
    return script_text


def desired_cib(design: Design, rendering: Rendering) -> str:
    """The CIB XML of hawizard's objects for ``design`` (upgraded to the newest schema), made offline."""
    stack = stacks.get(design.stack)
    cibadmin = require_tool("cibadmin", "pacemaker-cli-utils")
    with scratch_cib("hawizard-shadow-") as (cib, env):
        schema = ["pacemaker-1.0"] if stack.pacemaker == "1.0" else []
        cib.write_text(run_tool([cibadmin, "--empty", *schema], env, "cibadmin --empty"))
        # the nodes as membership declares them; not in a 1.0 CIB, whose schema wants type="normal", which crmsh
        # 4.4 drops on commit (tests/validators/test_cluster_config.py _empty_cib)
        for i, name in enumerate(design.node_names if not schema else (), start=1):
            run_tool([cibadmin, "-C", "-o", "nodes", "-X", f'<node id="{i}" uname="{name}"/>'], env, "cibadmin -C")
        script_text = load_config(design, rendering, cib, env)
        run_tool([cibadmin, "--upgrade", "--force"], env, "cibadmin --upgrade")
        xml = run_tool([cibadmin, "-Q"], env, "cibadmin -Q")
    if stack.config_tool == "crm":
        # crmsh has exited 0 on a line it refused (tests/validators/test_cluster_config.py): every object the
        # script defines must be in the CIB, or the comparison would call the cluster's "not hawizard's"
        missing = sorted(set(_CRM_IDS.findall(script_text)) - set(re.findall(r'\bid="([^"]+)"', xml)))
        if missing:
            raise InputError(f"crm configure load update left out {', '.join(missing)} of hawizard's cluster "
                             "configuration; its objects cannot be compared")
    return xml
