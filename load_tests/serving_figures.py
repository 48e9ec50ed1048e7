"""The serving figures quoted for the Triton deployment, measured on a running server:
single-request latency through ``clone_compare`` (HTTP and gRPC) and the encoder's
average batch size under 64 concurrent requests.

    python -m clonedetect.load_tests.serving_figures            # starts a local server
    python -m clonedetect.load_tests.serving_figures --http 127.0.0.1:8000 --grpc 127.0.0.1:8001 --metrics http://127.0.0.1:8002/metrics
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from clonedetect import data, paths, server
from clonedetect.client import CloneDetectorClient


def compare_latencies_ms(url: str, protocol: str, pairs: list[tuple[str, str]], warmup: int = 20) -> list[float]:
    """One ``clone_compare`` request at a time; wall time of each, in ms."""
    with CloneDetectorClient(url, protocol=protocol, batch_size=1, concurrency=1) as client:
        for code_a, code_b in pairs[:warmup]:
            client.compare(code_a, code_b)
        latencies = []
        for code_a, code_b in pairs:
            start = time.perf_counter()
            client.compare(code_a, code_b)
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def encoder_counts(metrics_url: str) -> tuple[float, float]:
    with urllib.request.urlopen(metrics_url, timeout=10) as reply:
        text = reply.read().decode()

    def total(name: str) -> float:
        pattern = rf'^{name}{{model="{re.escape(paths.ENCODER_MODEL)}",version="\d+"}} ([0-9.e+]+)$'
        return sum(float(v) for v in re.findall(pattern, text, flags=re.M))

    return total("nv_inference_count"), total("nv_inference_exec_count")


def average_batch_size(http_url: str, metrics_url: str, codes: list[str], rounds: int = 5) -> float:
    """Encoder inferences per execution while 64 single-program requests run at once."""
    inferences_before, executions_before = encoder_counts(metrics_url)
    with CloneDetectorClient(http_url, batch_size=1, concurrency=len(codes)) as client:
        for round_number in range(rounds):  # new programs every round: the response cache must not answer
            client.embed([f'{code}\n"round {round_number}"\n' for code in codes])
    expected = inferences_before + rounds * len(codes)
    deadline = time.monotonic() + 10
    while (counts := encoder_counts(metrics_url))[0] < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return (counts[0] - inferences_before) / (counts[1] - executions_before)


def measure(http_url: str, grpc_url: str, metrics_url: str, requests: int = 200, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    programs = data.poj104_programs("valid")
    picks = rng.choice(len(programs), size=2 * requests, replace=False)
    pairs = [(programs[a].read(), programs[b].read()) for a, b in picks.reshape(-1, 2)]
    figures = {}
    for protocol, url in (("http", http_url), ("grpc", grpc_url)):
        latencies = compare_latencies_ms(url, protocol, pairs)
        figures[f"clone_compare_{protocol}_ms"] = {
            "median": statistics.median(latencies),
            "p90": float(np.percentile(latencies, 90)),
            "requests": len(latencies),
        }
    figures["encoder_average_batch_64_concurrent"] = average_batch_size(
        http_url, metrics_url, [programs[i].read() for i in picks[:64]]
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--http", help="HTTP address of a running server (default: start a local one)")
    parser.add_argument("--grpc", help="gRPC address of that server")
    parser.add_argument("--metrics", help="metrics URL of that server")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    if args.http:
        print(json.dumps(measure(args.http, args.grpc, args.metrics, args.requests), indent=2))
        return 0
    with tempfile.TemporaryDirectory() as logs:
        with server.start_on_free_ports(log_path=Path(logs) / "triton.log") as triton:
            print(json.dumps(measure(triton.http_url, triton.grpc_url, triton.metrics_url, args.requests), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
