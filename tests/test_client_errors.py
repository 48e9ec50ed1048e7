"""The client's error mapping and input packing, without a server."""

from __future__ import annotations

import numpy as np
import pytest
from tritonclient.utils import InferenceServerException

from clonedetect.client import errors
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
