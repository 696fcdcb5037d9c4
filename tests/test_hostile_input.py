"""Hostile input: values that try to name a secret, system directories in disguise, fence
parameters that would break the cluster configuration late, characters that hide what a value
says, preset files that hang or crash the loader. Each is refused with a message that names the
field or the file, or made harmless by design.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from hawizard.common.errors import InputError
from hawizard.common.redact import Redactor
from hawizard.design import lint, model
from hawizard.design.preset_file import PresetError, design_from_dict, design_to_dict, load_preset
from hawizard.events import EventBus
from hawizard.plan.types import Plan, Step, Where, Write
from hawizard.render.renderer import render
from hawizard.run.runner import Runner
from hawizard.run.secrets import SecretStore
from hawizard.sessions import SshTarget, open_session

ROOT = Path(__file__).resolve().parent.parent
FORGED = "@@SECRET:drbd-secret@@"


def preset_dict(name: str = "debian12") -> dict:
    return design_to_dict(load_preset(name))


def problems_of(data: dict) -> dict[str, str]:
    """path -> message of every problem loading ``data`` as a preset ({} if it loads)."""
    try:
        design_from_dict(data, "hostile.toml")
    except PresetError as exc:
        return {p.path: p.message for p in exc.problems}
    return {}


# -- 3.1: no value can name a secret ---------------------------------------------------------

@pytest.mark.parametrize("path, setter", [
    ("service.index_page", lambda d, v: d["service"].__setitem__("index_page", v)),
    ("name", lambda d, v: d.__setitem__("name", v)),
    ("description", lambda d, v: d.__setitem__("description", v)),
    ("drbd.local_io_error_handler", lambda d, v: d["drbd"].__setitem__("local_io_error_handler", v)),
    ("nodes[0].fence_params.ip", lambda d, v: d["nodes"][0]["fence_params"].__setitem__("ip", v)),
])
@pytest.mark.parametrize("value", [FORGED, "x @@SECRET:fence-srv1:crm@@ y", "@@secret:nope@@"])
def test_placeholder_syntax_in_a_value_is_refused_naming_the_field(path, setter, value):
    data = preset_dict()
    setter(data, value)
    found = problems_of(data)
    assert path in found, found
    assert "@@SECRET" in found[path] and "secret" in found[path]


def test_the_refused_mark_is_the_placeholders_own():
    from hawizard.design.fieldcheck import SECRET_MARK
    from hawizard.render.renderer import SECRET_RE, placeholder

    assert SECRET_RE.pattern.startswith(SECRET_MARK) and placeholder("x", "sh").startswith(SECRET_MARK)


def _design_with_forged_values() -> object:
    """A design made in code (no field checks), with placeholders in every free-text value."""
    d = load_preset("debian12")
    d.fencing.method = "agent"  # a fence device per node, each with a password by reference
    for n in d.nodes:
        n.fence_agent, n.fence_params = "fence_ipmilan", {"ip": "192.0.2.9", "username": "admin"}
        n.fence_password_ref = "env:HAWIZARD_IPMI_PASSWORD"
    d.drbd.shared_secret_ref = "env:HAWIZARD_TEST_DRBD_SECRET"
    d.service.index_page = f"page {FORGED} @@SECRET:nope@@ @@SECRET:fence-srv1:crm@@"
    d.name = "@@SECRET:fence-srv1:sh@@"  # written into comments of files that do hold secrets
    d.description = FORGED
    return d


def test_rendered_values_never_become_secret_slots():
    d = _design_with_forged_values()
    r = render(d)
    values = {"drbd-secret": "REAL-DRBD-SECRET", "fence-srv1": "REAL-FENCE-1", "fence-srv2": "REAL-FENCE-2",
              "corosync-authkey": "REAL-KEY"}
    page = r.get("index-html")
    assert page.secrets == () and page.slots == ()
    filled = page.with_secrets(values)  # an unknown placeholder name is not an error
    assert "REAL-" not in filled and "@@SECRET:nope@@" in filled
    for f in r.files:
        out = f.with_secrets(values)
        # exactly the secrets the templates placed, each once per slot; nothing from the values
        for name, value in values.items():
            assert out.count(value) == sum(1 for s in f.slots if s.name == name), (f.id, name)
        assert f.preview(r.secrets).count("«secret") == len(f.slots)
    assert set(r.get("drbd-resource").secrets) == {"drbd-secret"}
    assert set(r.get("cluster-config").secrets) == {"fence-srv1", "fence-srv2"}


def test_apply_writes_a_forged_placeholder_as_plain_text(tmp_path, monkeypatch):
    """End to end: render -> plan -> runner over a real local session; the page keeps the text."""
    secret = "Real0Drbd0Secret0For0The0Test"
    monkeypatch.setenv("HAWIZARD_TEST_DRBD_SECRET", secret)
    monkeypatch.setenv("HAWIZARD_IPMI_PASSWORD", "Real0Fence0Password")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    d = _design_with_forged_values()
    d.service.mount_point = d.service.document_root = str(tmp_path / "www")
    rendering = render(d)
    step = Step("page", "write the test page", "service", Where.PRIMARY, {"srv1": (Write(file_id="index-html"),)})
    plan = Plan(d.name, d.stack, "srv1", "srv2", (step,), rendering)
    sessions = {n: open_session(SshTarget(name=n, host="localhost"), "local") for n in ("srv1", "srv2")}
    try:
        secrets = SecretStore(rendering.secrets, Redactor())
        runner = Runner(plan, sessions, EventBus(), confirm=lambda s, p: False, secrets=secrets)
        secrets.resolve_all(sessions["srv1"])
        result = runner.run()
    finally:
        for s in sessions.values():
            s.close()
    assert result.status == "finished", result.message
    written = (tmp_path / "www" / "index.html").read_text()
    assert secret not in written and "Real0Fence0Password" not in written
    assert FORGED in written and "@@SECRET:nope@@" in written
    assert (tmp_path / "www" / "index.html").stat().st_mode & 0o777 == 0o644


# -- 3.2: system directories, however they are spelt -----------------------------------------

DISGUISED = ["/./etc", "/etc/.", "/etc/", "//etc", "/usr/lib", "/etc/ssh", "/var/lib/hawizard", "/boot/efi",
             "/var/log/httpd", "/a/../etc"]


@pytest.mark.parametrize("path", DISGUISED)
def test_mount_point_at_or_under_a_system_directory_is_an_error(path):
    d = load_preset("debian12")
    d.service.mount_point = d.service.document_root = path  # made in code: no field check
    errs = {p.path: p.message for p in lint.check(d) if p.severity == "error"}
    assert "service.mount_point" in errs, errs
    assert "system directory" in errs["service.mount_point"]


@pytest.mark.parametrize("path", ["/./etc", "/etc/.", "/srv/web/..", "/var/www/./html"])
def test_dot_components_are_refused_at_the_field(path):
    data = preset_dict()
    data["service"]["mount_point"] = path
    found = problems_of(data)
    assert "service.mount_point" in found and "'.' or '..'" in found["service.mount_point"], found


@pytest.mark.parametrize("mount, root", [("/var/www/html", "/var/www/html"), ("/srv/web", "/srv/web/htdocs"),
                                         ("/var/lib/mysql", "/var/lib/mysql"), ("/home/web", "/home/web/")])
def test_service_directories_stay_allowed(mount, root):
    d = load_preset("debian12")
    d.service.mount_point, d.service.document_root = mount, root
    assert not [p for p in lint.check(d) if p.severity == "error"]


# -- 3.7: fence agent parameters -------------------------------------------------------------

@pytest.mark.parametrize("key, value, why", [
    ("ip", "10.0.0.1\nnode srv9", "one line"),
    ("ip", "10.0.0.1\r", "one line"),
    ("username", "x" * 257, "longer than 256"),
    ("username", "adm\u0085in", "U+0085"),
    ("username", "adm\u202ein", "U+202E"),
    ("ip", "", "empty"),
    ("password", "hunter2", "fence_password_ref"),
    ("passwd", "hunter2", "fence_password_ref"),
    ("snmp_priv_passwd", "hunter2", "fence_password_ref"),
    ("pcmk_host_list", "srv2", "written by hawizard"),
    ("1ip", "10.0.0.1", "not a valid parameter name"),
    ("a" * 65, "x", "not a valid parameter name"),
])
def test_fence_params_are_checked_at_load(key, value, why):
    data = preset_dict()
    data["nodes"][1]["fence_params"][key] = value
    found = problems_of(data)
    path = f"nodes[1].fence_params.{key}"
    assert path in found and why in found[path], found
    if value.strip() and len(value) > 3:
        assert value not in str(found)  # the value (maybe a password) is not echoed


def test_fence_params_with_odd_keys_are_named_quoted():
    data = preset_dict()
    data["nodes"][0]["fence_params"]["bad key"] = "x"
    assert 'nodes[0].fence_params."bad key"' in problems_of(data)


def test_fence_params_of_a_design_made_in_code_are_checked_too():
    d = load_preset("debian12")
    d.nodes[0].fence_params["ip"] = "10.0.0.1\nprimitive evil"
    errs = [p for p in lint.check(d) if p.severity == "error"]
    assert [p.path for p in errs] == ["nodes[0].fence_params.ip"], [p.format() for p in errs]


def test_good_fence_params_load():
    data = preset_dict()
    data["nodes"][0]["fence_params"].update({"lanplus": "1", "password_script": "/usr/local/bin/ipmi-pw",
                                             "ssh_options": "-o StrictHostKeyChecking=yes"})
    assert problems_of(data) == {}


# -- 3.12: characters that hide what a value says, in every string field ------------------------

def string_paths(obj, prefix=""):
    """Every string leaf of a design dict made from a model object, as (path, key list)."""
    out = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            out += string_paths(value, path + ".")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if dataclasses.is_dataclass(item):
                    out += string_paths(item, f"{path}[{i}].")
        elif isinstance(value, str) and not f.metadata.get("choices"):
            out.append((path, f))
    return out


def _parent(data: dict, path: str) -> tuple[dict, str]:
    obj = data
    parts = path.split(".")
    for part in parts[:-1]:
        name, _, idx = part.partition("[")
        obj = obj[name]
        if idx:
            obj = obj[int(idx[:-1])]
    return obj, parts[-1]


def set_in(data: dict, path: str, value: str) -> None:
    obj, key = _parent(data, path)
    obj[key] = value


def get_in(data: dict, path: str) -> str:
    obj, key = _parent(data, path)
    return obj[key]


DESIGN = load_preset("debian12")
STRING_PATHS = string_paths(DESIGN)


def test_every_string_field_is_covered():
    paths = [p for p, _ in STRING_PATHS]
    for must in ("name", "description", "service.index_page", "nodes[0].name", "nodes[1].ssh_host",
                 "drbd.shared_secret_ref", "drbd.local_io_error_handler", "service.mount_point"):
        assert must in paths
    assert len(paths) > 30


@pytest.mark.parametrize("char", ["\u0085", "\u009b", "\u202e", "\u2066", "\u2069", "\u200e", "\u200f",
                                  "\u061c", "\x1b", "\n"])
def test_controls_and_bidi_are_refused_in_every_string_field(char):
    missed, unclear = [], []
    for path, fld in STRING_PATHS:
        data = design_to_dict(copy.deepcopy(DESIGN))
        if fld.metadata.get("secret_ref"):
            value = "file:/etc/hawizard/key" + char
        else:
            value = (get_in(data, path) or "x") + char  # a valid value, then the character
        set_in(data, path, value)
        found = problems_of(data)
        if path not in found:
            missed.append(path)
        elif (fld.metadata.get("kind") or "").startswith("text") and \
                not ("U+" in found[path] or "control characters" in found[path]):
            unclear.append((path, found[path]))
    assert not missed, f"{char!r} accepted in: {missed}"
    assert not unclear, unclear


def test_a_trailing_newline_does_not_pass_a_pattern():
    # Python's '$' matches before a final newline: 'srv1\n' once passed the host name check
    for path, value in (("nodes[0].name", "srv1\n"), ("drbd.resource", "r0\n"), ("service.mount_point", "/srv\n")):
        data = preset_dict()
        set_in(data, path, value)
        assert path in problems_of(data), path


def test_case_folding_does_not_let_non_ascii_pass():
    data = preset_dict()
    data["nodes"][0]["name"] = "srv\u212a"  # KELVIN SIGN matches [a-z] case-insensitively
    found = problems_of(data)
    assert "ASCII" in found.get("nodes[0].name", ""), found


def test_ordinary_unicode_text_is_still_fine():
    data = preset_dict()
    data["service"]["index_page"] = "Café für alle\tנבדק"  # letters of any script, and a tab
    data["description"] = "Ünïcödé design"
    assert problems_of(data) == {}


# -- 2.11: what an empty secret reference means, said the same in the doc and the error ----------

SECRET_REF_FIELDS = [(cls, f) for cls in (model.Node, model.Heartbeat, model.Corosync, model.Drbd)
                     for f in dataclasses.fields(cls) if f.metadata.get("secret_ref")]


def test_every_secret_reference_says_what_empty_means():
    assert len(SECRET_REF_FIELDS) == 4
    for cls, f in SECRET_REF_FIELDS:
        empty = f.metadata.get("ref_empty")
        assert empty, f"{cls.__name__}.{f.name}"
        assert f"empty = {empty}" in f.metadata["doc"], f"{cls.__name__}.{f.name}: the doc says otherwise"


@pytest.mark.parametrize("path, empty, generate", [
    ("drbd.shared_secret_ref", "empty (no peer authentication)", True),
    ("heartbeat.auth_secret_ref", "empty (generated at apply time", False),
    ("corosync.authkey_ref", "empty (generated at apply time", False),
    ("nodes[0].fence_password_ref", "empty (no password is passed to the fence agent)", False),
])
def test_secret_reference_error_says_what_empty_means_for_that_field(path, empty, generate):
    data = preset_dict()
    set_in(data, path, "hunter2")
    msg = problems_of(data)[path]
    assert empty in msg and "hunter2" not in msg
    assert ("'generate'" in msg) == generate
    for meaning in ("no peer authentication", "no password", "generated at apply time"):
        if meaning not in empty:
            assert f"empty ({meaning}" not in msg, msg
    set_in(data, path, "generate")
    assert (path in problems_of(data)) != generate  # 'generate' only where it is a choice


# -- 3.10: preset files that are not files ---------------------------------------------------

def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # the old loader read /dev/zero until this


def validate_cli(path: str) -> subprocess.CompletedProcess:
    """`hawizard validate PATH` in a child with a memory cap; a hang is a failure, not a stuck test."""
    try:
        return subprocess.run([sys.executable, "-m", "hawizard", "validate", path], capture_output=True,
                              text=True, timeout=120, preexec_fn=_limit_memory, cwd=ROOT, errors="replace")
    except subprocess.TimeoutExpired:
        pytest.fail(f"hawizard validate {path} did not finish in 120 s")


@pytest.fixture
def hostile_files(tmp_path):
    loop = tmp_path / "loop.toml"
    loop.symlink_to(tmp_path / "loop.toml")
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    nested = tmp_path / "nested.toml"
    nested.write_text("schema_version = 1\nname = " + "[" * 5000 + "]" * 5000 + "\n")
    big = tmp_path / "big.toml"
    with open(big, "wb") as fh:
        fh.truncate(2 * 1024 * 1024)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"schema_version = 1\nname = \"\xff\xfe\"\n")
    return {"symlink loop": str(loop), "FIFO": str(fifo), "deep nesting": str(nested), "/dev/zero": "/dev/zero",
            "/proc/self/mem": "/proc/self/mem", "2 MiB file": str(big), "not UTF-8": str(binary),
            "directory": str(tmp_path)}


@pytest.mark.parametrize("case", ["symlink loop", "FIFO", "deep nesting", "/dev/zero", "/proc/self/mem",
                                  "2 MiB file", "not UTF-8", "directory"])
def test_cli_refuses_a_hostile_preset_file_with_exit_2(hostile_files, case):
    path = hostile_files[case]
    r = validate_cli(path)
    assert r.returncode == 2, (case, r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and path in r.stderr, r.stderr[-2000:]


def test_load_preset_names_the_file(hostile_files):
    for case, path in hostile_files.items():
        if case in ("/dev/zero", "FIFO"):
            continue  # the CLI test covers them in a child process (the old code blocked or ran out of memory)
        with pytest.raises(InputError) as exc:
            load_preset(path)
        assert str(exc.value).startswith(path), (case, str(exc.value))
    with pytest.raises(InputError, match="cannot read the preset"):
        load_preset("x\x00.toml")


def test_regular_preset_still_loads_and_a_shipped_name_too(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text((ROOT / "presets" / "el9.toml").read_text())
    assert load_preset(p).stack == "el9-pcs"
    assert load_preset("article").stack == "centos5-heartbeat"
    with pytest.raises(InputError, match="no such preset file"):
        load_preset(tmp_path / "missing.toml")
