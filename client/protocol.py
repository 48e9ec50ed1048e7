"""What the sync and async clients share: tensor names, request building, response
parsing and the mapping of tritonclient errors onto :mod:`clonedetect.client.errors`."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from geventhttpclient.response import HTTPConnectionClosed  # the HTTP client's "server went away"
from tritonclient.utils import InferenceServerException

from clonedetect.admission import OVER_CAPACITY
from clonedetect.client import errors
from clonedetect.client.retry import RetryPolicy
from clonedetect.paths import (
    ADMISSION_MODEL,
    COMPARE_MODEL,
    EMBED_MODEL,
    ENCODER_MODEL,
    PAIR_CHECK_MODEL,
    SCORER_MODEL,
    TOKENIZER_MODEL,
    VERIFIER_MODEL,
)
from clonedetect.preprocessing.validation import CodeInputError, decode_code

# Width of EMBEDDING: 128 semantic + 256 structural-fingerprint values (docs/MODEL_CARD.md).
EMBEDDING_DIM = 384
# The ensembles for each encoder precision: the FP32 encoder (version 1) or its INT8
# quantisation (version 2), served side by side.
PRECISIONS = ("fp32", "int8")
ENSEMBLES = {"fp32": (EMBED_MODEL, COMPARE_MODEL), "int8": (EMBED_MODEL + "_int8", COMPARE_MODEL + "_int8")}
SERVING_MODELS = (
    TOKENIZER_MODEL,
    ENCODER_MODEL,
    SCORER_MODEL,
    VERIFIER_MODEL,
    PAIR_CHECK_MODEL,
    ADMISSION_MODEL,
    *ENSEMBLES["fp32"],
    *ENSEMBLES["int8"],
)
ADMIN_KEY_HEADER = "admin-key"
PROTOCOLS = ("http", "grpc")
DEFAULT_URLS = {"http": "127.0.0.1:8000", "grpc": "127.0.0.1:8001"}


@dataclass(frozen=True)
class Comparison:
    """The result of comparing two programs."""

    similarity: float  # cosine of the two embeddings
    probability: float  # calibrated probability that one is derived from the other
    verification: float  # share of both programs' tokens in matched fragments
    evidence: dict  # the matched fragments as line ranges of each program (clonedetect.verification)

    @property
    def literals(self) -> float:
        """The rarity-weighted overlap of the two programs' literals (in the evidence)."""
        return float(self._literal_evidence()["score"])

    @property
    def shared_literals(self) -> tuple[dict, ...]:
        """The rarest literals both programs hold, ``{"text", "weight"}`` each (in the evidence)."""
        return tuple(self._literal_evidence()["shared"])

    def _literal_evidence(self) -> dict:
        literals = self.evidence.get("literals")
        if not isinstance(literals, dict) or not {"score", "shared"} <= set(literals):
            raise errors.InvalidInputError(
                "this clone_compare answer has no literal score: the server serves a model repository "
                "older than this client; serve this release's repository (clonedetect serve)"
            )
        return literals

    def to_dict(self) -> dict:
        return {
            "similarity": self.similarity,
            "probability": self.probability,
            "verification": self.verification,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class GrpcTls:
    """TLS for gRPC: the CA that signed the server's certificate and, where the server asks
    for client certificates (mutual TLS), this client's certificate and key (PEM files)."""

    root_certificates: str
    certificate_chain: str | None = None
    private_key: str | None = None

    def __post_init__(self):
        if (self.certificate_chain is None) != (self.private_key is None):
            raise ValueError("a client certificate needs its key and a key its certificate: give both or neither")

    def client_options(self) -> dict:
        """tritonclient.grpc's ``InferenceServerClient`` keyword arguments."""
        return {
            "ssl": True,
            "root_certificates": self.root_certificates,
            "certificate_chain": self.certificate_chain,
            "private_key": self.private_key,
        }


# gRPC's own reconnect backoff grows towards two minutes: after a server restart a channel
# waited out its backoff (9-12 s after a kill, the server back in 5-6 s) while the retry
# policy's attempts failed at once. Capped near the retry policy's first waits, a channel
# reconnects soon after the server is back.
GRPC_RECONNECT_BACKOFF_MS = (200, 1000)  # initial, max


def grpc_channel_args() -> list[tuple]:
    """tritonclient.grpc's own channel arguments (message sizes, keepalive), which passing
    ``channel_args`` replaces, with the reconnect backoff capped."""
    from tritonclient.grpc import MAX_GRPC_MESSAGE_SIZE, KeepAliveOptions

    keepalive = KeepAliveOptions()
    initial, longest = GRPC_RECONNECT_BACKOFF_MS
    return [
        ("grpc.max_send_message_length", MAX_GRPC_MESSAGE_SIZE),
        ("grpc.max_receive_message_length", MAX_GRPC_MESSAGE_SIZE),
        ("grpc.keepalive_time_ms", keepalive.keepalive_time_ms),
        ("grpc.keepalive_timeout_ms", keepalive.keepalive_timeout_ms),
        ("grpc.keepalive_permit_without_calls", keepalive.keepalive_permit_without_calls),
        ("grpc.http2.max_pings_without_data", keepalive.http2_max_pings_without_data),
        ("grpc.initial_reconnect_backoff_ms", initial),
        ("grpc.max_reconnect_backoff_ms", longest),
    ]


def admin_headers(protocol: str, admin_key: str | None) -> dict | None:
    """Headers carrying the admin key. Triton reads gRPC restricted-protocol keys
    from metadata named ``triton-grpc-protocol-<header>``."""
    if not admin_key:
        return None
    prefix = "triton-grpc-protocol-" if protocol == "grpc" else ""
    return {prefix + ADMIN_KEY_HEADER: admin_key}


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: use 'fp32' (the default) or 'int8'")
    return precision


def check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}: use 'http' or 'grpc'")
    return protocol


