"""hawizard adopt --node and hawizard diff over SSH: a real sshd on loopback per node (tests/support/sshd.py).

What cannot run here is a cluster node's file system and a running CIB. Each node is therefore a prepared
tree (the files hawizard renders, at their node paths, with dummy secrets filled in as the runner writes
them, and the CIB the real crmsh/pcs make of the cluster configuration) that the collector reads instead of
"/" through its test hook (hawizard/run/collect.py TEST_ROOTS: the node's name from ROOT/etc/hostname, the
CIB through the real ``CIB_file=ROOT/cib.xml cibadmin -Q``). Everything else is real: ssh or paramiko, the
host key rules, sudo for a user other than root, the node-side sed that cuts secrets, the adopt engine
(drbdadm, cibadmin), crmsh/pcs for the CIB objects. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from support.loopback_nodes import case_on, known_hosts, prepare, start_pair
from support.sshd import SudoUser, sshd_available
from validators.harness import FENCE_PASSWORD, SECRET_VALUES, Case, require

from hawizard.adopt.engine import adopt
from hawizard.cli.main import main
from hawizard.common.errors import InputError
from hawizard.design.preset_file import design_to_dict, dump_preset, load_preset
from hawizard.run import collect
from hawizard.sessions import SshTarget

SECRET_PIECES = [*SECRET_VALUES.values(), FENCE_PASSWORD, "w0rd", "Dummy0Secret"]


@pytest.fixture(autouse=True)
def _private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # never the operator's known_hosts


@pytest.fixture(scope="module")
def servers():
    reason = sshd_available()
    if reason:
        pytest.skip(reason)
    a, b = start_pair()
    yield a, b
    a.cleanup()
    b.cleanup()


def _known_hosts(tmp: Path, *srvs) -> Path:
    return known_hosts(tmp, *srvs)


def _case_on(cid: str, servers, tmp: Path) -> tuple[Case, Path]:
    kh = known_hosts(tmp, *servers)
    return case_on(cid, servers, kh), kh


@pytest.fixture
def roots(monkeypatch):
    """TEST_ROOTS of the collector, emptied after the test."""
    table: dict[str, str] = {}
    monkeypatch.setattr(collect, "TEST_ROOTS", table)
    return table


_prepare = prepare


def _cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def _no_secret(text: str) -> None:
    for piece in SECRET_PIECES:
        assert piece not in text, piece


@pytest.mark.parametrize("cid, transport", [("debian12-ipmi-static", "ssh"), ("article-ucast-sha1", "paramiko"),
                                            ("el9-nofence-3links", "ssh")])
def test_diff_over_ssh_clean_then_a_drifted_file(cid, transport, servers, roots, tmp_path, capsys):
    """Clean: every line that holds a secret (a fence password, an authkeys key, a DRBD shared-secret), cut on
    the node, still matches hawizard's line by its shape. Then a file changed on srv2 and (corosync) the
    authkey gone from srv1: exit 1, each named on its node, no secret printed."""
    c, _ = _case_on(cid, servers, tmp_path)
    d = _prepare(c, servers, tmp_path, roots)
    preset = tmp_path / "p.toml"
    preset.write_text(dump_preset(c.design))
    code, out = _cli(capsys, "diff", str(preset), "--transport", transport)
    assert code == 0, out
    assert "0 differ or missing" in out and "0 added, changed or removed" in out
    assert "srv1: cibadmin -Q" in out  # the live CIB, through the real cibadmin
    status = c.rendering.get("apache-status").path
    f = d / "srv2" / status.lstrip("/")
    f.write_text(f.read_text() + "# drift\n")
    if c.stack.membership == "corosync":
        (d / "srv1/etc/corosync/authkey").unlink()
    code, out = _cli(capsys, "diff", str(preset), "--transport", transport)
    assert code == 1, out
    assert f"--- srv2:{status} (collected)" in out and "\n-# drift\n" in out
    assert f"srv1:{status}" not in out
    if c.stack.membership == "corosync":
        assert "srv1:/etc/corosync/authkey: missing (a secret" in out
    _no_secret(out)


def test_adopt_over_ssh_is_adopt_from_the_directory(servers, roots, tmp_path, capsys):
    """The same files read over SSH or from the directory give the same design, but for how the nodes are
    reached: the --node addresses become the nodes' ssh_* keys."""
    require("drbdadm")
    c, kh = _case_on("debian12", servers, tmp_path)
    d = _prepare(c, servers, tmp_path, roots)
    out_preset = tmp_path / "adopted.toml"
    a, b = servers
    code, out = _cli(capsys, "adopt", "--node", f"root@{a.host}:{a.port}", "--node", f"{b.host}:{b.port}",
                     "-i", str(a.client_key), "--known-hosts", str(kh), "-o", str(out_preset), "--name", "x")
    assert code == 0, out
    assert f"srv1: ssh_host {a.host}, ssh_port {a.port}, ssh_user root" in out
    got = design_to_dict(load_preset(out_preset))
    want = design_to_dict(adopt(d, name="x").design)
    for n, srv in zip(want["nodes"], servers, strict=True):
        n.update(ssh_host=srv.host, ssh_port=srv.port, ssh_user="root", ssh_identity_file=str(a.client_key),
                 ssh_known_hosts=str(kh))
    got["description"] = want["description"]
    assert got == want
    _no_secret(out + out_preset.read_text())


