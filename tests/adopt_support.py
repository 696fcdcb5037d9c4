"""Directories of collected files for the adoption tests, made with the real tools.

- ``article_dir``: the article's own files, copied verbatim from ../shared/seed/article-ja.txt into
  tests/fixtures/adopt/article/ (ha.cf, authkeys, global_common.conf, r0.res, the server-status
  lines of httpd.conf), and its crm lines typed into crmsh as the article does (``crm -f`` with
  ``configure`` ... ``commit``) against a Pacemaker 1.0 file CIB (``cibadmin --empty pacemaker-1.0``).
- ``article_debian12_dir``: the same cluster as an operator types it on Debian 12 (corosync.conf for
  Heartbeat's files, the crm lines in their Pacemaker 2.1 forms; fixtures/adopt/article-debian12/).
- ``run_cib``: a file CIB made to look like a running cluster's (``cibadmin -Q`` with its status), by
  Pacemaker's own scheduler: crm_simulate brings the nodes up and runs the transitions, with DRBD's
  promotion score set as the agent sets it.
- ``rendered_dir``: what hawizard renders for a design, written per node at the paths it has
  on the node (secrets filled with the validators' dummies, as the runner writes them), and the
  rendered cluster configuration loaded into a file CIB the way tests/validators do it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from validators.harness import Case, require, run, show, write

FIXTURES = Path(__file__).parent / "fixtures" / "adopt"


def crm_cib(where: Path, crm_lines: str, schema: str = "pacemaker-1.0") -> Path:
    """A file CIB with the crm lines typed into ``crm configure`` one by one, then committed."""
    require("cibadmin", "crm")
    proc = run(["cibadmin", "--empty", schema])
    assert proc.returncode == 0, show(proc)
    cib = write(where / "cib.xml", proc.stdout)
    script = write(where.parent / f"{where.name}.crm-session", "configure\n" + crm_lines + "commit\n")
    proc = run(["crm", "-f", str(script)], env={"CIB_file": str(cib)})
    assert proc.returncode == 0, show(proc)
    script.unlink()
    return cib


def run_cib(cib: Path, nodes: tuple[str, ...], drbd_primitive: str) -> Path:
    """Turn the file CIB ``cib`` into a running cluster's, in place: ``nodes`` online, every resource started,
    DRBD promoted on the first node (the linbit agent's promotion score, ``master-<primitive>``, set as
    ``crm_master`` sets it: a transient node attribute). Asserts the result is steady (nothing more to do)."""
    require("crm_simulate", "crm_attribute")
    env = {"CIB_file": str(cib)}
    up = [a for n in nodes for a in ("-u", n)]
    proc = run(["crm_simulate", "-x", str(cib), *up, "-q", "true", "-S", "-O", str(cib)])
    assert proc.returncode == 0, show(proc)
    for name, score in zip(nodes, (100, 10), strict=True):
        proc = run(["crm_attribute", "-N", name, "-n", f"master-{drbd_primitive}", "-v", str(score), "-l", "reboot"],
                   env=env)
        assert proc.returncode == 0, show(proc)
    proc = run(["crm_simulate", "-x", str(cib), "-q", "true", "-S", "-O", str(cib)])
    assert proc.returncode == 0, show(proc)
    proc = run(["crm_simulate", "-x", str(cib), "-R", "--output-as=xml"])
    assert proc.returncode == 0 and "<rsc_action" not in proc.stdout, show(proc)
    return cib


def article_dir(tmp: Path) -> Path:
    """The article's files, and its CIB as its crm session leaves it."""
    d = tmp / "article"
    shutil.copytree(FIXTURES / "article" / "etc", d / "etc")
    crm_cib(d, (FIXTURES / "article" / "crm-session.txt").read_text())
    return d


def article_debian12_dir(tmp: Path) -> Path:
    """DIR/NODE/ of the article's cluster as typed by hand on Debian 12 (fixtures/adopt/article-debian12), and
    its CIB as the crm session leaves it on Pacemaker 2.1 (a pacemaker-3.7 file CIB)."""
    hand = FIXTURES / "article-debian12"
    d = tmp / "article-debian12"
    for node in ("srv1", "srv2"):
        write(d / node / "etc/corosync/corosync.conf", (hand / "corosync.conf").read_text())
        for name in ("global_common.conf", "r0.res"):
            text = (FIXTURES / "article" / "etc" / "drbd.d" / name).read_text().replace("/dev/sdb1", "/dev/vdb")
            write(d / node / "etc/drbd.d" / name, text)
        write(d / node / "etc/hosts", "127.0.0.1 localhost\n10.1.0.1 srv1\n10.1.0.2 srv2\n")
    crm_cib(d / "srv1", (hand / "crm-session.txt").read_text(), schema="pacemaker-3.7")
    shutil.copyfile(d / "srv1" / "cib.xml", d / "srv2" / "cib.xml")
    return d


