"""Rendering: files per stack, modes, nodes; secrets only as placeholders in previews."""

from __future__ import annotations

import re

import pytest
from support.designs import with_ipmi

from hawizard.design.preset_file import load_preset
from hawizard.render.renderer import SECRET_RE, render


def test_article_files_match_the_article():
    r = render(load_preset("article"))
    ids = [f.id for f in r.files]
    assert ids == ["ha-cf", "authkeys", "drbd-conf", "drbd-global", "drbd-resource", "apache-status",
                   "cluster-config", "index-html"]
    hacf = r.get("ha-cf").content
    for line in ("crm yes", "logfile /var/log/ha-log", "logfacility local0", "keepalive 2", "udpport 694",
                 "bcast eth1 eth2", "node srv1", "node srv2"):
        assert re.search(rf"^{re.escape(line)}$", hacf, re.M), line
    assert hacf.index("udpport") < hacf.index("bcast")  # ha.cf is read in order
    auth = r.get("authkeys")
    assert auth.mode == 0o600 and auth.content == "auth 1\n1 crc\n"
    g = r.get("drbd-global").content
    assert "rate 200M;" in g and "usage-count no;" in g and "protocol C;" in g
    assert 'local-io-error "/usr/lib/drbd/notify-io-error.sh;' in g
    res = r.get("drbd-resource").content
    assert "address 10.1.0.1:7801;" in res and "disk /dev/sdb1;" in res and "device /dev/drbd0;" in res
    crm = r.get("cluster-config").content
    for needle in ("ms ms_drbd0 res_drbd0 meta master-max=1", "colocation c_rg_httpd_on_drbd0 inf: rg_httpd ms_drbd0:Master",
                   "order o_drbd0_befor_rg_httpd inf: ms_drbd0:promote rg_httpd:start",
                   "group rg_httpd res_ip res_fs_drbd0 res_httpd", "default-action-timeout=240",
                   "no-quorum-policy=ignore", "stonith-enabled=false"):
        assert needle in crm, needle
    assert len([ln for ln in crm.splitlines() if ln.startswith("property")]) == 1


def test_modern_stacks_use_their_dialects():
    deb = render(load_preset("debian12"))
    crm = deb.get("cluster-config").content
    assert "clone ms_drbd_r0 p_drbd_r0 meta promotable=true" in crm and " ms " not in crm
    assert "role=Promoted" in crm and "role=Unpromoted" in crm and "Master" not in crm
    assert "op_defaults" not in crm  # no blanket timeout: each operation has its own
    g = deb.get("drbd-global").content
    assert "resync-rate 30M;" in g and "syncer" not in g and "fencing resource-and-stonith;" in g
    el9 = render(load_preset("el9"))
    assert "crm-fence-peer.9.sh" in el9.get("drbd-global").content
    assert "node-id 0;" in el9.get("drbd-resource").content
    pcs = el9.get("cluster-config")
    assert pcs.path.endswith(".sh") and pcs.mode == 0o700
    # the resource and its promotable clone in one pcs run (issue 15: as few pcs runs as pcs allows)
    assert "promotable p_drbd_r0-clone promoted-max=1" in pcs.content and "resource promotable" not in pcs.content


def test_debian_pcs_is_the_debian_stack_with_pcs():
    """debian12-pcs borrows every file from debian12-crmsh except the cluster configuration."""
    crm, pcs = render(load_preset("debian12")), render(load_preset("debian12-pcs"))
    for f in crm.files:
        if f.id != "cluster-config":
            other = pcs.get(f.id)
            assert other.path == f.path and other.mode == f.mode
            assert other.content.replace("debian12-pcs", "debian12") == f.content, f.id
    cfg = pcs.get("cluster-config")
    assert cfg.path.endswith("cluster.pcs.sh") and "pcs -f" not in cfg.content  # $PCS -f, set by the plan
    assert "promotable ms_drbd_r0 promoted-max=1" in cfg.content and "resource promotable" not in cfg.content
    assert "drbd_resource=r0" in cfg.content


