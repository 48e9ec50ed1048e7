"""Typed errors of the clonedetect client; each message says what went wrong and what to do."""

from __future__ import annotations


class ClonedetectError(Exception):
    """Base class of every error the client raises."""


class ServerUnavailableError(ClonedetectError):
    """No Triton server answers at the URL, or it is over capacity and shed the request
    (the message says which; retry a shed request after a short backoff)."""


class ModelNotReadyError(ClonedetectError):
    """The server answers, but a model the call needs is not loaded or not ready."""


class InvalidInputError(ClonedetectError, ValueError):
    """The code (or a tensor) sent was rejected; the message says why."""


class RequestTimeoutError(ClonedetectError, TimeoutError):
    """The server did not answer within the client's timeout."""


class PermissionDeniedError(ClonedetectError):
    """A restricted API (model load/unload) was called without the right admin key."""


class ServerError(ClonedetectError):
    """Any other failure reported by the server."""
