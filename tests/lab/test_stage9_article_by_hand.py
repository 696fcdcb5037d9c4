"""Issue 14 (b): the article's cluster typed by hand on Debian 12, adopted, its risks named, a fixed design applied live.

1. On VMs booted on fresh disks, an operator's session is typed into each node's root shell
   (tests/support/typist.py: an interactive ``ssh -tt``, readline, heredocs): the packages, Debian's
   placeholder cluster stopped, the article's DRBD files as the article prints them (only the
   backing disk is the lab's), ``create-md``, ``up``, the forced primary while ``cat /proc/drbd`` is
   typed until the sync is done, ``mkfs.ext3``, the rehearsal by hand and its undoing, and the
   article's crm configuration typed at ``crm configure``'s prompt with stonith off and quorum
   ignored. Pacemaker 2 no longer runs on Heartbeat, so where the article writes ha.cf and authkeys
   the operator writes corosync.conf and runs corosync-keygen (the key is carried to the peer through
   the host, the article's scp: the VMs have no SSH keys for each other). The article's property
   names that Pacemaker 2 dropped are typed in their Pacemaker 2 form (op_defaults timeout,
   rsc_defaults resource-stickiness).
2. ``hawizard adopt --node ... --node ...`` reads it over SSH; ``hawizard validate`` names its risks.
3. A fixed design (the adopted preset with sbd fencing on the lab's shared disk, DRBD's
   resource-and-stonith, quorum policy stop, a monitor for the promoted DRBD, a migration threshold, the
   agents' own timeouts, a resync rate the link can carry) is diffed (the diff's scheduler prediction
   must not restart or move DRBD), then applied by ``hawizard apply``
   while a loop on a node fetches the page through the VIP twice a second: the longest time without an
   answer is the figure. Afterwards sbd runs on both nodes, the cluster has its fence device, and the
   diff is empty.

Not in the README's test command (about 20 minutes of lab time on top of a CI run that uses 68 of its
75): `python3 -m pytest -p no:cacheprovider -m lab_by_hand -rs` (docs/adopt.md, docs/lab.md).
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
import tomllib
from pathlib import Path

import pytest
import tomli_w
from support.faults import VipWatcher
from support.lab_apply import VIP, adopt_over_ssh, hawizard, serving_node
from support.typist import Typist

from hawizard.design.preset_file import load_preset
from hawizard.lab import ssh as labssh

pytestmark = [pytest.mark.lab, pytest.mark.lab_by_hand]

ARTICLE = Path(__file__).resolve().parent.parent / "fixtures" / "adopt" / "article" / "etc" / "drbd.d"
PAGE = "The article, typed by hand"
# psmisc: the Filesystem agent needs fuser, which --no-install-recommends leaves out; without it the first typed run
# saw "res_fs_drbd0 ... Stopped (not installed)" and "Setup problem: couldn't find command: fuser" in the journal,
# and the operator installs it (hawizard's post-install step checks for fuser before the cluster is configured)
PACKAGES = "pacemaker corosync crmsh drbd-utils resource-agents apache2 curl psmisc"

HAND = Path(__file__).resolve().parent.parent / "fixtures" / "adopt" / "article-debian12"
# where the article writes ha.cf and authkeys, and its crm lines as typed on Pacemaker 2.1 (the README there)
COROSYNC_CONF = (HAND / "corosync.conf").read_text()
CRM_LINES = (HAND / "crm-session.txt").read_text().splitlines()


def _heredoc(path: str, text: str, append: bool = False) -> str:
    return f"cat {'>>' if append else '>'} {path} <<'EOF'\n{text.rstrip()}\nEOF"


def _both(typists: dict[str, Typist], block: str, timeout: float = 120) -> None:
    for t in typists.values():
        t.type(block, timeout)


def _in_parallel(typists: dict[str, Typist], block: str, timeout: float) -> None:
    errors: list[BaseException] = []

    def run(t: Typist) -> None:
        try:
            t.type(block, timeout)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(t,)) for t in typists.values()]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]


def _copy_key(lab, path: str) -> None:
    """srv1's file to srv2 with its mode, through the host's pipes (the article's scp); never on a command line."""
    src = subprocess.run(labssh.ssh_argv(lab.paths, lab.node("srv1"), [f"cat {path}"]), capture_output=True,
                         timeout=60, stdin=subprocess.DEVNULL, check=True).stdout
    subprocess.run(labssh.ssh_argv(lab.paths, lab.node("srv2"), [f"umask 077; cat > {path}"]), input=src,
                   capture_output=True, timeout=60, check=True)


def _type_the_article(lab, typists: dict[str, Typist]) -> None:
    T = lab.timings
    s1 = typists["srv1"]
    t0 = time.monotonic()
    _in_parallel(typists, "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                 f"--no-install-recommends {PACKAGES}", timeout=1800)
    T["by hand: packages (both nodes at once)"] = f"{time.monotonic() - t0:.1f}s"
    t1 = time.monotonic()
    # Debian starts a one-node placeholder cluster and Apache on install
    _both(typists, "systemctl stop pacemaker corosync && rm -f /var/lib/pacemaker/cib/cib*")
    _both(typists, "systemctl disable --now apache2")
    _both(typists, _heredoc("/etc/hosts", "10.1.0.1 srv1\n10.1.0.2 srv2", append=True))
    # DRBD: the article's files as printed, the lab's backing disk instead of /dev/sdb1
    _both(typists, _heredoc("/etc/drbd.d/global_common.conf", (ARTICLE / "global_common.conf").read_text()))
    _both(typists, _heredoc("/etc/drbd.d/r0.res", (ARTICLE / "r0.res").read_text().replace("/dev/sdb1", "/dev/vdb")))
    _both(typists, "drbdadm create-md r0")
    _both(typists, "drbdadm up r0", timeout=180)
    s1.type("drbdadm -- --overwrite-data-of-peer primary r0")
    s1.type_until("cat /proc/drbd", "ds:UpToDate/UpToDate", timeout=900)
    s1.type("mkfs.ext3 /dev/drbd0", timeout=600)
    # the rehearsal by hand, then undone in reverse
    s1.type("mount /dev/drbd0 /var/www/html")
    s1.type("ip addr add 192.168.0.200/24 dev eth1 label eth1:0")
    s1.type(f"echo '<html><body><h1>{PAGE}</h1></body></html>' > /var/www/html/index.html")
    s1.type("systemctl start apache2")
    assert PAGE in s1.type(f"curl -s http://{VIP}/")
    s1.type("systemctl stop apache2")
    s1.type("umount /var/www/html")
    s1.type("ip addr del 192.168.0.200/24 dev eth1")
    s1.type("drbdadm secondary r0")
    _both(typists, "drbdadm down r0")
    T["by hand: DRBD, sync, mkfs, rehearsal"] = f"{time.monotonic() - t1:.1f}s"
    # membership: corosync.conf and a key where the article writes ha.cf and authkeys
    t2 = time.monotonic()
    _both(typists, _heredoc("/etc/corosync/corosync.conf", COROSYNC_CONF))
    s1.type("corosync-keygen")
    _copy_key(lab, "/etc/corosync/authkey")
    _both(typists, "systemctl start corosync pacemaker", timeout=300)
    s1.type_until("crm_mon -1", "Online: [ srv1 srv2 ]", timeout=300, every=5)
    s1.crm_configure(CRM_LINES)
    s1.type("crm_mon -1")  # the operator looks; the fixture then waits for the page through the VIP
    T["by hand: corosync up and the crm configuration"] = f"{time.monotonic() - t2:.1f}s"


@pytest.fixture(scope="module")
def by_hand(lab_session, tmp_path_factory):
    """(lab, env, work dir): the article's cluster typed by hand on fresh VMs, the page served through the VIP."""
    lab = lab_session
    lab.cli("down", "--timeout", "60", check=False)
    lab.cli("up", "--nodes", "2", "--port-base", str(lab.port_base))
    work = tmp_path_factory.mktemp("by-hand")
    env = dict(os.environ, XDG_STATE_HOME=str(work / "state"))
    typists = {n: Typist(labssh.ssh_argv(lab.paths, lab.node(n)), n) for n in ("srv1", "srv2")}
    try:
        _type_the_article(lab, typists)
    finally:
        for t in typists.values():
            print("\n".join(t.transcript)[-30000:])
            t.close()
    t0 = time.monotonic()
    watcher = VipWatcher(lab, "srv2", VIP, PAGE)
    watcher.wait_up(900)
    watcher.stop()
    lab.timings["by hand: crm commit -> the page through the VIP"] = f"{time.monotonic() - t0:.1f}s"
    yield lab, env, work
    lab.cli("down", "--timeout", "60", check=False)


@pytest.fixture(scope="module")
def adopted(by_hand):
    lab, env, work = by_hand
    out = work / "article-by-hand.toml"
    r = adopt_over_ssh(lab, out, "article-by-hand", env)
    assert r.returncode == 0, "adopt over SSH failed on the hand-built cluster"
    return lab, env, work, out


def test_adopt_reads_the_hand_built_cluster(adopted):
    lab, _, _, preset = adopted
    got = load_preset(str(preset))
    assert got.stack == "debian12-crmsh" and got.node_names == ["srv1", "srv2"]
    assert got.fencing.method == "none"
    assert (got.drbd.resource, got.drbd.port, got.drbd.resync_rate) == ("r0", 7801, "200M")
    assert got.service.fstype == "ext3" and got.service.vip == VIP
    assert (got.cluster.ids.drbd_clone, got.cluster.ids.group) == ("ms_drbd0", "rg_httpd")
    assert got.cluster.no_quorum_policy == "ignore"
    assert got.service.verify_page == "any-answer", "the operator's page is not hawizard's test page"
    key = lab.ssh("srv1", "base64 -w0 /etc/corosync/authkey").stdout.strip()
    for text in (preset.read_text(), preset.with_name(preset.name + ".adopt.txt").read_text()):
        assert key and key not in text


def test_validate_names_the_hand_built_clusters_risks(adopted):
    _, env, _, preset = adopted
    r = hawizard("validate", str(preset), env=env, timeout=300)
    assert r.returncode == 0
    for risk in ("fencing-off", "quorum-ignored", "promoted-unmonitored", "restart-intent", "io-error-handler",
                 "blanket-timeout"):
        assert f"[{risk}]" in r.stdout, risk


def _fixed(lab, adopted_preset: Path, out: Path) -> Path:
    """The adopted design with what validate named fixed (the lab's sbd disk and watchdog for fencing)."""
    data = tomllib.loads(adopted_preset.read_text())
    lab_data = tomllib.loads(Path(lab.preset).read_text())
    data["name"] = "article-by-hand-fixed"
    data["fencing"] = {**data["fencing"], **lab_data["fencing"]}
    data["answers"]["switchover_failure"] = "fence"
    data["drbd"].update(fencing="resource-and-stonith", on_io_error="detach", local_io_error_handler="",
                        resync_rate="30M")
    data["cluster"].update(no_quorum_policy="stop", migration_threshold=3, drbd_promoted_monitor_interval_s=29)
    data["timing"]["default_action_timeout_s"] = 0
    out.write_text(tomli_w.dumps(data))
    return out


def test_a_fixed_design_is_applied_while_the_service_stays_up(adopted):
    lab, env, work, preset = adopted
    fixed = _fixed(lab, preset, work / "fixed.toml")
    v = hawizard("validate", str(fixed), env=env, timeout=300)
    assert v.returncode == 0
    for risk in ("fencing-off", "quorum-ignored", "promoted-unmonitored", "restart-intent", "io-error-handler"):
        assert f"[{risk}]" not in v.stdout, risk
    d = hawizard("diff", str(fixed), env=env, timeout=900)
    assert d.returncode == 1, "the fixed design should differ from the hand-built cluster"
    # the scheduler's prediction (crm_simulate on a copy of the live CIB): the adopted design keeps what would
    # restart DRBD (the drbdconf parameter); at most Apache restarts (the status URL the design adds)
    predicted = d.stdout[d.stdout.index("Running resources"):]
    lab.timings["by hand: diff's prediction for the running resources"] = \
        " / ".join(line.strip() for line in predicted.splitlines()[1:]) or predicted.splitlines()[0]
    # the listed actions only: the header line itself says "would stop, start or move"
    actions = [line.split() for line in predicted.splitlines()[1:] if line.strip()]
    assert not any("res_drbd0" in a or a[0] == "move" for a in actions), predicted
    before = serving_node(lab, "srv1")
    watcher = VipWatcher(lab, "srv2" if before == "srv1" else "srv1", VIP, PAGE)
    watcher.wait_up(60)
    t0 = time.monotonic()
    try:
        r = hawizard("apply", str(fixed), "--yes", env=env)
    finally:
        gap, answers, failed = watcher.stop()
    lab.timings["by hand: apply of the fixed design"] = f"{time.monotonic() - t0:.1f}s"
    lab.timings["by hand: longest gap in answers through the VIP during it"] = \
        f"{gap:.1f}s ({answers} fetches, {failed} failed)"
    assert r.returncode == 0, "the fixed design's apply failed"
    # nothing hawizard's plan does by hand ran again on the running cluster
    for step in ("create-md", "drbd-up", "initial-sync", "mkfs", "rehearsal", "drbd-down"):
        assert re.search(rf"^\[srv1\] {step}: already done", r.stdout, re.M), step
    for node in ("srv1", "srv2"):
        assert lab.ssh(node, "systemctl is-active sbd").stdout.strip() == "active", node
    assert "fence_sbd" in lab.ssh("srv1", "stonith_admin --list-registered").stdout
    assert lab.ssh("srv1", "crm_attribute -t crm_config -n stonith-enabled -G -q").stdout.strip() == "true"
    assert lab.ssh("srv1", "crm_attribute -t crm_config -n maintenance-mode -G -q", check=False).stdout.strip() \
        in ("", "false")
    assert gap < 30, f"the service did not stay up: {gap:.1f}s without an answer through the VIP"
    again = hawizard("diff", str(fixed), env=env, timeout=900)
    assert again.returncode == 0, "the nodes differ from the fixed design after its apply"
