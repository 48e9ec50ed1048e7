"""Admission control at the first step of an ensemble: shed a request at once, with a
"retry" answer, while the server already holds too many requests waiting to run.

Triton's queue policies cannot do this for the shipped ensembles: a policy sheds inside
the queue of one composing model, and in ``clone_compare`` every model after the pair
check runs as two or three parallel steps; a step rejected while its siblings still run
is the pattern that stopped tritonserver 2.51 answering (docs/RELIABILITY.md). So each
ensemble's first step (``clone_pair_check``, ``clone_admission``), which runs alone,
decides: it reads Triton's own gauge of pending requests (``nv_inference_pending_request_count``)
from the metrics endpoint, polled in the background, and refuses new requests while the
sum over the models behind the first steps is at its limit. Ensembles report 0, and the
first steps' own queues are left out: what waits there is not admitted yet (counted, a
crowd at the door would shut out the comparisons that the higher limit lets in). A lower
limit for bulk ``clone_embed`` than for interactive ``clone_compare`` gives the latter
priority: embeddings are shed first.

When the metrics endpoint cannot be read, every request is admitted (and the failure
logged once): shedding is a protection, never a reason to refuse work.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import urllib.request

from clonedetect import paths

METRICS_URL_ENV = "CLONEDETECT_METRICS_URL"
DEFAULT_METRICS_URL = "http://127.0.0.1:8002/metrics"  # Triton's default metrics port
POLL_INTERVAL_S = 0.05  # the gauge can lag by this much: at 300 requests/s, ~15 requests
# Far from the limit (under half of it) the gauge is read this many times less often: each
# read costs tritonserver ~2 ms, and reading every 50 ms from two models kept ~9 % of a
# core busy on an idle server (docs/RELIABILITY.md, Overload).
CALM_SLOWDOWN = 5
FETCH_TIMEOUT_S = 1.0
# tritonserver opens its metrics port only once every model has loaded: failures before
# then are expected, not reported.
STARTUP_GRACE_S = 120.0
# The model-config parameter that holds a first step's limit.
LIMIT_PARAMETER = "admit_while_pending_below"
# The answer a shed request gets (the client maps it to ServerUnavailableError, "retry").
OVER_CAPACITY = "the server is over capacity"

_PENDING = re.compile(r'^nv_inference_pending_request_count\{model="([^"]*)"[^}]*\}\s+(\S+)$', re.MULTILINE)
# The first steps, where admission is decided.
DOORS = frozenset({paths.ADMISSION_MODEL, paths.PAIR_CHECK_MODEL})
_log = logging.getLogger(__name__)


def pending_requests(metrics_text: str) -> int:
    """The sum of ``nv_inference_pending_request_count`` over every model and version in a
    Prometheus text exposition, but the first steps'."""
    return int(sum(float(value) for model, value in _PENDING.findall(metrics_text) if model not in DOORS))


def metrics_url() -> str:
    """The metrics endpoint of the server this process runs in (``clonedetect serve`` and
    the chart set ``CLONEDETECT_METRICS_URL``)."""
    return os.environ.get(METRICS_URL_ENV, DEFAULT_METRICS_URL)


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as reply:
        return reply.read().decode("utf-8", errors="replace")


class Admission:
    """Admits a request while fewer than ``limit`` requests are pending in the server.

    A daemon thread refreshes the pending count from ``url`` every ``interval_s`` while it
    is at least half the limit, ``CALM_SLOWDOWN`` times less often below that;
    :meth:`admit` only reads the last value, so it costs nothing on the request path.
    """

    def __init__(
        self, limit: int, url: str | None = None, interval_s: float = POLL_INTERVAL_S, grace_s: float = STARTUP_GRACE_S
    ):
        if limit < 1:
            raise ValueError(f"the admission limit is {limit}; it must be at least 1 pending request")
        self.limit = limit
        self.url = url or metrics_url()
        self.interval_s = interval_s
        self.pending = 0
        self._report_failures_after = time.monotonic() + grace_s
        self._read_once = False
        self._reported_failure = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="clonedetect-admission", daemon=True)
        self._thread.start()

    @classmethod
    def for_model(cls, triton_args: dict) -> Admission:
        """The admission of the Python-backend model whose ``initialize(args)`` this is, with
        the limit its config's ``admit_while_pending_below`` parameter names."""
        parameters = json.loads(triton_args["model_config"]).get("parameters", {})
        if LIMIT_PARAMETER not in parameters:
            raise ValueError(f"the model's config has no {LIMIT_PARAMETER!r} parameter: add one (a number of requests)")
        return cls(int(parameters[LIMIT_PARAMETER]["string_value"]))

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.next_wait_s())

    def next_wait_s(self) -> float:
        near_the_limit = self.pending * 2 >= self.limit
        return self.interval_s if near_the_limit else self.interval_s * CALM_SLOWDOWN

    def refresh(self) -> None:
        try:
            self.pending = pending_requests(_fetch(self.url))
            self._read_once, self._reported_failure = True, False
        except (OSError, ValueError) as error:
            self.pending = 0  # fail open
            expected = not self._read_once and time.monotonic() < self._report_failures_after
            if not (expected or self._reported_failure):
                _log.warning("admission: cannot read %s (%s); admitting every request", self.url, error)
                self._reported_failure = True

    def admit(self) -> bool:
        return self.pending < self.limit

    def refusal(self) -> str:
        """The message of a shed request."""
        return (
            f"{OVER_CAPACITY}: {self.pending} requests are waiting (this model admits new ones "
            f"below {self.limit}); retry after a short backoff"
        )

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=FETCH_TIMEOUT_S + self.interval_s * CALM_SLOWDOWN)