def encode_codes(codes: list[str | bytes], what: str = "code") -> np.ndarray:
    """Validate programs and pack them as a ``[n, 1]`` BYTES array (UTF-8)."""
    if isinstance(codes, (str, bytes)):
        raise TypeError("pass a list of programs, e.g. embed([code]), not a single string")
    packed = []
    for index, code in enumerate(codes):
        label = f"{what}[{index}]"
        try:
            text = decode_code(code, what=label)
        except CodeInputError as error:
            raise errors.InvalidInputError(str(error)) from None
        packed.append(text.encode("utf-8"))
    return np.array(packed, dtype=np.object_).reshape(-1, 1)


def bytes_input(module: ModuleType, name: str, values: np.ndarray):
    tensor = module.InferInput(name, list(values.shape), "BYTES")
    tensor.set_data_from_numpy(values)
    return tensor


def embed_request(module: ModuleType, codes: np.ndarray) -> tuple[list, list]:
    return [bytes_input(module, "CODE", codes)], [module.InferRequestedOutput("EMBEDDING")]


def compare_request(module: ModuleType, codes_a: np.ndarray, codes_b: np.ndarray) -> tuple[list, list]:
    inputs = [bytes_input(module, "CODE_A", codes_a), bytes_input(module, "CODE_B", codes_b)]
    names = ("SIMILARITY", "PROBABILITY", "VERIFICATION", "EVIDENCE")
    return inputs, [module.InferRequestedOutput(name) for name in names]


def comparisons(result) -> list[Comparison]:
    similarity = result.as_numpy("SIMILARITY").reshape(-1)
    probability = result.as_numpy("PROBABILITY").reshape(-1)
    verification = result.as_numpy("VERIFICATION").reshape(-1)
    evidence = [json.loads(e) for e in result.as_numpy("EVIDENCE").reshape(-1)]
    rows = zip(similarity, probability, verification, evidence, strict=True)
    return [Comparison(float(s), float(p), float(v), e) for s, p, v, e in rows]


@dataclass(frozen=True)
class ModelState:
    name: str
    version: str
    state: str  # READY, UNAVAILABLE, LOADING, ...
    reason: str = ""


def model_states(index) -> list[ModelState]:
    """The repository index of either protocol (list of dicts, or gRPC JSON) as rows."""
    rows = index.get("models", []) if isinstance(index, dict) else index
    return [
        ModelState(row.get("name", ""), str(row.get("version", "")), row.get("state", "UNKNOWN"), row.get("reason", ""))
        for row in rows
    ]


def index_kwargs(protocol: str) -> dict:
    return {"as_json": True} if protocol == "grpc" else {}


config_kwargs = index_kwargs


def unwrap_config(config: dict) -> dict:
    """gRPC's JSON wraps the model config in ``{"config": ...}``; HTTP's does not."""
    return config.get("config", config) if "config" in config and "name" not in config else config


def chunks(items: list, size: int) -> list[list]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def version_config(config: dict, version: int | Sequence[int]) -> str:
    """The model's config with its version policy pinned to ``version`` (one or several;
    JSON for load)."""
    versions = [int(version)] if isinstance(version, (int, np.integer)) else sorted({int(v) for v in version})
    if not versions:
        raise ValueError("name at least one version to load")
    pinned = dict(config)
    pinned["version_policy"] = {"specific": {"versions": versions}}
    return json.dumps(pinned)


# What the server says when it sheds a request: the ensembles' admission step
# (clonedetect.admission) or a Triton queue policy a deployment adds.
SHED_MESSAGES = (OVER_CAPACITY, "request timeout expired", "exceeds maximum queue size")


