"""The client's error mapping, input packing and retry policy, without a server."""

from __future__ import annotations

import random

import numpy as np
import pytest
from tritonclient.utils import InferenceServerException

from clonedetect.client import errors, retry
from clonedetect.client import protocol as wire


@pytest.mark.parametrize(
    "status, message, expected",
    [
        ("400", "in ensemble 'clone_embed', CODE[0] is empty", errors.InvalidInputError),
        ("StatusCode.INVALID_ARGUMENT", "unexpected shape for input 'CODE'", errors.InvalidInputError),
        ("StatusCode.UNAVAILABLE", "failed to connect to all addresses", errors.ServerUnavailableError),
        ("400", "Request for unknown model: 'nope' is not found", errors.ModelNotReadyError),
        (None, "This API is restricted, expecting header 'admin-key'", errors.PermissionDeniedError),
        ("StatusCode.DEADLINE_EXCEEDED", "Deadline Exceeded", errors.RequestTimeoutError),
        ("500", "something else broke", errors.ServerError),
    ],
)
def test_server_errors_map_to_typed_errors(status, message, expected):
    translated = wire.translate(InferenceServerException(msg=message, status=status), "127.0.0.1:8000", "embed")
    assert type(translated) is expected
    assert message in str(translated)


def test_connection_errors_say_how_to_start_a_server():
    translated = wire.translate(ConnectionRefusedError(111, "refused"), "127.0.0.1:9", "status")
    assert isinstance(translated, errors.ServerUnavailableError)
    assert "clonedetect serve" in str(translated)


def test_encode_codes_packs_utf8_bytes():
    packed = wire.encode_codes(["int x;", "é".encode()])
    assert packed.shape == (2, 1) and packed.dtype == np.object_
    assert packed[1, 0] == "é".encode()


def test_admin_key_header_per_protocol():
    assert wire.admin_headers("http", "k") == {"admin-key": "k"}
    assert wire.admin_headers("grpc", "k") == {"triton-grpc-protocol-admin-key": "k"}
    assert wire.admin_headers("http", None) is None


def test_version_config_pins_the_named_versions():
    import json

    pinned = json.loads(wire.version_config({"name": "m", "version_policy": {"latest": {"num_versions": 1}}}, 3))
    assert pinned == {"name": "m", "version_policy": {"specific": {"versions": [3]}}}
    several = json.loads(wire.version_config({"name": "m"}, [2, 1, 2]))
    assert several["version_policy"] == {"specific": {"versions": [1, 2]}}
    with pytest.raises(ValueError, match="at least one version"):
        wire.version_config({"name": "m"}, [])


def test_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="'fp32' \\(the default\\) or 'int8'"):
        wire.check_precision("fp16")


def test_unknown_protocol_is_refused():
    with pytest.raises(ValueError, match="use 'http' or 'grpc'"):
        wire.check_protocol("websocket")


def test_a_dead_backend_process_maps_to_model_not_ready_saying_how_it_comes_back():
    message = "in ensemble 'clone_embed', Stub process 'code_tokenizer_0_0' is not healthy."
    translated = wire.translate(InferenceServerException(msg=message, status="500"), "127.0.0.1:8000", "embed")
    assert type(translated) is errors.ModelNotReadyError
    assert "unloaded and loaded" in str(translated) and "clonedetect serve" in str(translated)


class FakeClock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self):
        self.now = 0.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def _failing(errors_to_raise: list[Exception], answer="done"):
    calls = []

    def attempt():
        calls.append(1)
        if len(calls) <= len(errors_to_raise):
            raise errors_to_raise[len(calls) - 1]
        return answer

    return attempt, calls