def rendered_dir(c: Case, tmp: Path, *, with_state: bool = False, with_cib: bool = True) -> Path:
    """DIR/NODE/<path> for every file the design renders, and DIR/NODE/cib.xml from its cluster config.

    hawizard's own copy of the cluster configuration (/var/lib/hawizard/cluster.*) is left out unless
    ``with_state``: a cluster built by hand has none, and adoption must tell the stack without it.
    ``with_cib=False``: the files only (hawizard diff compares files; loading a pcs CIB takes seconds)."""
    d = tmp / c.spec.id
    for f in c.rendering.files:
        if f.id == "cluster-config" and not with_state:
            continue
        for node in f.nodes:
            write(d / node / f.path.lstrip("/"), c.text(f.id), f.mode)
    if not with_cib:
        return d
    require("cibadmin")
    cib = _loaded_cib(c, tmp / f"{c.spec.id}-cib")
    for node in c.design.node_names:
        shutil.copyfile(cib, d / node / "cib.xml")
    return d


def _loaded_cib(c: Case, where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    schema = ["pacemaker-1.0"] if c.stack.pacemaker == "1.0" else []
    proc = run(["cibadmin", "--empty", *schema])
    assert proc.returncode == 0, show(proc)
    cib = write(where / "cib.xml", proc.stdout)
    for i, name in enumerate(c.design.node_names if not schema else (), start=1):
        proc = run(["cibadmin", "-C", "-o", "nodes", "-X", f'<node id="{i}" uname="{name}"/>'],
                   env={"CIB_file": str(cib)})
        assert proc.returncode == 0, show(proc)
    f = c.rendering.get("cluster-config")
    script = write(where / Path(f.path).name, c.text("cluster-config"), f.mode)
    if c.stack.config_tool == "crm":
        require("crm")
        proc = run(["crm", "configure", "load", "update", str(script)], env={"CIB_file": str(cib)})
    else:
        require("pcs")
        proc = run(["sh", str(script), str(cib)], env={"PCS": "pcs"}, timeout=180)
    assert proc.returncode == 0, show(proc)
    return cib


# the guide's fencing chapter, with a real agent in place of its placeholder some_fence_agent: one
# device for both nodes, a map of node names to the hypervisor's domain names, a static delay
CFS_FENCING = ("property set stonith-enabled=true",
               "stonith create fence_dev fence_virsh ip=192.168.122.1 username=root password=Virsh0Pass "
               "pcmk_host_map=pcmk-1:vm1;pcmk-2:vm2 pcmk_delay_base=pcmk-1:5s;pcmk-2:0s")


def cfs_dir(tmp: Path, *, active_active: bool = False, fencing: bool = False) -> Path:
    """Clusters from Scratch's active/passive cluster: its files, and a CIB made by the real pcs."""
    require("cibadmin", "pcs")
    src = FIXTURES / "clusters-from-scratch"
    d = tmp / ("cfs-aa" if active_active else "cfs-fenced" if fencing else "cfs")
    shutil.copytree(src / "etc", d / "etc")
    proc = run(["cibadmin", "--empty"])
    assert proc.returncode == 0, show(proc)
    cib = write(d / "cib.xml", proc.stdout)
    for i, name in enumerate(("pcmk-1", "pcmk-2"), start=1):
        proc = run(["cibadmin", "-C", "-o", "nodes", "-X", f'<node id="{i}" uname="{name}"/>'],
                   env={"CIB_file": str(cib)})
        assert proc.returncode == 0, show(proc)
    lines = (src / "pcs-commands.txt").read_text().splitlines() + (list(CFS_FENCING) if fencing else [])
    for line in lines:
        if active_active:
            line = line.replace("promoted-max=1", "promoted-max=2")
        proc = run(["pcs", "-f", str(cib), *line.split()], timeout=120)
        assert proc.returncode == 0, show(proc)
    return d
