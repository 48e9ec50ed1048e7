"""The served fuzz run, short: 500 malformed requests over HTTP and gRPC interleaved with
valid ones against the real server (``python -m clonedetect.load_tests.fuzz`` runs 10,000)."""

from __future__ import annotations

import pytest

from clonedetect.load_tests.fuzz import problems, run_fuzz

pytestmark = pytest.mark.integration


@pytest.mark.timeout(180)
def test_malformed_requests_are_rejected_valid_ones_served_and_the_server_survives(triton):
    figures = run_fuzz(triton.http_url, triton.grpc_url, triton.process.pid, 500, seed=1)
    assert problems(figures) == [], figures
    assert sum(sum(counts.values()) for counts in figures["outcomes"].values()) == 500 + 100  # with the warm-up
    assert figures["valid_requests"] >= 100 and figures["server_processes_unchanged"]
    assert figures["seconds"] < 60