@pytest.mark.parametrize(
    "transient",
    [
        errors.ServerUnavailableError("no Triton server (connection refused)"),
        errors.ModelNotReadyError("model not ready"),
        errors.RequestTimeoutError("no answer in time"),
    ],
)
def test_transient_failures_are_retried_with_full_jitter_exponential_waits(transient):
    clock = FakeClock()
    policy = retry.RetryPolicy(first_wait_s=0.2, max_wait_s=1.0, deadline_s=60, rng=random.Random(7))
    attempt, calls = _failing([transient] * 5)
    retried = []
    assert (
        retry.call(policy, "embed", attempt, sleep=clock.sleep, clock=lambda: clock.now, on_retry=retried.append)
        == "done"
    )
    assert len(calls) == 6 and retried == [transient] * 5
    expected = random.Random(7)
    assert clock.waits == [expected.uniform(0, min(1.0, 0.2 * 2**n)) for n in range(5)]
    assert all(0 <= wait <= 1.0 for wait in clock.waits)


@pytest.mark.parametrize(
    "final",
    [
        errors.InvalidInputError("CODE[0] is empty"),
        errors.PermissionDeniedError("restricted"),
        errors.ServerError("something else broke"),
    ],
)
def test_input_permission_and_other_errors_are_never_retried(final):
    clock = FakeClock()
    attempt, calls = _failing([final])
    with pytest.raises(type(final)) as raised:
        retry.call(retry.RetryPolicy(), "embed", attempt, sleep=clock.sleep, clock=lambda: clock.now)
    assert raised.value is final and len(calls) == 1 and clock.waits == []


def test_past_the_deadline_the_error_says_what_how_many_attempts_how_long_and_the_last_cause():
    clock = FakeClock()
    policy = retry.RetryPolicy(first_wait_s=0.5, max_wait_s=2.0, deadline_s=10, rng=random.Random(1))
    refused = errors.ServerUnavailableError("no Triton server at 127.0.0.1:9 (connection refused)")
    attempt, calls = _failing([refused] * 1000)
    with pytest.raises(errors.ServerUnavailableError) as raised:
        retry.call(policy, "compare", attempt, sleep=clock.sleep, clock=lambda: clock.now)
    message = str(raised.value)
    assert message.startswith(f"compare: gave up after {len(calls)} attempt(s) over ")
    assert "retry deadline 10 s" in message and "connection refused" in message
    assert clock.now <= 10 and len(calls) > 5  # it used the time, and not more


def test_no_policy_means_one_attempt():
    attempt, calls = _failing([errors.ServerUnavailableError("down")])
    with pytest.raises(errors.ServerUnavailableError):
        retry.call(None, "embed", attempt)
    assert len(calls) == 1


def test_async_retries_follow_the_same_policy():
    import asyncio

    attempt, calls = _failing([errors.ModelNotReadyError("loading")] * 2)

    async def attempt_async():
        return attempt()

    policy = retry.RetryPolicy(first_wait_s=0.001, max_wait_s=0.002, deadline_s=5)
    assert asyncio.run(retry.call_async(policy, "embed", attempt_async)) == "done"
    assert len(calls) == 3


def test_a_policy_with_impossible_waits_is_refused():
    with pytest.raises(ValueError, match="0 < first_wait_s <= max_wait_s"):
        retry.RetryPolicy(first_wait_s=2, max_wait_s=1)
    with pytest.raises(ValueError, match="not positive"):
        retry.RetryPolicy(deadline_s=0)


def test_a_connection_the_server_closed_is_server_unavailable():
    from geventhttpclient.response import HTTPConnectionClosed

    translated = wire.translate(HTTPConnectionClosed("connection closed."), "127.0.0.1:8000", "compare")
    assert isinstance(translated, errors.ServerUnavailableError)


def test_a_failed_tls_handshake_is_not_retried_and_names_the_tls_options():
    message = "failed to connect to all addresses; last error: UNKNOWN: Ssl handshake failed: CERTIFICATE_VERIFY_FAILED"
    translated = wire.translate(InferenceServerException(msg=message, status="StatusCode.UNAVAILABLE"), "h:1", "embed")
    assert type(translated) is errors.ServerError and not isinstance(translated, retry.TRANSIENT)
    assert "--tls-ca" in str(translated)
