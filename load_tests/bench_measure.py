"""The benchmark's measurements: one interleaved load-generator run, the median of
repeated runs, the scan-scale figure, and the targets the served modes are held to."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from clonedetect.load_tests import payloads

TARGETS = {
    "grpc_over_inprocess_best": 0.85,  # triton_grpc throughput at the top concurrency / hardware limit
    "grpc_over_per_request": 3.0,  # triton_grpc / per_request throughput at the top concurrency
    "grpc_p50_c1_minus_per_request_ms": 3.0,  # triton_grpc p50 - per_request p50 at concurrency 1 (at most)
}


def measure_interleaved(
    targets: list[dict],
    concurrency: int,
    duration_s: float,
    warmup_s: float,
    slice_s: float,
    corpus_size: int,
    work_dir: Path,
    tag: str,
    programs: list[str] | None = None,
) -> list[dict]:
    """Several targets measured by one :mod:`loadgen` process, interleaved in slices.
    Returns one result per target, in order (a failed run gives failing results).
    ``programs``: the texts to send (default: ``corpus_size`` programs of the mixed corpus).

    At concurrency 1 there is no queue to fill: the targets alternate every second
    with no settling time, so even fast drifts of background load cancel out."""
    if concurrency == 1:
        slice_s, settle_s = min(slice_s, 1.0), 0.0
    else:
        settle_s = 1.0
    spec = {
        "targets": targets,
        "concurrency": concurrency,
        "duration_s": duration_s,
        "warmup_s": warmup_s,
        "slice_s": slice_s,
        "settle_s": settle_s,
        "corpus_size": corpus_size,
        "programs": programs,
    }
    spec_path, out_path = work_dir / f"spec-{tag}.json", work_dir / f"result-{tag}.json"
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    slices = max(1, -(-duration_s // slice_s))
    # a slice ends when its last call does: slow calls (a large encoder) need slack per target
    limit = len(targets) * (warmup_s + duration_s + slices * (settle_s + 0.5) + 60) + 120 + 60 * slices
    completed = subprocess.run(
        [sys.executable, "-m", "clonedetect.load_tests.loadgen", str(spec_path), str(out_path)],
        capture_output=True,
        text=True,
        timeout=limit,
    )
    if completed.returncode != 0 or not out_path.exists():
        failed = {
            "throughput": 0.0,
            "p50_ms": float("nan"),
            "p99_ms": float("nan"),
            "requests": 0,
            "failures": 1,
            "failure_samples": [f"load generator failed ({completed.returncode}): {completed.stderr[-1500:]}"],
        }
        return [dict(failed) for _ in targets]
    return [_short(r) for r in json.loads(out_path.read_text())["results"]]


def median_run(runs: list[dict]) -> dict:
    """The run with the median throughput; all runs' throughputs and failures are kept."""
    ordered = sorted(runs, key=lambda r: r["throughput"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    if len(runs) > 1:
        chosen["runs_throughput"] = [round(r["throughput"], 2) for r in runs]
        chosen["failures"] = sum(r.get("failures", 0) for r in runs)
    return chosen


def _short(result: dict) -> dict:
    keep = (
        "throughput",
        "throughput_completed",
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "mean_ms",
        "requests",
        "failures",
        "failure_samples",
        "batch_size",
        "workers",
        "intra_op_threads",
        "client_gap_ms",
        "cpu",
        "window_s",
    )
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in result.items() if k in keep}


def _target_row(name: str, concurrency: str, value: float, at_most: bool = False) -> dict:
    target = TARGETS[name]
    met = value <= target if at_most else value >= target
    return {
        "concurrency": int(concurrency),
        "value": round(value, 3),
        "target": f"{'<=' if at_most else '>='} {target}",
        "met": met,
    }


def ratios(out: dict) -> dict:
    """The targets, computed from one run's numbers."""
    results = out["results"]
    grpc, per_request = results.get("triton_grpc", {}), results.get("per_request", {})
    if not grpc:
        return {}
    top = str(max(int(c) for c in grpc))
    low = str(min(int(c) for c in grpc))
    rows = {}
    hardware = out.get("hardware_limit", {})
    limit = hardware.get("throughput_same_run") or hardware.get("throughput")
    if limit:
        rows["grpc_over_inprocess_best"] = _target_row("grpc_over_inprocess_best", top, grpc[top]["throughput"] / limit)
    if per_request.get(top, {}).get("throughput"):
        value = grpc[top]["throughput"] / per_request[top]["throughput"]
        rows["grpc_over_per_request"] = _target_row("grpc_over_per_request", top, value)
    if per_request.get(low):
        value = grpc[low]["p50_ms"] - per_request[low]["p50_ms"]
        rows["grpc_p50_c1_minus_per_request_ms"] = _target_row(
            "grpc_p50_c1_minus_per_request_ms", low, value, at_most=True
        )
    return rows


def scan_scale(
    grpc_url: str, n: int, per_request_results: dict, log=print, batch_size: int = 16, concurrency: int = 8
) -> dict:
    """Wall time to embed ``n`` real programs through Triton (gRPC client) and compute all
    n(n-1)/2 cosine similarities (one matmul), beside the per-request design's cost for the
    same n: every comparison = 2 embeddings at its measured time per program."""
    from clonedetect.client import CloneDetectorClient

    programs = list(payloads.load_corpus(n, seed=1).programs)
    with CloneDetectorClient(
        grpc_url, protocol="grpc", batch_size=batch_size, concurrency=concurrency, timeout=600
    ) as client:
        client.embed(programs[: min(n, 32)])  # warm connections
        started = time.perf_counter()
        embeddings = client.embed(programs)
        embed_s = time.perf_counter() - started
    started = time.perf_counter()
    similarities = embeddings @ embeddings.T
    upper = similarities[np.triu_indices(n, k=1)]
    matmul_s = time.perf_counter() - started
    pairs = n * (n - 1) // 2
    result = {
        "n": n,
        "pairs": pairs,
        "client": {"protocol": "grpc", "batch_size": batch_size, "concurrency": concurrency},
        "embed_s": round(embed_s, 3),
        "similarities_s": round(matmul_s, 4),
        "total_s": round(embed_s + matmul_s, 3),
        "pairs_checked": int(upper.size),
    }
    if per_request_results:
        low = str(min(int(c) for c in per_request_results))
        per_program_ms = per_request_results[low]["mean_ms"]
        best = max(per_request_results.values(), key=lambda r: r["throughput"])
        result["per_request_design"] = {
            "ms_per_program_sequential": round(per_program_ms, 3),
            "ms_per_comparison_sequential": round(2 * per_program_ms, 3),
            "total_s_sequential": round(pairs * 2 * per_program_ms / 1000.0, 1),
            "best_throughput": round(best["throughput"], 2),
            "total_s_at_best_throughput": round(pairs * 2 / best["throughput"], 1),
        }
        result["speedup_vs_sequential"] = round(
            result["per_request_design"]["total_s_sequential"] / result["total_s"], 1
        )
    log(f"  scan of {n} programs: {result['total_s']:.1f} s through Triton ({pairs} similarities)")
    return result
