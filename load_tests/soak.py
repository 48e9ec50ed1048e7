"""Soak run: a steady request rate for minutes, with the response cache on.

``python -m clonedetect.load_tests.soak --minutes 30`` starts the bundled Triton on free
loopback ports (its response cache on, as ``clonedetect serve`` runs it) and sends
``clone_embed`` requests at ``--rate`` per second from a fixed pool of programs (so the cache
fills once and then answers, as for resubmitted work) and ``clone_compare`` requests, paced
from one thread per protocol. Each minute (``--window``) it records throughput, p99 and the
server tree's resident memory; at the end the memory slope (least squares over the windows
after the first, which holds start-up allocation) in MB per hour. Printed as JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from pathlib import Path

import numpy as np

from clonedetect.client import CloneDetectorClient
from clonedetect.load_tests.payloads import comparison_pairs, load_corpus
from clonedetect.load_tests.processes import process_tree_memory


def memory_slope_mb_per_hour(minutes: list[float], memory_mb: list[float]) -> float:
    """Least-squares slope of memory against time, in MB per hour (0 with under 2 points)."""
    if len(minutes) < 2:
        return 0.0
    slope_per_minute = np.polyfit(np.asarray(minutes), np.asarray(memory_mb), 1)[0]
    return float(slope_per_minute * 60.0)


class PacedSender:
    """One thread sending requests at ``rate`` per second; latencies and failures kept."""

    def __init__(self, client: CloneDetectorClient, rate: float, programs, pairs, seed: int):
        self.client, self.interval = client, 1.0 / rate
        self.programs, self.pairs, self.rng = programs, pairs, random.Random(seed)
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _one(self) -> None:
        started = time.perf_counter()
        try:
            if self.rng.random() < 0.75:
                self.client.embed([self.rng.choice(self.programs)])
            else:
                self.client.compare(*self.rng.choice(self.pairs))
        except Exception as error:  # every failure is counted, the run goes on
            with self.lock:
                self.failures.append(f"{type(error).__name__}: {error}"[:200])
            return
        with self.lock:
            self.latencies.append(time.perf_counter() - started)

    def _loop(self) -> None:
        next_at = time.perf_counter()
        while not self.stop.is_set():
            self._one()
            next_at += self.interval
            self.stop.wait(max(0.0, next_at - time.perf_counter()))

    def take(self) -> tuple[list[float], int]:
        """The latencies and failure count since the last call."""
        with self.lock:
            latencies, self.latencies = self.latencies, []
            return latencies, len(self.failures)


def _window(senders: list[PacedSender], seconds: float, pid: int, minute: float, failures_before: int) -> dict:
    latencies, failures = [], 0
    for sender in senders:
        taken, failed = sender.take()
        latencies += taken
        failures += failed
    return {
        "minute": round(minute, 2),
        "requests_per_s": round(len(latencies) / seconds, 1),
        "p99_ms": round(float(np.percentile(latencies, 99)) * 1000, 1) if latencies else None,
        "failures": failures - failures_before,
        "memory_mb": process_tree_memory(pid)["total_rss_mb"],
    }


def run_soak(triton, minutes: float, rate: float = 20.0, window_s: float = 60.0, corpus_size: int = 256) -> dict:
    """Soak a running ``triton`` for ``minutes``; per-window figures and the memory slope."""
    corpus = load_corpus(corpus_size, seed=0).programs
    pairs = comparison_pairs(load_corpus(corpus_size, seed=0), 64, 0)
    clients = [
        CloneDetectorClient(triton.http_url, timeout=60),
        CloneDetectorClient(triton.grpc_url, protocol="grpc", timeout=60),
    ]
    senders = [PacedSender(c, rate / len(clients), corpus, pairs, seed) for seed, c in enumerate(clients)]
    windows, started, failures_seen = [], time.monotonic(), 0
    try:
        for sender in senders:
            sender.thread.start()
        while (elapsed := time.monotonic() - started) < minutes * 60 - 1e-6:
            time.sleep(min(window_s, minutes * 60 - elapsed))
            windows.append(
                _window(senders, window_s, triton.process.pid, (time.monotonic() - started) / 60, failures_seen)
            )
            failures_seen += windows[-1]["failures"]
    finally:
        for sender in senders:
            sender.stop.set()
            sender.thread.join(timeout=70)
        for client in clients:
            client.close()
    later = windows[1:] if len(windows) > 2 else windows
    return {
        "minutes": minutes,
        "target_rate": rate,
        "windows": windows,
        "requests": sum(round(w["requests_per_s"] * window_s) for w in windows),
        "failures": sum(w["failures"] for w in windows),
        "failure_examples": [f for s in senders for f in s.failures[:3]],
        "memory_slope_mb_per_hour": round(
            memory_slope_mb_per_hour([w["minute"] for w in later], [w["memory_mb"] for w in later]), 1
        ),
        "server_ready_after": triton.is_ready(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clonedetect.load_tests.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the run (default 30)")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second, both protocols together")
    parser.add_argument("--window", type=float, default=60.0, help="seconds per recorded window (default 60)")
    parser.add_argument("--log", default="reports/soak_triton.log", help="Triton's log")
    args = parser.parse_args(argv)
    from clonedetect import server

    server.unwind_on_sigterm()
    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    triton = server.start_on_free_ports(log_path=Path(args.log))
    try:
        figures = run_soak(triton, args.minutes, args.rate, args.window)
    finally:
        triton.stop()
    print(json.dumps(figures, indent=2))
    return 1 if figures["failures"] or not figures["server_ready_after"] else 0


if __name__ == "__main__":
    sys.exit(main())
