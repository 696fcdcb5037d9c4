"""hawizard diff PRESET --from-dir DIR: every file hawizard would write against the collected copy.

The collected copies are the files hawizard renders, with the validators' dummy secrets filled in
as the runner writes them (tests/adopt_support.py). Checked: equal files exit 0; a changed,
missing or extra line exits 1 with a unified diff; no secret, nor any piece of one, is ever
printed, even on a changed line that holds one; an adopted preset diffed against the directory
it came from shows nothing (every file a re-apply would write is unchanged).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from adopt_support import rendered_dir
from validators.harness import FENCE_PASSWORD, SECRET_VALUES, case, require

from hawizard.design.preset_file import dump_preset

SECRET_CASES = ("article-ucast-sha1", "debian12-ipmi-static", "debian12-pcs-ipmi-priority", "el9-nofence-3links")
# every dummy secret, and pieces of the fence password that survive a partial redaction
SECRET_PIECES = [*SECRET_VALUES.values(), FENCE_PASSWORD, "w0rd", "$x", "Dummy0Secret"]


def _hawizard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hawizard", *args], capture_output=True, text=True, timeout=180)


def _setup(cid: str, tmp_path: Path, with_cib: bool = False) -> tuple[Path, Path]:
    c = case(cid)
    if with_cib:
        require("cibadmin", "pcs" if c.stack.config_tool == "pcs" else "crm")
    d = rendered_dir(c, tmp_path, with_state=True, with_cib=with_cib)
    preset = tmp_path / f"{cid}.toml"
    preset.write_text(dump_preset(c.design))
    return preset, d


def _no_secret(text: str) -> None:
    for piece in SECRET_PIECES:
        assert piece not in text, piece


@pytest.mark.parametrize("cid", SECRET_CASES)
def test_equal_files_exit_0_and_show_no_secret(cid, tmp_path):
    preset, d = _setup(cid, tmp_path)
    proc = _hawizard("diff", str(preset), "--from-dir", str(d))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 differ or missing" in proc.stdout
    _no_secret(proc.stdout + proc.stderr)


@pytest.mark.parametrize("cid", SECRET_CASES)
def test_a_changed_secret_line_is_shown_masked(cid, tmp_path):
    """The line that holds a secret changes elsewhere (a fence device's address, the hmac
    algorithm, the authkeys method): the diff shows the line, and the secret is redacted."""
    preset, d = _setup(cid, tmp_path)
    c = case(cid)
    node = c.design.node_names[1]
    if c.design.fencing.method == "agent":
        node = c.design.node_names[0]  # the cluster configuration is written on the primary only
        f = d / node / c.rendering.get("cluster-config").path.lstrip("/")
        f.write_text(f.read_text().replace("ip=192.168.0.11", "ip=192.168.0.99"))
    elif c.design.heartbeat.auth != "crc" and c.stack.membership == "heartbeat":
        f = d / node / "etc/ha.d/authkeys"
        f.write_text(f.read_text().replace("1 sha1 ", "1 md5 "))
    else:
        f = d / node / c.rendering.get("drbd-resource").path.lstrip("/")
        f.write_text(f.read_text().replace('";\n', '"; # changed\n', 1))
    proc = _hawizard("diff", str(preset), "--from-dir", str(d))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"--- {node}:" in proc.stdout and "«redacted»" in proc.stdout, proc.stdout
    _no_secret(proc.stdout + proc.stderr)


def test_the_cluster_configuration_is_compared_on_the_primary_only(tmp_path):
    """The plan writes the cluster configuration on the primary only: its absence on the secondary is no
    difference (the lab's adopted cluster showed it as "missing" there), its change on the primary is."""
    preset, d = _setup("debian12", tmp_path)
    c = case("debian12")
    path = c.rendering.get("cluster-config").path.lstrip("/")
    (d / c.design.node_names[1] / path).unlink(missing_ok=True)
    proc = _hawizard("diff", str(preset), "--from-dir", str(d))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (d / c.design.node_names[0] / path).unlink()
    proc = _hawizard("diff", str(preset), "--from-dir", str(d))
    assert proc.returncode == 1 and f"+++ {c.design.node_names[0]}:/{path} (hawizard)" in proc.stdout, proc.stdout


def test_missing_and_changed_files_exit_1(tmp_path):
    preset, d = _setup("debian12", tmp_path)
    (d / "srv2/etc/corosync/authkey").unlink()
    (d / "srv1/etc/drbd.d/r0.res").unlink()
    conf = d / "srv2/etc/corosync/corosync.conf"
    conf.write_text(conf.read_text().replace("token: 3000", "token: 10000"))
    proc = _hawizard("diff", str(preset), "--from-dir", str(d))
    assert proc.returncode == 1
    assert "-\ttoken: 10000\n+\ttoken: 3000" in proc.stdout
    assert "srv2:/etc/corosync/authkey: missing (a secret" in proc.stdout
    assert "srv1:/etc/drbd.d/r0.res: missing from the collected files" in proc.stdout
    assert "--- /dev/null" in proc.stdout
    assert "CIB objects: not compared (no CIB among the collected files" in proc.stdout  # said, not counted


@pytest.mark.parametrize("cid", ("article-ucast-sha1", "debian12-ipmi-static", "debian12-pcs"))
def test_adopted_preset_diffs_clean_against_its_source(cid, tmp_path):
    """render -> collect -> adopt -> diff: a re-apply of the adopted preset would write every file as it is."""
    require("drbdadm")
    _, d = _setup(cid, tmp_path, with_cib=True)
    adopted = tmp_path / "adopted.toml"
    proc = _hawizard("adopt", "--from-dir", str(d), "-o", str(adopted), "--name", case(cid).design.name)
    assert proc.returncode == 0, proc.stderr
    _no_secret(proc.stdout + adopted.read_text())
    proc = _hawizard("diff", str(adopted), "--from-dir", str(d))
    # the fence passwords' reference is adoption's own (env:HAWIZARD_FENCE_PASSWORD_<NODE>): only the
    # preview text of the slot differs, never the file
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("line, authkeys, shown", [
    ("1 sha1 0123abcd", True, "1 sha1 «redacted»"),
    ("#2 sha1 HI!", True, "#2 sha1 «redacted»"),  # the packaged sample's commented-out keys
    ("auth 1", True, "auth 1"),
    ('\t\tshared-secret "a b\\"c";', False, "\t\tshared-secret «redacted»;"),
    ("pcs stonith create f fence_ipmilan ip=1.2.3.4 password='p@ss w0rd\"q'\"'\"'$x\\y' op monitor",
     False, "pcs stonith create f fence_ipmilan ip=1.2.3.4 password=«redacted» op monitor"),
    ('primitive f stonith:fence_ipmilan params passwd="p@ss w0rd\\"q\'$x\\\\y" op monitor', False,
     "primitive f stonith:fence_ipmilan params passwd=«redacted» op monitor"),
    ("snmp_priv_passwd=abc", False, "snmp_priv_passwd=«redacted»"),
    ("token: 3000", False, "token: 3000"),
])
def test_redact_every_place_a_secret_stands(line, authkeys, shown):
    from hawizard.adopt.filediff import redact

    assert redact(line, authkeys=authkeys) == shown


def test_article_diff_shows_no_sample_key(tmp_path):
    from adopt_support import article_dir

    require("drbdadm", "cibadmin", "crm")
    d = article_dir(tmp_path)
    adopted = tmp_path / "a.toml"
    assert _hawizard("adopt", "--from-dir", str(d), "-o", str(adopted)).returncode == 0
    proc = _hawizard("diff", str(adopted), "--from-dir", str(d))
    assert proc.returncode == 1
    assert "+warntime 10" in proc.stdout and "#2 sha1 «redacted»" in proc.stdout
    assert "HI!" not in proc.stdout and "Hello!" not in proc.stdout
    assert "/var/lib/hawizard/cluster.crm: missing from the collected files" in proc.stdout
