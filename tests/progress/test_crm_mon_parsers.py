"""crm_mon parsers against the article's sample and samples made by the real Pacemaker tools.

samples/crm_mon/README.md says how each file was produced (make_samples.sh runs cibadmin,
crmsh, crm_simulate, crm_attribute and crm_mon 2.1.5 on CIB files; no cluster needed).
The last tests run the installed crm_mon at test time, so the parser is also checked against
whatever Pacemaker this machine has.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hawizard.events import ClusterState
from hawizard.readers.crm_mon.parse import parse_crm_mon
from hawizard.readers.crm_mon.text_format import CRM_MON_TEXT, parse_crm_mon_text
from hawizard.readers.crm_mon.xml_format import CRM_MON_XML, parse_crm_mon_xml

SAMPLES = Path(__file__).parent / "samples" / "crm_mon"
GROUP = ["res_ip", "res_fs_drbd0", "res_httpd"]


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["article-pcmk10.txt", "pcmk10-indented.txt"])
def test_article_pacemaker_10_text(name):
    st = parse_crm_mon_text(sample(name))
    assert st.nodes_online == ["srv1", "srv2"] and st.nodes_offline == []
    assert st.dc == "srv2"
    assert st.promoted_node("ms_drbd0") == "srv2"
    assert st.where("ms_drbd0") == ["srv1", "srv2"]
    assert st.all_started_on("rg_httpd") == "srv2"
    assert [r.id for r in st.resources if r.parent == "rg_httpd"] == GROUP
    ip = st.resource("res_ip")[0]
    assert ip.agent == "ocf:heartbeat:IPaddr2"  # "ocf::heartbeat:IPaddr2" normalised
    roles = {r.raw_role: r.role for r in st.resources if r.parent == "ms_drbd0"}
    assert roles == {"Masters": "Promoted", "Slaves": "Unpromoted"}


@pytest.mark.parametrize("fmt", ["xml", "txt"])
def test_pcmk21_running(fmt):
    st = parse_crm_mon(sample(f"pcmk21-running.{fmt}"))
    assert st.source == ("xml" if fmt == "xml" else "text")
    assert st.nodes_online == ["srv1", "srv2"]
    assert st.promoted_node("ms_drbd0") == "srv1"
    assert st.promoted_node("res_drbd0") == "srv1"
    assert st.all_started_on("rg_httpd") == "srv1"
    assert st.where("res_drbd0") == ["srv1", "srv2"]
    assert st.where("rg_httpd") == ["srv1"]
    assert st.containers["ms_drbd0"] == "promotable" and st.containers["rg_httpd"] == "group"
    drbd = {r.node: r.role for r in st.resources if r.id == "res_drbd0"}
    assert drbd == {"srv1": "Promoted", "srv2": "Unpromoted"}
    assert st.failures == [] and st.fail_counts == {}


@pytest.mark.parametrize("fmt", ["xml", "txt"])
def test_pcmk21_failed_monitor(fmt):
    st = parse_crm_mon(sample(f"pcmk21-failed.{fmt}"))
    httpd = st.resource("res_httpd")[0]
    assert httpd.failed and httpd.role == "Started" and httpd.node == "srv1"
    assert st.all_started_on("rg_httpd") is None  # a failed member is not "started"
    assert st.fail_counts == {("srv1", "res_httpd"): 1}
    (f,) = st.failures
    assert (f.resource, f.node, f.operation, f.status) == ("res_httpd", "srv1", "monitor", "not running")
    assert f.reason == "Simulated action result"


@pytest.mark.parametrize("fmt", ["xml", "txt"])
def test_pcmk21_failover_node_offline(fmt):
    st = parse_crm_mon(sample(f"pcmk21-failover.{fmt}"))
    assert st.nodes_online == ["srv2"] and st.nodes_offline == ["srv1"]
    assert st.promoted_node("ms_drbd0") == "srv2"
    assert st.all_started_on("rg_httpd") == "srv2"
    stopped = [r for r in st.resources if r.id == "res_drbd0" and r.role == "Stopped"]
    assert len(stopped) == 1 and stopped[0].node is None and not stopped[0].active


@pytest.mark.parametrize("fmt", ["xml", "txt"])
def test_pcmk21_standby(fmt):
    st = parse_crm_mon(sample(f"pcmk21-standby.{fmt}"))
    assert st.nodes_standby == ["srv2"]
    assert "srv2" in st.nodes_online  # standby nodes are online
    assert st.where("ms_drbd0") == ["srv1"]


def test_text_and_xml_agree_on_every_sample():
    for name in ("running", "failed", "failover", "standby"):
        x = parse_crm_mon_xml(sample(f"pcmk21-{name}.xml"))
        t = parse_crm_mon_text(sample(f"pcmk21-{name}.txt"))
        assert (x.nodes_online, x.nodes_offline, x.nodes_standby) == (t.nodes_online, t.nodes_offline, t.nodes_standby)
        key = lambda s: sorted((r.id, r.role, r.node or "", r.parent or "", r.failed) for r in s.resources)  # noqa: E731
        assert key(x) == key(t), name


def test_compat_20_role_names_and_unclean_nodes():
    text = (
        "Node List:\n"
        "  * Node srv2: UNCLEAN (offline)\n"
        "  * Online: [ srv1 ]\n\n"
        "Full List of Resources:\n"
        "  * Clone Set: ms_drbd0 [res_drbd0] (promotable):\n"
        "    * Masters: [ srv1 ]\n"
        "    * Stopped: [ srv2 ]\n"
        "  * Resource Group: rg_httpd:\n"
        "    * res_ip\t(ocf:heartbeat:IPaddr2):\t Started srv1\n"
        "    * res_fs_drbd0\t(ocf:heartbeat:Filesystem):\t Stopped (disabled)\n"
        "  * res_other\t(ocf:heartbeat:Dummy):\t Started [ srv1 srv2 ]\n"
    )
    st = parse_crm_mon_text(text)
    assert st.nodes_offline == ["srv2"] and st.nodes_unclean == ["srv2"] and st.nodes_online == ["srv1"]
    assert st.promoted_node("ms_drbd0") == "srv1"
    assert st.all_started_on("rg_httpd") is None
    assert st.where("res_other") == ["srv1", "srv2"]
    assert st.resource("res_other")[0].parent is None


@pytest.mark.parametrize("junk", ["", "garbage", "<pacemaker-result><nodes>", "<a/>", "Online: [", "* Clone Set:"])
def test_garbage_never_raises(junk):
    st = parse_crm_mon(junk)
    assert st.promoted_node("ms_drbd0") is None and st.all_started_on("rg_httpd") is None


def test_to_event_is_a_cluster_state_event():
    ev = parse_crm_mon(sample("pcmk21-running.xml")).to_event("verify-cluster", "srv1")
    assert isinstance(ev, ClusterState)
    assert ev.nodes_online == ("srv1", "srv2")
    assert {"id": "res_ip", "role": "Started", "node": "srv1", "parent": "rg_httpd"}.items() <= ev.resources[0].items()
    assert ClusterState.from_dict(ev.to_dict()) == ev


# --- against the installed Pacemaker, at test time -----------------------------------------------

needs_crm_mon = pytest.mark.skipif(shutil.which("crm_mon") is None, reason="crm_mon (Pacemaker CLI) is not installed")


def _crm_mon(args, cib: Path) -> str:
    env = dict(os.environ, CIB_file=str(cib), LC_ALL="C")
    return subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=60, check=True).stdout


@needs_crm_mon
@pytest.mark.parametrize("name", ["running", "failed", "failover", "standby"])
def test_installed_crm_mon_output_parses_like_the_samples(name, tmp_path):
    cib = tmp_path / "cib.xml"
    cib.write_bytes((SAMPLES / f"cib-{name}.xml").read_bytes())
    want = parse_crm_mon(sample(f"pcmk21-{name}.xml"))
    for args in (CRM_MON_XML, CRM_MON_TEXT):
        got = parse_crm_mon(_crm_mon(args, cib))
        assert got.nodes_online == want.nodes_online and got.nodes_offline == want.nodes_offline
        assert got.promoted_node("ms_drbd0") == want.promoted_node("ms_drbd0")
        assert got.all_started_on("rg_httpd") == want.all_started_on("rg_httpd")
        assert sorted((r.id, r.role, r.node or "") for r in got.resources) == sorted(
            (r.id, r.role, r.node or "") for r in want.resources
        )