@pytest.mark.parametrize("name, fencing, ref", [
    ("debian12", None, ""),  # sbd: no password anywhere
    ("debian12-pcs", None, ""),
    ("el9", None, "env:HAWIZARD_PDU_COMMUNITY"),  # a PDU's SNMP community, by reference
    ("debian12", with_ipmi, "env:HAWIZARD_IPMI_PASSWORD"),
    ("debian12-pcs", with_ipmi, "env:HAWIZARD_IPMI_PASSWORD"),
])
def test_secrets_are_placeholders_and_previews_hide_them(name, fencing, ref):
    d = load_preset(name)
    if fencing:
        fencing(d)
    r = render(d)
    key = r.get("corosync-authkey")
    assert key.mode == 0o400 and SECRET_RE.fullmatch(key.content)
    for f in r.files:
        prev = f.preview(r.secrets)
        assert "@@SECRET" not in prev
    cfg = r.get("cluster-config")
    if ref:
        assert set(cfg.secrets) == {"fence-srv1", "fence-srv2"}
        assert ref in cfg.preview(r.secrets)
    else:
        assert d.fencing.method == "sbd" and not set(cfg.secrets) and "password=" not in cfg.content
        assert not [s for s in r.secrets if s.startswith("fence-")]


def test_secret_filling_quotes_for_its_context():
    r = render(load_preset("el9"))
    pcs = r.get("cluster-config").with_secrets({"fence-srv1": "a'b c", "fence-srv2": "x"})
    assert "password=a'b c" not in pcs
    assert "'a'\"'\"'b c'" in pcs  # shell-quoted
    crm = render(with_ipmi(load_preset("debian12"))).get("cluster-config").with_secrets(
        {"fence-srv1": 'p"q', "fence-srv2": "x"})
    assert 'password="p\\"q"' in crm


def test_heartbeat_sha1_uses_a_secret_and_ucast_lists_peers():
    d = load_preset("article")
    d.heartbeat.auth = "sha1"
    d.heartbeat.transport = "ucast"
    r = render(d)
    assert r.get("authkeys").content == "auth 1\n1 sha1 @@SECRET:heartbeat-authkey@@\n"
    assert "ucast eth1 10.1.0.2" in r.get("ha-cf").content
    assert "heartbeat-authkey" in r.secrets


def test_distinct_backing_disks_go_into_on_sections():
    d = load_preset("article")
    d.nodes[1].backing_disk = "/dev/sdc1"
    res = render(d).get("drbd-resource").content
    assert "disk /dev/sdb1;" in res and "disk /dev/sdc1;" in res
    assert res.index("disk /dev/sdb1") > res.index("on srv1")


def test_files_carry_nodes_path_mode():
    r = render(load_preset("debian12"))
    for f in r.files:
        assert f.path.startswith("/") and f.owner == "root" and f.nodes
    assert r.get("index-html").nodes == ("srv1",)
    assert r.get("corosync-conf").nodes == ("srv1", "srv2")


def test_every_stack_is_known_everywhere_and_renders():
    """A stack added in stacks.py is a choice of the model, has its agents in validate, and
    finds a template for every file (through its own directory or the ones it borrows)."""
    import dataclasses

    from hawizard.design import model, stacks, validate

    names = [s.name for s in stacks.all_stacks()]
    assert sorted(model.STACKS) == sorted(names)
    assert sorted(validate.AGENTS_BY_STACK) == sorted(names)
    base = {"centos5-heartbeat": "article", "el9-pcs": "el9"}
    for name in names:
        design = dataclasses.replace(load_preset(base.get(name, "debian12")), stack=name)
        r = render(design)
        assert r.get("cluster-config").content and r.get("drbd-resource").content, name


def test_a_fence_agent_without_a_password_reference_gets_no_password():
    d = with_ipmi(load_preset("debian12"))
    d.nodes[1].fence_password_ref = ""
    r = render(d)
    cfg = r.get("cluster-config")
    assert set(cfg.secrets) == {"fence-srv1"} and set(r.secrets) >= {"fence-srv1"}
    assert "fence-srv2" not in r.secrets  # nothing to resolve, nothing asked for at apply time
    line = next(ln for ln in cfg.content.splitlines() if ln.startswith("primitive fence_srv2"))
    assert "password=" not in line


def test_drbd_shared_secret_is_quoted_as_a_drbd_string():
    d = load_preset("debian12")
    d.drbd.shared_secret_ref = "generate"
    res = render(d).get("drbd-resource")
    out = res.with_secrets({"drbd-secret": 'a"b\\c'})
    assert 'shared-secret "a\\"b\\\\c";' in out
    assert res.whole_secret == "" and render(d).get("corosync-authkey").whole_secret == "corosync-authkey"
