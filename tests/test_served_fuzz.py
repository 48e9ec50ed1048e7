"""The served fuzz run, short: malformed requests over HTTP, gRPC and raw sockets, with valid
ones between them, against the real server (``python -m clonedetect.load_tests.fuzz`` is the
long run: docs/RELIABILITY.md)."""

from __future__ import annotations

import pytest

from clonedetect.load_tests.fuzz import problems, run_fuzz

pytestmark = pytest.mark.integration


def test_malformed_requests_are_all_rejected_and_the_server_keeps_serving(triton):
    figures = run_fuzz(triton.http_url, triton.grpc_url, triton.process.pid, 1_500, seed=7, timeout=30.0)
    assert problems(figures) == []
    # as many again before them as a warm-up, checked the same way
    assert sum(sum(counts.values()) for counts in figures["outcomes"].values()) == 3_000
    assert figures["valid_requests"] == 600
