"""hawizard diff: the CIB objects hawizard would create against the live CIB.

The live CIB is made by the real tools from the rendered script (tests/adopt_support.py, as the validators
load it); hawizard's side is made by the same tools offline (hawizard/adopt/shadow.py). Checked: a CIB made
from the design itself diffs clean (exit 0); a changed timeout is a changed object with the attribute
named (exit 1); a hand-made resource and constraint are listed as not hawizard's, left alone (exit 0); a
fence device of another fencing method is removed; a fence password is compared for presence only and never
printed; the old names (Master, master-max, <master>, durations without a unit) are the same objects.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from adopt_support import rendered_dir
from validators.harness import FENCE_PASSWORD, case, require, run, show

from hawizard.adopt import cibdiff
from hawizard.design.preset_file import design_from_dict, design_to_dict, dump_preset


def _hawizard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hawizard", *args], capture_output=True, text=True, timeout=300)


def _setup(cid: str, tmp_path: Path) -> tuple[Path, Path, Path]:
    c = case(cid)
    require("cibadmin", "pcs" if c.stack.config_tool == "pcs" else "crm")
    d = rendered_dir(c, tmp_path, with_state=True, with_cib=True)
    preset = tmp_path / f"{cid}.toml"
    preset.write_text(dump_preset(c.design))
    return preset, d, d / c.design.node_names[0] / "cib.xml"


def _cib(cib: Path, *args: str) -> None:
    proc = run(["cibadmin", *args], env={"CIB_file": str(cib)})
    assert proc.returncode == 0, show(proc)


def _diff(preset: Path, d: Path) -> subprocess.CompletedProcess[str]:
    return _hawizard("diff", str(preset), "--from-dir", str(d))


@pytest.mark.parametrize("cid", ("debian12", "article-3links-webroot"))
def test_a_cib_made_from_the_design_diffs_clean(cid, tmp_path):
    preset, d, _ = _setup(cid, tmp_path)
    proc = _diff(preset, d)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 added, changed or removed" in proc.stdout, proc.stdout
    assert "\nchanged " not in proc.stdout and "\nadded " not in proc.stdout


def test_a_changed_timeout_is_a_changed_object(tmp_path):
    preset, d, cib = _setup("debian12", tmp_path)
    _cib(cib, "-M", "-X", '<op id="p_fs-monitor-20s" timeout="60s"/>')
    proc = _diff(preset, d)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "changed    primitive p_fs\n" in proc.stdout
    assert "op monitor interval=20s timeout: 60s -> 40s" in proc.stdout
    assert "1 added, changed or removed" in proc.stdout
    # the files are not what differs
    assert "0 differ or missing" in proc.stdout


def test_a_hand_made_resource_is_not_owned_and_left_alone(tmp_path):
    preset, d, cib = _setup("debian12", tmp_path)
    _cib(cib, "-C", "-o", "resources", "-X", '<primitive id="p_extra" class="ocf" provider="heartbeat" type="Dummy"/>')
    _cib(cib, "-C", "-o", "constraints", "-X",
         '<rsc_location id="cli-prefer-g_web" rsc="g_web" node="srv2" score="INFINITY"/>')
    require("crm_attribute")  # a property Pacemaker sets itself on a running cluster
    proc = run(["crm_attribute", "-t", "crm_config", "-n", "dc-version", "-v", "2.1.5"], env={"CIB_file": str(cib)})
    assert proc.returncode == 0, show(proc)
    proc = _diff(preset, d)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "left alone primitive p_extra: not hawizard's" in proc.stdout
    assert "left alone rsc_location cli-prefer-g_web: not hawizard's" in proc.stdout
    assert "left alone cluster properties dc-version: not set by hawizard" in proc.stdout


def test_a_fence_device_the_design_no_longer_has_is_removed(tmp_path):
    """The CIB was made with sbd fencing; the design now has none: fence_sbd is hawizard's, and removed."""
    preset, d, _ = _setup("debian12", tmp_path)
    data = design_to_dict(case("debian12").design)
    data["fencing"].update(method="none", race="none", sbd_devices=[])
    data["answers"]["switchover_failure"] = "manual"
    data["drbd"]["fencing"] = "dont-care"
    preset.write_text(dump_preset(design_from_dict(data, "<no fencing>")))
    proc = _diff(preset, d)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "removed    fence device fence_sbd: hawizard made it for another design" in proc.stdout
    assert "crm configure load update never deletes" in proc.stdout  # a crmsh stack: said how to remove it
    assert "stonith-enabled: true -> false" in proc.stdout


def test_a_fence_password_is_compared_for_presence_and_never_shown(tmp_path):
    preset, d, cib = _setup("debian12-ipmi-static", tmp_path)
    proc = _diff(preset, d)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # another password on the node: still the same object (hawizard cannot know the one read at apply time)
    _cib(cib, "-M", "-X", '<nvpair id="fence_srv1-instance_attributes-password" value="another"/>')
    assert _diff(preset, d).returncode == 0
    # no password at all: the object changed, and the value is not printed on either side
    _cib(cib, "-D", "-X", '<nvpair id="fence_srv2-instance_attributes-password"/>')
    _cib(cib, "-M", "-X", '<nvpair id="fence_srv1-instance_attributes-ip" value="192.168.0.99"/>')
    proc = _diff(preset, d)
    assert proc.returncode == 1, proc.stdout
    assert "param password: (none) -> «secret»" in proc.stdout
    assert "param ip: 192.168.0.99 -> 192.168.0.11" in proc.stdout
    for piece in (FENCE_PASSWORD, "another", "w0rd"):
        assert piece not in proc.stdout + proc.stderr


