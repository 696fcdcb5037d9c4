"""hawizard adopt --from-dir: a preset from collected files, read with the real drbdadm, cibadmin and crmsh.

(a) The article's own files (tests/fixtures/adopt/article, copied from the article) and its crm
    session typed into crmsh against a Pacemaker 1.0 file CIB: the adopted preset is the shipped
    article preset, except the values the files do not hold (listed in ARTICLE_NOT_IN_FILES).
(b) Round trip for every validator design (each stack, with fencing, secrets and link variants):
    render -> the files at their node paths + the cluster configuration loaded into a file CIB ->
    adopt -> the same design except the listed normalisation (NOT_IN_FILES), and the adopted design
    renders the same files, byte for byte.
Plus: secrets never reach the preset or the report; clusters that are not two-node active/standby
exit 2, named; unreadable or missing files exit 2; the CLI writes the report next to the preset.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from adopt_support import article_debian12_dir, article_dir, crm_cib, rendered_dir
from validators.harness import CASES, FENCE_PASSWORD, SECRET_VALUES, case, require

from hawizard.adopt import cib_map, fence_map
from hawizard.adopt.engine import adopt
from hawizard.adopt.findings import CHANGED, DROPPED, LEFT, SECRET
from hawizard.common.errors import InputError
from hawizard.design.preset_file import design_to_dict, dump_preset, load_preset
from hawizard.design.validate import check
from hawizard.render.renderer import render

TOOLS = ("drbdadm", "cibadmin", "crm")

# Values no collected file holds, and how adoption fills them (the report lists each as guessed):
NOT_IN_FILES = {
    "name": "given with --name (the test gives the original's)",
    "description": "says where the preset came from",
    "nodes[*].ssh_host": "the node name (or etc/hosts)",
    "nodes[*].service_address": "hawizard's numbering (or etc/hosts)",
    "nodes[*].fence_password_ref": "env:HAWIZARD_FENCE_PASSWORD_<NODE>: the CIB holds the password, never a reference",
    "answers.process_check": "read from the agent: ocf:heartbeat:apache -> http-status",
    "answers.io_error": "read from on-io-error / the local-io-error handler",
    "answers.switchover_target_s": "an intent: operation timeouts come from the agents, not from the target, "
                                   "so no file holds it (the model's default)",
    "fencing.sbd_devices (method none)": "a design without fencing has no sbd disk in any file",
}


def _flat(value, path=""):
    if isinstance(value, dict) and not path.endswith("fence_params"):
        out = {}
        for k, v in value.items():
            out.update(_flat(v, f"{path}.{k}" if path else k))
        return out
    if isinstance(value, list) and value and isinstance(value[0], dict):
        out = {}
        for i, v in enumerate(value):
            out.update(_flat(v, f"{path}[{i}]"))
        return out
    return {path: value}


def _differences(want, got) -> dict[str, tuple]:
    a, b = _flat(design_to_dict(want)), _flat(design_to_dict(got))
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def _normalised(path: str, design) -> bool:
    generic = re.sub(r"\[\d+\]", "[*]", path)
    if generic in NOT_IN_FILES:
        return True
    if path == "cluster.on_fail.stop":
        # an explicit stop on-fail equal to what answers.switchover_failure writes is the same file: it reads
        # back as the default (the rendered files are compared below)
        return design.cluster.on_fail.stop == ("fence" if design.answers.switchover_failure == "fence" else "block")
    return path == "fencing.sbd_devices" and design.fencing.method == "none"


def _secrets_absent(text: str) -> None:
    for secret in [FENCE_PASSWORD, *SECRET_VALUES.values()]:
        assert secret not in text


# -- (a) the article's own files ----------------------------------------------------------------

ARTICLE_NOT_IN_FILES = {
    "description", "nodes[0].ssh_host", "nodes[1].ssh_host",
    # the article answers "check the PID only" while its apache agent reads server-status
    "answers.process_check",
    # a target is an intent no file holds: adoption takes the model's default (600 s), the article said 300 s
    "answers.switchover_target_s",
    # the article's files hold no index.html: the verify step wants any answer through the VIP
    "service.verify_page",
}


@pytest.fixture(scope="module")
def article_files(tmp_path_factory) -> Path:
    """The article's directory, its CIB made once by crmsh (each test adopts a copy)."""
    require(*TOOLS)
    return article_dir(tmp_path_factory.mktemp("article"))


