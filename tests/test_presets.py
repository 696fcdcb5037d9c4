"""Presets: shipped ones load, round-trip, and bad input is reported with its key path and line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hawizard.common.errors import InputError
from hawizard.design.preset_file import (
    PresetError,
    design_to_dict,
    dump_preset,
    load_preset,
    parse_preset_text,
    shipped_presets,
)


def test_shipped_presets_are_listed():
    assert shipped_presets() == ["article", "debian12", "debian12-pcs", "el9"]


def test_shipped_preset_round_trips(shipped_name):
    d = load_preset(f"presets/{shipped_name}.toml")
    text = dump_preset(d)
    again = parse_preset_text(text, "again.toml")
    assert design_to_dict(again) == design_to_dict(d)
    # the saved form is fully resolved: every key of the model is written out
    assert "apache_config" in text and "schema_version = 2" in text
    assert "[answers]" in text and "[fencing]" in text and "stonith_enabled" not in text


def test_shipped_file_is_already_fully_resolved(shipped_name):
    """Saving a shipped preset changes nothing but the header comment: defaults are written out."""
    path = f"presets/{shipped_name}.toml"
    with open(path, encoding="utf-8") as fh:
        original = fh.read()
    assert dump_preset(load_preset(path)) == original


def test_article_values():
    d = load_preset("presets/article.toml")
    assert d.stack == "centos5-heartbeat"
    assert [n.name for n in d.nodes] == ["srv1", "srv2"]
    assert d.drbd.port == 7801 and d.drbd.resync_rate == "200M" and d.drbd.protocol == "C"
    assert d.service.vip == "192.168.0.200" and d.service.mount_point == "/var/www/html"
    assert d.cluster.stickiness == 200 and d.timing.default_action_timeout_s == 240
    assert d.heartbeat.auth == "crc" and d.heartbeat.udpport == 694


def test_unknown_key_suggests_closest():
    with pytest.raises(PresetError) as exc:
        parse_preset_text('schema_version = 1\n[drbd]\nresync_rat = "10M"\n', "x.toml")
    (p,) = exc.value.problems
    assert p.path == "drbd.resync_rat" and "resync_rate" in p.message and p.line == 3


def test_errors_are_all_collected_with_lines():
    text = ('schema_version = 1\nstack = "debian12"\n[[nodes]]\nname = "srv1"\nssh_port = 70000\n'
            '[[nodes]]\nname = "srv 2"\nservice_address = "10.0.0.1"\n')
    with pytest.raises(PresetError) as exc:
        parse_preset_text(text, "x.toml")
    found = {(p.path, p.line) for p in exc.value.problems}
    assert ("stack", 2) in found
    assert ("nodes[0].ssh_port", 5) in found
    assert ("nodes[1].name", 7) in found
    assert ("nodes[1].service_address", 8) in found
    msg = str(exc.value)
    assert "x.toml:5: nodes[0].ssh_port" in msg and "did you mean 'debian12-crmsh' or 'debian12-pcs'" in msg


def test_syntax_error_has_line_and_column():
    with pytest.raises(InputError) as exc:
        parse_preset_text('schema_version = 1\nname = "unterminated\n', "broken.toml")
    assert "broken.toml:2:" in str(exc.value)


def test_wrong_schema_version():
    with pytest.raises(PresetError) as exc:
        parse_preset_text("schema_version = 7\n", "v.toml")
    assert exc.value.problems[0].path == "schema_version"


def test_secret_in_preset_is_refused():
    text = 'schema_version = 1\n[heartbeat]\nauth_secret_ref = "hunter2"\n'
    with pytest.raises(PresetError) as exc:
        parse_preset_text(text, "s.toml")
    assert "reference, not the secret itself" in exc.value.problems[0].message
    assert "hunter2" not in str(exc.value)  # the value itself is not echoed back for secret refs


def test_type_errors_name_the_expected_type():
    with pytest.raises(PresetError) as exc:
        parse_preset_text('schema_version = 2\n[network]\nmanage_hosts = "no"\n', "t.toml")
    (p,) = exc.value.problems
    assert (p.path, p.line) == ("network.manage_hosts", 3) and "must be true or false" in p.message
    # a schema-1 key that moved is named as the operator wrote it, with the type it had
    with pytest.raises(PresetError) as exc:
        parse_preset_text('schema_version = 1\n[cluster]\nstonith_enabled = "no"\n', "t.toml")
    (p,) = exc.value.problems
    assert (p.path, p.line) == ("cluster.stonith_enabled", 3) and "must be true or false" in p.message


def test_cli_bad_preset_exit_2_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('schema_version = 1\n[service]\nvip = "300.1.1.1"\n')
    r = subprocess.run([sys.executable, "-m", "hawizard", "validate", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "service.vip" in r.stderr and f"{bad}:3" in r.stderr


def test_docs_preset_reference_is_current():
    """docs/presets.md is generated from the model; regenerate with: hawizard presets --reference."""
    from hawizard.design.reference import preset_reference

    with open("docs/presets.md", encoding="utf-8") as fh:
        assert fh.read() == preset_reference()
    for key in ("`drbd.resync_rate`", "`nodes[].interconnects[].nic`", "`cluster.ids.group`"):
        assert key in preset_reference()


def test_the_loader_returns_the_design_with_its_source_and_no_side_channel(tmp_path):
    """The design carries only its fields; the file's lines travel beside it and place the problems."""
    import dataclasses

    from hawizard.design import lint
    from hawizard.design.preset_file import read_preset

    loaded = read_preset("article")
    assert set(vars(loaded.design)) == {f.name for f in dataclasses.fields(loaded.design)}
    assert loaded.source.filename == "presets/article.toml"
    placed = loaded.source.place(lint.check(loaded.design))
    fencing = next(p for p in placed if p.code == "fencing-off")
    section = loaded.source.lines.index("[fencing]") + 1
    key_line = next(i for i, text in enumerate(loaded.source.lines, 1) if i > section and text.startswith("method"))
    assert fencing.line == key_line
    assert fencing.format(loaded.source.filename).startswith(f"presets/article.toml:{key_line}: ")


def test_validate_names_file_and_line_of_each_problem(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "hawizard", "validate", "article"], capture_output=True, text=True,
                       env={**__import__("os").environ, "XDG_STATE_HOME": str(tmp_path)})
    lines = [ln for ln in r.stdout.splitlines() if "[fencing-off]" in ln]
    assert lines and lines[0].split(":")[1].isdigit(), r.stdout
