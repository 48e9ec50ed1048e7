"""The side-by-side comparison on one repository: start the servers, sweep the
in-process hardware limit, then measure every mode at every concurrency, interleaved.

Modes (one program per request):

``inprocess_batched``
    onnxruntime in the load generator's process, ``concurrency`` programs per call;
    batch sizes are swept as well and the best is the *hardware limit*.
``per_request``
    :mod:`~clonedetect.load_tests.per_request_server`, one program per ORT call.
``triton_http`` / ``triton_grpc``
    the embed ensemble on the bundled Triton (started here unless URLs are given).
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clonedetect import paths
from clonedetect.load_tests import payloads
from clonedetect.load_tests.bench_measure import measure_interleaved, median_run, ratios, scan_scale
from clonedetect.load_tests.bench_servers import (
    PerRequestService,
    encoder_settings,
    model_fingerprint,
    pid_listening_on,
    start_triton,
)
from clonedetect.load_tests.processes import process_tree_memory

MODES = ("inprocess_batched", "per_request", "triton_http", "triton_grpc")
SERVED_MODES = ("per_request", "triton_http", "triton_grpc")
DEFAULT_BATCH_SIZES = (1, 8, 32)


@dataclass(frozen=True)
class LoadPlan:
    """How every load-generator run of one comparison measures its targets."""

    duration_s: float
    warmup_s: float
    slice_s: float
    corpus_size: int
    work_dir: Path

    def measure(self, targets: list[dict], concurrency: int, tag: str) -> list[dict]:
        return measure_interleaved(
            targets, concurrency, self.duration_s, self.warmup_s, self.slice_s, self.corpus_size, self.work_dir, tag
        )


@dataclass
class Servers:
    """The servers under measurement: Triton (started here or given by URL) and the baseline."""

    http_url: str | None
    grpc_url: str | None
    triton_pids: list[int]
    per_request: PerRequestService | None

    def targets(self) -> dict[str, dict]:
        """The load generator's target of each served mode."""
        per_request = self.per_request
        return {
            "per_request": {
                "url": per_request.url if per_request else None,
                "server_pids": [per_request.process.pid] if per_request else [],
            },
            # Every Triton request is a program never sent before: the shipped response
            # cache would otherwise answer the corpus's repeats and measure the cache.
            "triton_http": {"url": self.http_url, "server_pids": self.triton_pids, "unique": True},
            "triton_grpc": {"url": self.grpc_url, "server_pids": self.triton_pids, "unique": True},
        }

    def memory(self, when: str) -> dict:
        """``triton_<when>`` / ``per_request_<when>``: each server's process-tree memory now."""
        memory = {}
        if self.triton_pids:
            memory[f"triton_{when}"] = process_tree_memory(self.triton_pids[0])
        if self.per_request:
            memory[f"per_request_{when}"] = process_tree_memory(self.per_request.process.pid)
        return memory


def start_servers(
    stack: ExitStack,
    repository: Path,
    modes: tuple[str, ...],
    settings: dict,
    work_dir: Path,
    triton_http_url: str | None,
    triton_grpc_url: str | None,
    triton_extra: tuple[str, ...],
    log,
) -> Servers:
    """The servers ``modes`` need, each stopped when ``stack`` closes."""
    triton_pids: list[int] = []
    http_url, grpc_url = triton_http_url, triton_grpc_url
    if any(m.startswith("triton_") for m in modes) and not (http_url and grpc_url):
        log(f"starting Triton on {repository} ...")
        triton = start_triton(repository, work_dir, triton_extra)
        stack.callback(triton.stop)
        http_url, grpc_url = triton.http_url, triton.grpc_url
        triton_pids = [triton.process.pid]
    elif http_url:
        pid = pid_listening_on(int(http_url.rsplit(":", 1)[1]))
        triton_pids = [pid] if pid else []
    per_request = None
    if "per_request" in modes:
        per_request = PerRequestService(
            paths.tokenizer_file(repository),
            paths.encoder_file(repository),
            settings["workers"],
            settings["intra_op_threads"],
            settings["inter_op_threads"],
            work_dir / "per_request.log",
            spinning=bool(settings["allow_spinning"]),
        )
        stack.callback(per_request.stop)
        per_request.wait_until_ready()
    return Servers(http_url, grpc_url, triton_pids, per_request)


