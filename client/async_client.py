"""The asyncio client: ``await AsyncCloneDetectorClient(url).embed(codes)``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import numpy as np

from clonedetect.client import errors, retry
from clonedetect.client import protocol as wire
from clonedetect.client.protocol import Comparison, ModelState


class AsyncCloneDetectorClient(wire.ClientBase):
    """The asyncio twin of :class:`~clonedetect.client.CloneDetectorClient` (same
    methods, awaitable, the same retries). Use it as ``async with AsyncCloneDetectorClient(url) as c:``."""

    def _connect(self, concurrency: int) -> None:
        if self.protocol == "http":
            import tritonclient.http as module
            import tritonclient.http.aio as aio

            self._client = aio.InferenceServerClient(self.url, conn_limit=concurrency, conn_timeout=self.timeout)
        else:
            import tritonclient.grpc as module
            import tritonclient.grpc.aio as aio

            self._client = aio.InferenceServerClient(self.url, **self.grpc_options)
        self._module = module
        self._slots = asyncio.Semaphore(concurrency)

    async def embed(self, codes: list[str | bytes]) -> np.ndarray:
        packed = wire.encode_codes(codes)
        if len(packed) == 0:
            return np.zeros((0, 0), dtype=np.float32)
        parts = await asyncio.gather(*(self._embed_chunk(c) for c in wire.chunks(packed, self.batch_size)))
        return np.concatenate(parts, axis=0)

    async def compare(self, code_a: str | bytes, code_b: str | bytes) -> Comparison:
        return (await self.compare_many([(code_a, code_b)]))[0]

    async def compare_many(self, pairs: list[tuple[str | bytes, str | bytes]]) -> list[Comparison]:
        codes_a = wire.encode_codes([a for a, _ in pairs], what="code_a")
        codes_b = wire.encode_codes([b for _, b in pairs], what="code_b")
        parts = await asyncio.gather(
            *(
                self._compare_chunk(codes_a[start : start + self.batch_size], codes_b[start : start + self.batch_size])
                for start in range(0, len(pairs), self.batch_size)
            )
        )
        return [comparison for part in parts for comparison in part]

    async def _embed_chunk(self, codes: np.ndarray) -> np.ndarray:
        inputs, outputs = wire.embed_request(self._module, codes)
        result = await self._infer("embed", self.embed_model, inputs, outputs)
        return result.as_numpy("EMBEDDING")

    async def _compare_chunk(self, codes_a: np.ndarray, codes_b: np.ndarray) -> list[Comparison]:
        inputs, outputs = wire.compare_request(self._module, codes_a, codes_b)
        return wire.comparisons(await self._infer("compare", self.compare_model, inputs, outputs))

    async def _infer(self, action: str, model: str, inputs: list, outputs: list):
        return await retry.call_async(
            self.retry, action, lambda: self._infer_once(action, model, inputs, outputs), on_retry=self._count_retry
        )

    async def _infer_once(self, action: str, model: str, inputs: list, outputs: list):
        extra = {"client_timeout": self.timeout} if self.protocol == "grpc" else {}
        async with self._slots:
            try:
                return await asyncio.wait_for(
                    self._client.infer(model, inputs, outputs=outputs, **extra), timeout=self.timeout
                )
            except asyncio.TimeoutError as error:
                raise errors.RequestTimeoutError(
                    f"{action}: no answer from {self.url} within {self.timeout} s"
                ) from error
            except Exception as error:
                raise wire.translate(error, self.url, action) from error

    async def _call(self, action: str, function, *args, **kwargs):
        try:
            return await function(*args, **kwargs)
        except Exception as error:
            raise wire.translate(error, self.url, action) from error

    async def _retried(self, action: str, function, *args, **kwargs):
        """:meth:`_call`, retried on transient failures (idempotent calls only)."""
        return await retry.call_async(
            self.retry, action, lambda: self._call(action, function, *args, **kwargs), on_retry=self._count_retry
        )

    async def _probe(self, function, *args) -> bool:
        try:
            return bool(await function(*args))
        except Exception:
            return False

    async def is_live(self) -> bool:
        return await self._probe(self._client.is_server_live)

    async def is_ready(self) -> bool:
        return await self._probe(self._client.is_server_ready)

    async def wait_until_ready(self, timeout: float = 120.0, interval: float = 0.5) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.is_ready():
                ready = [await self._probe(self._client.is_model_ready, m) for m in wire.SERVING_MODELS]
                if all(ready):
                    return
            await asyncio.sleep(interval)
        if not await self.is_live():
            raise errors.ServerUnavailableError(
                f"no Triton server became live at {self.url} within {timeout:.0f} s; start one with `clonedetect serve`"
            )
        raise errors.ModelNotReadyError(
            f"the server at {self.url} is live but its models were not ready within {timeout:.0f} s"
        )

    async def model_status(self) -> list[ModelState]:
        index = await self._retried(
            "model status",
            self._client.get_model_repository_index,
            headers=self._admin_headers(),
            **wire.index_kwargs(self.protocol),
        )
        return wire.model_states(index)

    async def load_model(self, model: str, version: int | Sequence[int] | None = None) -> None:
        config = None
        if version is not None:
            current = await self._retried(
                "read model config", self._client.get_model_config, model, **wire.config_kwargs(self.protocol)
            )
            config = wire.version_config(wire.unwrap_config(current), version)
        await self._call("load model", self._client.load_model, model, headers=self._admin_headers(), config=config)

    reload = load_model

    async def unload_model(self, model: str) -> None:
        await self._call("unload model", self._client.unload_model, model, headers=self._admin_headers())

    async def close(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> AsyncCloneDetectorClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
