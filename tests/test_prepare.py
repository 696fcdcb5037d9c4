"""The pure pipeline (hawizard/plan/prepare.py): one design's problems, files and plan, its stack looked up once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from hawizard.common.errors import InputError
from hawizard.design import lint, stacks, timing
from hawizard.design.preset_file import load_preset
from hawizard.plan.build import build_plan
from hawizard.plan.prepare import prepare
from hawizard.render.renderer import render

GOLDEN = Path(__file__).parent / "golden"
PRESETS = ["article", "debian12", "debian12-pcs", "el9"]


@pytest.fixture
def lookups(monkeypatch):
    """Counts ``stacks.get`` calls by the module that made them."""
    calls: Counter[str] = Counter()
    real = stacks.get

    def counting(name):
        import sys

        calls[sys._getframe(1).f_globals["__name__"]] += 1
        return real(name)
    monkeypatch.setattr(stacks, "get", counting)
    return calls


@pytest.mark.parametrize("name", PRESETS)
def test_prepare_gives_the_golden_plan_with_one_lookup_of_its_own(name, lookups):
    design = load_preset(name)
    lookups.clear()
    prepared = prepare(design)
    assert prepared.errors == [] and prepared.stack.name == design.stack
    got = json.dumps(prepared.plan.to_dict(), indent=1, sort_keys=True) + "\n"
    assert got == (GOLDEN / f"plan-{name}.json").read_text()
    assert prepared.rendering is prepared.plan.rendering
    # lint, render, timing and the plan take the stack they are given; only the checks in modules that
    # do not take it yet (validate, stackswitch) look it up again
    assert lookups["hawizard.plan.prepare"] == 1
    assert sum(n for module, n in lookups.items() if module != "hawizard.plan.prepare") <= 2, lookups
    for module in ("hawizard.design.lint", "hawizard.design.timing", "hawizard.render.renderer",
                   "hawizard.plan.build", "hawizard.plan.context"):
        assert lookups[module] == 0, lookups


def test_each_stage_takes_the_stack_instead_of_looking_it_up(lookups):
    design = load_preset("debian12")
    stack = stacks.get(design.stack)
    lookups.clear()
    rendering = render(design, stack)
    build_plan(design, rendering, stack)
    timing.estimate(design, stack)
    timing.rendered_timeout(design, "web", "stop", stack)
    assert sum(lookups.values()) == 0, lookups
    lint.check(design, stack)
    assert lookups["hawizard.design.lint"] == 0 and lookups["hawizard.design.timing"] == 0
    # without one, they still find it themselves (once each, not once per operation)
    lookups.clear()
    render(design)
    assert lookups["hawizard.render.renderer"] == 1 and lookups["hawizard.design.timing"] == 0, lookups


def test_a_design_with_errors_is_neither_rendered_nor_planned():
    design = load_preset("debian12")
    design.nodes[1].name = design.nodes[0].name
    prepared = prepare(design)
    assert prepared.errors and prepared.rendering is None and prepared.plan is None


def test_an_unknown_stack_is_an_input_error_naming_the_known_ones():
    design = load_preset("debian12")
    design.stack = "debian13-nope"
    with pytest.raises(InputError, match="unknown stack 'debian13-nope'; known stacks: .*debian12-crmsh"):
        prepare(design)