@pytest.mark.parametrize("cid", ("article-ucast-sha1", "debian12-ipmi-static", "el9-nofence-3links",
                                 "debian12-pcs-ipmi-priority"))
def test_secrets_are_cut_on_the_node(cid, servers, roots, tmp_path):
    """The authkeys key, the DRBD shared-secret and the fence password (in the CIB, the crm file, the pcs
    script with its shell quoting) never reach this machine: no file collected for adopt or for diff holds
    them; the lines stay, with «redacted» in the secret's place."""
    c, kh = _case_on(cid, servers, tmp_path)
    _prepare(c, servers, tmp_path, roots)
    dest = tmp_path / "collected"
    dest.mkdir()
    targets = [SshTarget(name=n.name, host=n.ssh_host, port=n.ssh_port, identity_file=n.ssh_identity_file,
                         known_hosts=str(kh), ssh_config=False) for n in c.design.nodes]
    reached = collect.collect_for_adopt(targets, dest, collect.Access())
    assert [r.name for r in reached] == c.design.node_names
    texts = {str(p.relative_to(dest)): p.read_text(errors="replace") for p in dest.rglob("*") if p.is_file()}
    assert texts, "nothing collected"
    for name, text in texts.items():
        for piece in SECRET_PIECES:
            assert piece not in text, (name, piece)
    if c.design.heartbeat.auth == "sha1" and c.stack.membership == "heartbeat":
        assert "1 sha1 «redacted»" in texts["srv1/etc/ha.d/authkeys"]
    if c.design.drbd.shared_secret_ref:
        assert 'shared-secret "«redacted»";' in texts["srv2/etc/drbd.d/r0.res"]
    if c.design.fencing.method == "agent":
        assert 'name="password" value="«redacted»"' in texts["srv1/cib.xml"]
    # what diff reads: every file hawizard renders, the cluster configuration's script included
    dest2 = tmp_path / "for-diff"
    dest2.mkdir()
    collect.collect_for_diff({t.name: t for t in targets}, c.rendering, dest2, collect.Access())
    script = c.rendering.get("cluster-config").path.lstrip("/")
    texts = {str(p.relative_to(dest2)): p.read_text(errors="replace") for p in dest2.rglob("*") if p.is_file()}
    assert f"srv1/{script}" in texts
    for name, text in texts.items():
        for piece in SECRET_PIECES:
            assert piece not in text, (name, piece)
    if c.design.fencing.method == "agent":
        assert "password=«redacted»" in texts[f"srv1/{script}"]


