"""The wizard's field parsing uses the engine's checks with the field's own metadata."""

from __future__ import annotations

from hawizard.design.model import Design
from hawizard.ui.fieldpaths import field_info, parse_input


def _design() -> Design:
    return Design()


def test_generate_is_refused_where_the_field_does_not_offer_it():
    d = _design()
    drbd = field_info(d, "drbd.shared_secret_ref")
    assert parse_input(drbd, "generate") == ("generate", None)
    fence = field_info(d, "nodes[0].fence_password_ref")
    value, why = parse_input(fence, "generate")
    assert value is None and why


def test_the_refusal_says_what_empty_means_for_this_field():
    d = _design()
    _, why_drbd = parse_input(field_info(d, "drbd.shared_secret_ref"), "hunter2")
    _, why_coro = parse_input(field_info(d, "corosync.authkey_ref"), "hunter2")
    assert why_drbd and why_coro and why_drbd != why_coro
    assert "hunter2" not in why_drbd + why_coro  # never echo what may be a secret


def test_fence_params_get_the_engine_checks():
    info = field_info(_design(), "nodes[0].fence_params")
    assert parse_input(info, "ip=10.0.0.9 username=admin")[0] == {"ip": "10.0.0.9", "username": "admin"}
    for bad in ("passwd=x", "pcmk_host_list=srv9", "ip=" + "9" * 300):
        value, why = parse_input(info, bad)
        assert value is None and why, bad