@pytest.fixture(scope="module")
def article(article_files):
    return adopt(article_files, name="article")


def test_article_files_adopt_into_the_article_preset(article):
    shipped = load_preset("article")
    diffs = _differences(shipped, article.design)
    assert set(diffs) == ARTICLE_NOT_IN_FILES, diffs
    assert article.design.stack == "centos5-heartbeat"
    d = article.design
    # values that only the article's files say: port 7801, rate 200M, its io-error handler, 240 s defaults
    assert (d.drbd.port, d.drbd.resync_rate, d.timing.default_action_timeout_s) == (7801, "200M", 240)
    assert d.drbd.local_io_error_handler.endswith("halt -f")
    assert (d.cluster.stickiness, d.cluster.no_quorum_policy, d.fencing.method) == (200, "ignore", "none")


def test_article_findings_name_what_the_preset_changes(article):
    names = {f.name: f for f in article.findings.items}
    # the Pacemaker 1.0 CIB was upgraded offline (default-resource-stickiness moved into rsc_defaults)
    assert any(n.startswith("CIB schema pacemaker-1.0") for n in names)
    assert names["CIB: res_httpd statusurl"].action == CHANGED
    for rid in ("res_drbd0", "res_ip", "res_fs_drbd0", "res_httpd"):
        assert names[f"CIB: {rid} has no stop operation"].action == CHANGED
    status = [f for f in article.findings.items if f.name.startswith("Apache server-status in")]
    assert status and status[0].where == "etc/httpd/conf/httpd.conf"
    for word in ("warntime", "deadtime", "initdead"):
        assert f"ha.cf: {word}" in names
    assert "interconnect addresses" in names  # ha.cf bcast names NICs only: guessed, and said so


# -- (b) round trip: render -> collect -> adopt -> the same design --------------------------------

def _as_original_order(adopted, original) -> None:
    """pcs stores instance attributes sorted: the fence parameters' order is the one normalisation of
    a value the files do hold (compared as a mapping in _differences)."""
    for a, o in zip(adopted.nodes, original.nodes, strict=True):
        if set(a.fence_params) == set(o.fence_params):
            a.fence_params = {k: a.fence_params[k] for k in o.fence_params}


@pytest.mark.parametrize("cid", [c.id for c in CASES])
def test_round_trip_render_adopt(cid, tmp_path):
    require(*TOOLS)
    c = case(cid)
    if c.stack.config_tool == "pcs":
        require("pcs")
    adopted = adopt(rendered_dir(c, tmp_path), name=c.design.name)
    assert adopted.design.stack == c.design.stack, adopted.stack_reason
    unexpected = {k: v for k, v in _differences(c.design, adopted.design).items()
                  if not _normalised(k, c.design)}
    assert not unexpected, unexpected
    _as_original_order(adopted.design, c.design)
    want, got = render(c.design), render(adopted.design)
    assert [f.id for f in got.files] == [f.id for f in want.files]
    for w, g in zip(want.files, got.files, strict=True):
        assert (g.path, g.mode, g.content) == (w.path, w.mode, w.content), w.id
    # nothing in the CIB or files was dropped or left alone: hawizard owns all of it
    assert not [f for f in adopted.findings.items if f.action in (DROPPED, LEFT)], adopted.findings.items
    text = dump_preset(adopted.design)
    _secrets_absent(text)
    _secrets_absent(repr(adopted.findings.items))
    if any(n.fence_password_ref for n in c.design.nodes):
        assert {n.fence_password_ref for n in adopted.design.nodes} == \
            {f"env:{fence_map.fence_password_env(n)}" for n in c.design.node_names}
        assert [f for f in adopted.findings.items if f.action == SECRET and "password" in f.name]


# -- what adoption refuses -------------------------------------------------------------------------

