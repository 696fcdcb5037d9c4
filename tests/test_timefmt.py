"""Durations and ETAs read the same wherever they are shown (hawizard/common/timefmt.py)."""

from __future__ import annotations

import pytest

from hawizard.common.timefmt import fmt_duration, fmt_elapsed, fmt_eta


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0.00 s"), (0.004, "0.00 s"), (0.42, "0.42 s"), (9.5, "9.50 s"),
    (10, "10 s"), (42.0, "42 s"), (119.4, "119 s"),
    (120, "2 min 00 s"), (125.4, "2 min 05 s"), (3599.4, "59 min 59 s"),
    (3600, "1 h 00 min"), (3725, "1 h 02 min"), (5400.0, "1 h 30 min"), (7300, "2 h 01 min"),
    (None, "?"), ("12", "?"),
])
def test_a_measured_duration_keeps_short_ones_precise(seconds, text):
    assert fmt_duration(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "<1 s"), (0.99, "<1 s"), (1, "1 s"), (42.4, "42 s"), (59.4, "59 s"),
    (59.6, "1 min 00 s"), (90, "1 min 30 s"), (3599, "59 min 59 s"), (3600, "1 h 00 min"), (3725, "1 h 02 min"),
])
def test_an_elapsed_clock_ticks_in_whole_seconds(seconds, text):
    assert fmt_elapsed(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "--:--"), (0, "0:00"), (5.9, "0:05"), (65, "1:05"), (3599, "59:59"),
    (3600, "1:00:00"), (3723, "1:02:03"), (-5, "0:00"),
])
def test_an_eta_reads_as_a_clock(seconds, text):
    assert fmt_eta(seconds) == text
