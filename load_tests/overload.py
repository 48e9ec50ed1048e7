"""Overload run: the server's capacity, then offered load at 1x, 2x and 5x of it.

``python -m clonedetect.load_tests.overload`` starts the bundled Triton on free loopback
ports and runs bounded headless Locust (:func:`clonedetect.load_tests.run.run_load`, users
of :mod:`clonedetect.load_tests.overload_locustfile`) against it: first a closed loop of a
few users, whose throughput is the capacity; then, for each factor, users paced so that
together they offer ``factor x capacity`` requests/s. Requests carry 16 unique programs
(``clone_embed``) or 4 pairs (``clone_compare``), so the capacity is a rate Locust itself
can exceed on a small machine. Printed as JSON per phase: accepted and shed requests/s,
share shed, p99 of accepted and of shed requests, failures (anything neither answered nor
shed with the client's "retry" error) and whether the server kept all its processes.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from clonedetect.load_tests.processes import process_tree_memory
from clonedetect.load_tests.run import run_load

LOCUSTFILE = Path(__file__).resolve().parent / "overload_locustfile.py"
CAPACITY_USERS = 4
ANSWER_WAIT_S = 2.0  # how long each user is taken to wait per answer when sizing the users
MAX_USERS = 600


def _phase_figures(summary, offered_rps: float | None) -> dict:
    rows = [r for r in summary.rows if r["type"]]
    shed = [r for r in rows if r["name"].endswith(" shed")]
    accepted = [r for r in rows if not r["name"].endswith(" shed")]
    shed_count, accepted_count = sum(r["requests"] for r in shed), sum(r["requests"] for r in accepted)
    total = shed_count + accepted_count
    return {
        "offered_rps": offered_rps,
        "users": summary.users,
        "accepted_rps": round(sum(r["rps"] for r in accepted), 1),
        "shed_rps": round(sum(r["rps"] for r in shed), 1),
        "share_shed": round(shed_count / total, 3) if total else 0.0,
        "p99_accepted_ms": max((r["p99_ms"] for r in accepted if r["requests"]), default=None),
        "p99_shed_ms": max((r["p99_ms"] for r in shed if r["requests"]), default=None),
        "failures": summary.total_failures,
        "errors": summary.errors[:3],
        "locust_exit": summary.exit_code,
        "locust_cpu_s": summary.locust_cpu_s,
    }


def _phase(triton, prefix: Path, users: int, rate_per_user: float, seconds: float) -> object:
    return run_load(
        triton.http_url,
        triton.grpc_url,
        users=users,
        spawn_rate=max(users, 1),
        run_time=seconds,
        csv_prefix=prefix,
        step_count=1,
        embed_batch=16,
        compare_batch=4,
        corpus_size=256,
        locustfile=LOCUSTFILE,
        extra_args=("--rate-per-user", f"{rate_per_user:.4f}", "--request-timeout", "120"),
        raise_on_failure=False,
    )


def run_overload(triton, report_dir: Path, factors=(1, 2, 5), seconds: float = 30.0) -> dict:
    """Capacity and each factor's phase against a running ``triton``; the figures."""
    processes_before = {r["pid"] for r in process_tree_memory(triton.process.pid)["processes"]}
    capacity_summary = _phase(triton, report_dir / "capacity", CAPACITY_USERS, 0.0, seconds)
    figures = {"capacity": _phase_figures(capacity_summary, None)}
    capacity = figures["capacity"]["accepted_rps"]
    for factor in factors:
        offered = factor * capacity
        # Enough users that each may wait out a slow or shed answer and the rest still offer
        # the rate.
        users = min(MAX_USERS, max(CAPACITY_USERS, math.ceil(offered * (ANSWER_WAIT_S + 0.5))))
        summary = _phase(triton, report_dir / f"x{factor:g}", users, offered / users, seconds)
        figures[f"x{factor:g}"] = _phase_figures(summary, round(offered, 1))
    processes_after = {r["pid"] for r in process_tree_memory(triton.process.pid)["processes"]}
    figures["server_processes_unchanged"] = processes_before == processes_after
    figures["server_ready_after"] = triton.is_ready()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clonedetect.load_tests.overload", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds per phase (default 30)")
    parser.add_argument("--factors", type=float, nargs="+", default=[1, 2, 5], help="multiples of capacity offered")
    parser.add_argument("--reports", default="reports/overload", help="folder for Locust's CSV/HTML and Triton's log")
    args = parser.parse_args(argv)
    from clonedetect import server

    server.unwind_on_sigterm()
    report_dir = Path(args.reports)
    report_dir.mkdir(parents=True, exist_ok=True)
    triton = server.start_on_free_ports(log_path=report_dir / "triton.log")
    try:
        figures = run_overload(triton, report_dir, tuple(args.factors), args.seconds)
    finally:
        triton.stop()
    print(json.dumps(figures, indent=2, default=float))
    failed = any(p.get("failures") for p in figures.values() if isinstance(p, dict))
    return 1 if failed or not figures["server_processes_unchanged"] else 0


if __name__ == "__main__":
    sys.exit(main())