def test_a_user_other_than_root_reads_through_sudo(servers, roots, tmp_path):
    """The prepared trees are root's (0700): the unprivileged user reads them through sudo, its password asked
    once per node by the operator's callback and never put on a command line."""
    if os.geteuid() != 0 or not Path("/usr/bin/sudo").exists():
        pytest.skip("a sudo test user needs root and sudo")
    c, kh = _case_on("debian12", servers, tmp_path)
    d = _prepare(c, servers, tmp_path, roots)
    os.chmod(d, 0o700)
    with SudoUser() as user:  # the test sshd's AuthorizedKeysFile is one file for every user: the key logs it in
        asked: list[str] = []

        def password(who: str) -> str:
            asked.append(who)
            return user.password
        targets = {n.name: SshTarget(name=n.name, host=n.ssh_host, port=n.ssh_port, user=user.name,
                                     identity_file=n.ssh_identity_file, known_hosts=str(kh), ssh_config=False,
                                     become_root=True) for n in c.design.nodes}
        dest = tmp_path / "collected"
        dest.mkdir()
        col, cib_from = collect.collect_for_diff(targets, c.rendering, dest, collect.Access(sudo_password=password))
    assert sorted(asked) == [f"{user.name}@srv1", f"{user.name}@srv2"]
    assert cib_from == "srv1: cibadmin -Q"
    assert (dest / "srv2/etc/corosync/corosync.conf").read_text() == (d / "srv2/etc/corosync/corosync.conf").read_text()


# -- errors: named, exit 2 -----------------------------------------------------------------------------------

def _adopt_cli(capsys, servers, kh: Path, out: Path, *nodes: str) -> tuple[int, str]:
    args = ["adopt", "-o", str(out), "-i", str(servers[0].client_key), "--known-hosts", str(kh)]
    for n in nodes:
        args += ["--node", n]
    return _cli(capsys, *args)


def test_an_unreachable_node_exits_2_named(servers, roots, tmp_path, capsys):
    from support.sshd import free_port

    port = free_port()  # nothing listens there
    code, out = _adopt_cli(capsys, servers, _known_hosts(tmp_path), tmp_path / "x.toml", f"root@127.0.0.1:{port}")
    assert code == 2, out
    assert f"127.0.0.1 (root@127.0.0.1:{port}): cannot be read over SSH" in out
    assert not (tmp_path / "x.toml").exists()


def test_an_unknown_or_changed_host_key_exits_2_named(servers, roots, tmp_path, capsys):
    a = servers[0]
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    code, out = _adopt_cli(capsys, servers, empty, tmp_path / "x.toml", f"{a.host}:{a.port}")
    assert code == 2, out
    assert "REFUSED: the host key of" in out and "is unknown" in out  # no terminal: nobody to confirm it
    other = tmp_path / "other_known_hosts"  # the other server's key recorded under this one's name
    other.write_text(servers[1].known_hosts_line().replace(f"]:{servers[1].port} ", f"]:{a.port} "))
    code, out = _adopt_cli(capsys, servers, other, tmp_path / "x.toml", f"{a.host}:{a.port}")
    assert code == 2, out
    assert "has CHANGED" in out


def test_an_unreadable_file_exits_2_named(servers, roots, tmp_path, capsys):
    c, kh = _case_on("debian12", servers, tmp_path)
    d = _prepare(c, servers, tmp_path, roots)
    conf = d / "srv1/etc/corosync/corosync.conf"
    conf.unlink()
    conf.mkdir()  # there, but not a file that can be read (root reads any regular file)
    a = servers[0]
    code, out = _adopt_cli(capsys, servers, kh, tmp_path / "x.toml", f"{a.host}:{a.port}")
    assert code == 2, out
    assert "srv1:/etc/corosync/corosync.conf: there, but not a regular file that can be read" in out


def test_a_cluster_of_three_nodes_exits_2_named(servers, roots, tmp_path, capsys):
    require("drbdadm")
    c, kh = _case_on("debian12", servers, tmp_path)
    d = _prepare(c, servers, tmp_path, roots)
    conf = d / "srv1/etc/corosync/corosync.conf"
    text = conf.read_text()
    i = text.index("\tnode {")
    conf.write_text(text[:i] + "\tnode {\n\t\tname: srv3\n\t\tnodeid: 3\n\t\tring0_addr: 10.0.0.3\n\t}\n" + text[i:])
    a = servers[0]
    code, out = _adopt_cli(capsys, servers, kh, tmp_path / "x.toml", f"{a.host}:{a.port}")
    assert code == 2, out
    assert "3 node(s)" in out and "srv3" in out