def inprocess_target(repository: Path, settings: dict) -> dict:
    """The in-process target with the encoder's own thread layout."""
    return {
        "mode": "inprocess_batched",
        "tokenizer": str(paths.tokenizer_file(repository)),
        "model": str(paths.encoder_file(repository)),
        "workers": settings["workers"],
        "intra_op_threads": settings["intra_op_threads"],
        "inter_op_threads": settings["inter_op_threads"],
        "allow_spinning": settings["allow_spinning"],
    }


def sweep_targets(inprocess: dict, settings: dict, batch_sizes, concurrencies) -> list[dict]:
    """The hardware-limit sweep: batch sizes x two thread layouts on the machine's cores
    (one call at a time with all cores as intra-op threads, or one call per core)."""
    cores = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    layouts = sorted({(settings["workers"], settings["intra_op_threads"]), (1, cores), (cores, 1)})
    keys = [(w, t, b) for w, t in layouts for b in sorted(set(batch_sizes) | {max(concurrencies)})]
    return [
        {**inprocess, "name": f"workers{w}_threads{t}_batch{b}", "workers": w, "intra_op_threads": t, "batch_size": b}
        for w, t, b in keys
    ]


@dataclass
class Collected:
    """Every round's results, kept until the medians are taken."""

    runs: dict[tuple[str, int], list[dict]] = field(default_factory=dict)
    sweep_runs: dict[str, list[dict]] = field(default_factory=dict)
    same_run_limit: list[float] = field(default_factory=list)


def measure_sweep(targets: list[dict], plan: LoadPlan, round_index: int, collected: Collected, log) -> dict:
    """One round of the in-process sweep; returns the best target of this round."""
    measured = plan.measure(targets, 1, f"sweep{round_index}")
    for target, result in zip(targets, measured, strict=True):
        result.update(
            workers=target["workers"], intra_op_threads=target["intra_op_threads"], batch_size=target["batch_size"]
        )
        collected.sweep_runs.setdefault(target["name"], []).append(result)
        log(f"  inprocess {target['name']:<30} {result['throughput']:8.1f} programs/s  p50 {result['p50_ms']:7.1f} ms")
    return targets[int(np.argmax([r["throughput"] for r in measured]))]