@pytest.fixture
def article_copy(article_files, tmp_path) -> Path:
    return Path(shutil.copytree(article_files, tmp_path / "article"))


def test_three_nodes_exit_2_named(article_copy):
    d = article_copy
    hacf = d / "etc/ha.d/ha.cf"
    hacf.write_text(hacf.read_text() + "node srv3\n")
    with pytest.raises(InputError, match=r"3 node\(s\) \(srv1, srv2, srv3\).*two-node"):
        adopt(d)


def test_dual_primary_is_not_active_standby(tmp_path):
    require(*TOOLS)
    d = tmp_path / "dual"
    shutil.copytree(Path(__file__).parent / "fixtures/adopt/article/etc", d / "etc")
    lines = (Path(__file__).parent / "fixtures/adopt/article/crm-session.txt").read_text()
    crm_cib(d, lines.replace('master-max="1"', 'master-max="2"'))
    with pytest.raises(cib_map.NotActiveStandby, match="ms_drbd0 allows 2 promoted instances"):
        adopt(d)


def test_no_service_group_is_not_active_standby(tmp_path):
    require(*TOOLS)
    d = tmp_path / "nogroup"
    shutil.copytree(Path(__file__).parent / "fixtures/adopt/article/etc", d / "etc")
    lines = (Path(__file__).parent / "fixtures/adopt/article/crm-session.txt").read_text()
    crm_cib(d, "\n".join(ln for ln in lines.splitlines() if not ln.startswith(("group", "colocation", "order")))
            + "\n")
    with pytest.raises(cib_map.NotActiveStandby, match="no group of a virtual IP"):
        adopt(d)


def test_drbdadm_refuses_a_broken_resource_file(article_copy):
    d = article_copy
    res = d / "etc/drbd.d/r0.res"
    res.write_text(res.read_text().replace("meta-disk internal;", "meta-disks internal;"))
    with pytest.raises(InputError, match="drbdadm .* refused"):
        adopt(d)


def test_authkeys_key_never_read_into_anything(article_copy):
    d = article_copy
    (d / "etc/ha.d/authkeys").write_text("auth 2\n1 crc\n2 sha1 TopSecretKey42\n")
    a = adopt(d)
    assert a.design.heartbeat.auth == "sha1"
    assert "TopSecretKey42" not in dump_preset(a.design) + repr(a.findings.items)
    assert [f for f in a.findings.items if f.action == SECRET and f.name.startswith("authkeys")]


