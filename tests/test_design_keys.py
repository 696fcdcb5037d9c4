"""The keys issue 13 adds so that designs the guides discuss can be expressed: each one is rendered
when set, leaves the files exactly as before at its default, and is refused (with a reason naming
it) on a stack that cannot carry it. The real tools check the rendered files in tests/validators."""

from __future__ import annotations

import re

import pytest

from hawizard.design import validate
from hawizard.design.model import Design
from hawizard.design.preset_file import load_preset
from hawizard.render.renderer import render

PRESETS = ("article", "debian12", "debian12-pcs", "el9")


def _files(d: Design) -> dict[str, str]:
    return {f.id: f.content for f in render(d).files}


def _errors(d: Design) -> list:
    return [p for p in validate.check(d) if p.severity == "error"]


# -- cluster.recheck_interval_s -> cluster-recheck-interval -----------------------------------------

@pytest.mark.parametrize("preset", PRESETS)
def test_recheck_interval_is_rendered_as_the_property_when_set(preset):
    d = load_preset(preset)
    assert d.cluster.recheck_interval_s == 0
    before = _files(d)
    assert "cluster-recheck-interval" not in before["cluster-config"]
    d.cluster.recheck_interval_s = 300
    assert not _errors(d)
    after = _files(d)
    # the same property line (crm) or property set command (pcs) as no-quorum-policy
    line = next(ln for ln in after["cluster-config"].splitlines() if "no-quorum-policy=" in ln)
    assert re.search(r" cluster-recheck-interval=300s( |$)", line), line
    assert {k for k in after if after[k] != before[k]} == {"cluster-config"}
