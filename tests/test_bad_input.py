"""Bad input gets a clear INVALID_ARG error; the server stays ready; the rest of a batch succeeds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from clonedetect.client import CloneDetectorClient, InvalidInputError
from clonedetect.client.protocol import EMBEDDING_DIM
from clonedetect.preprocessing.validation import MAX_CODE_BYTES

pytestmark = pytest.mark.integration

GOOD_CODE = b"int main() { int total = 0; for (int i = 0; i < 10; i++) total += i; return total; }"


@pytest.fixture(params=["http", "grpc"])
def raw(request, triton):
    """A plain tritonclient client (no client-side checks) and its module."""
    if request.param == "http":
        client = httpclient.InferenceServerClient(triton.http_url)
        module = httpclient
    else:
        client = grpcclient.InferenceServerClient(triton.grpc_url)
        module = grpcclient
    yield client, module
    client.close()


def code_input(module, values, name="CODE", datatype="BYTES", shape=None):
    array = np.array(values, dtype=np.object_ if datatype == "BYTES" else np.int32)
    array = array.reshape(shape or (-1, 1))
    tensor = module.InferInput(name, list(array.shape), datatype)
    tensor.set_data_from_numpy(array)
    return tensor


def rejected(client, module, inputs, model="clone_embed") -> str:
    with pytest.raises(InferenceServerException) as caught:
        client.infer(model, inputs)
    assert str(caught.value.status()) in ("400", "StatusCode.INVALID_ARGUMENT")
    assert client.is_server_ready(), "the server must stay ready after a bad request"
    return caught.value.message()


@pytest.mark.parametrize(
    "code, says",
    [
        (b"", "empty or only whitespace"),
        (b"  \n\t  \n", "empty or only whitespace"),
        (b"int main() { return 0; } \xff\xfe", "not valid UTF-8"),
        (b"x" * (MAX_CODE_BYTES + 1), "the limit is 1000000 bytes"),
    ],
    ids=["empty", "whitespace", "invalid-utf8", "too-large"],
)
def test_bad_code_is_rejected_with_a_message_that_says_why(raw, code, says):
    client, module = raw
    message = rejected(client, module, [code_input(module, [code])])
    assert says in message
    # ... and the next good request is served.
    result = client.infer("clone_embed", [code_input(module, [GOOD_CODE])])
    assert result.as_numpy("EMBEDDING").shape == (1, EMBEDDING_DIM)


def test_bad_code_in_clone_compare_names_the_input(raw):
    client, module = raw
    message = rejected(
        client,
        module,
        [code_input(module, [GOOD_CODE], "CODE_A"), code_input(module, [b" "], "CODE_B")],
        "clone_compare",
    )
    assert "empty or only whitespace" in message


def test_wrong_tensor_name_is_rejected(raw):
    client, module = raw
    message = rejected(client, module, [code_input(module, [GOOD_CODE], name="SOURCE")])
    assert "SOURCE" in message


def test_wrong_dtype_is_rejected(raw):
    client, module = raw
    message = rejected(client, module, [code_input(module, [7], datatype="INT32")])
    assert "INT32" in message and "BYTES" in message


def test_wrong_shape_is_rejected(raw):
    client, module = raw
    message = rejected(client, module, [code_input(module, [GOOD_CODE, GOOD_CODE], shape=(1, 2))])
    assert "shape" in message


def test_bad_encoder_inputs_are_rejected(raw):
    client, module = raw
    ids = module.InferInput("input_ids", [1, 4], "INT64")
    ids.set_data_from_numpy(np.ones((1, 4), dtype=np.int64))
    mask = module.InferInput("attention_mask", [1, 4], "INT64")
    mask.set_data_from_numpy(np.zeros((1, 4), dtype=np.int64))
    message = rejected(client, module, [ids, mask], "code_clone_detector")
    assert "at least one token" in message


def test_a_bad_request_fails_alone_the_rest_of_its_batch_succeeds(triton):
    """32 concurrent requests, every 8th one bad: they share encoder/tokenizer batches."""
    bad_indices = set(range(0, 32, 8))

    def send(index: int):
        client = httpclient.InferenceServerClient(triton.http_url)
        try:
            code = b"   " if index in bad_indices else GOOD_CODE + f" // {index}".encode()
            return client.infer("clone_embed", [code_input(httpclient, [code])]).as_numpy("EMBEDDING")
        except InferenceServerException as error:
            return error
        finally:
            client.close()

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(send, range(32)))
    for index, result in enumerate(results):
        if index in bad_indices:
            assert isinstance(result, InferenceServerException) and "empty" in result.message()
        else:
            assert isinstance(result, np.ndarray) and result.shape == (1, EMBEDDING_DIM), result


def test_the_client_rejects_bad_code_before_sending(triton):
    with CloneDetectorClient(triton.http_url) as client:
        with pytest.raises(InvalidInputError, match=r"code\[1\] is empty"):
            client.embed(["int x;", ""])
        with pytest.raises(InvalidInputError, match="not valid UTF-8"):
            client.compare(b"\xc3\x28", "int x;")
        with pytest.raises(TypeError, match="list of programs"):
            client.embed("int x;")
        with pytest.raises(InvalidInputError, match=r"code_a\[0\] is a list, not source code"):
            client.compare(["int x;"], ["int y;"])


def test_bad_code_to_the_verifier_is_rejected_and_names_the_input(raw):
    client, module = raw
    inputs = [code_input(module, [GOOD_CODE], "CODE_A"), code_input(module, [b"\xff\xfe"], "CODE_B")]
    message = rejected(client, module, inputs, "clone_verifier")
    assert "CODE_B[0]" in message and "not valid UTF-8" in message
    unpaired = [code_input(module, [GOOD_CODE], "CODE_A"), code_input(module, [GOOD_CODE, GOOD_CODE], "CODE_B")]
    assert "batch size does not match" in rejected(client, module, unpaired, "clone_verifier")
    result = client.infer("clone_verifier", [inputs[0], code_input(module, [GOOD_CODE], "CODE_B")])
    assert result.as_numpy("VERIFICATION").reshape(-1)[0] == pytest.approx(1.0)
    assert 0.0 <= result.as_numpy("LITERALS").reshape(-1)[0] <= 1.0


def test_bad_code_to_the_pair_check_is_rejected_and_names_the_input(raw):
    client, module = raw
    inputs = [code_input(module, [b" \n"], "CODE_A"), code_input(module, [GOOD_CODE], "CODE_B")]
    assert "CODE_A[0] is empty or only whitespace" in rejected(client, module, inputs, "clone_pair_check")
    good = [inputs[1], code_input(module, [GOOD_CODE], "CODE_A")]
    result = client.infer("clone_pair_check", good)
    assert result.as_numpy("CHECKED_A").reshape(-1)[0] == GOOD_CODE == result.as_numpy("CHECKED_B").reshape(-1)[0]


def test_bad_pairs_between_valid_requests_never_stall_the_server(triton):
    """A bad pair sent right after a valid request, many times over gRPC: before every pair
    ensemble began with clone_pair_check, tritonserver 2.51 stopped answering within 5-40."""
    client = grpcclient.InferenceServerClient(triton.grpc_url)
    valid = CloneDetectorClient(triton.grpc_url, protocol="grpc", timeout=20, retry=None)
    bad = [code_input(grpcclient, [GOOD_CODE], "CODE_A"), code_input(grpcclient, [b" "], "CODE_B")]
    try:
        for index in range(150):
            with pytest.raises(InferenceServerException) as error:
                client.infer("clone_compare", bad, client_timeout=20)
            assert error.value.status() == "StatusCode.INVALID_ARGUMENT", f"pair {index}: {error.value}"
            assert valid.embed([f"int f() {{ return {index}; }}"]).shape == (1, EMBEDDING_DIM)
    finally:
        client.close()
        valid.close()


@pytest.mark.parametrize("model", ["clone_embed", "clone_compare"])
def test_more_programs_than_a_request_may_hold_are_rejected(raw, model):
    client, module = raw
    programs = [GOOD_CODE] * 65  # max_batch_size is 64 in every model's config
    names = ["CODE"] if model == "clone_embed" else ["CODE_A", "CODE_B"]
    message = rejected(client, module, [code_input(module, programs, name) for name in names], model)
    assert "batch" in message.lower() and "64" in message