# -- the comparison itself, on small CIBs ------------------------------------------------------------------

def _cib_xml(resources: str, constraints: str = "", props: str = "") -> str:
    return (f'<cib validate-with="pacemaker-3.9"><configuration><crm_config><cluster_property_set id="o">{props}'
            f'</cluster_property_set></crm_config><nodes/><resources>{resources}</resources>'
            f'<constraints>{constraints}</constraints></configuration><status/></cib>')


OWN = cibdiff.Ownership(frozenset({"fence_srv1", "l_fence_srv1"}), frozenset({"p_drbd", "ms"}), False)


def test_old_names_are_the_same_objects():
    """Pacemaker Explained 2.1: Master/Slave are Promoted/Unpromoted, master-max promoted-max, <master> a promotable
    clone, and a duration is its value (20 = 20s = PT20S)."""
    want = _cib_xml(
        '<clone id="ms"><meta_attributes id="a"><nvpair id="a1" name="promotable" value="true"/>'
        '<nvpair id="a2" name="promoted-max" value="1"/></meta_attributes>'
        '<primitive id="p_drbd" class="ocf" provider="linbit" type="drbd"><operations>'
        '<op id="o1" name="monitor" interval="29s" role="Promoted" timeout="20s"/></operations></primitive></clone>',
        '<rsc_colocation id="c" score="INFINITY" rsc="g" with-rsc="ms" with-rsc-role="Promoted"/>')
    have = _cib_xml(
        '<master id="ms"><meta_attributes id="b"><nvpair id="b2" name="master-max" value="1"/></meta_attributes>'
        '<primitive id="p_drbd" class="ocf" provider="linbit" type="drbd"><operations>'
        '<op id="x" name="monitor" interval="29" role="Master" timeout="PT20S"/></operations></primitive></master>',
        '<rsc_colocation id="c" score="inf" rsc="g" with-rsc="ms" with-rsc-role="Master"/>')
    result = cibdiff.compare(want, have, OWN)
    assert not result.differs, result.text()


def test_a_resource_moved_into_a_group_and_a_removed_parameter_are_named():
    want = _cib_xml('<group id="g"><primitive id="p" class="ocf" provider="heartbeat" type="IPaddr2"/></group>')
    have = _cib_xml('<primitive id="p" class="ocf" provider="heartbeat" type="IPaddr2"><instance_attributes id="i">'
                    '<nvpair id="n" name="nic" value="eth9"/></instance_attributes></primitive>')
    result = cibdiff.compare(want, have, OWN)
    by_id = {o.id: o for o in result.objects}
    assert by_id["g"].state == cibdiff.ADDED
    assert by_id["p"].state == cibdiff.CHANGED
    assert set(by_id["p"].details) == {"in: (top level) -> g", "param nic: eth9 -> (none)"}


def test_pcs_deletes_constraints_naming_its_resources():
    """pcs's script deletes hawizard's resources with the constraints naming them (pcs resource delete), so a
    hand-made constraint on one of them is removed by a re-apply; crmsh's load update leaves it."""
    have = _cib_xml('<primitive id="p_drbd" class="ocf" provider="linbit" type="drbd"/>',
                    '<rsc_location id="cli-ban-p_drbd" rsc="p_drbd" node="srv2" score="-INFINITY"/>')
    want = _cib_xml('<primitive id="p_drbd" class="ocf" provider="linbit" type="drbd"/>')
    pcs = cibdiff.Ownership(OWN.may_have_made, OWN.recreated, True)
    assert {o.id: o.state for o in cibdiff.compare(want, have, pcs).objects}["cli-ban-p_drbd"] == cibdiff.REMOVED
    assert {o.id: o.state for o in cibdiff.compare(want, have, OWN).objects}["cli-ban-p_drbd"] == cibdiff.LEFT


def test_a_password_named_attribute_is_never_shown():
    want = _cib_xml('<primitive id="f" class="stonith" type="fence_x"><instance_attributes id="i">'
                    '<nvpair id="n" name="passwd" value="HAWIZARD-SECRET-fence-srv1"/></instance_attributes></primitive>')
    have = _cib_xml('<primitive id="f" class="stonith" type="fence_y"><instance_attributes id="i">'
                    '<nvpair id="n" name="snmp_priv_passwd" value="Sekr1t"/></instance_attributes></primitive>')
    text = cibdiff.compare(want, have, OWN).text()
    assert "Sekr1t" not in text and "HAWIZARD-SECRET" not in text
    assert "param snmp_priv_passwd: «redacted» -> (none)" in text and "param passwd: (none) -> «secret»" in text


def test_a_crm_that_drops_objects_and_exits_0_is_caught(tmp_path, monkeypatch):
    """Old crmsh exited 0 on a line it refused (tests/validators/test_cluster_config.py). That crmsh cannot run
    here: a stand-in named as such, a `crm` that loads nothing and exits 0, is put first on PATH; the shadow CIB
    must then refuse to compare rather than call every object of the cluster "not hawizard's"."""
    from hawizard.adopt import shadow
    from hawizard.common.errors import InputError

    require("cibadmin")
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    stand_in = fake / "crm"
    stand_in.write_text("#!/bin/sh\n# STAND-IN for an old crmsh that exits 0 without loading anything\nexit 0\n")
    stand_in.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{__import__('os').environ['PATH']}")
    c = case("debian12")
    with pytest.raises(InputError, match=r"crm configure load update left out .*g_web.*p_drbd_r0"):
        shadow.desired_cib(c.design, c.rendering)
