"""Locust users for the overload run (:mod:`clonedetect.load_tests.overload`).

The users of :mod:`clonedetect.load_tests.locustfile`, paced at ``--rate-per-user``
requests per second each (0: no pacing, a closed loop), with every ``clone_embed`` program
made unique so that the response cache never answers. A request the server sheds (its
admission step, docs/RELIABILITY.md) is not a failure: it is counted under its own name,
``<model> shed``, once the client has mapped it to :class:`ServerUnavailableError` with
"retry" in the message; any other error, or a shed answer mapped otherwise, is a failure.
"""

from __future__ import annotations

import itertools

from locust import constant_throughput, events

from clonedetect.client import errors
from clonedetect.client import protocol as wire
from clonedetect.load_tests import locustfile as base  # its options, corpus and exit hooks
from clonedetect.load_tests.triton_locust import TritonLocustClient, strip_scheme

_REQUEST_NUMBERS = itertools.count()


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument("--rate-per-user", type=float, default=0.0, help="requests/s per user (0: closed loop)")


class SheddingAwareClient(TritonLocustClient):
    """Reports a shed request under ``<model> shed`` (a success) after checking its mapping."""

    def _fire(self, name: str, started: float, length: int, exception: BaseException | None) -> None:
        if exception is not None and not isinstance(exception, AssertionError):
            mapped = wire.translate(exception, self.url, name)
            if isinstance(mapped, errors.ServerUnavailableError) and "retry" in str(mapped):
                super()._fire(f"{name} shed", started, 0, None)
                return
        super()._fire(name, started, length, exception)


class _OverloadUser(base.TritonUser):
    abstract = True

    def wait_time(self) -> float:
        rate = self.environment.parsed_options.rate_per_user
        return constant_throughput(rate)(self) if rate > 0 else 0.0

    def on_start(self) -> None:
        super().on_start()
        self.triton.close()
        options = self.environment.parsed_options
        url = self.host if self.protocol == "http" else options.grpc_host
        self.triton = SheddingAwareClient(self.environment, self.protocol, strip_scheme(url), options.request_timeout)

    def embed_unique(self) -> None:
        programs = self._slice(self.programs.programs, self.embed_batch)
        self.triton.embed([f'{p}\n"request {next(_REQUEST_NUMBERS)}"\n' for p in programs])

    # Given whole: the base class's tasks (its cacheable embed) are not inherited.
    tasks = {embed_unique: 3, base.TritonUser.compare: 1}


class HttpTritonUser(_OverloadUser):
    protocol = "http"
    host = base.DEFAULT_HTTP_HOST


class GrpcTritonUser(_OverloadUser):
    protocol = "grpc"
    host = base.DEFAULT_HTTP_HOST  # unused: --grpc-host is the gRPC address