def concurrency_targets(
    concurrency: int, top: int, modes, inprocess: dict, settings: dict, best: dict | None, served: dict
) -> tuple[list[dict], list[str]]:
    """The targets measured together at one concurrency, and their names."""
    targets, names = [], []
    if "inprocess_batched" in modes:
        # the encoder's own layout, ``concurrency`` programs waiting: what Triton batches
        workers = min(settings["workers"], concurrency)
        batch_size = max(1, concurrency // workers)
        targets.append({**inprocess, "name": "inprocess_batched", "workers": workers, "batch_size": batch_size})
        names.append("inprocess_batched")
        if concurrency == top and best is not None:  # the hardware limit, in this same run
            targets.append({**best, "name": "inprocess_best"})
            names.append("inprocess_best")
    for mode in (m for m in SERVED_MODES if m in modes):
        targets.append({"mode": mode, "name": mode, **served[mode]})
        names.append(mode)
    return targets, names


def record_concurrency(
    by_name: dict[str, dict], concurrency: int, top: int, best: dict | None, collected: Collected, log
) -> None:
    """Keep one concurrency's results (and the same-run hardware limit at the top one)."""
    if concurrency == top and "inprocess_batched" in by_name:
        collected.same_run_limit.append(
            max(by_name[n]["throughput"] for n in ("inprocess_batched", "inprocess_best") if n in by_name)
        )
    for name, result in by_name.items():
        if name == "inprocess_best":
            log(
                f"  {'(hardware limit)':<17} c={concurrency:<4} {result['throughput']:8.1f} programs/s  "
                f"({best['name']})"
            )
            continue
        collected.runs.setdefault((name, concurrency), []).append(result)
        log(
            f"  {name:<17} c={concurrency:<4} {result['throughput']:8.1f} programs/s  "
            f"p50 {result['p50_ms']:7.1f} ms"
            f"  p99 {result['p99_ms']:7.1f} ms  failures {result['failures']}"
        )


def summarise_sweep(collected: Collected, top: int) -> dict:
    """``inprocess_batch_sweep`` (medians) and ``hardware_limit``, the ratios' reference."""
    if not collected.sweep_runs:
        return {}
    sweep = {name: median_run(r) for name, r in collected.sweep_runs.items()}
    best_name = max(sweep, key=lambda k: sweep[k]["throughput"])
    limit = {
        "setting": best_name,
        "batch_size": sweep[best_name]["batch_size"],
        "workers": sweep[best_name]["workers"],
        "intra_op_threads": sweep[best_name]["intra_op_threads"],
        "throughput": sweep[best_name]["throughput"],
    }
    if collected.same_run_limit:
        # measured interleaved with the served modes at the top concurrency: the ratio's reference
        limit["throughput_same_run"] = float(np.median(collected.same_run_limit))
        limit["concurrency"] = top
    return {"inprocess_batch_sweep": sweep, "hardware_limit": limit}


def compare_servers(
    repository: Path,
    *,
    concurrencies: tuple[int, ...],
    duration_s: float,
    warmup_s: float,
    modes: tuple[str, ...],
    batch_sizes: tuple[int, ...],
    corpus_size: int,
    work_dir: Path,
    triton_http_url: str | None = None,
    triton_grpc_url: str | None = None,
    triton_extra: tuple[str, ...] = (),
    scan_n: int = 0,
    repeats: int = 1,
    slice_s: float = 5.0,
    log=print,
) -> dict:
    """Every mode at every concurrency on ``repository``'s tokenizer and model.

    Every load-generator run interleaves its targets in slices (see loadgen); with
    ``repeats`` > 1 the whole set is run again and the median run is kept."""
    settings = encoder_settings(repository)
    corpus = payloads.load_corpus(corpus_size)
    out: dict = {
        "encoder_settings": settings,
        "model": model_fingerprint(paths.encoder_file(repository)),
        "corpus": corpus.describe(),
    }
    plan = LoadPlan(duration_s, warmup_s, slice_s, corpus_size, work_dir)
    results: dict[str, dict] = {mode: {} for mode in modes}
    top = max(concurrencies)
    with ExitStack() as stack:
        servers = start_servers(
            stack, repository, modes, settings, work_dir, triton_http_url, triton_grpc_url, triton_extra, log
        )
        memory = servers.memory("idle")
        inprocess, served = inprocess_target(repository, settings), servers.targets()
        sweep = sweep_targets(inprocess, settings, batch_sizes, concurrencies)
        collected = Collected()
        for round_index in range(max(1, repeats)):
            if repeats > 1:
                log(f"round {round_index + 1} of {repeats}")
            best = measure_sweep(sweep, plan, round_index, collected, log) if "inprocess_batched" in modes else None
            for concurrency in concurrencies:
                targets, names = concurrency_targets(concurrency, top, modes, inprocess, settings, best, served)
                measured = plan.measure(targets, concurrency, f"c{concurrency}r{round_index}")
                record_concurrency(dict(zip(names, measured, strict=True)), concurrency, top, best, collected, log)
        out.update(summarise_sweep(collected, top))
        for (mode, concurrency), measured in collected.runs.items():
            results[mode][str(concurrency)] = median_run(measured)
        memory.update(servers.memory("after_load"))
        if scan_n and servers.grpc_url:
            out["scan"] = scan_scale(servers.grpc_url, scan_n, results.get("per_request", {}), log=log)
    out["results"] = results
    out["memory"] = memory
    out["ratios"] = ratios(out)
    return out
