"""A one-minute soak at a steady rate with the response cache on: no failures and a bounded
memory slope (``python -m clonedetect.load_tests.soak --minutes 30`` is the long one)."""

from __future__ import annotations

import pytest

from clonedetect.load_tests.soak import memory_slope_mb_per_hour, run_soak

# Generous on purpose: a minute is short, the cache fills from its first requests and the
# Python stubs grow their heaps at first; a leak of a request's buffers at 20 requests/s
# would still exceed it many times over. The 30-minute run measures the real slope.
MAX_SLOPE_MB_PER_HOUR = 600.0


def test_the_memory_slope_is_the_least_squares_line_in_mb_per_hour():
    assert memory_slope_mb_per_hour([0.0, 1.0, 2.0], [100.0, 101.0, 102.0]) == pytest.approx(60.0)
    assert memory_slope_mb_per_hour([1.0], [100.0]) == 0.0


@pytest.mark.integration
@pytest.mark.timeout(150)
def test_a_minute_at_a_steady_rate_has_no_failures_and_a_bounded_memory_slope(triton):
    figures = run_soak(triton, minutes=1.0, rate=20.0, window_s=10.0)
    assert figures["failures"] == 0, figures["failure_examples"]
    assert len(figures["windows"]) == 6 and figures["requests"] > 0.8 * 20 * 60
    assert figures["memory_slope_mb_per_hour"] < MAX_SLOPE_MB_PER_HOUR, figures["windows"]
    assert figures["server_ready_after"]
