"""Locust load test of the clonedetect Triton server, over HTTP and gRPC.

Interactive (web UI on http://127.0.0.1:8089)::

    locust -f load_tests/locustfile.py --host 127.0.0.1:8000 --grpc-host 127.0.0.1:8001

Bounded and headless (what ``clonedetect load`` / ``make load`` run, through
:func:`clonedetect.load_tests.run.run_load`, which also enforces a hard time limit)::

    locust -f load_tests/locustfile.py --headless -u 32 -r 8 --run-time 2m --stop-timeout 5 \
        --host 127.0.0.1:8000 --grpc-host 127.0.0.1:8001 --csv reports/load --html reports/load.html

Users: ``HttpTritonUser`` and ``GrpcTritonUser`` (pick one by naming it after the
options). Each sends ``clone_embed`` (weight 3) and ``clone_compare`` (weight 1)
requests with real source files (:mod:`clonedetect.load_tests.payloads`).
Statistics rows are ``<protocol> <model>``: ``http clone_embed``, ``grpc clone_compare`` ...

Load shape: :class:`StepLoadShape` ramps the users up in ``--step-count`` equal
steps over ``--run-time`` (to ``--users``), then stops the run.
"""

from __future__ import annotations

import atexit
import math
import os
import random
import sys

import gevent
from locust import LoadTestShape, User, events, task  # importing locust monkey-patches the standard library
from locust.stats import CSV_STATS_INTERVAL_SEC

from clonedetect.load_tests import exit_guard, payloads
from clonedetect.load_tests.triton_locust import (
    TritonLocustClient,
    close_all_clients,
    prepare_grpc_for_gevent,
    strip_scheme,
    write_summary,
)

# After gevent's monkey-patching (done by importing locust) and before any gRPC
# channel exists: without it each tritonclient.grpc call blocks every greenlet of the
# process (measured: 16 users -> 155 req/s at 6 ms, serialised; with it 1,185 req/s).
prepare_grpc_for_gevent()

DEFAULT_HTTP_HOST = "127.0.0.1:8000"
DEFAULT_GRPC_HOST = "127.0.0.1:8001"


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    group = parser.add_argument_group("clonedetect")
    group.add_argument("--grpc-host", default=DEFAULT_GRPC_HOST, help="Triton gRPC address host:port")
    group.add_argument("--embed-batch", type=int, default=1, help="programs per clone_embed request")
    group.add_argument("--compare-batch", type=int, default=1, help="pairs per clone_compare request")
    group.add_argument("--corpus-size", type=int, default=512, help="distinct real programs to send")
    group.add_argument("--corpus-seed", type=int, default=0)
    group.add_argument("--step-count", type=int, default=4, help="user steps of the load shape (1: all at once)")
    group.add_argument("--step-seconds", type=float, default=30.0, help="step length when there is no --run-time")
    group.add_argument("--think-time", type=float, default=0.0, help="max seconds a user waits between requests")
    group.add_argument("--request-timeout", type=float, default=60.0, help="seconds before a request fails")
    group.add_argument("--summary-json", default="", help="write the final per-request statistics here (JSON)")
    group.add_argument(
        "--hard-exit-grace",
        type=float,
        default=30.0,
        help="with --run-time: the process exits (status 3) this many seconds after run time + stop timeout, "
        "whatever it is doing; 0 disables",
    )


_CORPUS: dict = {}


