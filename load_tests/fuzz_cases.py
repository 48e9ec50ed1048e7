"""Malformed requests for the served fuzz run (:mod:`clonedetect.load_tests.fuzz`).

Each case sends one bad request to a running server and says what came back:
``"rejected"`` (HTTP 400 / gRPC ``INVALID_ARGUMENT``, what every bad request must get),
``"rejected as 500"`` (an HTTP body that is not JSON, or not an infer request: Triton 2.51's
HTTP front end answers those 500 with a message saying what it could not parse, not 400),
``"dropped"`` (the server closed a connection that never carried a whole HTTP request,
which is all it can do with one) or ``"unexpected: ..."`` (anything else: a failure).
Cases go through ``tritonclient`` (wrong names, types, shapes, batch sizes and code), raw
gRPC protobufs (BYTES tensors whose length prefixes lie) and raw sockets (garbage,
truncated and lying HTTP bodies), so no client-side check stands between them and Triton.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import struct
from dataclasses import dataclass

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.grpc import service_pb2
from tritonclient.utils import InferenceServerException

from clonedetect.preprocessing.validation import MAX_CODE_BYTES

REJECTED_STATUSES = ("400", "StatusCode.INVALID_ARGUMENT")
GOOD_CODE = b"int main() { int total = 0; for (int i = 0; i < 10; i++) total += i; return total; }"
INFER_PATH = "/v2/models/clone_embed/infer"
# How Triton's HTTP front end begins its (500) answer to a body it cannot read as a request.
UNPARSEABLE_BODY_ERRORS = ("failed to parse the request JSON buffer", "Unable to parse")


@dataclass
class Targets:
    """The connections a case may use: tritonclient over both protocols, and the HTTP address."""

    http: httpclient.InferenceServerClient
    grpc: grpcclient.InferenceServerClient
    host: str
    http_port: int
    timeout: float = 60.0


def _tensor(module, name: str, values: np.ndarray, datatype: str = "BYTES"):
    tensor = module.InferInput(name, list(values.shape), datatype)
    tensor.set_data_from_numpy(values)
    return tensor


def _codes(items: list[bytes], shape=None) -> np.ndarray:
    return np.array(items, dtype=np.object_).reshape(shape or (-1, 1))


def _bad_code(rng: random.Random) -> bytes:
    """Code every model must reject: empty, blank, invalid UTF-8, or over the size limit."""
    choice = rng.randrange(10)
    if choice == 0:
        return b"x" * (MAX_CODE_BYTES + 1 + rng.randrange(1000))
    if choice < 4:
        return rng.choice([b"", b" ", b"\n\t \r\n", b"\x0b\x0c "])
    garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    return rng.choice([b"", GOOD_CODE]) + b"\xff" + garbage  # 0xff never occurs in UTF-8


def _tensor_inputs(rng: random.Random, module) -> tuple[str, list]:
    """A request the ensembles must reject: wrong name, type, shape, batch size or code."""
    kind = rng.choice(["name", "dtype", "shape", "batch", "code", "compare_code", "unpaired"])
    if kind == "name":
        return "clone_embed", [_tensor(module, rng.choice(["SOURCE", "code", "CODE_A", ""]), _codes([GOOD_CODE]))]
    if kind == "dtype":
        values = np.ones((1, 1), dtype=np.int32)
        return "clone_embed", [_tensor(module, "CODE", values, "INT32")]
    if kind == "shape":
        return "clone_embed", [_tensor(module, "CODE", _codes([GOOD_CODE] * 2, (1, 2)))]
    if kind == "batch":
        return "clone_embed", [_tensor(module, "CODE", _codes([GOOD_CODE] * rng.randrange(65, 130)))]
    if kind == "code":
        return "clone_embed", [_tensor(module, "CODE", _codes([GOOD_CODE, _bad_code(rng)]))]
    if kind == "compare_code":
        model = rng.choice(["clone_compare", "clone_verifier"])
        return model, [
            _tensor(module, "CODE_A", _codes([GOOD_CODE])),
            _tensor(module, "CODE_B", _codes([_bad_code(rng)])),
        ]
    pair = [_tensor(module, "CODE_A", _codes([GOOD_CODE])), _tensor(module, "CODE_B", _codes([GOOD_CODE] * 2))]
    return rng.choice(["clone_compare", "clone_verifier"]), pair


def tritonclient_case(rng: random.Random, targets: Targets, protocol: str) -> str:
    module, client = (httpclient, targets.http) if protocol == "http" else (grpcclient, targets.grpc)
    model, inputs = _tensor_inputs(rng, module)
    try:
        client.infer(model, inputs, **({"client_timeout": targets.timeout} if protocol == "grpc" else {}))
    except InferenceServerException as error:
        status = str(error.status())
        return "rejected" if status in REJECTED_STATUSES else f"unexpected: {status} {error.message()[:120]}"
    return f"unexpected: {model} accepted a bad request"


def grpc_lying_bytes_case(rng: random.Random, targets: Targets) -> str:
    """A BYTES tensor whose element length prefix promises more bytes than follow."""
    request = service_pb2.ModelInferRequest(model_name="clone_embed")
    tensor = request.inputs.add(name="CODE", datatype="BYTES")
    tensor.shape.extend([1, 1])
    body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
    request.raw_input_contents.append(struct.pack("<I", len(body) + 1 + rng.randrange(10_000)) + body)
    try:
        targets.grpc._client_stub.ModelInfer(request, timeout=targets.timeout)
    except Exception as error:  # grpc.RpcError: its code() says how it was answered
        code = str(error.code()) if hasattr(error, "code") else type(error).__name__
        return "rejected" if code in REJECTED_STATUSES else f"unexpected: {code}"
    return "unexpected: a lying BYTES tensor was accepted"


def _json_body(rng: random.Random) -> bytes:
    """A JSON (or almost-JSON) infer request that is wrong in one place."""
    good = {"inputs": [{"name": "CODE", "shape": [1, 1], "datatype": "BYTES", "data": [GOOD_CODE.decode()]}]}
    text = json.dumps(good)
    kind = rng.randrange(6)
    if kind == 0:
        return text[: rng.randrange(1, len(text) - 1)].encode()  # truncated JSON
    if kind == 1:
        good["inputs"][0]["data"] = rng.choice([[1, 2], [None], [{"a": 1}], [], ["x", "y"]])
        return json.dumps(good).encode()
    if kind == 2:
        good["inputs"][0]["shape"] = rng.choice([[1], [-1, 1], [1, 1, 1], [0, 1], ["a"]])
        return json.dumps(good).encode()
    if kind == 3:
        return json.dumps(rng.choice([[], {}, {"inputs": {}}, {"inputs": [1]}, "x", 7])).encode()
    if kind == 4:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000)))
    return text.replace('"data": ["', '"data": ["\\ud800', 1).encode()  # a lone surrogate


def raw_http_case(rng: random.Random, targets: Targets) -> str:
    """A bad body through ``http.client``: broken JSON, or a binary header length that lies."""
    body, headers = _json_body(rng), {"Content-Type": "application/json"}
    if rng.random() < 0.2:
        headers["Inference-Header-Content-Length"] = str(len(body) + 1 + rng.randrange(1000))
    connection = http.client.HTTPConnection(targets.host, targets.http_port, timeout=targets.timeout)
    try:
        connection.request("POST", INFER_PATH, body=body, headers=headers)
        response = connection.getresponse()
        status, answer = response.status, response.read()
    finally:
        connection.close()
    if str(status) in REJECTED_STATUSES:
        return "rejected"
    error = json.loads(answer).get("error", "") if status == 500 else ""
    if error.startswith(UNPARSEABLE_BODY_ERRORS):
        return "rejected as 500"
    return f"unexpected: HTTP {status} {answer[:100]!r}"


def raw_socket_case(rng: random.Random, targets: Targets) -> str:
    """Bytes on the HTTP port that never make a whole request: garbage, or a body cut short
    before the connection closes. The server may answer 400 or close the connection."""
    if rng.random() < 0.5:
        payload = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000)))
    else:
        body = _json_body(rng)
        head = f"POST {INFER_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body) + 100}\r\n\r\n"
        payload = head.encode() + body
    with socket.create_connection((targets.host, targets.http_port), timeout=targets.timeout) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    if not answer:
        return "dropped"
    status = answer.split(b" ", 2)[1].decode(errors="replace") if answer.startswith(b"HTTP/") else "?"
    return "rejected" if status == "400" else f"unexpected: {answer[:80]!r}"


CASES = {
    "http tensors": lambda rng, targets: tritonclient_case(rng, targets, "http"),
    "grpc tensors": lambda rng, targets: tritonclient_case(rng, targets, "grpc"),
    "grpc lying BYTES": grpc_lying_bytes_case,
    "http raw body": raw_http_case,
    "http raw socket": raw_socket_case,
}
