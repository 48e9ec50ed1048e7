"""The served tuning experiments: a group of variants, one bundled Triton each (all up
at once), measured interleaved by one load-generator run per concurrency, so each
row's ``throughput_vs_baseline`` compares numbers taken under the same background load."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from clonedetect.load_tests.bench_measure import measure_interleaved
from clonedetect.load_tests.bench_servers import copy_repository, start_triton
from clonedetect.load_tests.processes import process_tree_memory
from clonedetect.load_tests.tuning_variants import Variant


def model_statistics(http_url: str, model: str) -> dict:
    with urllib.request.urlopen(f"http://{http_url}/v2/models/{model}/stats", timeout=10) as reply:
        stats = json.loads(reply.read())["model_stats"][0]["inference_stats"]
    return {
        "success": stats["success"]["count"],
        "cache_hit": stats.get("cache_hit", {}).get("count", 0),
        "cache_miss": stats.get("cache_miss", {}).get("count", 0),
    }


def _start_variants(variants: list[Variant], base: Path, work: Path, tag: str, servers: dict) -> None:
    """One edited repository copy and one Triton per variant, into ``servers`` (by name)."""
    for variant in variants:
        repository = copy_repository(base, work / f"repo-{tag}-{variant.name}")
        for edit in variant.edits:
            edit(repository)
        log_dir = work / f"log-{tag}-{variant.name}"
        log_dir.mkdir()
        servers[variant.name] = start_triton(repository, log_dir, variant.triton_args)


def _targets(variants: list[Variant], servers: dict) -> tuple[list[dict], list[tuple[Variant, str]]]:
    """The load generator's targets (every variant in each of its modes) and their keys."""
    targets, keys = [], []
    for variant in variants:
        triton = servers[variant.name]
        for mode in variant.modes:
            url = triton.http_url if mode == "triton_http" else triton.grpc_url
            targets.append(
                {
                    "mode": mode,
                    "name": f"{variant.name}/{mode}",
                    "url": url,
                    "server_pids": [triton.process.pid],
                    **variant.loadgen,
                }
            )
            keys.append((variant, mode))
    return targets, keys


def _cache_statistics(variants: list[Variant], servers: dict) -> dict:
    return {(v.name, m): model_statistics(servers[v.name].http_url, m) for v in variants for m in v.cache_models}


def _row(variant: Variant, mode: str, result: dict, concurrency: int, tag: str, reference: dict | None) -> dict:
    row = {
        "group": tag,
        "variant": variant.name,
        "description": variant.description,
        "mode": mode,
        "concurrency": concurrency,
        **result,
    }
    if reference and reference["throughput"] > 0:
        row["throughput_vs_baseline"] = round(result["throughput"] / reference["throughput"], 3)
        row["p50_ms_minus_baseline"] = round(result["p50_ms"] - reference["p50_ms"], 2)
    return row


def _cache_counts(variant: Variant, before: dict, after: dict) -> dict:
    """Triton's cache hits and misses of the variant's ``cache_models`` during the run."""
    return {
        m: {k: after[(variant.name, m)][k] - before[(variant.name, m)][k] for k in ("cache_hit", "cache_miss")}
        for m in variant.cache_models
    }


def _log_row(row: dict, log) -> None:
    log(
        f"  {row['variant']:<36} {row['mode']:<12} c={row['concurrency']:<3} {row['throughput']:8.1f}/s "
        f"p50 {row['p50_ms']:7.1f} p99 {row['p99_ms']:7.1f} "
        f"x{row.get('throughput_vs_baseline', float('nan')):.2f} fails {row['failures']}"
        + (f" cache {row['cache']}" if "cache" in row else "")
    )


def _measure_concurrency(
    variants: list[Variant], servers: dict, concurrency: int, timing: tuple, work: Path, tag: str, log
) -> list[dict]:
    """All variants at one concurrency, interleaved; one row per variant and mode."""
    duration_s, warmup_s, slice_s, corpus_size = timing
    targets, keys = _targets(variants, servers)
    stats_before = _cache_statistics(variants, servers)
    measured = measure_interleaved(
        targets, concurrency, duration_s, warmup_s, slice_s, corpus_size, work, f"{tag}-c{concurrency}"
    )
    stats_after = _cache_statistics(variants, servers)
    baseline = {mode: r for (v, mode), r in zip(keys, measured, strict=True) if v.name == "baseline"}
    rows = []
    for (variant, mode), result in zip(keys, measured, strict=True):
        reference = baseline.get(mode) or baseline.get("triton_grpc")
        row = _row(variant, mode, result, concurrency, tag, reference)
        if variant.cache_models:
            row["cache"] = _cache_counts(variant, stats_before, stats_after)
        rows.append(row)
        _log_row(row, log)
    return rows


def run_group(
    variants: list[Variant],
    base: Path,
    concurrencies,
    duration_s: float,
    warmup_s: float,
    slice_s: float,
    corpus_size: int,
    work: Path,
    tag: str,
    log=print,
) -> list[dict]:
    """Start one server per variant (all at once), then measure them interleaved in one
    load-generator run per concurrency, so they share whatever else the machine does."""
    servers: dict = {}
    timing = (duration_s, warmup_s, slice_s, corpus_size)
    try:
        _start_variants(variants, base, work, tag, servers)
        rows = []
        for concurrency in concurrencies:
            rows.extend(_measure_concurrency(variants, servers, concurrency, timing, work, tag, log))
        for variant in variants:
            memory = process_tree_memory(servers[variant.name].process.pid)
            for row in rows:
                if row["variant"] == variant.name and row["group"] == tag:
                    row["server_rss_mb"] = memory["total_rss_mb"]
        return rows
    finally:
        for triton in servers.values():
            triton.stop()
