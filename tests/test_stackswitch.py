"""Changing the target stack: the old stack's own values follow the new stack; foreign ones are flagged."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hawizard.common.errors import InputError
from hawizard.design import stacks
from hawizard.design.preset_file import load_preset
from hawizard.design.stackswitch import STACK_VALUES, foreign_values, switch_stack
from hawizard.design.validate import AGENTS_BY_STACK


def test_the_article_moved_to_debian_takes_debians_paths():
    design = load_preset("article")
    design.service.apache_agent = "lsb:httpd"
    followed = switch_stack(design, "debian12-crmsh")
    assert design.stack == "debian12-crmsh"
    assert design.service.apache_config == "/etc/apache2/apache2.conf"
    assert design.service.apache_agent == "systemd:apache2"
    assert {(f.path, f.old, f.new) for f in followed} == {
        ("service.apache_config", "/etc/httpd/conf/httpd.conf", "/etc/apache2/apache2.conf"),
        ("service.apache_agent", "lsb:httpd", "systemd:apache2")}
    assert foreign_values(design) == []


def test_a_value_both_stacks_share_and_a_portable_agent_stay():
    design = load_preset("article")  # centos5: httpd.conf, like el9; the ocf agent exists everywhere
    assert switch_stack(design, "el9-pcs") == []
    assert design.service.apache_config == "/etc/httpd/conf/httpd.conf"
    assert design.service.apache_agent == "ocf:heartbeat:apache"


def test_a_custom_value_is_the_operators_and_is_kept_unflagged():
    design = load_preset("debian12")
    design.service.apache_config = "/opt/web/apache2.conf"
    assert switch_stack(design, "el9-pcs") == []
    assert design.service.apache_config == "/opt/web/apache2.conf"
    assert foreign_values(design) == []


def test_another_stacks_value_set_by_hand_is_flagged_with_its_owner():
    design = load_preset("debian12")
    design.service.apache_config = "/etc/httpd/conf/httpd.conf"
    [problem] = foreign_values(design)
    assert (problem.severity, problem.path, problem.code) == ("warning", "service.apache_config", "other-stack-value")
    assert "centos5-heartbeat" in problem.message and "el9-pcs" in problem.message
    assert "/etc/apache2/apache2.conf" in problem.message  # what this stack uses


def test_round_trip_back_to_the_first_stack():
    design = load_preset("el9")
    before = (design.service.apache_config, design.service.apache_agent)
    switch_stack(design, "debian12-pcs")
    switch_stack(design, "el9-pcs")
    assert (design.service.apache_config, design.service.apache_agent) == before


def test_an_unknown_stack_is_refused_and_nothing_changes():
    design = load_preset("article")
    with pytest.raises(InputError, match="unknown stack"):
        switch_stack(design, "centos6")
    assert design.stack == "centos5-heartbeat"


@pytest.mark.parametrize("stack", [s.name for s in stacks.all_stacks()])
def test_every_stacks_own_values_are_valid_there(stack):
    """The table agrees with the stacks and with validate: each stack's own agent exists on it."""
    st = stacks.get(stack)
    own = {sv.path: sv.of(st) for sv in STACK_VALUES}
    assert own["service.apache_config"] == st.apache_config
    assert own["service.apache_agent"] in AGENTS_BY_STACK[stack]


def test_the_module_imports_no_ui():
    code = "import sys, hawizard.design.stackswitch; print(any(m.split('.')[0] == 'textual' for m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "False"
