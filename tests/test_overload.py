"""Overload: the client names a shed answer (the admission step's, or a Triton queue
policy's) as ServerUnavailableError saying to retry, and a short overload run has no
failures and no crash
(``python -m clonedetect.load_tests.overload`` is the measured one)."""

from __future__ import annotations

import pytest
from tritonclient.utils import InferenceServerException

from clonedetect.client import ServerUnavailableError
from clonedetect.client import protocol as wire
from clonedetect.load_tests.overload import run_overload


@pytest.mark.parametrize(
    "status, message",
    [
        ("StatusCode.UNAVAILABLE", "in ensemble 'clone_embed', Request timeout expired"),
        ("503", "in ensemble 'clone_compare', Exceeds maximum queue size"),
    ],
)
def test_a_shed_request_maps_to_server_unavailable_saying_retry(status, message):
    error = wire.translate(InferenceServerException(message, status=status), "127.0.0.1:8001", "embed")
    assert isinstance(error, ServerUnavailableError)
    assert "retry" in str(error) and "over capacity" in str(error)


def test_a_client_timeout_is_still_a_timeout():
    error = wire.translate(
        InferenceServerException("Deadline Exceeded", status="StatusCode.DEADLINE_EXCEEDED"), "u", "x"
    )
    assert not isinstance(error, ServerUnavailableError)


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_a_short_overload_run_sheds_or_answers_every_request(triton, tmp_path):
    figures = run_overload(triton, tmp_path, factors=(3,), seconds=8)
    assert figures["capacity"]["accepted_rps"] > 0
    for phase in ("capacity", "x3"):
        assert figures[phase]["failures"] == 0, figures[phase]["errors"]
        assert figures[phase]["locust_exit"] == 0
    assert figures["x3"]["shed_rps"] > 0, "beyond capacity the admission steps shed"
    assert figures["server_processes_unchanged"] and figures["server_ready_after"]
