"""Served fuzz run: malformed requests interleaved with valid ones, against a real server.

``python -m clonedetect.load_tests.fuzz --requests 10000`` starts the bundled Triton on free
loopback ports, sends that many malformed requests
(:mod:`clonedetect.load_tests.fuzz_cases`) with a valid ``clone_embed`` or ``clone_compare``
request after every ``--valid-every``-th, and prints the figures as JSON: outcomes per case,
unexpected answers, failed valid requests, the slowest request of each case, the server
tree's resident memory (tritonserver and its Python-backend stubs) before and after, and
whether any of its processes died or was replaced (a crash).

Pass criteria (:func:`problems`): every bad request rejected (or, for a connection that
never carried a whole request, dropped), every valid request answered, the server ready at
the end with the same processes, and its memory (PSS: counted once) back within 10 % of
where it was after the warm-up (up to ``WARM_UP_REQUESTS`` malformed requests before the
``--requests`` measured; their answers are checked and counted too).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

from clonedetect.client import CloneDetectorClient
from clonedetect.load_tests.fuzz_cases import CASES, Targets
from clonedetect.load_tests.processes import process_tree_memory, process_tree_pss_mb

VALID_PROGRAMS = [
    "int main() { int s = 0; for (int i = 0; i < 10; i++) s += i; return s; }",
    "def mean(xs):\n    return sum(xs) / len(xs)\n",
    "public class A { static int twice(int x) { return 2 * x; } }",
    '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); return 0; }',
]
MEMORY_TOLERANCE = 0.10
# Memory climbs fastest over the first few thousand malformed requests (every server thread
# and stub heap meets 1 MB programs and batches of 130): the criterion is measured after them.
WARM_UP_REQUESTS = 6_000
SETTLE_S = 3.0


def _valid_request(client: CloneDetectorClient, rng: random.Random) -> None:
    """One valid call; a fixed set of programs, so the response cache does not grow."""
    if rng.random() < 0.5:
        embeddings = client.embed(rng.sample(VALID_PROGRAMS, 2))
        if embeddings.shape[0] != 2 or not np.all(np.isfinite(embeddings)):
            raise AssertionError(f"bad embeddings {embeddings.shape}")
    else:
        a, b = rng.sample(VALID_PROGRAMS, 2)
        if not 0.0 <= client.compare(a, b).probability <= 1.0:
            raise AssertionError("probability outside [0, 1]")


class FuzzRun:
    """Counters of one run (outcomes per case, slowest request per case, failures)."""

    def __init__(self, http_url: str, grpc_url: str, seed: int, timeout: float):
        host, port = http_url.rsplit(":", 1)
        self.targets = Targets(
            httpclient.InferenceServerClient(http_url, connection_timeout=timeout, network_timeout=timeout),
            grpcclient.InferenceServerClient(grpc_url),
            host,
            int(port),
            timeout,
        )
        self.valid = {
            p: CloneDetectorClient(u, protocol=p, timeout=timeout) for p, u in (("http", http_url), ("grpc", grpc_url))
        }
        self.rng = random.Random(seed)
        self.outcomes: dict[str, Counter] = defaultdict(Counter)
        self.slowest_s: dict[str, float] = defaultdict(float)
        self.unexpected: list[str] = []
        self.valid_sent, self.valid_failed = 0, []

    def send_malformed(self) -> None:
        name = self.rng.choice(list(CASES))
        started = time.perf_counter()
        try:
            outcome = CASES[name](self.rng, self.targets)
        except Exception as error:  # a transport error is an answer the server should not give
            outcome = f"unexpected: {type(error).__name__}: {error}"[:200]
        self.slowest_s[name] = max(self.slowest_s[name], time.perf_counter() - started)
        self.outcomes[name]["unexpected" if outcome.startswith("unexpected") else outcome] += 1
        if outcome.startswith("unexpected"):
            self.unexpected.append(f"{name}: {outcome}")

    def send_valid(self) -> None:
        protocol = self.rng.choice(list(self.valid))
        self.valid_sent += 1
        try:
            _valid_request(self.valid[protocol], self.rng)
        except Exception as error:
            self.valid_failed.append(f"{protocol}: {type(error).__name__}: {error}"[:200])

    def send(self, malformed: int, valid_every: int) -> None:
        for index in range(malformed):
            self.send_malformed()
            if index % valid_every == valid_every - 1:
                self.send_valid()

    def close(self) -> None:
        for client in (self.targets.http, self.targets.grpc, *self.valid.values()):
            client.close()


def _memory(pid: int) -> dict:
    tree = process_tree_memory(pid)
    return {"pss": process_tree_pss_mb(pid), "rss_sum": tree["total_rss_mb"], "pids": _pids(tree)}


def run_fuzz(
    http_url: str, grpc_url: str, pid: int, requests: int, *, valid_every: int = 5, seed: int = 0, timeout: float = 60.0
) -> dict:
    """Send ``requests`` malformed requests to a running server (process ``pid``); the figures."""
    run = FuzzRun(http_url, grpc_url, seed, timeout)
    try:
        memory = {"before_warm_up": _memory(pid)}
        run.send(min(WARM_UP_REQUESTS, requests), valid_every)
        time.sleep(SETTLE_S)
        memory["after_warm_up"] = _memory(pid)
        started = time.monotonic()
        run.send(requests, valid_every)
        elapsed = time.monotonic() - started
        time.sleep(SETTLE_S)
        memory["after_run"] = _memory(pid)
        ready = run.targets.http.is_server_ready()
    finally:
        run.close()
    start, end = memory["after_warm_up"]["pss"], memory["after_run"]["pss"]
    return {
        "malformed_requests": requests,
        "outcomes": {name: dict(counts) for name, counts in sorted(run.outcomes.items())},
        "unexpected": run.unexpected[:20],
        "unexpected_count": len(run.unexpected),
        "valid_requests": run.valid_sent,
        "valid_failed": run.valid_failed[:20],
        "slowest_request_s": {name: round(s, 3) for name, s in sorted(run.slowest_s.items())},
        "seconds": round(elapsed, 1),
        "server_ready_after": ready,
        "server_processes_unchanged": memory["after_warm_up"]["pids"] == memory["after_run"]["pids"],
        # PSS: the tree's memory counted once; the RSS sum counts the shared-memory pool twice
        "memory_mb": {kind: {when: m[kind] for when, m in memory.items()} for kind in ("pss", "rss_sum")},
        "memory_change": round((end - start) / start, 4),
    }


def _pids(tree: dict) -> set[int]:
    return {row["pid"] for row in tree["processes"]}


def problems(figures: dict) -> list[str]:
    """Why a run failed its criteria (see the module doc); empty when it passed."""
    found = []
    if figures["unexpected_count"]:
        found.append(f"{figures['unexpected_count']} malformed requests were not rejected: {figures['unexpected'][:3]}")
    if figures["valid_failed"]:
        found.append(f"valid requests failed: {figures['valid_failed'][:3]}")
    if not figures["server_ready_after"]:
        found.append("the server was not ready after the run")
    if not figures["server_processes_unchanged"]:
        found.append("a server process died or was replaced during the run (a crash)")
    if abs(figures["memory_change"]) > MEMORY_TOLERANCE:
        found.append(f"server memory changed by {figures['memory_change']:.1%}: {figures['memory_mb']}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clonedetect.load_tests.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="malformed requests to send (default 10000)")
    parser.add_argument("--valid-every", type=int, default=5, help="a valid request after every N malformed ones")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log", default="reports/fuzz_triton.log", help="Triton's log (server started here)")
    args = parser.parse_args(argv)
    from clonedetect import server

    server.unwind_on_sigterm()
    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    triton = server.start_on_free_ports(log_path=Path(args.log))
    try:
        figures = run_fuzz(
            triton.http_url,
            triton.grpc_url,
            triton.process.pid,
            args.requests,
            valid_every=args.valid_every,
            seed=args.seed,
        )
    finally:
        triton.stop()
    figures["problems"] = problems(figures)
    print(json.dumps(figures, indent=2))
    return 1 if figures["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