def test_cli_writes_preset_and_report(article_copy, tmp_path):
    d = article_copy
    out = tmp_path / "adopted.toml"
    proc = subprocess.run([sys.executable, "-m", "hawizard", "adopt", "--from-dir", str(d), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = tmp_path / "adopted.toml.adopt.txt"
    assert report.read_text() in proc.stdout
    assert "stack: centos5-heartbeat" in proc.stdout and "res_httpd statusurl" in proc.stdout
    v = subprocess.run([sys.executable, "-m", "hawizard", "validate", str(out)], capture_output=True, text=True,
                       timeout=60)
    assert v.returncode == 0, v.stdout + v.stderr


def test_cli_exit_codes(tmp_path):
    base = [sys.executable, "-m", "hawizard", "adopt", "-o", str(tmp_path / "x.toml"), "--from-dir"]
    missing = subprocess.run(base + [str(tmp_path / "nope")], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no such directory" in missing.stderr and "Traceback" not in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    none = subprocess.run(base + [str(empty)], capture_output=True, text=True, timeout=60)
    assert none.returncode == 2 and "no collected configuration" in none.stderr
    h = subprocess.run([sys.executable, "-m", "hawizard", "adopt", "--help"], capture_output=True, text=True,
                       timeout=60)
    assert h.returncode == 0 and "Exit codes" in h.stdout and "--from-dir" in h.stdout


def test_cli_exit_3_without_drbdadm(article_copy, tmp_path):
    d = article_copy
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("cibadmin",):  # only cibadmin on PATH: drbdadm is missing
        (bindir / tool).symlink_to(shutil.which(tool))
    proc = subprocess.run([sys.executable, "-m", "hawizard", "adopt", "--from-dir", str(d), "-o",
                           str(tmp_path / "x.toml")], capture_output=True, text=True, timeout=60,
                          env={"PATH": str(bindir), "PYTHONPATH": ":".join(sys.path)})
    assert proc.returncode == 3 and "drbdadm is not installed" in proc.stderr, proc.stderr


# -- (c) Clusters from Scratch (Pacemaker's own guide) -------------------------------------------

def test_clusters_from_scratch_active_passive(tmp_path):
    """No group there: the IP, the filesystem and Apache are tied to the promoted clone by colocations."""
    from adopt_support import cfs_dir

    require("drbdadm", "cibadmin", "pcs")
    a = adopt(cfs_dir(tmp_path))
    d = a.design
    assert d.stack == "el9-pcs" and d.node_names == ["pcmk-1", "pcmk-2"]
    assert [ic.address for n in d.nodes for ic in n.interconnects] == ["192.168.122.101/24", "192.168.122.102/24"]
    assert (d.drbd.resource, d.drbd.device, d.drbd.port) == ("wwwdata", "/dev/drbd1", 7789)
    assert [n.backing_disk for n in d.nodes] == ["/dev/almalinux_pcmk-1/drbd-demo", "/dev/almalinux_pcmk-2/drbd-demo"]
    assert (d.service.vip, d.service.fstype, d.service.status_url) == \
        ("192.168.122.120", "xfs", "http://localhost/server-status")
    assert (d.cluster.ids.ip, d.cluster.ids.fs, d.cluster.ids.web, d.cluster.ids.drbd_clone) == \
        ("ClusterIP", "WebFS", "WebSite", "WebData-clone")
    assert (d.cluster.stickiness, d.timing.default_action_timeout_s, d.fencing.method) == (100, 240, "none")
    by = {f.name: f for f in a.findings.items}
    assert by["CIB: ClusterIP, WebFS, WebSite without a group"].action == CHANGED
    assert by["CIB: rsc_location location-WebSite-pcmk-1-50"].action == LEFT
    assert by["DRBD net allow-two-primaries yes"].action == DROPPED
    assert by["corosync.conf: ring0_addr pcmk-1"].note == "a name: etc/hosts says 192.168.122.101"


def test_clusters_from_scratch_active_active_is_refused(tmp_path):
    from adopt_support import cfs_dir

    require("drbdadm", "cibadmin", "pcs")
    with pytest.raises(cib_map.NotActiveStandby, match="WebData-clone allows 2 promoted instances"):
        adopt(cfs_dir(tmp_path, active_active=True))


def test_a_file_that_differs_between_the_nodes_is_named(tmp_path):
    require(*TOOLS)
    c = case("debian12")
    d = rendered_dir(c, tmp_path)
    conf = d / "srv2/etc/corosync/corosync.conf"
    conf.write_text(conf.read_text().replace("token: 3000", "token: 5000"))
    a = adopt(d, name=c.design.name)
    assert a.design.corosync.token_ms == 3000  # srv1's copy
    hits = [f for f in a.findings.items if f.name == "etc/corosync/corosync.conf differs between the nodes"]
    assert hits and hits[0].action == CHANGED and "srv1's copy was read" in hits[0].note


def test_a_link_out_of_the_directory_is_refused(article_copy, tmp_path):
    outside = tmp_path / "outside.cf"
    outside.write_text("crm yes\nnode srv1\nnode srv2\nsecret-looking line\n")
    hacf = article_copy / "etc/ha.d/ha.cf"
    hacf.unlink()
    hacf.symlink_to(outside)
    with pytest.raises(InputError, match="etc/ha.d/ha.cf: a symbolic link out of"):
        adopt(article_copy)


def test_corosync_2_udpu_without_names_is_named_from_the_cib(tmp_path):
    """corosync 2.x udpu nodelists often carry ring0_addr and nodeid only; the CIB's nodes name them."""
    require(*TOOLS)
    c = case("debian12-udpu")
    d = rendered_dir(c, tmp_path)
    for node in c.design.node_names:
        conf = d / node / "etc/corosync/corosync.conf"
        conf.write_text("".join(ln for ln in conf.read_text().splitlines(True) if not ln.strip().startswith("name:")))
    a = adopt(d, name=c.design.name)
    assert a.design.node_names == c.design.node_names
    assert any(f.name == "corosync.conf: nodes without a name" for f in a.findings.items)
    cib = d / c.design.node_names[0] / "cib.xml"  # without the CIB's nodes nothing names them: exit 2, said
    for node in c.design.node_names:
        (d / node / "cib.xml").write_text(re.sub(r"<node [^>]*/>", "", cib.read_text()))
    with pytest.raises(InputError, match="names no node"):
        adopt(d)


def test_heartbeat_v1_without_crm_is_named(article_copy):
    hacf = article_copy / "etc/ha.d/ha.cf"
    hacf.write_text(hacf.read_text().replace("crm yes\n", ""))
    (article_copy / "etc/ha.d/haresources").write_text("srv1 IPaddr::192.168.0.200/24 httpd\n")
    with pytest.raises(InputError, match="a Heartbeat v1 cluster"):
        adopt(article_copy)


def test_drbd_conf_sections_beside_drbd_d_are_named(article_copy):
    (article_copy / "etc/drbd.conf").write_text('include "drbd.d/*.res";\nglobal { usage-count yes; }\n')
    a = adopt(article_copy)
    assert [f for f in a.findings.items
            if f.name == "etc/drbd.conf: sections beside the drbd.d files" and f.action == DROPPED]


def test_a_stack_that_contradicts_the_files_is_named(article_copy, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "hawizard", "adopt", "--from-dir", str(article_copy), "-o",
                           str(tmp_path / "x.toml"), "--stack", "el9-pcs"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "uses corosync, but there is no etc/corosync/corosync.conf" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_clusters_from_scratch_one_fence_device_for_both_nodes(tmp_path):
    """The guide fences both nodes with one device and a pcmk_host_map: each node gets the agent, the
    device's parameters and its own plug; the password becomes a reference; the delay is static."""
    from adopt_support import cfs_dir

    require("drbdadm", "cibadmin", "pcs")
    a = adopt(cfs_dir(tmp_path, fencing=True))
    d = a.design
    assert (d.fencing.method, d.fencing.race, d.fencing.delay_s) == ("agent", "static", 5)
    assert [n.fence_agent for n in d.nodes] == ["fence_virsh", "fence_virsh"]
    assert [n.fence_params for n in d.nodes] == [{"ip": "192.168.122.1", "username": "root", "plug": "vm1"},
                                                 {"ip": "192.168.122.1", "username": "root", "plug": "vm2"}]
    assert [n.fence_password_ref for n in d.nodes] == ["env:HAWIZARD_FENCE_PASSWORD_PCMK_1",
                                                       "env:HAWIZARD_FENCE_PASSWORD_PCMK_2"]
    assert "Virsh0Pass" not in dump_preset(d) + repr(a.findings.items)
    assert any(f.name.startswith("CIB: fence_dev fences pcmk-1 through pcmk_host_map") for f in a.findings.items)


# -- the quorum device, DRBD 9 quorum and on-fail, read back -------------------------------------------

def test_quorum_device_values_the_model_cannot_hold_are_named():
    """corosync-qdevice(8) also allows a node id as tie_breaker and the developers' algorithms; the preset
    has lowest/highest and ffsplit/lms: such a value is named and the default written."""
    from hawizard.adopt import corosync_conf, membership
    from hawizard.adopt.findings import Findings
    d = case("el9-qdevice-quorum").design
    text = render(d).get("corosync-conf").content
    text = text.replace("tie_breaker: highest", "tie_breaker: 2").replace("port: 5404", "port: 5405")
    m = corosync_conf.membership(corosync_conf.parse(text, "corosync.conf"))
    assert not [k for k, _v, _n in m.other if k.startswith("quorum")]  # every device key is carried
    got, f = load_preset("el9"), Findings()
    membership._qdevice(m, got.corosync, f, "corosync.conf")
    qd = got.corosync.qdevice
    assert (qd.host, qd.port, qd.algorithm, qd.tls, qd.tie_breaker) == ("192.168.0.50", 5405, "lms", "off", "lowest")
    assert [(x.name, x.action) for x in f.items] == [("corosync.conf: quorum.device.net.tie_breaker: 2", CHANGED)]


def test_on_fail_that_differs_between_resources_or_the_stack_refuses_is_named():
    from hawizard.adopt.cib import Op, Primitive
    from hawizard.adopt.findings import Findings
    from hawizard.design import stacks

    def prim(rid: str, *ops: tuple[str, str, str]) -> Primitive:
        return Primitive(rid, "ocf", "heartbeat", "Dummy", {}, {},
                         [Op(name, "10s" if name == "monitor" else "0", role, "20s", on_fail, {})
                          for name, role, on_fail in ops])
    d = load_preset("debian12")
    f = Findings()
    prims = [prim("a", ("monitor", "", "restart"), ("start", "", "stop"), ("stop", "", "fence")),
             prim("b", ("monitor", "", "block"), ("start", "", "stop"), ("stop", "", "fence"),
                  ("monitor", "Promoted", "demote"), ("demote", "", "demote"))]
    cib_map._on_fail(prims, d, stacks.get("debian12-crmsh"), f, "cib.xml")
    of = d.cluster.on_fail
    # start agrees: carried; stop is what switchover_failure fence writes: default; the promoted monitor's demote
    # is carried; monitor differs between the resources, demote on demote is refused by Pacemaker
    assert (of.start, of.stop, of.promoted_monitor, of.monitor, of.demote) == \
        ("stop", "default", "demote", "default", "default")
    assert sorted(x.name for x in f.items) == ["CIB: demote on-fail=demote", "CIB: monitor on-fail block, restart"]


def test_drbd_quorum_options_are_read_and_a_number_is_named():
    """options { quorum; on-no-quorum; on-no-data-accessible } as hawizard writes them are carried; a quorum
    given as a number of nodes (drbd.conf(5) for 9 allows it) is named and written as majority."""
    from hawizard.adopt import drbd_map
    from hawizard.adopt.findings import Findings
    d, f = load_preset("el9"), Findings()
    options = {"quorum": "majority", "on-no-quorum": "io-error", "on-no-data-accessible": "io-error"}
    drbd_map._quorum(options, d.drbd, f, "drbd.d")
    assert (d.drbd.quorum, d.drbd.on_no_quorum, options, f.items) == ("majority", "io-error", {}, [])
    d, f = load_preset("el9"), Findings()
    options = {"quorum": "2", "on-no-data-accessible": "suspend-io"}
    drbd_map._quorum(options, d.drbd, f, "drbd.d")
    assert (d.drbd.quorum, d.drbd.on_no_quorum) == ("majority", "suspend-io")
    assert [(x.name, x.action) for x in f.items] == [("DRBD options quorum 2", CHANGED)]
    assert options == {}  # on-no-data-accessible equal to on-no-quorum's default: what hawizard writes


def test_the_article_typed_on_debian12_adopts_into_a_valid_design_with_its_nics_apart(tmp_path):
    """corosync.conf names no NIC: the guessed link NICs (eth1, eth2) would collide with the service NIC the CIB
    names (IPaddr2 nic=eth1, the lab's); they move past it (eth2, eth3) and the preset validates."""
    require("cibadmin", "crm")
    a = adopt(article_debian12_dir(tmp_path))
    d = a.design
    assert d.stack == "debian12-crmsh" and d.fencing.method == "none"
    for n in d.nodes:
        assert n.service_nic == "eth1"
        assert [ic.nic for ic in n.interconnects] == ["eth2", "eth3"]
    assert (d.drbd.port, d.drbd.resync_rate, d.service.fstype) == (7801, "200M", "ext3")
    assert d.cluster.no_quorum_policy == "ignore" and d.service.verify_page == "any-answer"
    assert [x for x in check(d) if x.severity == "error"] == []
    rendered = render(d).get("corosync-conf").content
    assert "cluster_name: webcluster" in rendered and "crypto_cipher: aes256" in rendered