def _server_error(status: str, message: str, url: str, action: str) -> errors.ClonedetectError:
    lowered = message.lower()
    if status in ("503", "StatusCode.UNAVAILABLE") and any(s in lowered for s in SHED_MESSAGES):
        return errors.ServerUnavailableError(
            f"{action}: the server at {url} is over capacity and shed the request ({message}); "
            "retry after a short backoff"
        )
    if "timeout" in lowered or "deadline" in lowered or status == "StatusCode.DEADLINE_EXCEEDED":
        return errors.RequestTimeoutError(f"{action}: no answer from {url} in time ({message})")
    if (
        status in ("401", "403", "StatusCode.PERMISSION_DENIED", "StatusCode.UNAUTHENTICATED")
        or "restricted" in lowered
    ):
        return errors.PermissionDeniedError(
            f"{action}: {message}. Model control is restricted: pass the server's admin key (--admin-key)"
        )
    if "is not healthy" in lowered:  # a Python-backend process of the model died
        return errors.ModelNotReadyError(
            f"{action}: {message.rstrip('.')}. The model serves again once it is unloaded and loaded: "
            "`clonedetect serve` does that by itself (a load alone does not replace the process)"
        )
    if any(s in lowered for s in ("unknown model", "not found", "not ready", "is not available", "unavailable model")):
        return errors.ModelNotReadyError(
            f"{action}: {message}. Check `clonedetect status --url {url}` and load the model"
        )
    if status in ("400", "StatusCode.INVALID_ARGUMENT"):
        return errors.InvalidInputError(f"{action}: the server rejected the input: {message}")
    # gRPC's words for a connection the server accepted and closed before it answered: it
    # refused the TLS handshake (or the client spoke plain text to a TLS port, or TLS to a
    # plain one). A server that is down refuses the connection instead.
    refused_handshake = "failed to connect to all addresses" in lowered and "socket closed" in lowered
    if refused_handshake or any(s in lowered for s in ("ssl", "handshake", "certificate")):  # never retried
        return errors.ServerError(
            f"{action}: the TLS handshake with {url} failed ({message}); check the CA, and the client "
            "certificate and key where the server asks for one (--tls-ca, --tls-cert, --tls-key)"
        )
    if status == "StatusCode.UNAVAILABLE" or "failed to connect" in lowered or "connection" in lowered:
        return errors.ServerUnavailableError(
            f"{action}: no Triton server at {url} ({message}); start one with `clonedetect serve`"
        )
    return errors.ServerError(f"{action}: {message}")


def translate(error: Exception, url: str, action: str) -> errors.ClonedetectError:
    """A tritonclient/transport error as the matching :mod:`errors` class."""
    if isinstance(error, errors.ClonedetectError):
        return error
    if isinstance(error, InferenceServerException):
        return _server_error(str(error.status() or ""), error.message() or str(error), url, action)
    if isinstance(error, (ConnectionError, socket.error, HTTPConnectionClosed)):
        return errors.ServerUnavailableError(
            f"{action}: no Triton server at {url} ({error}); start one with `clonedetect serve`"
        )
    if isinstance(error, TimeoutError):
        return errors.RequestTimeoutError(f"{action}: no answer from {url} in time")
    return errors.ServerError(f"{action}: {type(error).__name__}: {error}")


# Idempotent calls (inference, reads) are retried on transient failures by default
# (clonedetect.client.retry); ``retry=None`` turns it off.
DEFAULT_RETRY = RetryPolicy()


class ClientBase:
    """Settings shared by the blocking and the asyncio client; subclasses connect."""

    def __init__(
        self,
        url: str | None = None,
        *,
        protocol: str = "http",
        timeout: float = 60.0,
        batch_size: int = 16,
        concurrency: int = 4,
        admin_key: str | None = None,
        precision: str = "fp32",
        tls: GrpcTls | None = None,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        compare_model: str | None = None,
    ):
        self.protocol = check_protocol(protocol)
        if tls is not None and self.protocol != "grpc":
            raise ValueError("tls applies to gRPC; reach an HTTPS endpoint through the chart's Ingress or Gateway")
        tls_options = tls.client_options() if tls is not None else {}
        self.grpc_options = {**tls_options, "channel_args": grpc_channel_args()}
        self.precision = check_precision(precision)
        self.embed_model, self.compare_model = ENSEMBLES[precision]
        if compare_model:  # another model with clone_compare's interface, e.g. an imported NAME_compare
            self.compare_model = compare_model
        self.url = url or DEFAULT_URLS[protocol]
        self.timeout = timeout
        self.batch_size = batch_size
        self.admin_key = admin_key
        self.retry = retry
        self.retried = 0  # failures retried so far (transient ones, under ``retry``)
        self._retried_lock = threading.Lock()
        self._connect(concurrency)

    def _connect(self, concurrency: int) -> None:
        raise NotImplementedError

    def _admin_headers(self) -> dict | None:
        return admin_headers(self.protocol, self.admin_key)

    def _count_retry(self, _error: errors.ClonedetectError) -> None:
        with self._retried_lock:
            self.retried += 1