def test_a_node_that_answers_with_another_name_exits_2(servers, roots, tmp_path, capsys):
    c, _ = _case_on("debian12", servers, tmp_path)
    d = _prepare(c, servers, tmp_path, roots)
    (d / "srv2/etc/hostname").write_text("intruder\n")
    preset = tmp_path / "p.toml"
    preset.write_text(dump_preset(c.design))
    code, out = _cli(capsys, "diff", str(preset), "--files-only")
    assert code == 2, out
    assert "answers as intruder, not as srv2" in out


def test_node_addresses_are_checked():
    assert collect.NodeAddress.parse("admin@srv1:2222") == collect.NodeAddress("admin", "srv1", 2222)
    assert collect.NodeAddress.parse("[::1]:22") == collect.NodeAddress("root", "::1", 22)
    for bad in ("a b", "x@", "srv1:0", "srv1;id", "-oProxyCommand=x"):
        with pytest.raises(Exception, match="--node"):
            collect.NodeAddress.parse(bad)


def test_collection_leaves_no_directory_behind(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with collect.private_dir() as d:
        assert oct(d.stat().st_mode & 0o777) == "0o700"
    assert not d.exists()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_stopped_cluster_gives_the_cib_it_keeps_on_disk(servers, roots, tmp_path, monkeypatch):
    """cibadmin -Q fails where the cluster does not run: the CIB Pacemaker keeps in /var/lib/pacemaker/cib is
    read instead, and the output says so; with neither, the error names both nodes (exit 2)."""
    c, kh = _case_on("debian12", servers, tmp_path)
    d = _prepare(c, servers, tmp_path, roots)
    monkeypatch.setattr(collect, "CIB_QUERY", "cibadmin -Q --no-such-option")  # as a stopped cluster: an error
    on_disk = d / "srv2/var/lib/pacemaker/cib/cib.xml"
    on_disk.parent.mkdir(parents=True)
    on_disk.write_text((d / "srv2/cib.xml").read_text())
    targets = {n.name: t for n, t in zip(c.design.nodes, _targets(c, kh), strict=True)}
    dest = tmp_path / "c1"
    dest.mkdir()
    col, cib_from = collect.collect_for_diff(targets, c.rendering, dest, collect.Access())
    assert cib_from == "srv2:/var/lib/pacemaker/cib/cib.xml (cibadmin -Q failed: the cluster does not run there)"
    on_disk.unlink()
    dest = tmp_path / "c2"
    dest.mkdir()
    with pytest.raises(InputError, match=r"no CIB on srv1, srv2: cibadmin -Q failed"):
        collect.collect_for_diff(targets, c.rendering, dest, collect.Access())


def _targets(c: Case, kh: Path) -> list[SshTarget]:
    return [SshTarget(name=n.name, host=n.ssh_host, port=n.ssh_port, identity_file=n.ssh_identity_file,
                      known_hosts=str(kh), ssh_config=False) for n in c.design.nodes]


def test_adopt_over_ssh_reads_nics_prefixes_and_service_address(servers, roots, tmp_path, capsys):
    """corosync.conf has the link addresses only: the NIC names, prefixes and the service address come from
    the node (ip -o -4 addr show), where adoption from files alone guesses eth1, eth2, /24 and 192.168.0.101."""
    from support.loopback_nodes import ip_addr_lines

    require("drbdadm")
    c, kh = _case_on("debian12", servers, tmp_path)
    d = _prepare(c, servers, tmp_path, roots)
    for i, n in enumerate(c.design.nodes, start=1):
        rows = [("ens3", f"192.168.0.{30 + i}/24"), ("lan0", f"10.1.0.{i}/25"), ("lan1", f"10.2.0.{i}/26")]
        if i == 1:
            rows.append(("ens3", "192.168.0.200/24"))  # the VIP, where the service runs: not the node's address
        (d / n.name / "ip-addr.txt").write_text(ip_addr_lines(rows))
    (d / "srv1/etc/hosts").unlink(missing_ok=True)
    out_preset = tmp_path / "adopted.toml"
    a, b = servers
    code, out = _cli(capsys, "adopt", "--node", f"{a.host}:{a.port}", "--node", f"{b.host}:{b.port}",
                     "-i", str(a.client_key), "--known-hosts", str(kh), "-o", str(out_preset))
    assert code == 0, out
    got = load_preset(out_preset)
    for i, n in enumerate(got.nodes, start=1):
        assert [(ic.nic, ic.address) for ic in n.interconnects] == [("lan0", f"10.1.0.{i}/25"),
                                                                    ("lan1", f"10.2.0.{i}/26")]
        assert (n.service_nic, n.service_address) == ("ens3", f"192.168.0.{30 + i}/24")
    assert "interconnect NICs and prefixes [srv1/ip-addr.txt, srv2/ip-addr.txt]: each link found on a NIC" in out
    guessed = out.split("Guessed", 1)[1].split("\n\n", 1)[0]
    assert "interconnect NICs" not in guessed and "service_address" not in guessed, guessed


def test_the_test_page_is_not_called_missing_where_the_drbd_filesystem_is_not_mounted(servers, roots, tmp_path,
                                                                                        capsys):
    """index.html is on the replicated filesystem, mounted on the node that runs the service: a node without
    it mounted (this machine's /proc/mounts has no /var/www/html) says so instead of "missing"; a file outside
    that filesystem is missing as before."""
    c, _ = _case_on("debian12", servers, tmp_path)
    d = _prepare(c, servers, tmp_path, roots)
    page = c.rendering.get("index-html").path
    assert page.startswith(c.design.service.mount_point + "/")
    preset = tmp_path / "p.toml"
    preset.write_text(dump_preset(c.design))
    # the lab's adopted cluster: the bare directory under the mount point holds Debian's default page
    (d / "srv1" / page.lstrip("/")).write_text("<title>Apache2 Debian Default Page: It works</title>\n")
    for _ in ("another file there", "no file there"):
        code, out = _cli(capsys, "diff", str(preset), "--files-only")
        assert code == 0, out
        assert f"srv1:{page}: not compared: on the DRBD filesystem, which is not mounted on srv1" in out
        assert "0 differ or missing, 1 on the DRBD filesystem of the other node (not compared)" in out
        (d / "srv1" / page.lstrip("/")).unlink(missing_ok=True)
    (d / "srv2/etc/drbd.d/r0.res").unlink()
    code, out = _cli(capsys, "diff", str(preset), "--files-only")
    assert code == 1 and "srv2:/etc/drbd.d/r0.res: missing" in out


def test_the_mount_check_reads_proc_mounts(servers, tmp_path):
    kh = known_hosts(tmp_path, *servers)
    a = servers[0]
    t = SshTarget(name="srv1", host=a.host, port=a.port, identity_file=str(a.client_key), known_hosts=str(kh),
                  ssh_config=False)
    node = collect._open(t, collect.Access())
    try:
        assert collect._mounted(node, "/proc") and collect._mounted(node, "/proc/")
        assert not collect._mounted(node, "/var/www/html-not-a-mount")
    finally:
        node.session.close()


def test_adopt_over_ssh_reads_heartbeat_bcast_link_addresses(servers, roots, tmp_path, capsys):
    """ha.cf's bcast names NICs only: the address of each link is the one its NIC carries on the node (where
    adoption from files alone writes hawizard's numbering, 10.LINK.0.NODE/24)."""
    from support.loopback_nodes import ip_addr_lines

    require("drbdadm")
    c, kh = _case_on("article", servers, tmp_path)
    d = _prepare(c, servers, tmp_path, roots)
    for i, n in enumerate(c.design.nodes, start=1):
        rows = [("eth0", f"192.168.0.{100 + i}/24"), ("eth1", f"10.1.0.{i}/24"), ("eth2", f"172.16.5.{i}/28")]
        (d / n.name / "ip-addr.txt").write_text(ip_addr_lines(rows))
    out_preset = tmp_path / "adopted.toml"
    a, b = servers
    code, out = _cli(capsys, "adopt", "--node", f"{a.host}:{a.port}", "--node", f"{b.host}:{b.port}",
                     "-i", str(a.client_key), "--known-hosts", str(kh), "-o", str(out_preset))
    assert code == 0, out
    got = load_preset(out_preset)
    for i, n in enumerate(got.nodes, start=1):
        assert [(ic.nic, ic.address) for ic in n.interconnects] == [("eth1", f"10.1.0.{i}/24"),
                                                                    ("eth2", f"172.16.5.{i}/28")]
    assert "interconnect addresses [srv1/ip-addr.txt, srv2/ip-addr.txt]: each link found on a NIC" in out
