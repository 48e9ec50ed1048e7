"""Locust users that call the clonedetect Triton ensembles through ``tritonclient``.

Each call fires one Locust ``request`` event: ``request_type`` is the protocol
(``http`` / ``grpc``) and ``name`` the Triton model (``clone_embed``,
``clone_compare``), so the statistics read ``grpc clone_embed``,
``http clone_compare`` ... with the response time of the whole call (request
building, transfer, server, response parsing) and every error as a failure.

gevent and gRPC: Locust users are greenlets. ``tritonclient.grpc`` calls block the
whole gevent loop (the process then sends one request at a time) unless
:func:`grpc.experimental.gevent.init_gevent` runs before the first channel is
created; :func:`prepare_grpc_for_gevent` does that (the locustfile calls it at import).
``tritonclient.http`` is built on geventhttpclient and needs nothing.
"""

from __future__ import annotations

import os
import time
import weakref

import numpy as np

_GRPC_GEVENT_READY = False


def prepare_grpc_for_gevent() -> None:
    """Make gRPC cooperate with gevent (idempotent; call before any channel exists)."""
    global _GRPC_GEVENT_READY
    if not _GRPC_GEVENT_READY:
        from grpc.experimental import gevent as grpc_gevent

        grpc_gevent.init_gevent()
        _GRPC_GEVENT_READY = True


def strip_scheme(url: str) -> str:
    """``http://127.0.0.1:8000/`` -> ``127.0.0.1:8000`` (tritonclient wants host:port)."""
    for scheme in ("http://", "https://", "grpc://"):
        if url.startswith(scheme):
            url = url[len(scheme) :]
    return url.rstrip("/")


class ResponseCheckError(AssertionError):
    """A response arrived but does not hold what the model promises."""


def check_embeddings(embeddings: np.ndarray, count: int, dim: int | None = None) -> None:
    """``count`` finite unit vectors of ``dim`` values (default: the shipped encoder's width)."""
    from clonedetect.client.protocol import EMBEDDING_DIM

    expected = (count, dim or EMBEDDING_DIM)
    if embeddings is None or embeddings.shape != expected:
        raise ResponseCheckError(
            f"EMBEDDING has shape {None if embeddings is None else embeddings.shape}, expected {expected}"
        )
    norms = np.linalg.norm(embeddings, axis=1)
    if not np.all(np.isfinite(norms)) or np.any(np.abs(norms - 1.0) > 1e-3):
        raise ResponseCheckError("EMBEDDING rows are not finite unit vectors")


def check_scores(similarity: np.ndarray, probability: np.ndarray, count: int) -> None:
    if similarity is None or probability is None or similarity.size != count or probability.size != count:
        raise ResponseCheckError("SIMILARITY/PROBABILITY missing or of the wrong size")
    if np.any(np.abs(similarity) > 1.0 + 1e-4) or np.any((probability < 0) | (probability > 1)):
        raise ResponseCheckError("SIMILARITY outside [-1, 1] or PROBABILITY outside [0, 1]")


_OPEN_CLIENTS: weakref.WeakSet[TritonLocustClient] = weakref.WeakSet()


def close_all_clients() -> None:
    """Close every client still open, while the gevent loop still runs.

    Why: a ``tritonclient.grpc`` client left to the garbage collector closes its channel
    in ``__del__`` at interpreter exit, and under gevent ``grpc.Channel.close`` then waits
    forever (py-spy: ``InferenceServerClient.__del__ -> Channel._close``, futex wait) —
    the hang that kept a finished headless run from exiting. Users killed at the stop
    timeout never reach ``on_stop``, so the locustfile calls this when Locust quits."""
    for client in list(_OPEN_CLIENTS):
        client.close()


class TritonLocustClient:
    """One ``tritonclient`` connection that reports every call to Locust's event hooks."""

    def __init__(self, environment, protocol: str, url: str, timeout: float = 60.0):
        from clonedetect.client import protocol as wire

        self.environment = environment
        self.protocol = wire.check_protocol(protocol)
        self.url = strip_scheme(url)
        self.timeout = timeout
        self._wire = wire
        if protocol == "http":
            import tritonclient.http as module

            self._client = module.InferenceServerClient(
                self.url, concurrency=1, connection_timeout=timeout, network_timeout=timeout
            )
            self._timeout_kwargs = {}
        else:
            prepare_grpc_for_gevent()
            import tritonclient.grpc as module

            self._client = module.InferenceServerClient(self.url)
            self._timeout_kwargs = {"client_timeout": timeout}
        self._module = module
        _OPEN_CLIENTS.add(self)

    def _fire(self, name: str, started: float, length: int, exception: BaseException | None) -> None:
        self.environment.events.request.fire(
            request_type=self.protocol,
            name=name,
            response_time=(time.perf_counter() - started) * 1000.0,
            response_length=length,
            exception=exception,
            context={"url": self.url},
        )

    def _infer(self, model: str, inputs, outputs, check) -> None:
        started = time.perf_counter()
        try:
            result = self._client.infer(model, inputs, outputs=outputs, **self._timeout_kwargs)
            length = check(result)
        except Exception as error:  # every failure is reported, never raised into the user
            self._fire(model, started, 0, error)
        else:
            self._fire(model, started, length, None)

    def embed(self, codes: list[str]) -> None:
        """``clone_embed`` on ``codes`` (one request with ``len(codes)`` programs)."""
        packed = self._wire.encode_codes(codes)
        inputs, outputs = self._wire.embed_request(self._module, packed)

        def check(result) -> int:
            embeddings = result.as_numpy("EMBEDDING")
            check_embeddings(embeddings, len(codes))
            return int(embeddings.nbytes)

        self._infer(self._wire.EMBED_MODEL, inputs, outputs, check)

    def compare(self, pairs: list[tuple[str, str]]) -> None:
        """``clone_compare`` on ``pairs`` (one request)."""
        codes_a = self._wire.encode_codes([a for a, _ in pairs], what="code_a")
        codes_b = self._wire.encode_codes([b for _, b in pairs], what="code_b")
        inputs, outputs = self._wire.compare_request(self._module, codes_a, codes_b)

        def check(result) -> int:
            similarity, probability = result.as_numpy("SIMILARITY"), result.as_numpy("PROBABILITY")
            check_scores(similarity, probability, len(pairs))
            return int(similarity.nbytes + probability.nbytes)

        self._infer(self._wire.COMPARE_MODEL, inputs, outputs, check)

    def close(self) -> None:
        _OPEN_CLIENTS.discard(self)
        try:
            self._client.close()
        except Exception:  # closing is best effort at the end of a run
            pass


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def summary_rows(stats) -> list[dict]:
    """Final per-request statistics of a Locust ``RequestStats`` (plus the aggregate)."""
    rows = []
    for entry in [*sorted(stats.entries.values(), key=lambda e: (e.method or "", e.name)), stats.total]:
        rows.append(
            {
                "type": entry.method or "",
                "name": entry.name,
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "median_ms": entry.median_response_time,
                "p95_ms": entry.get_response_time_percentile(0.95),
                "p99_ms": entry.get_response_time_percentile(0.99),
                "avg_ms": entry.avg_response_time,
                "max_ms": entry.max_response_time,
                "rps": entry.total_rps,
            }
        )
    return rows


def write_summary(environment, path: str) -> None:
    import json
    from pathlib import Path

    stats = environment.stats
    errors = [
        {"type": e.method, "name": e.name, "error": str(e.error), "occurrences": e.occurrences}
        for e in stats.errors.values()
    ]
    payload = {"rows": summary_rows(stats), "errors": errors}
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(payload, indent=2, default=float) + "\n")
