"""``hawizard export-plan``: the plan as POSIX sh scripts and as an Ansible project (issue 15).

The scripts are checked by the real tools (sh -n, dash -n, shellcheck; ansible-playbook
--syntax-check, ansible-lint) and run for real: the node script's functions write, probe, confirm
and wait on this machine under a temporary directory, and the driver runs two "nodes" over a real
sshd on loopback (tests/support/sshd.py). The waits' shell checks are compared with the Python
conditions of hawizard/plan/waits.py on the same recorded outputs (tests/progress/samples).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support.designs import with_ipmi

from hawizard.common.shellquote import sq
from hawizard.design.preset_file import load_preset
from hawizard.export.ansible import export_ansible
from hawizard.export.shell import export_sh, node_script
from hawizard.export.shlib import LIBRARY
from hawizard.export.shwaits import check_words
from hawizard.plan.prepare import prepare
from hawizard.plan.types import Fact, Marker, Plan, Poll, Run, Step, Where, Write
from hawizard.plan.waits import (
    Connected,
    CrmMonText,
    CrmMonXml,
    Drbd9Events2,
    DrbdCState,
    GroupOn,
    NodesOnline,
    ProcDrbd,
    ServiceUp,
    Synced,
)
from hawizard.render.renderer import RenderedFile, Rendering, SecretSlot, SecretSpec, placeholder

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "progress" / "samples"
PRESETS = ("debian12", "debian12-pcs", "el9", "article")


def designs():
    """Every shipped preset, and one whose secrets are references (text slots, fence passwords)."""
    out = {name: load_preset(name) for name in PRESETS}
    d = with_ipmi(load_preset("debian12"))
    d.drbd.shared_secret_ref = "env:HAWIZARD_DRBD_SECRET"
    d.corosync.authkey_ref = "file:/etc/hawizard/authkey"
    out["debian12-refs"] = d
    return out


def prepared(design):
    p = prepare(design)
    assert not p.errors, [e.message for e in p.errors]
    return p


def write_export(export, out: Path) -> Path:
    for f in export.files:
        path = out / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content)
        path.chmod(f.mode)
    return out


# -- the scripts pass the shells' and shellcheck's checks ---------------------------------------------

@pytest.mark.parametrize("name", [*PRESETS, "debian12-refs"])
def test_exported_scripts_parse_and_pass_shellcheck(name, tmp_path):
    p = prepared(designs()[name])
    out = write_export(export_sh(p.design, p.plan), tmp_path)
    scripts = sorted(str(f) for f in out.glob("*.sh"))
    assert [Path(s).name for s in scripts] == ["node1.sh", "node2.sh", "run.sh"]
    for shell in ("sh", "dash", "bash"):
        if shutil.which(shell):
            for s in scripts:
                r = subprocess.run([shell, "-n", s], capture_output=True, text=True)
                assert r.returncode == 0, (shell, s, r.stderr)
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (Debian package shellcheck)")
    r = subprocess.run(["shellcheck", "-s", "sh", *scripts], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_step_and_action_is_in_the_scripts():
    p = prepared(load_preset("debian12"))
    export = export_sh(p.design, p.plan)
    for i, node in enumerate(p.design.node_names):
        text = export.get(f"node{i + 1}.sh").content
        for step in p.plan.steps:
            if node not in step.actions:
                assert f"# -- step {step.id}:" not in text  # a primary-only step is in the primary's script only
                continue
            assert f"# -- step {step.id}: {step.title}" in text
            for action in step.actions[node]:
                if isinstance(action, Run | Fact | Poll):
                    assert sq(action.command) in text, (step.id, action.command)
    driver = export.get("run.sh").content
    positions = [driver.index(f"hw_selected '{s.id}'") for s in p.plan.steps]
    assert positions == sorted(positions)  # the driver runs the steps in the plan's order


def test_no_secret_value_reaches_the_export(monkeypatch):
    monkeypatch.setenv("HAWIZARD_DRBD_SECRET", "s3cret-drbd-value")
    monkeypatch.setenv("HAWIZARD_IPMI_PASSWORD", "s3cret-ipmi-value")
    p = prepared(designs()["debian12-refs"])
    for export in (export_sh(p.design, p.plan), export_ansible(p.design, p.plan)):
        for f in export.files:
            assert "s3cret" not in f.content, f.path
    text = export_sh(p.design, p.plan).get("node1.sh").content
    assert "printenv 'HAWIZARD_DRBD_SECRET'" in text  # read at run time where the reference says


# -- the node script does what the runner does ----------------------------------------------------------

def _plan(steps, files=(), secrets=None) -> Plan:
    return Plan("t", "debian12-crmsh", "n1", "n2", tuple(steps), Rendering(tuple(files), secrets or {}))


def _run_node(tmp_path: Path, plan: Plan, *args: str, stdin: str = "", env: dict | None = None,
              node: str = "n1") -> subprocess.CompletedProcess:
    script = tmp_path / "node.sh"
    script.write_text(node_script(plan, node, 0))
    full_env = {**os.environ, "HW_DIR": str(tmp_path / "hw-dir"), **(env or {})}
    return subprocess.run(["sh", str(script), *args], input=stdin, capture_output=True, text=True, env=full_env,
                          timeout=60)


def test_write_quotes_secrets_as_the_renderer_and_keeps_mode_and_a_backup(tmp_path):
    value = "a'b\"c\\$d e`x`"  # what a shell, crm or DRBD would read differently if quoted wrongly
    target = tmp_path / "etc" / "conf"
    slots, text = [], ""
    # build the content with real slots, as the renderer does
    parts = [("sh=", "sh"), (" crm=", "crm"), (" drbd=", "drbd"), (" raw=", "")]
    for literal, quoting in parts:
        text += literal
        ph = placeholder("pw", quoting)
        slots.append(SecretSlot(len(text), len(text) + len(ph), "pw", quoting))
        text += ph
    text += "\n"
    f = RenderedFile("conf", str(target), text, 0o640, "root", "root", ("n1",), "", ("pw",), tuple(slots))
    spec = SecretSpec("pw", "env:HW_TEST_PW", "alnum", "a password")
    plan = _plan([Step("write", "Write", "files", Where.EACH, {"n1": (Write("conf"),)})], [f], {"pw": spec})
    r = _run_node(tmp_path, plan, "step", "write", env={"HW_TEST_PW": value})
    assert r.returncode == 0, r.stderr
    assert target.read_bytes() == f.with_secrets({"pw": value}).encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    # a second run writes nothing
    r = _run_node(tmp_path, plan, "step", "write", env={"HW_TEST_PW": value})
    assert "unchanged" in r.stderr and not list(target.parent.glob("*.hawizard~"))
    # a changed file is replaced, the old one kept beside it with its mode
    target.write_text("edited by hand\n")
    r = _run_node(tmp_path, plan, "step", "write", env={"HW_TEST_PW": value})
    backups = list(target.parent.glob("conf.*.hawizard~"))
    assert len(backups) == 1 and backups[0].read_text() == "edited by hand\n", r.stderr
    assert target.read_bytes() == f.with_secrets({"pw": value}).encode()
    # the same content at another mode: only the mode is set
    target.chmod(0o644)
    r = _run_node(tmp_path, plan, "step", "write", env={"HW_TEST_PW": value})
    assert "mode and owner set" in r.stderr and stat.S_IMODE(target.stat().st_mode) == 0o640
    # an unset reference stops the step before the file is touched
    target.unlink()
    env = {k: v for k, v in os.environ.items() if k != "HW_TEST_PW"}
    r = subprocess.run(["sh", str(tmp_path / "node.sh"), "step", "write"], capture_output=True, text=True,
                       env={**env, "HW_DIR": str(tmp_path / "hw-dir")})
    assert r.returncode == 1 and "HW_TEST_PW, which is not set" in r.stderr and not target.exists()


def test_whole_file_secret_from_a_file_and_a_generated_one_only_from_the_driver(tmp_path):
    key = os.urandom(256)
    keyfile = tmp_path / "authkey.src"
    keyfile.write_bytes(key)
    target = tmp_path / "etc" / "authkey"
    ph = placeholder("k")
    f = RenderedFile("key", str(target), ph, 0o400, "root", "root", ("n1",), "", ("k",), (SecretSlot(0, len(ph), "k"),))
    step = Step("key", "Key", "files", Where.EACH, {"n1": (Write("key"),)})
    plan = _plan([step], [f], {"k": SecretSpec("k", f"file:{keyfile}", "bytes", "a key")})
    r = _run_node(tmp_path, plan, "step", "key")
    assert r.returncode == 0, r.stderr
    assert target.read_bytes() == key and stat.S_IMODE(target.stat().st_mode) == 0o400
    # generated: the node script alone cannot make it (both nodes need the same), the driver hands it over
    target.unlink()
    plan = _plan([step], [f], {"k": SecretSpec("k", "", "bytes", "a key", str(target))})
    r = _run_node(tmp_path, plan, "step", "key")
    assert r.returncode == 1 and "run run.sh" in r.stderr and not target.exists()
    r = subprocess.run(["sh", str(tmp_path / "node.sh"), "put-secret", "1"], input=key, capture_output=True,
                       env={**os.environ, "HW_DIR": str(tmp_path / "hw-dir")})
    assert r.returncode == 0, r.stderr
    r = _run_node(tmp_path, plan, "step", "key")
    assert r.returncode == 0 and target.read_bytes() == key, r.stderr
    # an earlier build's key is read back (the driver reuses it: a re-run changes nothing)
    r = subprocess.run(["sh", str(tmp_path / "node.sh"), "reuse", "1"], capture_output=True)
    assert r.stdout == key


def test_probe_skips_a_done_step_and_the_marker_is_written(tmp_path):
    log = tmp_path / "log"
    marker = Marker("once", "v1", str(tmp_path / "done"))
    step = Step("once", "Once", "x", Where.EACH, {"n1": (Run(f"echo ran >> {log}"),)},
                probe={"n1": marker.holds_content}, marker=marker)
    plan = _plan([step])
    for _ in range(2):
        r = _run_node(tmp_path, plan, "step", "once")
        assert r.returncode == 0, r.stderr
    assert log.read_text() == "ran\n"
    assert Path(marker.path).read_text() == "v1"
    assert "already done (probe)" in r.stderr
    assert _run_node(tmp_path, plan, "probe", "once").returncode == 0


def test_a_destructive_step_runs_only_when_its_phrase_is_typed(tmp_path):
    log = tmp_path / "log"
    step = Step("wipe", "Wipe", "x", Where.PRIMARY, {"n1": (Run(f"echo wiped >> {log}"),)},
                probe={"n1": f"test -s {log}"}, destructive=True, confirm="wipe disk")
    plan = _plan([step])
    r = _run_node(tmp_path, plan, "step", "wipe", stdin="yes\n")
    assert r.returncode == 130 and "not confirmed" in r.stderr and not log.exists()
    r = _run_node(tmp_path, plan, "step", "wipe", stdin="")
    assert r.returncode == 130 and not log.exists()
    r = _run_node(tmp_path, plan, "step", "wipe", stdin="wipe disk\n")
    assert r.returncode == 0 and log.read_text() == "wiped\n", r.stderr
    log.unlink()
    r = _run_node(tmp_path, plan, "step", "wipe", "--yes")
    assert r.returncode == 0 and log.read_text() == "wiped\n"
    # already done: no question at all
    r = _run_node(tmp_path, plan, "step", "wipe", stdin="")
    assert r.returncode == 0 and "already done" in r.stderr


def test_failures_stop_the_step_and_warnings_do_not(tmp_path):
    log = tmp_path / "log"
    plan = _plan([Step("s", "S", "x", Where.EACH, {"n1": (
        Run("exit 3", "a warning only", fatal=False), Fact("echo 42", "answer"), Run(f"echo after >> {log}"),
        Run("exit 4", "this stops it"), Run(f"echo never >> {log}"))})])
    r = _run_node(tmp_path, plan, "step", "s")
    assert r.returncode == 1
    assert "warning: a warning only: exit status 3" in r.stderr
    assert "FAILED: this stops it: exit status 4" in r.stderr
    assert r.stdout == "HWFACT answer 42\n"  # stdout carries the facts only
    assert log.read_text() == "after\n"


def test_a_wait_prints_each_new_state_and_gives_up_after_its_limit(tmp_path):
    state = tmp_path / "cstate"
    state.write_text("WFConnection\n")
    poll = Poll(f"cat {state}", DrbdCState(), Connected(), interval_s=1, timeout_s=20)
    plan = _plan([Step("w", "W", "x", Where.EACH, {"n1": (poll,)})])
    threading.Timer(2.5, lambda: state.write_text("Connected\n")).start()
    t0 = time.monotonic()
    r = _run_node(tmp_path, plan, "step", "w")
    assert r.returncode == 0, r.stderr
    assert r.stderr.index("WFConnection") < r.stderr.index("Connected\n") and time.monotonic() - t0 >= 2
    state.write_text("StandAlone\n")
    plan = _plan([Step("w", "W", "x", Where.EACH, {"n1": (Poll(f"cat {state}", DrbdCState(), Connected(),
                                                                 interval_s=1, timeout_s=2),)})])
    r = _run_node(tmp_path, plan, "step", "w")
    assert r.returncode == 1 and "not reached after 2 s (last: StandAlone)" in r.stderr
    plan = _plan([Step("w", "W", "x", Where.EACH, {"n1": (Poll("no-such-command-hw", DrbdCState(), Connected(),
                                                                 interval_s=1, timeout_s=30),)})])
    t0 = time.monotonic()
    r = _run_node(tmp_path, plan, "step", "w")
    assert r.returncode == 1 and "cannot run" in r.stderr and time.monotonic() - t0 < 10


# -- the waits' shell checks agree with hawizard/plan/waits.py ----------------------------------------------

def _shell_check(poll: Poll, output: str, rc: int = 0) -> bool:
    script = f"HW_NODE=t\n{LIBRARY}\nhw_rc={rc}\n{check_words(poll)}\n"
    r = subprocess.run(["sh", "-c", script], input=output, capture_output=True, text=True, timeout=30)
    assert r.returncode in (0, 1), r.stderr
    return r.returncode == 0


def _python_check(poll: Poll, output: str, rc: int = 0) -> bool:
    reading = poll.reader.start("s", "n")(rc, output)
    return reading.value is not None and poll.until.holds(reading.value)


def _cluster_polls(reader):
    return [Poll("crm_mon", reader, c) for c in (
        NodesOnline(("srv1", "srv2")), NodesOnline(("srv2",)), ServiceUp("rg_httpd", "ms_drbd0"),
        GroupOn("rg_httpd", "srv1"), GroupOn("rg_httpd", "srv2"), ServiceUp("rg_other", "ms_drbd0"))]


CRM_SAMPLES = sorted(p for p in (SAMPLES / "crm_mon").glob("pcmk*") if p.suffix in (".xml", ".txt")) + \
    [SAMPLES / "crm_mon" / "article-pcmk10.txt"]


@pytest.mark.parametrize("sample", CRM_SAMPLES, ids=lambda p: p.name)
def test_cluster_checks_agree_with_the_runners(sample):
    text = sample.read_text()
    reader = CrmMonXml() if sample.suffix == ".xml" else CrmMonText()
    seen = set()
    for poll in _cluster_polls(reader):
        expected = _python_check(poll, text)
        seen.add(expected)
        assert _shell_check(poll, text) == expected, (sample.name, poll.until.wire)
    assert seen == {True, False}  # each sample decides some conditions each way
    assert not _shell_check(_cluster_polls(reader)[0], text, rc=1)  # crm_mon failed: not up


DRBD_PROC = ["article-8.3.8-syncing.txt", "lab-8.4.11-synced.txt", "lab-8.4.11-syncing.txt", "synth-8.2-st.txt",
             "synth-8.4-over-4GiB.txt", "synth-8.4-several-minors.txt", "synth-8.4-stalled-details-verify.txt",
             "synth-9-proc.txt", "synth-garbled.txt"]


@pytest.mark.parametrize("name", DRBD_PROC)
def test_proc_drbd_sync_check_agrees_with_the_runners(name):
    text = (SAMPLES / "drbd" / name).read_text()
    poll = Poll("cat /proc/drbd", ProcDrbd("r0"), Synced())
    assert _shell_check(poll, text) == _python_check(poll, text)


def test_events2_sync_and_cstate_checks_agree_with_the_runners():
    syncing = (SAMPLES / "drbd" / "synth-events2-now-statistics-r0.txt").read_text()
    synced = syncing.replace("replication:SyncSource", "replication:Established").replace(
        "peer-disk:Inconsistent", "peer-disk:UpToDate")
    poll = Poll("drbdsetup events2 --now --statistics r0", Drbd9Events2("r0"), Synced())
    assert [_shell_check(poll, t) for t in (syncing, synced)] == [_python_check(poll, t) for t in (syncing, synced)] \
        == [False, True]
    cs = Poll("drbdadm cstate r0", DrbdCState(), Connected())
    for text, rc in (("Connected\n", 0), ("SyncSource\n", 0), ("Established\n", 0), ("WFConnection\n", 0),
                     ("StandAlone\n", 0), ("", 0), ("Connected\n", 1)):
        assert _shell_check(cs, text, rc) == _python_check(cs, text, rc), (text, rc)


# -- Ansible -------------------------------------------------------------------------------------------

def _ansible_tool(name: str) -> str:
    found = shutil.which(name) or (shutil.which(name, path=str(Path(sys.executable).parent)))
    if found is None:
        pytest.skip(f"{name} is not installed (pip install ansible-core ansible-lint: the [test] extra)")
    return found


# ansible-lint takes seconds a project: every stack once (the secrets by reference cover the templates)
LINTED = ("article", "el9", "debian12-refs")


@pytest.mark.parametrize("name", [*PRESETS, "debian12-refs"])
def test_ansible_project_passes_syntax_check_and_ansible_lint(name, tmp_path):
    playbook = _ansible_tool("ansible-playbook")
    p = prepared(designs()[name])
    out = write_export(export_ansible(p.design, p.plan), tmp_path / "project")
    env = {**os.environ, "HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
           "ANSIBLE_NOCOLOR": "1", "NO_COLOR": "1"}
    r = subprocess.run([playbook, "site.yml", "--syntax-check"], cwd=out, capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    if name not in LINTED:
        return
    lint = _ansible_tool("ansible-lint")
    r = subprocess.run([lint, "--offline", "-f", "pep8"], cwd=out, capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Error" not in r.stderr, r.stderr


def test_ansible_project_shape():
    p = prepared(designs()["debian12-refs"])
    export = export_ansible(p.design, p.plan)
    site = export.get("site.yml").content
    for step in p.plan.steps:
        assert f"# -- step {step.id}: {step.title}" in site
    assert "serial: 1" in site and 'hosts: "hw_primary"' in site
    assert "hw_confirm_create_md" in site and "until:" in site and "retries:" in site
    assert site.count("backup: true") >= 5
    assert "ansible.builtin.template" in site  # the DRBD files carry the shared secret from a lookup
    assert "lookup('ansible.builtin.env', hw_secret_ref_" in site
    modules = {line.strip().split(":")[0] for line in site.splitlines() if line.strip().startswith("ansible.")}
    assert modules and all(m.startswith("ansible.builtin.") for m in modules), modules
    templates = [f for f in export.files if f.path.startswith("templates/")]
    assert templates and all("@@SECRET" not in t.content for t in templates)


# -- the driver, over a real sshd on loopback ------------------------------------------------------------

def _toy(tmp_path: Path, srv):
    """Two nodes n1, n2 on the test sshd, and a plan of four steps that works under tmp_path only."""
    from hawizard.plan.crosscheck import NodesAgree

    work = tmp_path / "work"
    work.mkdir()
    known = tmp_path / "known_hosts"
    known.write_text(srv.known_hosts_line())
    d = load_preset("debian12")
    for node, name in zip(d.nodes, ("n1", "n2"), strict=True):
        node.name, node.ssh_host, node.ssh_port, node.ssh_user = name, "127.0.0.1", srv.port, "root"
        node.ssh_identity_file, node.ssh_known_hosts = str(srv.client_key), str(known)
    files, secret = [], SecretSpec("gen", "", "alnum", "a shared secret", str(work / "n1.conf"),
                                   r'shared-secret "([^"]+)"')
    for name in ("n1", "n2"):
        text = "shared-secret "
        ph = placeholder("gen", "drbd")
        files.append(RenderedFile(f"conf-{name}", str(work / f"{name}.conf"), text + ph + ";\n", 0o600, "root", "root",
                                  (name,), "", ("gen",), (SecretSlot(len(text), len(text) + len(ph), "gen", "drbd"),)))
    log = work / "log"
    steps = [
        Step("pre", "Preflight", "pre", Where.EACH, {n: (Fact("echo 100", "disk_bytes"), Fact("date +%s", "clock"))
                                                    for n in ("n1", "n2")}, facts_check=NodesAgree("n1", "n2")),
        Step("files", "Files", "files", Where.BOTH, {n: (Write(f"conf-{n}"), Run(f"sleep 1; echo {n} >> {log}"))
                                                     for n in ("n1", "n2")}),
        Step("wipe", "Wipe", "x", Where.PRIMARY, {"n1": (Run(f"echo wiped >> {log}"),)},
             probe={"n1": f"grep -q wiped {log}"}, destructive=True, confirm="wipe it"),
        Step("opt", "Optional", "x", Where.PRIMARY, {"n1": (Run(f"echo optional >> {log}"),)}, optional=True),
    ]
    plan = Plan("t", "debian12-crmsh", "n1", "n2", tuple(steps), Rendering(tuple(files), {"gen": secret}))
    return d, plan, work, log


def _driver_setup(tmp_path: Path, srv):
    from hawizard.export.shell import driver

    d, plan, work, log = _toy(tmp_path, srv)
    out = tmp_path / "export"
    export = export_sh(d, plan)
    write_export(export, out)
    assert export.get("run.sh").content == driver(d, plan)
    env = {**os.environ, "HW_REMOTE": str(tmp_path / "remote-hawizard")}
    return out, work, log, env


def test_the_driver_runs_the_plan_over_ssh_in_order_and_a_second_run_changes_nothing(tmp_path):
    from support.sshd import SshServer, sshd_available

    if (why := sshd_available()) is not None:
        pytest.skip(why)
    with SshServer(tmp_path) as srv:
        out, work, log, env = _driver_setup(tmp_path, srv)

        def drive(*args, stdin=""):
            return subprocess.run(["sh", str(out / "run.sh"), *args], input=stdin, capture_output=True, text=True,
                                  env=env, timeout=120)
        r = drive("--yes")
        assert r.returncode == 0, r.stderr
        lines = log.read_text().split()
        assert sorted(lines[:2]) == ["n1", "n2"] and lines[2:] == ["wiped"]  # both at once, then the primary's
        one, two = (work / "n1.conf").read_text(), (work / "n2.conf").read_text()
        assert one == two and one.startswith('shared-secret "') and len(one) == len('shared-secret "";\n') + 32
        assert stat.S_IMODE((work / "n1.conf").stat().st_mode) == 0o600
        assert not (tmp_path / "remote-hawizard").exists()  # the scripts and secrets are removed from the nodes
        # again: the primary's secret is reused, the files are unchanged, the destructive step is done
        r = drive()
        assert r.returncode == 0, r.stderr
        assert (work / "n1.conf").read_text() == one and "unchanged" in r.stderr and "already done" in r.stderr
        assert log.read_text().split()[3:] == ["n1", "n2"] or sorted(log.read_text().split()[3:]) == ["n1", "n2"]
        # a destructive step that has work to do asks once, on this terminal
        log.unlink()
        r = drive("--only", "wipe", stdin="no\n")
        assert r.returncode == 130 and not log.exists(), r.stderr
        r = drive("--only", "wipe", stdin="wipe it\n")
        assert r.returncode == 0 and log.read_text() == "wiped\n", r.stderr
        r = drive("--only", "opt")
        assert r.returncode == 0 and log.read_text() == "wiped\noptional\n"
        r = drive("--only", "nope")
        assert r.returncode == 2 and "no step nope" in r.stderr


def test_the_driver_stops_when_the_nodes_disagree(tmp_path):
    from support.sshd import SshServer, sshd_available

    if (why := sshd_available()) is not None:
        pytest.skip(why)
    with SshServer(tmp_path) as srv:
        out, work, log, env = _driver_setup(tmp_path, srv)
        node2 = (out / "node2.sh").read_text().replace("'echo 100'", "'echo 200'")
        (out / "node2.sh").write_text(node2)
        r = subprocess.run(["sh", str(out / "run.sh"), "--yes"], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 1 and "backing disks differ in size: n1 has 100 bytes, n2 has 200 bytes" in r.stderr
        assert not log.exists()  # no later step ran


# -- the command ---------------------------------------------------------------------------------------

def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_STATE_HOME": str(tmp_path / "state")}
    r = subprocess.run([sys.executable, "-m", "hawizard", "export-plan", *args], capture_output=True, text=True,
                       env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def test_cli_writes_each_format_with_its_modes(tmp_path):
    r = _cli("debian12", "-o", str(tmp_path / "sh"), tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE((tmp_path / "sh" / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "sh" / "README.md").stat().st_mode) == 0o644
    r = _cli("el9", "--format", "ansible", "-o", str(tmp_path / "ans"), tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "ans" / "site.yml").is_file() and (tmp_path / "ans" / "inventory.yml").is_file()
    assert stat.S_IMODE((tmp_path / "ans" / "files" / "hw_wait.sh").stat().st_mode) == 0o755


def test_cli_refuses_bad_input_with_exit_2(tmp_path):
    r = _cli("debian12", "--format", "puppet", "-o", str(tmp_path / "x"), tmp_path=tmp_path)
    assert r.returncode == 2 and "--format 'puppet': unknown; the formats are sh, ansible" in r.stderr
    assert not (tmp_path / "x").exists()
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine\n")
    r = _cli("debian12", "-o", str(full), tmp_path=tmp_path)
    assert r.returncode == 2 and "is not empty" in r.stderr and sorted(p.name for p in full.iterdir()) == ["keep.txt"]
    r = _cli("debian12", "-o", str(full), "--force", tmp_path=tmp_path)
    assert r.returncode == 0 and (full / "run.sh").exists() and (full / "keep.txt").read_text() == "mine\n"
    r = _cli("debian12", "-o", str(full / "keep.txt"), tmp_path=tmp_path)
    assert r.returncode == 2 and "exists and is not a directory" in r.stderr
    r = _cli(str(tmp_path / "missing.toml"), "-o", str(tmp_path / "y"), tmp_path=tmp_path)
    assert r.returncode == 2 and "missing.toml" in r.stderr
    r = _cli("debian12", tmp_path=tmp_path)
    assert r.returncode == 2 and "-o" in r.stderr


def test_the_ansible_project_builds_the_toy_plan_and_a_second_run_changes_nothing(tmp_path):
    """The playbook run for real against the test sshd: probes, a secret made once, both at once, the
    confirmation, the check of the two nodes; then changed=0, and --check --diff reports no change."""
    from support.sshd import SshServer, sshd_available

    playbook = _ansible_tool("ansible-playbook")
    if (why := sshd_available()) is not None:
        pytest.skip(why)
    with SshServer(tmp_path) as srv:
        d, plan, work, log = _toy(tmp_path, srv)
        out = write_export(export_ansible(d, plan), tmp_path / "project")
        env = {**os.environ, "HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
               "ANSIBLE_REMOTE_TEMP": str(tmp_path / "rtmp"), "ANSIBLE_NOCOLOR": "1"}

        def play(*args):
            r = subprocess.run([playbook, "site.yml", "-e", f"hw_state_dir={tmp_path / 'state'}", *args], cwd=out,
                               capture_output=True, text=True, env=env, timeout=600)
            return r.returncode, r.stdout + r.stderr

        rc, text = play()
        assert rc != 0 and "confirm it with -e hw_confirm_wipe='wipe it'" in text
        assert "wiped" not in log.read_text()
        rc, text = play("-e", "hw_yes=true")
        assert rc == 0, text
        assert log.read_text().split()[-1] == "wiped"
        one, two = (work / "n1.conf").read_text(), (work / "n2.conf").read_text()
        assert one == two and len(one) == len('shared-secret "";\n') + 32, (one, two)
        assert stat.S_IMODE((work / "n1.conf").stat().st_mode) == 0o600
        rc, text = play("-e", "hw_yes=true")
        assert rc == 0, text
        recap = [ln for ln in text.splitlines() if ln.startswith(("n1 ", "n2 "))]
        assert len(recap) == 2 and all("changed=0" in ln and "failed=0" in ln for ln in recap), text
        assert (work / "n1.conf").read_text() == one  # the primary's secret was reused
        rc, text = play("--check", "--diff")
        recap = [ln for ln in text.splitlines() if ln.startswith(("n1 ", "n2 "))]
        assert rc == 0 and all("changed=0" in ln for ln in recap), text


def test_ansible_templates_quote_a_secret_as_the_renderer(tmp_path):
    """The template module, run for real (local connection), writes what with_secrets writes, for each quoting."""
    from hawizard.export.ansible import template

    playbook = _ansible_tool("ansible-playbook")
    text, slots = "", []
    for literal, quoting in (("sh=", "sh"), ("\ncrm=", "crm"), ("\ndrbd=", "drbd"), ("\nraw=", ""),
                             ("\n{{ not a template }} {% raw %} endraw {# x #}\ncrm-bare=", "crm")):
        text += literal
        ph = placeholder("pw", quoting)
        slots.append(SecretSlot(len(text), len(text) + len(ph), "pw", quoting))
        text += ph
    text += "\n"
    f = RenderedFile("conf", "/x", text, 0o600, "root", "root", ("n1",), "", ("pw",), tuple(slots))
    (tmp_path / "conf.j2").write_text(template(f, {"pw": 1}))
    env = {**os.environ, "HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"), "ANSIBLE_NOCOLOR": "1"}
    for value in ("a'b\"c\\d $x `y` e", "plain", "back\\\\slash"):
        out = tmp_path / "out"
        (tmp_path / "t.yml").write_text(
            "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.template:\n"
            f"        src: conf.j2\n        dest: {out}\n        trim_blocks: false\n        lstrip_blocks: false\n"
            "      vars:\n        hw_secret_1: !unsafe " + __import__("json").dumps(value) + "\n")
        r = subprocess.run([playbook, "t.yml"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        assert out.read_text() == f.with_secrets({"pw": value}), value


def test_a_shipped_plans_node_script_lists_its_own_steps_in_order(tmp_path):
    p = prepared(load_preset("debian12"))
    out = write_export(export_sh(p.design, p.plan), tmp_path)
    for i, node in enumerate(p.design.node_names):
        r = subprocess.run(["sh", str(out / f"node{i + 1}.sh"), "list"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert [line.split()[0] for line in r.stdout.splitlines()] == [s.id for s in p.plan.steps if node in s.actions]
    r = subprocess.run(["sh", str(out / "node2.sh"), "step", "mkfs"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "no step mkfs on srv2" in r.stderr  # a primary-only step exists on the primary only
    r = subprocess.run(["sh", str(out / "run.sh"), "--bogus"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "usage: sh run.sh" in r.stderr


@pytest.mark.parametrize("skew_s, passes", [(0, True), (30, False)])
def test_the_ansible_clock_check_compares_offsets_not_readings_a_step_apart(tmp_path, monkeypatch, skew_s, passes):
    """Preflight runs "each node in turn": the second node's clock is read a whole step later (a minute on the
    lab's emulated nodes, where the first lab run of the playbook stopped on it). With the limit lowered to 3 s
    and 5 s of work between the two readings, equal clocks pass and a real skew still fails."""
    from support.sshd import SshServer, sshd_available

    import hawizard.export.ansible as ansible_export
    from hawizard.plan.crosscheck import NodesAgree

    playbook = _ansible_tool("ansible-playbook")
    if (why := sshd_available()) is not None:
        pytest.skip(why)
    monkeypatch.setattr(ansible_export, "CLOCK_SKEW_FATAL_S", 3)
    with SshServer(tmp_path) as srv:
        d, toy, _, _ = _toy(tmp_path, srv)
        clock = {"n1": "date +%s", "n2": f"echo $(( $(date +%s) + {skew_s} ))"}
        pre = Step("pre", "Preflight", "pre", Where.EACH,
                   {n: (Fact("echo 100", "disk_bytes"), Fact(clock[n], "clock"), Run("sleep 5")) for n in ("n1", "n2")},
                   facts_check=NodesAgree("n1", "n2"))
        plan = Plan("t", "debian12-crmsh", "n1", "n2", (pre,), toy.rendering)
        out = write_export(export_ansible(d, plan), tmp_path / "project")
        env = {**os.environ, "HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
               "ANSIBLE_REMOTE_TEMP": str(tmp_path / "rtmp"), "ANSIBLE_NOCOLOR": "1"}
        r = subprocess.run([playbook, "site.yml", "-e", f"hw_state_dir={tmp_path / 'state'}"], cwd=out,
                           capture_output=True, text=True, env=env, timeout=600)
        text = r.stdout + r.stderr
        if passes:
            assert r.returncode == 0, text
        else:
            assert r.returncode != 0 and "the clocks differ by more than a minute" in text, text
