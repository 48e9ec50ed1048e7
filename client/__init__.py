"""Python client for the clonedetect Triton deployment (HTTP and gRPC, sync and asyncio)."""

from clonedetect.client.async_client import AsyncCloneDetectorClient
from clonedetect.client.errors import (
    ClonedetectError,
    InvalidInputError,
    ModelNotReadyError,
    PermissionDeniedError,
    RequestTimeoutError,
    ServerError,
    ServerUnavailableError,
)
from clonedetect.client.protocol import Comparison, GrpcTls, ModelState
from clonedetect.client.retry import RetryPolicy
from clonedetect.client.sync_client import CloneDetectorClient

__all__ = [
    "AsyncCloneDetectorClient",
    "CloneDetectorClient",
    "ClonedetectError",
    "Comparison",
    "GrpcTls",
    "InvalidInputError",
    "ModelNotReadyError",
    "ModelState",
    "PermissionDeniedError",
    "RequestTimeoutError",
    "RetryPolicy",
    "ServerError",
    "ServerUnavailableError",
]
