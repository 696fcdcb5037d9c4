"""hawizard diff's prediction of what a re-apply does to the running resources, by Pacemaker's own scheduler.

The running cluster is the article's as typed on Debian 12 (fixtures/adopt/article-debian12), made a running
cluster's CIB by crm_simulate itself (adopt_support.run_cib: both nodes up, DRBD promoted on srv1, the group
started there). Checked: the adopted design keeps the DRBD agent's drbdconf parameter, so its re-apply
restarts only Apache (the design adds the status URL the agent monitors); without the parameter DRBD is
demoted and restarted on both nodes and the whole service with it (what the lab's by-hand test measured as
a 37 s gap before the parameter was kept); a ``<master>`` written as a promotable ``<clone>`` is no restart;
on a running pcs cluster a changed port restarts Apache alone; a CIB without status predicts nothing rather than claiming "nothing stops".
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys

from adopt_support import article_debian12_dir, rendered_dir, run_cib
from validators.harness import case, require

from hawizard.adopt import nodediff
from hawizard.adopt.collected import Collected
from hawizard.adopt.engine import adopt
from hawizard.design.preset_file import dump_preset
from hawizard.render.renderer import render


def _running_article(tmp_path):
    require("cibadmin", "crm", "crm_simulate")
    d = article_debian12_dir(tmp_path)
    run_cib(d / "srv1" / "cib.xml", ("srv1", "srv2"), "res_drbd0")
    shutil.copyfile(d / "srv1" / "cib.xml", d / "srv2" / "cib.xml")
    return d


def _actions(design, d) -> list[tuple[str, str]]:
    result = nodediff.diff_collected(design, render(design), Collected.open(d))
    assert result.prediction is not None and result.prediction.predicted, result.cib_text()
    return [(a.action, a.resource) for a in result.prediction.actions]


def test_the_adopted_design_keeps_drbdconf_and_its_reapply_restarts_only_apache(tmp_path):
    d = _running_article(tmp_path)
    design = adopt(d).design
    assert design.cluster.drbd_conf_param == "/etc/drbd.conf"
    # nothing for DRBD although the design writes the cluster's `ms` (a <master>) as a promotable <clone>:
    # Pacemaker Explained 2.1 calls them the same resource, and the scheduler agrees
    assert "<master" in (d / "srv1" / "cib.xml").read_text()
    assert _actions(design, d) == [("restart", "res_httpd")]


def test_dropping_a_parameter_of_the_running_drbd_restarts_drbd_and_the_whole_service(tmp_path):
    d = _running_article(tmp_path)
    design = adopt(d).design
    design.cluster.drbd_conf_param = ""
    preset = tmp_path / "no-drbdconf.toml"
    preset.write_text(dump_preset(design))
    proc = subprocess.run([sys.executable, "-m", "hawizard", "diff", str(preset), "--from-dir", str(d)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "Running resources (crm_simulate of the re-apply on a copy of the live CIB): 5 would stop" in out, out
    for line in ("restart   res_drbd0:0 (Promoted) on srv1", "restart   res_drbd0:1 (Unpromoted) on srv2",
                 "restart   res_ip on srv1", "restart   res_fs_drbd0 on srv1", "restart   res_httpd on srv1"):
        assert line in out, out


def test_a_changed_port_on_a_running_pcs_cluster_restarts_apache_only(tmp_path):
    """The pcs path: the script loaded into a copy of the running CIB as cluster-config builds the CIB it pushes."""
    c = case("debian12-pcs")
    require("cibadmin", "pcs", "crm_simulate")
    d = rendered_dir(c, tmp_path, with_state=True, with_cib=True)
    ids = c.design.cluster.ids
    first = d / c.design.node_names[0] / "cib.xml"
    run_cib(first, tuple(c.design.node_names), ids.drbd)
    for name in c.design.node_names[1:]:
        shutil.copyfile(first, d / name / "cib.xml")
    design = copy.deepcopy(c.design)
    design.service.port = 8080
    assert _actions(design, d) == [("restart", ids.web)]


def test_a_cib_without_status_predicts_nothing(tmp_path):
    require("cibadmin", "crm")
    d = article_debian12_dir(tmp_path)
    design = adopt(d).design
    result = nodediff.diff_collected(design, render(design), Collected.open(d))
    assert result.prediction is not None and not result.prediction.predicted
    assert "not predicted (srv1/cib.xml has no status section" in result.cib_text()
