"""The cluster configuration (crm script or pcs sequence) loaded into a file CIB and checked by Pacemaker.

Pipeline for each design:
1. ``cibadmin --empty [pacemaker-1.0] > cib.xml``; the two nodes are declared with
   ``CIB_file=cib.xml cibadmin -C -o nodes -X '<node id=.. uname=../>'`` (as membership would;
   not in the Pacemaker 1.0 CIB, see _empty_cib).
2. crm stacks: ``CIB_file=cib.xml crm configure load update cluster.crm``; crmsh's exit status is
   checked *and* its output is scanned for ERROR lines (old crmsh returned 0 on errors), and every
   object the script defines must be in the CIB afterwards. pcs stack:
   ``PCS=pcs sh cluster.pcs.sh cib.xml`` (each line is ``pcs -f cib.xml ...``, under ``set -eu``).
3. ``crm_verify -VV -x cib.xml``: no error; the only warnings allowed are the artefacts of a CIB
   that no cluster has ever run (no quorum, declared nodes never seen).
4. ``crm_simulate -x cib.xml -u N1 -u N2 -q 1 -S -O up.xml`` (both nodes up, quorate), then
   ``crm_verify -VV -x up.xml`` must exit 0 with no error and no warning (but the one that says
   fencing is off, when the design turns it off).
5. Promotion scores are set as the DRBD agent would (``crm_attribute -N N -l reboot -n master-<rsc>``),
   ``crm_simulate -S`` again: the group must start on the node where the clone is promoted. Then
   ``crm_simulate -f <active>`` fails that node: the group and the promotion must move to the
   other node (after fencing it, when fencing is on).
Dummy secrets are filled in; the fence password contains quotes, a space, $ and a backslash, and
must reach the CIB unchanged (the :crm and :sh quoting of the templates).
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import agent_metadata

from hawizard.design import agent_timeouts, timing

from .harness import CASES, FENCE_PASSWORD, Case, case, case_ids, plain, report, require, run, show, write

# A pcs script runs some twenty pcs processes (each a second or more of Python start-up); on a busy
# machine that is minutes. The limit only ends a hang: it is no speed check.
PCS_SCRIPT_LIMIT_S = 900

CRM_IDS = re.compile(r"^(primitive|ms|clone|group|colocation|order|location)\s+(\S+)", re.M)
VERIFY_LINE = re.compile(r"^\((\w+)\)\s+(error|warning|notice|info|debug|trace):\s*(.*)$")

# Warnings of crm_verify on a CIB that holds configuration only: no cluster ever ran it, so it has
# no quorum and its declared nodes were never seen. They say nothing about the configuration.
OFFLINE_ARTEFACTS = (
    re.compile(r"Fencing and resource management disabled due to lack of quorum"),
    re.compile(r"Scheduling node \S+ for fencing"),
    re.compile(r"Node \S+ is unclean but cannot be fenced"),
    re.compile(r"Blind faith: not fencing unseen nodes"),
)
# With fencing disabled, Pacemaker 2.1 says so on every check; the design chose it (the lint warns).
NO_FENCING = (re.compile(r"Blind faith: not fencing unseen nodes"),)
# No crmsh warning is accepted for the timeouts: crmsh compares each operation's timeout with the
# agent's metadata ("timeout ... is smaller than the advised"), and hawizard writes none below it.
# Pacemaker 1.0 properties that Pacemaker 2.1 no longer knows (only for centos5-heartbeat).
PCMK10_ACCEPTED = (
    re.compile(r"unknown attribute 'default-(action-timeout|resource-stickiness)'"),
    re.compile(r'"ms" is deprecated'),
    re.compile(r"moving default-(action-timeout|resource-stickiness) under (op|rsc)_defaults"),
)
# pcs's notes about working on a file (there is no cluster to ask about its nodes).
PCS_ACCEPTED = (
    re.compile(r"Validation for node existence in the cluster will be skipped"),
    re.compile(r"Defaults do not apply to resources which override them"),
)


def _matches(line: str, patterns) -> bool:
    return any(p.search(line) for p in patterns)


def parse_verify(text: str) -> tuple[list[str], list[str], list[str]]:
    """crm_verify output -> (errors, warnings, upgrade notes)."""
    errors, warnings, notes = [], [], []
    for raw in plain(text).splitlines():
        line = raw.strip()
        if not line:
            continue
        m = VERIFY_LINE.match(line)
        if m:
            (errors if m.group(2) == "error" else warnings if m.group(2) == "warning" else notes).append(line)
        elif line.startswith("DEBUG:"):
            notes.append(line)  # schema upgrade of an old CIB (upgrade-2.10.xsl)
        elif line.startswith("crm_verify: Errors found"):
            errors.append(line)
        elif line.startswith("crm_verify: Warnings found"):
            continue  # summary of the warning lines
        else:
            errors.append(line)  # anything unexpected counts against the file
    return errors, warnings, notes


def parse_crmsh(text: str) -> tuple[list[str], list[str]]:
    """crmsh output -> (errors, warnings). crmsh relays crm_verify's stderr as 'ERROR: ...' whatever
    its level, so a relayed debug/warning line is a warning, not an error."""
    errors, warnings = [], []
    for raw in plain(text).splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("ERROR:"):
            rest = line[len("ERROR:"):].strip()
            m = VERIFY_LINE.match(rest)
            if rest.startswith("DEBUG:") or (m and m.group(2) != "error"):
                warnings.append(rest)
            else:
                errors.append(line)
        elif line.startswith("WARNING:"):
            warnings.append(line[len("WARNING:"):].strip())
        elif line.startswith("INFO:"):
            continue
        else:
            errors.append(line)
    return errors, warnings


@dataclass
class Loaded:
    case: Case
    dir: Path
    cib: Path
    script: Path
    load: object = None
    skip: str = ""


def _empty_cib(c: Case, where: Path) -> Path:
    cib = where / "cib.xml"
    schema = ["pacemaker-1.0"] if c.stack.pacemaker == "1.0" else []
    proc = run(["cibadmin", "--empty", *schema])
    assert proc.returncode == 0, show(proc)
    cib.write_text(proc.stdout)
    # The nodes are declared as membership would. Not in the 1.0 CIB: its schema requires
    # <node type="normal">, and crmsh 4.4 rewrites node elements without the type on commit, which
    # the 1.0 schema then refuses; there crm_simulate -u adds the nodes.
    for i, name in enumerate(c.design.node_names if not schema else (), start=1):
        proc = run(["cibadmin", "-C", "-o", "nodes", "-X", f'<node id="{i}" uname="{name}"/>'],
                   env={"CIB_file": str(cib)})
        assert proc.returncode == 0, show(proc)
    return cib


def _load(c: Case, where: Path) -> Loaded:
    where.mkdir(parents=True, exist_ok=True)
    cib = _empty_cib(c, where)
    f = c.rendering.get("cluster-config")
    script = write(where / Path(f.path).name, c.text("cluster-config"), f.mode)
    if c.stack.config_tool == "crm":
        proc = run(["crm", "configure", "load", "update", str(script)], env={"CIB_file": str(cib)})
    else:
        proc = run(["sh", str(script), str(cib)], env={"PCS": "pcs"}, timeout=PCS_SCRIPT_LIMIT_S)
    return Loaded(c, where, cib, script, proc)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> dict[str, Loaded]:
    """Every design's cluster configuration loaded into its own file CIB, concurrently (pcs takes
    about half a second per command, so the pcs sequences run side by side)."""
    require("cibadmin", "crm_verify", "crm_simulate", "crm_attribute", "crm_mon")
    base = tmp_path_factory.mktemp("cib")
    wanted = []
    for spec in CASES:
        tool = "crm" if case(spec.id).stack.config_tool == "crm" else "pcs"
        wanted.append((spec.id, tool))
    out: dict[str, Loaded] = {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {}
        for cid, tool in wanted:
            if not shutil.which(tool):
                out[cid] = Loaded(case(cid), base, base, base, skip=f"{tool} is not installed")
                continue
            futures[cid] = pool.submit(_load, case(cid), base / cid)
        for cid, fut in futures.items():
            out[cid] = fut.result()
    return out


def _get(loaded: dict[str, Loaded], cid: str) -> Loaded:
    got = loaded[cid]
    if got.skip:
        pytest.skip(got.skip)
    return got


def _cib_ids(cib: Path) -> set[str]:
    return {el.get("id") for el in ET.parse(cib).iter() if el.get("id")}


def _design_ids(c: Case) -> set[str]:
    ids = c.design.cluster.ids
    want = {ids.drbd, ids.drbd_clone, ids.ip, ids.fs, ids.web, ids.group, ids.colocation, ids.order}
    fe = c.design.fencing
    if fe.method == "agent":  # one device per node
        want |= {ids.fence_prefix + n.name for n in c.design.nodes}
    elif fe.method == "sbd":  # one device for the shared disk, that fences either node
        want.add(ids.fence_prefix + "sbd")
    return want


def _fence_passwords(cib: Path) -> list[str]:
    return [nv.get("value") for nv in ET.parse(cib).iter("nvpair") if nv.get("name") == "password"]


# -- 1. load --------------------------------------------------------------------------------

@pytest.mark.parametrize("cid", case_ids("centos5-heartbeat", "debian12-crmsh"))
def test_crm_script_loads_into_empty_cib(loaded, cid, request):
    """crmsh 4.4 (Debian 12) loads the crm script into an empty file CIB without any error.

    For centos5-heartbeat (Pacemaker 1.0 syntax) the empty CIB is created with
    validate-with="pacemaker-1.0", the schema a Pacemaker 1.0 cluster writes, so the nvpairs of
    1.0-only properties (default-action-timeout, default-resource-stickiness) are validated
    against the 1.0 schema that Pacemaker 2.1 still ships; on a pacemaker-3.x CIB they are a schema
    violation, not a warning. What the newer tool can prove about the 1.0 script: every line is
    valid crm syntax for crmsh 4.4 (which still accepts `ms`, Master/Slave roles, score-type `inf:`
    orders), every resource parameter exists in today's agent metadata (resource-agents 4.12,
    drbd-utils 9.22), and the resulting XML is valid under the Pacemaker 1.0 RelaxNG schema.
    What it cannot prove: that the crm shell bundled with Pacemaker 1.0.10 parses the same text
    identically, that the 2010 agents had the same parameters, or how Pacemaker 1.0's policy
    engine would place the resources (crm_simulate below is Pacemaker 2.1's scheduler, after
    upgrading the CIB).
    """
    got = _get(loaded, cid)
    require("crm")
    c = got.case
    errors, warnings = parse_crmsh(got.load.stdout + got.load.stderr)
    assert got.load.returncode == 0 and not errors, show(got.load)
    accepted = OFFLINE_ARTEFACTS + (PCMK10_ACCEPTED if c.stack.pacemaker == "1.0" else ())
    unexpected = [w for w in warnings if not _matches(w, accepted)]
    assert not unexpected, "crmsh warned about the rendered script:\n" + "\n".join(unexpected)
    report(request, "crmsh warnings accepted", warnings)

    defined = {m.group(2) for m in CRM_IDS.finditer(got.script.read_text())}
    missing = (defined | _design_ids(c)) - _cib_ids(got.cib)
    assert not missing, f"objects of the script missing from the CIB after the load: {sorted(missing)}"
    if c.stack.pacemaker == "1.0":
        root = ET.parse(got.cib).getroot()
        assert root.get("validate-with") == "pacemaker-1.0"
        assert root.find(".//master") is not None, "`ms` must become a <master> resource"
    for value in _fence_passwords(got.cib):
        assert value == FENCE_PASSWORD


@pytest.mark.parametrize("cid", case_ids("el9-pcs", "debian12-pcs"))
def test_pcs_sequence_builds_file_cib(loaded, cid, request):
    """pcs 0.11 (Debian 12's 0.11.5; RHEL 9 ships 0.11.x) runs every line of cluster.pcs.sh
    against a file CIB (`pcs -f`): `resource create RES ... promotable CLONE_ID meta...` with the
    clone id positional, `resource defaults update`, `constraint colocation add G with Promoted CLONE
    INFINITY id=...`, `constraint order promote CLONE then start G id=...`, `constraint location
    X avoids NODE`, and `stonith create` (pcs checks the agent's metadata: fence-agents must be
    installed)."""
    got = _get(loaded, cid)
    c = got.case
    out = plain(got.load.stdout + got.load.stderr)
    assert got.load.returncode == 0, show(got.load)
    assert not re.search(r"^Error:", out, re.M), show(got.load)
    warnings = [ln for ln in out.splitlines() if ln.startswith("Warning:")]
    unexpected = [w for w in warnings if not _matches(w, PCS_ACCEPTED)]
    assert not unexpected, "pcs warned:\n" + "\n".join(unexpected)
    report(request, "pcs warnings accepted", warnings)

    missing = _design_ids(c) - _cib_ids(got.cib)
    assert not missing, f"objects missing from the CIB after the pcs sequence: {sorted(missing)}"
    tree = ET.parse(got.cib)
    clone = next(el for el in tree.iter("clone") if el.get("id") == c.design.cluster.ids.drbd_clone)
    meta = {nv.get("name"): nv.get("value") for nv in clone.iter("nvpair")}
    assert meta.get("promotable") == "true" and meta.get("notify") == "true"
    for value in _fence_passwords(got.cib):
        assert value == FENCE_PASSWORD


@pytest.mark.parametrize("cid", [c.id for c in CASES])
def test_every_operation_in_the_cib_waits_at_least_its_agents_value(loaded, cid):
    """Each operation of hawizard's resources, as it stands in the loaded CIB, gets at least the timeout
    its installed agent advertises (crm_resource --show-metadata): its own timeout, else op_defaults'
    (Pacemaker 1.0: the default-action-timeout property), else Pacemaker's 20 s. Also the operations
    pcs adds by itself. And it is the value hawizard's timing model counts."""
    got = _get(loaded, cid)
    _ensure_loaded(got)
    c = got.case
    root = ET.parse(got.cib).getroot()
    default = 20
    for section in ("op_defaults", "crm_config"):
        for nv in root.iterfind(f".//{section}//nvpair"):
            if nv.get("name") in ("timeout", "default-action-timeout"):
                default = agent_metadata.seconds(nv.get("value"))
    ids = c.design.cluster.ids
    for agent, rid in (("drbd", ids.drbd), ("ip", ids.ip), ("fs", ids.fs), ("web", ids.web)):
        prim = next(el for el in root.iter("primitive") if el.get("id") == rid)
        agent_type = f"{prim.get('class')}:{prim.get('provider')}:{prim.get('type')}"
        if prim.get("class") != "ocf":
            continue
        meta = agent_metadata.advertised(agent_type)
        seen = set()
        for op in prim.iterfind("operations/op"):
            name = op.get("name")
            waits = agent_metadata.seconds(op.get("timeout")) if op.get("timeout") else default
            assert waits >= meta.get(name, 0), f"{cid}: {rid} {name} waits {waits} s, {agent_type} advertises {meta[name]} s"
            if name in agent_timeouts.operations(agent):
                assert waits == timing.effective_timeout(c.design, agent, name), (cid, rid, name, waits)
            seen.add(name)
        for name in set(agent_timeouts.operations(agent)) - seen:  # left to the default
            assert default >= meta.get(name, 0), f"{cid}: {rid} {name} gets the {default} s default, below {meta[name]} s"
            assert default == timing.effective_timeout(c.design, agent, name), (cid, rid, name, default)


@pytest.mark.parametrize("cid", [c.id for c in CASES])
def test_recheck_interval_in_the_cib_is_the_designs(loaded, cid):
    """cluster.recheck_interval_s reaches the loaded CIB as cluster-recheck-interval (crmd(7),
    pacemaker-controld(7)); 0 leaves the property out, so Pacemaker's own 15 minutes apply."""
    got = _get(loaded, cid)
    _ensure_loaded(got)
    want = got.case.design.cluster.recheck_interval_s
    values = [nv.get("value") for nv in ET.parse(got.cib).getroot().iterfind(".//crm_config//nvpair")
              if nv.get("name") == "cluster-recheck-interval"]
    assert values == ([f"{want}s"] if want else []), (cid, values)


def _expected_on_fail(c: Case, name: str, role: str | None) -> str | None:
    """What on-fail the design asks for on one operation (model.OnFail; a stop without its own value takes
    answers.switchover_failure's), None for none."""
    of = c.design.cluster.on_fail
    if name == "monitor":
        value = of.promoted_monitor if role == c.stack.promoted and of.promoted_monitor != "default" else of.monitor
    elif name == "stop" and of.stop == "default":
        value = "fence" if c.design.answers.switchover_failure == "fence" else "block"
    else:
        value = getattr(of, name, "default")
    return None if value == "default" else value


@pytest.mark.parametrize("cid", [c.id for c in CASES])
def test_on_fail_in_the_cib_is_the_designs(loaded, cid):
    """Each operation of hawizard's resources carries, in the loaded CIB, the on-fail that cluster.on_fail
    (or, for a stop, answers.switchover_failure) asks for, and no other (Pacemaker Explained, "Operation
    Properties"). crm_verify below checks Pacemaker accepts the values."""
    got = _get(loaded, cid)
    _ensure_loaded(got)
    c = got.case
    root = ET.parse(got.cib).getroot()
    ids = c.design.cluster.ids
    checked = 0
    for rid in (ids.drbd, ids.ip, ids.fs, ids.web):
        prim = next(el for el in root.iter("primitive") if el.get("id") == rid)
        for op in prim.iterfind("operations/op"):
            name = op.get("name")
            if name not in ("monitor", "start", "stop", "promote", "demote", "notify"):
                continue  # an operation pcs adds by itself (reload, ...): hawizard says nothing of it
            assert op.get("on-fail") == _expected_on_fail(c, name, op.get("role")), (cid, rid, name, op.attrib)
            checked += 1
    assert checked >= 8  # a monitor and a stop of each resource at least


# -- 2. crm_verify ------------------------------------------------------------------------------

def _ensure_loaded(got: Loaded) -> None:
    if got.load.returncode != 0:
        pytest.fail("the configuration did not load (see the load test):\n" + show(got.load))


@pytest.mark.parametrize("cid", [c.id for c in CASES])
def test_crm_verify_accepts_cib(loaded, cid, request):
    """`crm_verify -VV -x cib.xml` finds no error in the loaded configuration; warnings are only
    those of a CIB no cluster ever ran. Then, with both nodes up and quorum (`crm_simulate -u -u
    -q 1 -S -O up.xml`), `crm_verify -VV -x up.xml` is silent: no error and no warning, except
    "Blind faith: not fencing unseen nodes" when the design disables fencing.

    Pacemaker 2.1.5's crm_verify exits 78 for warnings as well as errors, so the output decides.
    For the Pacemaker 1.0 CIB crm_verify first upgrades it (upgrade-2.10.xsl moves
    default-action-timeout to op_defaults, default-resource-stickiness to rsc_defaults) and says
    so in DEBUG lines: reported, accepted."""
    got = _get(loaded, cid)
    _ensure_loaded(got)
    c = got.case
    proc = run(["crm_verify", "-VV", "-x", str(got.cib)])
    errors, warnings, notes = parse_verify(proc.stdout + proc.stderr)
    assert not errors, show(proc)
    assert proc.returncode in (0, 78), show(proc)
    unexpected = [w for w in warnings if not _matches(w, OFFLINE_ARTEFACTS)]
    assert not unexpected, show(proc)
    if proc.returncode == 78:
        assert warnings, show(proc)
    report(request, "crm_verify (configuration only) warnings accepted", warnings + notes)

    up = got.dir / "up.xml"
    nodes = [a for n in c.design.node_names for a in ("-u", n)]
    sim = run(["crm_simulate", "-x", str(got.cib), *nodes, "-q", "1", "-S", "-O", str(up)])
    assert sim.returncode == 0, show(sim)
    proc = run(["crm_verify", "-VV", "-x", str(up)])
    errors, warnings, notes = parse_verify(proc.stdout + proc.stderr)
    allowed = NO_FENCING if not c.design.fenced else ()
    assert not errors and not [w for w in warnings if not _matches(w, allowed)], show(proc)
    assert proc.returncode == 0, show(proc)
    if c.stack.pacemaker == "1.0":
        assert all(_matches(n, PCMK10_ACCEPTED) for n in notes), show(proc)
    else:
        assert not notes, show(proc)


# -- 3. crm_simulate ----------------------------------------------------------------------------

def _placement(cib: Path, c: Case) -> tuple[set[str], dict[str, set[str]]]:
    """(nodes where the DRBD clone is promoted, {group member: nodes it runs on}) from crm_mon."""
    proc = run(["crm_mon", "-1", "--output-as=xml"], env={"CIB_file": str(cib)})
    assert proc.returncode == 0, show(proc)
    root = ET.fromstring(proc.stdout)
    ids = c.design.cluster.ids
    promoted: set[str] = set()
    members: dict[str, set[str]] = {}
    for clone in root.iter("clone"):
        if clone.get("id") == ids.drbd_clone:
            for r in clone.iter("resource"):
                if r.get("role") in ("Promoted", "Master"):
                    promoted |= {n.get("name") for n in r.iter("node")}
    for group in root.iter("group"):
        if group.get("id") == ids.group:
            for r in group.iter("resource"):
                members[r.get("id")] = {n.get("name") for n in r.iter("node")} if r.get("active") == "true" else set()
    return promoted, members


@pytest.mark.parametrize("cid", [c.id for c in CASES])
def test_simulated_cluster_runs_group_on_promoted_node(loaded, cid):
    """Pacemaker 2.1's scheduler (crm_simulate) places the group with the promoted DRBD instance,
    and moves both to the peer when the active node fails.

    crm_simulate does not run agents: the DRBD agent's promotion preference is set by hand as
    the agent would (`crm_attribute -l reboot -n master-<primitive>`), 10000 on the first node
    and 1000 on the second. Fence devices are simulated, never contacted."""
    got = _get(loaded, cid)
    _ensure_loaded(got)
    c = got.case
    first, second = c.design.node_names
    ids = c.design.cluster.ids
    up = got.dir / "sim-up.xml"
    sim = run(["crm_simulate", "-x", str(got.cib), "-u", first, "-u", second, "-q", "1", "-S", "-O", str(up)])
    assert sim.returncode == 0, show(sim)
    promoted, members = _placement(up, c)
    assert not promoted and not any(members.values()), "nothing may run before DRBD is promoted:\n" + sim.stdout

    for node, score in ((first, "10000"), (second, "1000")):
        proc = run(["crm_attribute", "-N", node, "-l", "reboot", "-n", f"master-{ids.drbd}", "-v", score],
                   env={"CIB_file": str(up)})
        assert proc.returncode == 0, show(proc)
    running = got.dir / "sim-running.xml"
    sim = run(["crm_simulate", "-x", str(up), "-q", "1", "-S", "-O", str(running)])
    assert sim.returncode == 0, show(sim)
    promoted, members = _placement(running, c)
    assert promoted == {first}, sim.stdout
    assert set(members) == {ids.ip, ids.fs, ids.web}
    assert all(nodes == {first} for nodes in members.values()), sim.stdout
    order = [ln for ln in sim.stdout.splitlines() if "Resource action:" in ln]
    promote_at = next(i for i, ln in enumerate(order) if re.search(rf"\b{re.escape(ids.drbd)}\s+promote on", ln))
    start_at = min(i for i, ln in enumerate(order) if re.search(r"\bstart on\b", ln))
    assert promote_at < start_at, "the group must start after the promotion:\n" + sim.stdout

    failed = got.dir / "sim-failed.xml"
    sim = run(["crm_simulate", "-x", str(running), "-q", "1", "-f", first, "-S", "-O", str(failed)])
    assert sim.returncode == 0, show(sim)
    promoted, members = _placement(failed, c)
    assert promoted == {second}, sim.stdout
    assert all(nodes == {second} for nodes in members.values()), sim.stdout
    if c.design.fenced:
        assert re.search(rf"Fenc\w+ {re.escape(first)}\b", sim.stdout), \
            "with fencing on, the failed node must be fenced before its resources move:\n" + sim.stdout


def _stopping(c: Case, cib: Path, where: Path) -> tuple[Path, object]:
    """The cluster running (as in the test above), then the group and the clone asked to stop: a CIB in
    which Pacemaker schedules the stops, demote and stop of every resource, and crm_verify on it. The
    scheduler reads each operation's on-fail only for the actions it schedules, so a value Pacemaker
    refuses for a stop shows here and not in a CIB that nothing runs in."""
    first, second = c.design.node_names
    ids = c.design.cluster.ids
    up, running = where / "stop-up.xml", where / "stop-running.xml"
    sim = run(["crm_simulate", "-x", str(cib), "-u", first, "-u", second, "-q", "1", "-S", "-O", str(up)])
    assert sim.returncode == 0, show(sim)
    for node, score in ((first, "10000"), (second, "1000")):
        proc = run(["crm_attribute", "-N", node, "-l", "reboot", "-n", f"master-{ids.drbd}", "-v", score],
                   env={"CIB_file": str(up)})
        assert proc.returncode == 0, show(proc)
    sim = run(["crm_simulate", "-x", str(up), "-q", "1", "-S", "-O", str(running)])
    assert sim.returncode == 0, show(sim)
    for rid in (ids.group, ids.drbd_clone):
        proc = run(["crm_resource", "-r", rid, "--meta", "-p", "target-role", "-v", "Stopped"],
                   env={"CIB_file": str(running)})
        assert proc.returncode == 0, show(proc)
    plan = run(["crm_simulate", "-x", str(running), "-q", "1", "-S"])
    assert plan.returncode == 0 and re.search(rf"{re.escape(ids.fs)}\s+stop on", plan.stdout), show(plan)
    return running, run(["crm_verify", "-VV", "-x", str(running)])


@pytest.mark.parametrize("cid", [c.id for c in CASES])
def test_stopping_the_service_meets_no_on_fail_error(loaded, cid):
    """With every stop, demote and stop of the clone scheduled, Pacemaker finds nothing to reset in the
    operations' on-fail (it would say "Resetting 'on-fail' ...", an error of crm_verify)."""
    got = _get(loaded, cid)
    _ensure_loaded(got)
    _, verify = _stopping(got.case, got.cib, got.dir)
    bad = [ln for ln in plain(verify.stdout + verify.stderr).splitlines() if "on-fail" in ln]
    assert not bad, show(verify)


@pytest.mark.parametrize("value, refused", [("stop", True), ("standby", True), ("demote", True),
                                            ("restart", False), ("block", False), ("ignore", False)])
def test_negative_pacemaker_refuses_stop_standby_and_demote_for_a_stop(value, refused, tmp_path):
    """The rule behind validate.py's refusal of stop, standby and demote as a stop's on-fail: Pacemaker 2.1's
    scheduler resets them once a stop is scheduled (and crm_verify says so); the other values pass."""
    require("crm", "cibadmin", "crm_verify", "crm_simulate", "crm_attribute", "crm_resource")
    c = case("debian12-qdevice-onfail")
    old = " op stop timeout=60s on-fail=fence"
    text = c.text("cluster-config")
    assert old in text
    cib = _empty_cib(c, tmp_path)
    script = write(tmp_path / "stop.crm", text.replace(old, f" op stop timeout=60s on-fail={value}"))
    load = run(["crm", "configure", "load", "update", str(script)], env={"CIB_file": str(cib)})
    assert load.returncode == 0, show(load)
    _, verify = _stopping(c, cib, tmp_path)
    said = [ln for ln in plain(verify.stdout + verify.stderr).splitlines()
            if f"'{value}' is not allowed for stop" in ln]
    assert bool(said) == refused and (verify.returncode != 0) == refused, show(verify)


# -- 4. negative controls: the checks above can fail -------------------------------------------------

def test_negative_crmsh_rejects_broken_script(tmp_path):
    """A typo'd parameter (cidr_netmsk) and an unknown agent are crmsh errors, and nothing is committed."""
    require("crm", "cibadmin")
    c = case("debian12")
    for broken in (c.text("cluster-config").replace("cidr_netmask=", "cidr_netmsk="),
                   c.text("cluster-config").replace("ocf:heartbeat:IPaddr2", "ocf:heartbeat:IPaddr3")):
        cib = _empty_cib(c, tmp_path)
        script = write(tmp_path / "broken.crm", broken)
        proc = run(["crm", "configure", "load", "update", str(script)], env={"CIB_file": str(cib)})
        errors, _ = parse_crmsh(proc.stdout + proc.stderr)
        assert errors, show(proc)
        assert c.design.cluster.ids.ip not in _cib_ids(cib)


def test_negative_crm_verify_rejects_fencing_without_device(tmp_path):
    """stonith-enabled=true without any fence device loads, but crm_verify reports an error."""
    require("crm", "cibadmin", "crm_verify")
    c = case("debian12-nofence-3links")
    cib = _empty_cib(c, tmp_path)
    text = c.text("cluster-config").replace("stonith-enabled=false", "stonith-enabled=true")
    script = write(tmp_path / "nofence.crm", text)
    proc = run(["crm", "configure", "load", "update", str(script)], env={"CIB_file": str(cib)})
    proc = run(["crm_verify", "-VV", "-x", str(cib)])
    errors, _, _ = parse_verify(proc.stdout + proc.stderr)
    assert proc.returncode != 0 and any("STONITH" in e for e in errors), show(proc)


def test_negative_pcs_sequence_stops_at_a_bad_line(tmp_path):
    """A pcs line with an unknown agent fails, and `set -eu` stops the sequence there."""
    require("pcs", "cibadmin")
    c = case("el9-nofence-3links")
    cib = _empty_cib(c, tmp_path)
    text = c.text("cluster-config").replace("ocf:linbit:drbd", "ocf:linbit:drdb")
    script = write(tmp_path / "broken.pcs.sh", text, 0o700)
    proc = run(["sh", str(script), str(cib)], env={"PCS": "pcs"}, timeout=PCS_SCRIPT_LIMIT_S)
    assert proc.returncode != 0 and "Error:" in proc.stderr, show(proc)
    assert c.design.cluster.ids.colocation not in _cib_ids(cib)


def test_pcs_sequence_applied_again_replaces_only_its_own_objects(tmp_path):
    """Applying the pcs sequence to a CIB that already holds it (hawizard apply after a design
    change) works: the same design gives the same configuration, a changed design replaces the
    changed values, and an object hawizard did not create stays."""
    require("pcs", "cibadmin")
    c = case("debian12-pcs")
    cib = _empty_cib(c, tmp_path)
    script = write(tmp_path / "cluster.pcs.sh", c.text("cluster-config"), 0o700)
    first = run(["sh", str(script), str(cib)], env={"PCS": "pcs"}, timeout=PCS_SCRIPT_LIMIT_S)
    assert first.returncode == 0, show(first)
    proc = run(["cibadmin", "-C", "-o", "resources", "-X",
                '<primitive id="operator_own" class="ocf" provider="heartbeat" type="Dummy"/>'],
               env={"CIB_file": str(cib)})
    assert proc.returncode == 0, show(proc)

    def configuration() -> dict[str, list[str]]:
        """Each section's objects; their order within a section may change (the re-created ones
        come after the operator's), which Pacemaker treats as a move, not a change."""
        conf = ET.parse(cib).getroot().find("configuration")
        for el in conf.iter():
            el.tail = None
        return {sec.tag: sorted(ET.tostring(obj, encoding="unicode") for obj in sec) for sec in conf}

    before = configuration()
    again = run(["sh", str(script), str(cib)], env={"PCS": "pcs"}, timeout=PCS_SCRIPT_LIMIT_S)
    assert again.returncode == 0, show(again)
    assert configuration() == before

    changed = c.text("cluster-config").replace("ip=192.168.0.200", "ip=192.168.0.201")
    assert changed != c.text("cluster-config")
    write(script, changed, 0o700)
    third = run(["sh", str(script), str(cib)], env={"PCS": "pcs"}, timeout=PCS_SCRIPT_LIMIT_S)
    assert third.returncode == 0, show(third)
    vip = next(el for el in ET.parse(cib).iter("primitive") if el.get("id") == c.design.cluster.ids.ip)
    ips = [nv.get("value") for nv in vip.iter("nvpair") if nv.get("name") == "ip"]
    assert ips == ["192.168.0.201"]
    assert "operator_own" in _cib_ids(cib) and _design_ids(c) <= _cib_ids(cib)


@pytest.mark.parametrize("cid, old, new, says", [
    # Pacemaker 2.1 resets on-fail=fence without fencing, as an error (validate.py refuses it: on-fail)
    ("debian12-nofence-3links", " op start ", " op start on-fail=fence ",
     "'fence' is not valid when fencing is disabled"),
    # Pacemaker Explained: demote is for promote and promoted monitors only (validate.py: on-fail)
    ("debian12-qdevice-onfail", " op start timeout=240s on-fail=stop", " op start timeout=240s on-fail=demote",
     "'demote' is not allowed for it"),
    # Pacemaker 1.0's schema (resources-1.0.rng) has no demote (stacks.py: on_fail_values)
    ("article-onfail", " op monitor interval=20s on-fail=standby", " op monitor interval=20s on-fail=demote",
     "Element primitive failed to validate content"),
], ids=["fence-without-fencing", "demote-on-start", "demote-on-pacemaker-1.0"])
def test_negative_pacemaker_refuses_the_on_fail_values_validation_refuses(cid, old, new, says, tmp_path):
    """The on-fail values hawizard's validation refuses, written anyway into a rendered configuration, are
    refused by crmsh or reported by crm_verify: the refusals follow the real tools."""
    require("crm", "cibadmin", "crm_verify")
    c = case(cid)
    text = c.text("cluster-config")
    assert old in text
    cib = _empty_cib(c, tmp_path)
    script = write(tmp_path / "broken.crm", text.replace(old, new, 1))
    load = run(["crm", "configure", "load", "update", str(script)], env={"CIB_file": str(cib)})
    verify = run(["crm_verify", "-VV", "-x", str(cib)])
    load_errors, _ = parse_crmsh(load.stdout + load.stderr)
    verify_errors, _, _ = parse_verify(verify.stdout + verify.stderr)
    refused = [e for e in load_errors + verify_errors if says in e]
    assert refused, show(load) + "\n" + show(verify)


def test_pcs_sequence_makes_the_clone_in_the_same_run_as_its_resource(tmp_path):
    """Issue 15: as few pcs runs as pcs allows (each is seconds of Python start-up on the lab's CPUs).
    The DRBD resource and its promotable clone come from one `resource create ... promotable CLONE
    OPTIONS` run; the CIB it builds is the one `resource create` then `resource promotable CLONE
    OPTIONS` (the two runs hawizard used before) builds, with the clone's priority of the IPMI design.
    pcs is counted through a wrapper: one run fewer than with the two-run form."""
    require("pcs", "cibadmin")
    c = case("debian12-pcs-ipmi-priority")
    text = c.text("cluster-config")
    ids = c.design.cluster.ids
    merged = next(ln for ln in text.splitlines() if f"resource create {ids.drbd} " in ln)
    assert f" promotable {ids.drbd_clone} " in merged and "priority=" in merged
    head, clone_options = merged.split(f" promotable {ids.drbd_clone} ")
    two_runs = text.replace(merged, f'{head}\n$PCS -f "$CIB" resource promotable {ids.drbd} {ids.drbd_clone} '
                                    f'{clone_options}')
    counter = write(tmp_path / "pcs-counting", f'#!/bin/sh\necho run >> "{tmp_path}/runs-$HW_FORM"\nexec pcs "$@"\n',
                    0o755)
    built = {}
    for form, script_text in (("merged", text), ("two", two_runs)):
        where = tmp_path / form
        where.mkdir()
        cib = _empty_cib(c, where)
        script = write(where / "cluster.pcs.sh", script_text, 0o700)
        proc = run(["sh", str(script), str(cib)], env={"PCS": str(counter), "HW_FORM": form},
                   timeout=PCS_SCRIPT_LIMIT_S)
        assert proc.returncode == 0, show(proc)
        conf = ET.parse(cib).getroot().find("configuration")
        built[form] = ET.tostring(conf, encoding="unicode")
    assert built["merged"] == built["two"]
    runs_of = {form: len((tmp_path / f"runs-{form}").read_text().split()) for form in ("merged", "two")}
    assert runs_of["merged"] == runs_of["two"] - 1, runs_of