def corpus(options):
    key = (options.corpus_size, options.corpus_seed)
    if key not in _CORPUS:
        programs = payloads.load_corpus(options.corpus_size, options.corpus_seed)
        _CORPUS[key] = (
            programs,
            payloads.comparison_pairs(programs, max(64, options.corpus_size // 2), options.corpus_seed),
        )
    return _CORPUS[key]


@events.init.add_listener
def _on_init(environment, **_kwargs) -> None:
    options = environment.parsed_options
    if options is None:
        return
    corpus(options)  # read the files once, before users start
    if options.run_time and options.hard_exit_grace > 0:
        bound = options.run_time + (options.stop_timeout or 0) + options.hard_exit_grace
        exit_guard.arm(bound, 3, f"run not finished {bound:.0f} s after start (run time + stop timeout + grace)")


@events.quitting.add_listener
def _on_quitting(environment, **_kwargs) -> None:
    options = environment.parsed_options
    if options is None:
        return
    if options.csv_prefix:
        # Locust's CSV writer rewrites the stats files once a second; let it write
        # the final numbers (requests that ended during the stop) before it closes.
        gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.3)
    if options.summary_json:
        write_summary(environment, options.summary_json)
    close_all_clients()  # gRPC channels left to the garbage collector hang the exit under gevent


_EXIT_CODE: list[int] = []


@events.quit.add_listener
def _on_quit(exit_code, **_kwargs) -> None:
    _EXIT_CODE.append(exit_code)
    # Reports are written by now; if the normal exit still takes more than a few
    # seconds, leave with the status Locust chose.
    exit_guard.arm(5.0, exit_code, "interpreter exit hung after the reports were written")


@atexit.register
def _exit_before_teardown() -> None:
    """End the process as soon as Locust has finished (its reports closed, sys.exit
    called), before the interpreter tears modules down.

    Why: a ``tritonclient.grpc`` client still alive then is closed by its ``__del__``,
    and under gevent ``grpc.Channel.close`` waits forever (py-spy: futex wait in
    ``Channel._close``) — the hang seen with ``init_gevent``. It starts after the
    interpreter began finalising, where no other thread can run any more, so the
    exit guard cannot help there; leaving here is the fix."""
    if _EXIT_CODE:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(_EXIT_CODE[-1]))


class TritonUser(User):
    """A closed-loop client of the clonedetect ensembles (abstract: one per protocol)."""

    abstract = True
    protocol = "http"

    def wait_time(self) -> float:
        return self.rng.uniform(0.0, self.think_time) if self.think_time > 0 else 0.0

    def on_start(self) -> None:
        self.rng = random.Random()
        options = self.environment.parsed_options
        self.embed_batch = max(1, options.embed_batch)
        self.compare_batch = max(1, options.compare_batch)
        self.think_time = options.think_time
        url = self.host if self.protocol == "http" else options.grpc_host
        self.triton = TritonLocustClient(
            self.environment, self.protocol, strip_scheme(url or DEFAULT_HTTP_HOST), options.request_timeout
        )
        self.programs, self.pairs = corpus(options)

    def on_stop(self) -> None:
        self.triton.close()

    def _slice(self, items, size):
        start = self.rng.randrange(len(items))
        return [items[(start + i) % len(items)] for i in range(size)]

    @task(3)
    def embed(self) -> None:
        self.triton.embed(self._slice(self.programs.programs, self.embed_batch))

    @task(1)
    def compare(self) -> None:
        self.triton.compare(self._slice(self.pairs, self.compare_batch))


class HttpTritonUser(TritonUser):
    protocol = "http"
    host = DEFAULT_HTTP_HOST  # --host overrides


class GrpcTritonUser(TritonUser):
    protocol = "grpc"
    host = DEFAULT_HTTP_HOST  # unused: --grpc-host is the gRPC address


class StepLoadShape(LoadTestShape):
    """Users step up: ``--users`` reached in ``--step-count`` equal steps spread over
    ``--run-time`` (each step lasts ``run_time / step_count``); the run stops at
    ``--run-time``. Without a run time each step lasts ``--step-seconds`` and the
    last step holds until the run is stopped."""

    use_common_options = True

    def tick(self):
        options = self.runner.environment.parsed_options
        target = max(1, options.num_users or 1)
        steps = max(1, min(options.step_count, target))
        run_time = options.run_time
        elapsed = self.get_run_time()
        if run_time and elapsed >= run_time:
            return None
        step_seconds = run_time / steps if run_time else options.step_seconds
        step = min(steps - 1, int(elapsed // step_seconds))
        users = min(target, math.ceil(target * (step + 1) / steps))
        return users, float(options.spawn_rate or users)
