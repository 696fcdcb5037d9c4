"""No preset value reaches an exported script or playbook unquoted (issue 15).

The same hostile values as the plan's injection test (tests/test_shell_injection.py), one field at a
time, validation bypassed: the shell scripts keep the structure they have with a harmless value
(every value is inside a single-quoted word; comments are dropped), the playbook and inventory
keep theirs (every value that differs is tagged ``!unsafe``, task names aside, which carry no Jinja
delimiter), and the templates keep their Jinja tokens.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess

import jinja2
import pytest
import test_shell_injection as inj
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hawizard.export.ansible import export_ansible
from hawizard.export.shell import export_sh
from hawizard.plan.build import build_plan

yaml = pytest.importorskip("yaml", reason="PyYAML (installed with ansible-core, the [test] extra) reads the playbook")


def sh_skeleton(script: str) -> list[str]:
    """The script's tokens with every single-quoted word as Q and comments dropped (a small sh scanner)."""
    out: list[str] = []
    i, n = 0, len(script)
    word_start = True
    while i < n:
        c = script[i]
        if c == "'":
            j = script.index("'", i + 1)
            out.append("Q")
            i, word_start = j + 1, False
        elif c == '"':
            j = i + 1
            while script[j] != '"':
                j += 2 if script[j] == "\\" else 1
            out.append(script[i:j + 1])
            i, word_start = j + 1, False
        elif c == "\\":
            out.append(script[i:i + 2])
            i += 2
        elif c == "#" and word_start:
            while i < n and script[i] != "\n":
                i += 1
        else:
            out.append(c)
            word_start = c in " \t\n;|&(){}"
            i += 1
    # q() writes a quote inside a value as '"'"': the pieces of one word are one Q
    return re.sub(r"Q(?:\"'\"Q)+", "Q", "".join(out)).split("\n")


class Unsafe(str):
    pass


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))


def yaml_skeleton(text: str):
    """The YAML's shape: !unsafe values as U, names as N (checked free of Jinja), other strings as they are."""
    def walk(v, key=""):
        if isinstance(v, dict):
            return [("K" if not isinstance(k, str) or not k.startswith(("ansible", "hw_", "all")) else k, walk(x, k))
                    for k, x in v.items()]
        if isinstance(v, list):
            return [walk(x, key) for x in v]
        if isinstance(v, Unsafe):
            return "U"
        if key == "name":
            assert "{" not in v and "}" not in v, v
            return "N"
        return v
    return walk(yaml.load(text, Loader=_Loader))


def jinja_skeleton(source: str) -> list[tuple[str, str]]:
    return [(kind, "D" if kind == "data" else value) for _, kind, value in jinja2.Environment().lex(source)]


def exports(design):
    plan = build_plan(design)
    return export_sh(design, plan), export_ansible(design, plan)


def skeletons(design) -> dict:
    sh, ans = exports(design)
    out = {f.path: sh_skeleton(f.content) for f in sh.files if f.path.endswith(".sh")}
    for f in ans.files:
        if f.path.endswith(".yml"):
            out[f.path] = yaml_skeleton(f.content)
        elif f.path.startswith("templates/"):
            out[f.path] = jinja_skeleton(f.content)
    return out


def test_the_skeletons_see_an_unquoted_value():
    """The checks below can fail: a value pasted into a script or playbook unquoted changes the skeleton."""
    benign, evil = "x", "x'; touch /tmp/pwned; '"
    assert sh_skeleton(f"echo '{benign}'") != sh_skeleton(f"echo {evil}")
    assert sh_skeleton("echo 'a'\"'\"'b'") == sh_skeleton("echo 'ab'")
    assert yaml_skeleton('cmd: !unsafe "a"') == yaml_skeleton('cmd: !unsafe "{{ b }}"')
    assert yaml_skeleton('cmd: "a"') != yaml_skeleton('cmd: "{{ b }}"')
    assert jinja_skeleton("{% raw %}a{% endraw %}") != jinja_skeleton("{% raw %}a{% endraw %}{{ x }}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(inj.FIELDS), payload=inj.hostile)
def test_no_value_changes_the_structure_of_an_export(field, payload):
    base = inj.ARTICLE if field.startswith("article:") else inj.BASE
    path = field.removeprefix("article:")
    benign, evil = copy.deepcopy(base), copy.deepcopy(base)
    inj.set_path(benign, path, "xbenignx")
    inj.set_path(evil, path, payload)
    good, bad = skeletons(benign), skeletons(evil)
    assert good.keys() == bad.keys()
    for name in good:
        assert good[name] == bad[name], (field, name)


@pytest.mark.skipif(shutil.which("dash") is None and shutil.which("sh") is None, reason="no POSIX sh here")
def test_a_hostile_export_still_parses(tmp_path):
    d = copy.deepcopy(inj.BASE)
    for path in inj.FIELDS:
        if not path.startswith("article:"):
            inj.set_path(d, path, "x'\"$(touch /tmp/pwned)`\n{{ lookup('pipe', 'id') }}#;|&")
    sh, ans = exports(d)
    for f in sh.files:
        if f.path.endswith(".sh"):
            p = tmp_path / f.path
            p.write_text(f.content)
            r = subprocess.run([shutil.which("dash") or "sh", "-n", str(p)], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
    for f in ans.files:
        if f.path.endswith(".yml"):
            yaml_skeleton(f.content)  # parses, and no name carries a Jinja delimiter


@pytest.mark.parametrize("which", ["debian12", "article"])
def test_every_field_hostile_at_once_keeps_the_structure(which):
    """The same check for every field together, on both stacks' templates (deterministic)."""
    base, prefix = (inj.ARTICLE, "article:") if which == "article" else (inj.BASE, "")
    fields = [f.removeprefix(prefix) for f in inj.FIELDS if f.startswith("article:") == bool(prefix)]
    benign, evil = copy.deepcopy(base), copy.deepcopy(base)
    for path in fields:
        inj.set_path(benign, path, "xbenignx")
        inj.set_path(evil, path, "x'\"$(touch /tmp/pwned)`\n{{ lookup('pipe', 'id') }}{% raw %}#;|&")
    good, bad = skeletons(benign), skeletons(evil)
    assert good.keys() == bad.keys()
    for name in good:
        assert good[name] == bad[name], name
