"""The Locust load test: a short bounded run against the real server, and proof that a
bounded run ends even when Locust would not (gRPC-under-gevent exit hang, a blocked loop).

Locust is never imported in the pytest process (it monkey-patches the standard
library with gevent); every run is a child process.
"""

from __future__ import annotations

import textwrap
import time

import pytest

from clonedetect.load_tests import payloads
from clonedetect.load_tests.run import KILL_GRACE_S, LoadTestFailed, read_stats_csv, run_load

BOUNDED = dict(stop_timeout=2, hard_exit_grace=5, startup_allowance=20)


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_bounded_run_over_http_and_grpc_has_no_failures_and_ends_in_time(triton, tmp_path):
    run_time = 5
    started = time.monotonic()
    summary = run_load(
        triton.http_url,
        triton.grpc_url,
        users=4,
        spawn_rate=4,
        run_time=run_time,
        csv_prefix=tmp_path / "load",
        step_count=2,
        corpus_size=64,
        **BOUNDED,
    )
    elapsed = time.monotonic() - started
    assert summary.total_failures == 0 and summary.exit_code == 0 and not summary.killed
    assert summary.total_requests > 0
    rows = {(r["type"], r["name"]): r for r in read_stats_csv(tmp_path / "load_stats.csv")}
    for protocol in ("http", "grpc"):
        assert rows[(protocol, "clone_embed")]["requests"] > 0, rows.keys()
        assert rows[(protocol, "clone_embed")]["failures"] == 0
    assert sum(r["requests"] for (_, name), r in rows.items() if name == "clone_compare") > 0
    # the CSV holds the final numbers (requests that ended during the stop included)
    assert rows[("", "Aggregated")]["requests"] == sum(r["requests"] for key, r in rows.items() if key[0])
    assert (tmp_path / "load_report.html").stat().st_size > 0
    # ended within its bound: the run time, the stop timeout and start-up, never the kill
    assert summary.wall_s <= summary.bound_s
    assert summary.wall_s <= run_time + BOUNDED["stop_timeout"] + BOUNDED["startup_allowance"]
    assert elapsed < summary.bound_s + 10
    assert summary.locust_cpu_s > 0


def _locustfile(tmp_path, body: str):
    path = tmp_path / "locustfile_variant.py"
    path.write_text(textwrap.dedent(body))
    return path


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_run_ends_although_a_grpc_channel_is_left_open(triton, tmp_path):
    # The real hang: under gevent, a tritonclient.grpc client left to the garbage
    # collector blocks forever in grpc Channel.close at interpreter exit.
    locustfile = _locustfile(
        tmp_path,
        f"""
        from clonedetect.load_tests.locustfile import *  # noqa: F401,F403 - users, shape, hooks
        import tritonclient.grpc

        LEFT_OPEN = tritonclient.grpc.InferenceServerClient("{triton.grpc_url}")
        LEFT_OPEN.is_server_live()
        """,
    )
    summary = run_load(
        triton.http_url,
        triton.grpc_url,
        users=2,
        run_time=3,
        csv_prefix=tmp_path / "open",
        step_count=1,
        corpus_size=32,
        locustfile=locustfile,
        **BOUNDED,
    )
    assert not summary.killed and summary.exit_code == 0 and summary.total_failures == 0
    assert summary.total_requests > 0
    assert summary.wall_s < 3 + BOUNDED["stop_timeout"] + BOUNDED["startup_allowance"]


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_run_ends_when_the_locust_process_hangs_on_exit(triton, tmp_path):
    # Anything else that hangs the exit after the reports are written: the guard ends it.
    locustfile = _locustfile(
        tmp_path,
        """
        import atexit
        from gevent import monkey
        from clonedetect.load_tests.locustfile import *  # noqa: F401,F403 - users, shape, hooks

        atexit.register(lambda: monkey.get_original("time", "sleep")(3600))
        """,
    )
    summary = run_load(
        triton.http_url,
        triton.grpc_url,
        users=2,
        run_time=3,
        csv_prefix=tmp_path / "hang",
        step_count=1,
        corpus_size=32,
        locustfile=locustfile,
        **BOUNDED,
    )
    assert not summary.killed and summary.exit_code == 0 and summary.total_failures == 0
    assert summary.total_requests > 0
    assert summary.wall_s < summary.bound_s


@pytest.mark.timeout(120)
@pytest.mark.parametrize("guard", ["in_process", "parent_kill"])
def test_run_ends_when_the_gevent_loop_is_blocked(tmp_path, guard):
    # A call that blocks in C stops every greenlet, Locust's run-time timer included.
    locustfile = _locustfile(
        tmp_path,
        """
        from gevent import monkey
        from locust import User, task
        from clonedetect.load_tests.locustfile import StepLoadShape  # noqa: F401 - options and hooks

        class HttpTritonUser(User):
            @task
            def block(self):
                monkey.get_original("time", "sleep")(3600)
        """,
    )
    grace = 3 if guard == "in_process" else 0  # 0: no in-process guard, the parent must kill
    started = time.monotonic()
    with pytest.raises(LoadTestFailed) as failure:
        run_load(
            "127.0.0.1:9",
            "127.0.0.1:9",
            users=1,
            run_time=2,
            csv_prefix=tmp_path / "blocked",
            protocols=("http",),
            step_count=1,
            locustfile=locustfile,
            stop_timeout=1,
            hard_exit_grace=grace,
            startup_allowance=10,
        )
    elapsed = time.monotonic() - started
    summary = failure.value.summary
    if guard == "in_process":
        assert not summary.killed and summary.exit_code == 3
    else:
        assert summary.killed
    assert elapsed <= summary.bound_s + 2 * KILL_GRACE_S + 5


def test_corpus_is_real_varied_and_deterministic():
    corpus = payloads.load_corpus(64, seed=3)
    again = payloads.load_corpus(64, seed=3)
    assert corpus.programs == again.programs
    assert len(corpus) == 64 and len(set(corpus.programs)) == 64
    lengths = sorted(len(p) for p in corpus.programs)
    assert lengths[-1] > 4 * lengths[0]  # varied lengths, not one repeated string
    pairs = payloads.comparison_pairs(corpus, 20, seed=3)
    assert len(pairs) == 20 and all(a and b for a, b in pairs)
