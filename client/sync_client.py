"""The blocking client: ``CloneDetectorClient(url).embed(codes)``."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from clonedetect.client import errors, retry
from clonedetect.client import protocol as wire
from clonedetect.client.protocol import Comparison, ModelState


class CloneDetectorClient(wire.ClientBase):
    """Embed and compare programs on a clonedetect Triton server, over HTTP or gRPC.

    >>> client = CloneDetectorClient()                                   # HTTP, 127.0.0.1:8000
    >>> client = CloneDetectorClient("127.0.0.1:8001", protocol="grpc")
    >>> client.embed([code_a, code_b]).shape                             # (2, 384)
    >>> client.compare(code_a, code_b).probability
    >>> CloneDetectorClient(precision="int8")   # the INT8 encoder (clone_embed_int8, ...)
    >>> CloneDetectorClient("host:8001", protocol="grpc", tls=GrpcTls("ca.pem"))  # gRPC over TLS

    Long lists are split into requests of ``batch_size`` programs sent ``concurrency``
    at a time; the server's dynamic batcher merges them again. Each request, and each
    read of status or config, is retried on transient failures under ``retry`` (a
    :class:`~clonedetect.client.retry.RetryPolicy`; ``retry=None``: never); model load
    and unload are not.
    """

    def _connect(self, concurrency: int) -> None:
        if self.protocol == "http":
            import tritonclient.http as module
        else:
            import tritonclient.grpc as module
        self._module = module
        self._clients: list = []
        self._clients_lock = threading.Lock()
        self._local = threading.local()
        self._shared = None if self.protocol == "http" else module.InferenceServerClient(self.url, **self.grpc_options)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="clonedetect")

    @property
    def _client(self):
        """tritonclient's HTTP client is gevent-based and bound to the thread that made it,
        so each thread gets its own; the gRPC client is thread-safe and shared."""
        if self._shared is not None:
            return self._shared
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._module.InferenceServerClient(
                self.url, connection_timeout=self.timeout, network_timeout=self.timeout
            )
            self._local.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client

    # -- inference ---------------------------------------------------------------
    def embed(self, codes: list[str | bytes]) -> np.ndarray:
        """L2-normalised embeddings, ``[len(codes), dim]`` float32, in input order."""
        packed = wire.encode_codes(codes)
        if len(packed) == 0:
            return np.zeros((0, 0), dtype=np.float32)
        parts = self._pool.map(self._embed_chunk, wire.chunks(packed, self.batch_size))
        return np.concatenate(list(parts), axis=0)

    def compare(self, code_a: str | bytes, code_b: str | bytes) -> Comparison:
        """Similarity and calibrated probability that one program is derived from the other."""
        return self.compare_many([(code_a, code_b)])[0]

    def compare_many(self, pairs: list[tuple[str | bytes, str | bytes]]) -> list[Comparison]:
        codes_a = wire.encode_codes([a for a, _ in pairs], what="code_a")
        codes_b = wire.encode_codes([b for _, b in pairs], what="code_b")
        batches = [
            (codes_a[start : start + self.batch_size], codes_b[start : start + self.batch_size])
            for start in range(0, len(pairs), self.batch_size)
        ]
        results = self._pool.map(lambda batch: self._compare_chunk(*batch), batches)
        return [comparison for part in results for comparison in part]

    def scan(self, submissions, base_code=None, authors=None, threshold: float = 0.5, **options):
        """Scan an assignment, every submission against every other: see
        :func:`clonedetect.scanning.scan` for the arguments (directories or
        ``{name: {file name: code}}``; base code; author map; ``language``, ``top_k``,
        ``min_similarity``, ``progress``). Returns a ``ScanResult``; ``.to_dict()`` is its JSON."""
        from clonedetect.scanning import scan  # here: clonedetect.scanning imports this package

        return scan(self, submissions, base_code=base_code, authors=authors, threshold=threshold, **options)

    def _embed_chunk(self, codes: np.ndarray) -> np.ndarray:
        inputs, outputs = wire.embed_request(self._module, codes)
        result = self._retried("embed", self._infer, self.embed_model, inputs, outputs)
        return result.as_numpy("EMBEDDING")

    def _compare_chunk(self, codes_a: np.ndarray, codes_b: np.ndarray) -> list[Comparison]:
        inputs, outputs = wire.compare_request(self._module, codes_a, codes_b)
        result = self._retried("compare", self._infer, self.compare_model, inputs, outputs)
        return wire.comparisons(result)

    def _infer(self, model: str, inputs: list, outputs: list):
        return self._client.infer(model, inputs, outputs=outputs, **self._timeout())

    # -- health and model control -------------------------------------------------
    def is_live(self) -> bool:
        return self._probe(self._client.is_server_live)

    def is_ready(self) -> bool:
        return self._probe(self._client.is_server_ready)

    def wait_until_ready(self, timeout: float = 120.0, interval: float = 0.5) -> None:
        """Block until the server and every serving model are ready, or raise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_ready() and all(self._probe(self._client.is_model_ready, m) for m in wire.SERVING_MODELS):
                return
            time.sleep(interval)
        if not self.is_live():
            raise errors.ServerUnavailableError(
                f"no Triton server became live at {self.url} within {timeout:.0f} s; start one with `clonedetect serve`"
            )
        raise errors.ModelNotReadyError(
            f"the server at {self.url} is live but its models were not ready within {timeout:.0f} s"
        )

    def model_status(self) -> list[ModelState]:
        """Every model in the repository with its version and state."""
        index = self._retried(
            "model status",
            self._client.get_model_repository_index,
            headers=self._admin_headers(),
            **wire.index_kwargs(self.protocol),
        )
        return wire.model_states(index)

    def load_model(self, model: str, version: int | Sequence[int] | None = None) -> None:
        """(Re)load ``model`` from the repository: the versions its policy names, or
        exactly ``version`` (one number or several). Needs ``admin_key`` where the server
        restricts model control. Triton reloads only what changed: after loading other
        versions, name the repository's versions to go back."""
        config = None if version is None else wire.version_config(self.model_config(model), version)
        self._call("load model", self._client.load_model, model, headers=self._admin_headers(), config=config)

    reload = load_model

    def model_config(self, model: str) -> dict:
        """The model's config as the server has it (JSON as a dict, either protocol)."""
        config = self._retried(
            "read model config", self._client.get_model_config, model, **wire.config_kwargs(self.protocol)
        )
        return wire.unwrap_config(config)

    def unload_model(self, model: str) -> None:
        self._call("unload model", self._client.unload_model, model, headers=self._admin_headers())

    # -- plumbing ------------------------------------------------------------------
    def _timeout(self) -> dict:
        return {"client_timeout": self.timeout} if self.protocol == "grpc" else {}

    def _call(self, action: str, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Exception as error:  # every transport/server error becomes a typed one
            raise wire.translate(error, self.url, action) from error

    def _retried(self, action: str, function, *args, **kwargs):
        """:meth:`_call`, retried on transient failures (idempotent calls only)."""
        return retry.call(
            self.retry, action, lambda: self._call(action, function, *args, **kwargs), on_retry=self._count_retry
        )

    def _probe(self, function, *args) -> bool:
        try:
            return bool(function(*args))
        except Exception:
            return False

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for client in [self._shared, *self._clients]:
            if client is not None:
                client.close()

    def __enter__(self) -> CloneDetectorClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
