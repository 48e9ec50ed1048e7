"""Side-by-side benchmark: the same programs, the same ONNX model, one run.

Modes (each at every concurrency, default 1, 8, 32; one program per request):

``inprocess_batched``
    onnxruntime in-process (in the load generator's process), tokenised in-process,
    ``concurrency`` programs per call (``OnnxEncoder.embed_sequences``, the code
    Triton's encoder runs); batch sizes ``batch_sizes`` are swept as well and the best
    is the *hardware limit* the served modes are held against.
``per_request``
    the seed's design: :mod:`~clonedetect.load_tests.per_request_server`, a small
    HTTP service that tokenises and runs onnxruntime for each request alone, with
    the same worker count and ORT threads as Triton's encoder, in its own process.
``triton_http`` / ``triton_grpc``
    the ``clone_embed`` ensemble on the bundled Triton (started here on free
    loopback ports unless URLs are given; stopped by PID).

All modes are driven by :mod:`~clonedetect.load_tests.loadgen` in a separate
process (closed loop, ``concurrency`` clients), which measures its own CPU apart from
the server's. At each concurrency the modes are measured *interleaved* (slices of
``slice_s`` seconds, taking turns), so background load on a shared machine falls on
all of them alike and the ratios come from one run. Output: a JSON file (``results[mode][str(concurrency)]`` =
``{"throughput", "p50_ms", "p99_ms", ...}``, machine info, memory, ratios against
the targets), a table on stdout, and a PNG of throughput and p99 against concurrency.

``bert_base=True`` builds a BERT-base-sized encoder (random weights) with the
project's export code into a temporary repository copy and repeats the comparison
with it. ``scan_n`` adds the scan-scale figure (embed N programs through Triton and
all N(N-1)/2 similarities, beside the per-request design's cost for the same N).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from clonedetect.load_tests import payloads
from clonedetect.load_tests.processes import process_tree_memory, stop_process_group

MODES = ("inprocess_batched", "per_request", "triton_http", "triton_grpc")
SERVED_MODES = ("per_request", "triton_http", "triton_grpc")
DEFAULT_BATCH_SIZES = (1, 8, 32)
TARGETS = {
    "grpc_over_inprocess_best": 0.85,  # triton_grpc throughput at the top concurrency / hardware limit
    "grpc_over_per_request": 3.0,  # triton_grpc / per_request throughput at the top concurrency
    "grpc_p50_c1_minus_per_request_ms": 3.0,  # triton_grpc p50 - per_request p50 at concurrency 1 (at most)
}


class BenchFailed(RuntimeError):
    """Some requests of the benchmark failed (the JSON is still written)."""


# -- machine, processes, memory ------------------------------------------------------
def machine_info() -> dict:
    import onnxruntime
    import psutil

    model_name = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": model_name or platform.processor(),
        "logical_cpus": psutil.cpu_count(),
        "physical_cpus": psutil.cpu_count(logical=False),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def pid_listening_on(port: int) -> int | None:
    """The process listening on a loopback TCP port (for a server given by URL)."""
    import psutil

    try:
        for connection in psutil.net_connections(kind="tcp"):
            if connection.status == psutil.CONN_LISTEN and connection.laddr and connection.laddr.port == port:
                return connection.pid
    except (psutil.AccessDenied, PermissionError):
        return None
    return None


def _read_parameter(config: Path, key: str, default: int) -> int:
    match = re.search(rf'key:\s*"{re.escape(key)}"\s*value:\s*{{\s*string_value:\s*"(\d+)"', config.read_text())
    return int(match.group(1)) if match else default


def _instance_count(config: Path) -> int:
    match = re.search(r"instance_group\s*\[\s*{\s*count:\s*(\d+)", config.read_text())
    return int(match.group(1)) if match else 1


def encoder_settings(repository: Path) -> dict:
    """Instance count and ORT threads of the bundled encoder config (what the baselines copy)."""
    config = repository / "code_clone_detector" / "configs" / "bundled.pbtxt"
    if not config.exists():
        config = repository / "code_clone_detector" / "config.pbtxt"
    return {
        "workers": _instance_count(config),
        "intra_op_threads": _read_parameter(config, "intra_op_thread_count", 2),
        "inter_op_threads": _read_parameter(config, "inter_op_thread_count", 1),
        "allow_spinning": _read_parameter(config, "allow_spinning", 1),
        # a parameter only a tuning copy's patched model.py reads (see tuning.patch_encoder_model)
        "max_windows_per_call": _read_parameter(config, "max_windows_per_call", 64),
    }


def model_fingerprint(model_path: Path) -> dict:
    """Which encoder a measurement used (the shipped weights are retrained from time to time)."""
    import hashlib

    digest = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()[:16]
    try:
        import onnx  # the 'train' extra; optional here
    except ImportError:
        parameters = None
    else:
        graph = onnx.load(str(model_path), load_external_data=False).graph
        parameters = sum(int(np.prod(t.dims)) for t in graph.initializer)
    return {
        "path": str(model_path),
        "bytes": Path(model_path).stat().st_size,
        "sha256_16": digest,
        "parameters": parameters,
    }


# -- repositories and servers ---------------------------------------------------------
def copy_repository(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def install_model(repository: Path, model_path: Path) -> None:
    target = repository / "code_clone_detector" / "1" / "model.onnx"
    if Path(model_path).resolve() != target.resolve():
        shutil.copy2(model_path, target)


def with_parameter(config_text: str, key: str, value: int | str) -> str:
    """A ``config.pbtxt`` text with its string parameter ``key`` set to ``value``."""
    pattern = rf'(key:\s*"{re.escape(key)}"\s*value:\s*{{\s*string_value:\s*")[^"]*(")'
    return re.sub(pattern, rf"\g<1>{value}\g<2>", config_text)


def set_pad_multiple(repository: Path, window: int) -> None:
    config = repository / "code_tokenizer" / "config.pbtxt"
    config.write_text(with_parameter(config.read_text(), "pad_to_multiple_of", window))


def start_triton(repository: Path, log_dir: Path, extra: tuple[str, ...] = ()):
    from clonedetect import server

    return server.start_on_free_ports(repository, log_path=log_dir / "triton.log", extra=extra, timeout=600)


class PerRequestService:
    """The baseline service in its own process group, stopped by PID."""

    def __init__(
        self,
        tokenizer: Path,
        model: Path,
        workers: int,
        intra: int,
        inter: int,
        log_path: Path,
        spinning: bool = True,
        max_windows: int = 64,
    ):
        from clonedetect import server

        self.port = server.free_port()
        self.url = f"127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "clonedetect.load_tests.per_request_server",
            "--port",
            str(self.port),
            "--tokenizer",
            str(tokenizer),
            "--model",
            str(model),
            "--workers",
            str(workers),
            "--intra-op-threads",
            str(intra),
            "--inter-op-threads",
            str(inter),
            "--max-windows-per-call",
            str(max_windows),
            *([] if spinning else ["--no-spinning"]),
        ]
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_ready(self, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"per-request service exited with status {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"http://{self.url}/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.25)
        raise RuntimeError("per-request service not ready in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            stop_process_group(self.process, grace_s=10)
        self._log.close()


# -- measurements -----------------------------------------------------------------------
def measure_interleaved(
    targets: list[dict],
    concurrency: int,
    duration_s: float,
    warmup_s: float,
    slice_s: float,
    corpus_size: int,
    work_dir: Path,
    tag: str,
) -> list[dict]:
    """Several targets measured by one :mod:`loadgen` process, interleaved in slices.
    Returns one result per target, in order (a failed run gives failing results).

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
    }
    spec_path, out_path = work_dir / f"spec-{tag}.json", work_dir / f"result-{tag}.json"
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    slices = max(1, -(-duration_s // slice_s))
    limit = len(targets) * (warmup_s + duration_s + slices * (settle_s + 0.5)) + 120 + 60 * slices
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


def _median_run(runs: list[dict]) -> dict:
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
    """Every mode at every concurrency on ``repository``'s tokenizer and model."""
    tokenizer_path = repository / "code_tokenizer" / "1" / "tokenizer.json"
    model_path = repository / "code_clone_detector" / "1" / "model.onnx"
    settings = encoder_settings(repository)
    corpus = payloads.load_corpus(corpus_size)
    results: dict[str, dict] = {mode: {} for mode in modes}
    memory: dict[str, dict] = {}
    out: dict = {"encoder_settings": settings, "model": model_fingerprint(model_path), "corpus": corpus.describe()}

    with ExitStack() as stack:
        triton = per_request = None
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
        if "per_request" in modes:
            per_request = PerRequestService(
                tokenizer_path,
                model_path,
                settings["workers"],
                settings["intra_op_threads"],
                settings["inter_op_threads"],
                work_dir / "per_request.log",
                spinning=bool(settings["allow_spinning"]),
                max_windows=settings["max_windows_per_call"],
            )
            stack.callback(per_request.stop)
            per_request.wait_until_ready()
        if triton_pids:
            memory["triton_idle"] = process_tree_memory(triton_pids[0])
        if per_request:
            memory["per_request_idle"] = process_tree_memory(per_request.process.pid)

        inprocess = {
            "mode": "inprocess_batched",
            "tokenizer": str(tokenizer_path),
            "model": str(model_path),
            "workers": settings["workers"],
            "intra_op_threads": settings["intra_op_threads"],
            "inter_op_threads": settings["inter_op_threads"],
            "allow_spinning": settings["allow_spinning"],
            "max_windows_per_call": settings["max_windows_per_call"],
        }
        served = {
            "per_request": {
                "url": per_request.url if per_request else None,
                "server_pids": [per_request.process.pid] if per_request else [],
            },
            # Every Triton request is a program never sent before: the shipped response
            # cache would otherwise answer the corpus's repeats and measure the cache.
            "triton_http": {"url": http_url, "server_pids": triton_pids, "unique": True},
            "triton_grpc": {"url": grpc_url, "server_pids": triton_pids, "unique": True},
        }
        # The hardware-limit sweep: batch sizes x two thread layouts on the machine's cores
        # (one call at a time with all cores as intra-op threads, or one call per core).
        cores = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
        layouts = sorted({(settings["workers"], settings["intra_op_threads"]), (1, cores), (cores, 1)})
        sweep_keys = [(w, t, b) for w, t in layouts for b in sorted(set(batch_sizes) | {max(concurrencies)})]
        top = max(concurrencies)
        # Every loadgen run interleaves its targets in slices (see loadgen); with
        # repeats > 1 the whole set is run again and the median run is kept.
        runs: dict[tuple[str, int], list[dict]] = {}
        sweep_runs: dict[str, list[dict]] = {}
        same_run_limit: list[float] = []
        for round_index in range(max(1, repeats)):
            if repeats > 1:
                log(f"round {round_index + 1} of {repeats}")
            best = None
            if "inprocess_batched" in modes:
                targets = [
                    {
                        **inprocess,
                        "name": f"workers{w}_threads{t}_batch{b}",
                        "workers": w,
                        "intra_op_threads": t,
                        "batch_size": b,
                    }
                    for w, t, b in sweep_keys
                ]
                measured = measure_interleaved(
                    targets, 1, duration_s, warmup_s, slice_s, corpus_size, work_dir, f"sweep{round_index}"
                )
                for target, result in zip(targets, measured, strict=True):
                    result.update(
                        workers=target["workers"],
                        intra_op_threads=target["intra_op_threads"],
                        batch_size=target["batch_size"],
                    )
                    sweep_runs.setdefault(target["name"], []).append(result)
                    log(
                        f"  inprocess {target['name']:<30} {result['throughput']:8.1f} programs/s  "
                        f"p50 {result['p50_ms']:7.1f} ms"
                    )
                best = targets[int(np.argmax([r["throughput"] for r in measured]))]
            for concurrency in concurrencies:
                targets, names = [], []
                if "inprocess_batched" in modes:
                    # the encoder's own layout, ``concurrency`` programs waiting: what Triton batches
                    workers = min(settings["workers"], concurrency)
                    targets.append(
                        {
                            **inprocess,
                            "name": "inprocess_batched",
                            "workers": workers,
                            "batch_size": max(1, concurrency // workers),
                        }
                    )
                    names.append("inprocess_batched")
                    if concurrency == top and best is not None:  # the hardware limit, in this same run
                        targets.append({**best, "name": "inprocess_best"})
                        names.append("inprocess_best")
                for mode in (m for m in SERVED_MODES if m in modes):
                    targets.append({"mode": mode, "name": mode, **served[mode]})
                    names.append(mode)
                measured = measure_interleaved(
                    targets,
                    concurrency,
                    duration_s,
                    warmup_s,
                    slice_s,
                    corpus_size,
                    work_dir,
                    f"c{concurrency}r{round_index}",
                )
                by_name = dict(zip(names, measured, strict=True))
                if concurrency == top and "inprocess_batched" in by_name:
                    same_run_limit.append(
                        max(by_name[n]["throughput"] for n in ("inprocess_batched", "inprocess_best") if n in by_name)
                    )
                for name, result in by_name.items():
                    if name == "inprocess_best":
                        log(
                            f"  {'(hardware limit)':<17} c={concurrency:<4} {result['throughput']:8.1f} programs/s  "
                            f"({best['name']})"
                        )
                        continue
                    runs.setdefault((name, concurrency), []).append(result)
                    log(
                        f"  {name:<17} c={concurrency:<4} {result['throughput']:8.1f} programs/s  "
                        f"p50 {result['p50_ms']:7.1f} ms"
                        f"  p99 {result['p99_ms']:7.1f} ms  failures {result['failures']}"
                    )
        if sweep_runs:
            sweep = {name: _median_run(r) for name, r in sweep_runs.items()}
            best_name = max(sweep, key=lambda k: sweep[k]["throughput"])
            out["inprocess_batch_sweep"] = sweep
            out["hardware_limit"] = {
                "setting": best_name,
                "batch_size": sweep[best_name]["batch_size"],
                "workers": sweep[best_name]["workers"],
                "intra_op_threads": sweep[best_name]["intra_op_threads"],
                "throughput": sweep[best_name]["throughput"],
            }
            if same_run_limit:
                # measured interleaved with the served modes at the top concurrency: the ratio's reference
                out["hardware_limit"]["throughput_same_run"] = float(np.median(same_run_limit))
                out["hardware_limit"]["concurrency"] = top
        for (mode, concurrency), measured in runs.items():
            results[mode][str(concurrency)] = _median_run(measured)
        if triton_pids:
            memory["triton_after_load"] = process_tree_memory(triton_pids[0])
        if per_request:
            memory["per_request_after_load"] = process_tree_memory(per_request.process.pid)
        if scan_n and grpc_url:
            out["scan"] = scan_scale(grpc_url, scan_n, results.get("per_request", {}), log=log)
    out["results"] = results
    out["memory"] = memory
    out["ratios"] = ratios(out)
    return out


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


# -- scan scale ---------------------------------------------------------------------------
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


# -- BERT-base ------------------------------------------------------------------------------
def build_bert_base_repository(target: Path, base_repository: Path, window: int = 256, seed: int = 0) -> Path:
    """A copy of ``base_repository`` whose encoder is BERT-base sized (random weights):
    12 layers, hidden 768, 12 heads, FFN 3072, built and exported with the project's code."""
    import torch  # the 'train' extra; only this option needs it

    from clonedetect.client.protocol import EMBEDDING_DIM
    from clonedetect.preprocessing.tokenization import CodeTokenizer
    from clonedetect.training.export import export_onnx
    from clonedetect.training.model import CodeEncoder, EncoderConfig

    repository = copy_repository(base_repository, target)
    vocab = CodeTokenizer.from_file(repository / "code_tokenizer" / "1" / "tokenizer.json").vocab_size
    torch.manual_seed(seed)
    config = EncoderConfig(
        vocab_size=vocab, dim=768, layers=12, heads=12, ffn_dim=3072, window=window, embedding_dim=EMBEDDING_DIM
    )
    model = CodeEncoder(config).eval()
    export_onnx(model, repository / "code_clone_detector" / "1" / "model.onnx")
    set_pad_multiple(repository, window)
    return repository


# -- report -----------------------------------------------------------------------------------
def format_table(report: dict) -> str:
    lines = [
        f"{'mode':<18} {'conc':>5} {'programs/s':>11} {'p50 ms':>9} {'p99 ms':>9} {'fails':>6} "
        f"{'client cores':>13} {'server cores':>13} {'system %':>9}"
    ]
    for mode, rows in report["results"].items():
        for concurrency, r in sorted(rows.items(), key=lambda kv: int(kv[0])):
            cpu, nan = r.get("cpu", {}), float("nan")
            lines.append(
                f"{mode:<18} {concurrency:>5} {r['throughput']:>11.1f} {r['p50_ms']:>9.1f} {r['p99_ms']:>9.1f} "
                f"{r['failures']:>6} {cpu.get('client_cores', nan):>13.2f} {cpu.get('server_cores', nan):>13.2f} "
                f"{cpu.get('system_util_pct', nan):>9.1f}"
            )
    if "hardware_limit" in report:
        h = report["hardware_limit"]
        lines.append(
            f"hardware limit (in-process sweep best: {h['setting']}): {h['throughput']:.1f} programs/s"
            + (
                f"; in the c={h['concurrency']} run: {h['throughput_same_run']:.1f}"
                if "throughput_same_run" in h
                else ""
            )
        )
    for name, row in report.get("ratios", {}).items():
        lines.append(
            f"{name:<36} {row['value']:>8} (target {row['target']}, c={row['concurrency']}) "
            f"{'met' if row['met'] else 'MISSED'}"
        )
    return "\n".join(lines)


def plot(report: dict, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mode, rows in report["results"].items():
        if not rows:
            continue
        xs = sorted(int(c) for c in rows)
        left.plot(xs, [rows[str(x)]["throughput"] for x in xs], marker="o", label=mode)
        right.plot(xs, [rows[str(x)]["p99_ms"] for x in xs], marker="o", label=mode)
    if "hardware_limit" in report:
        limit = report["hardware_limit"]
        if "throughput_same_run" in limit:  # measured interleaved with the served modes
            left.axhline(
                limit["throughput_same_run"],
                color="grey",
                linestyle=":",
                label=f"hardware limit (in-process best, c={limit['concurrency']} run)",
            )
        else:
            left.axhline(
                limit["throughput"], color="grey", linestyle=":", label="hardware limit (in-process sweep best)"
            )
    ticks = sorted({int(c) for rows in report["results"].values() for c in rows})
    for axis, label in ((left, "throughput (programs/s)"), (right, "p99 latency (ms)")):
        axis.set_xscale("log", base=2)
        axis.set_xticks(ticks, [str(t) for t in ticks])
        axis.minorticks_off()
        axis.set_xlabel("concurrency (clients, 1 program per request)")
        axis.set_ylabel(label)
        axis.grid(True, alpha=0.3)
    right.set_yscale("log")
    left.set_ylim(bottom=0)
    left.legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _total_failures(section: dict) -> int:
    return sum(r.get("failures", 0) for rows in section.get("results", {}).values() for r in rows.values())


def run_bench(
    json_path: str | Path,
    concurrencies: tuple[int, ...] = (1, 8, 32),
    duration_s: float = 20.0,
    *,
    warmup_s: float = 2.0,
    model: str | Path | None = None,
    model_repository: str | Path | None = None,
    modes: tuple[str, ...] = MODES,
    batch_sizes: tuple[int, ...] = DEFAULT_BATCH_SIZES,
    corpus_size: int = 256,
    triton_http_url: str | None = None,
    triton_grpc_url: str | None = None,
    triton_extra: tuple[str, ...] = (),
    plot_path: str | Path | None = None,
    bert_base: bool = False,
    bert_window: int = 256,
    bert_concurrencies: tuple[int, ...] | None = None,
    bert_duration_s: float | None = None,
    scan_n: int = 0,
    repeats: int = 1,
    slice_s: float = 5.0,
    quiet: bool = False,
    raise_on_failure: bool = True,
) -> dict:
    """Run the comparison, write ``json_path`` (and a PNG beside it), print the table.

    ``model``: an ONNX encoder to use instead of the repository's (it is installed in
    a temporary repository copy so Triton and the baselines run the same file).
    Raises :class:`BenchFailed` after writing the JSON if any request failed.
    """
    from clonedetect import server

    log = (lambda *a, **k: None) if quiet else (lambda *a, **k: print(*a, **k, flush=True))
    json_path = Path(json_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    plot_path = Path(plot_path) if plot_path else json_path.with_suffix(".png")
    modes = tuple(m for m in MODES if m in modes)
    concurrencies = tuple(sorted(set(int(c) for c in concurrencies)))
    base = Path(model_repository) if model_repository else server.MODEL_REPOSITORY
    report: dict = {
        "machine": machine_info(),
        "settings": {
            "concurrencies": list(concurrencies),
            "duration_s": duration_s,
            "warmup_s": warmup_s,
            "modes": list(modes),
            "batch_sizes": list(batch_sizes),
            "corpus_size": corpus_size,
            "programs_per_request": 1,
            "model_repository": str(base),
            "model": str(model) if model else None,
            "triton_extra": list(triton_extra),
            "repeats": repeats,
            "slice_s": slice_s,
            "interleaved": True,
        },
        "targets": TARGETS,
    }
    with tempfile.TemporaryDirectory(prefix="clonedetect-bench-") as temp:
        temp = Path(temp)
        repository = base
        if model:
            repository = copy_repository(base, temp / "model_repository")
            install_model(repository, Path(model))
        log(f"benchmark: modes {', '.join(modes)}; concurrency {list(concurrencies)}; {duration_s:g} s each")
        work = temp / "work"
        work.mkdir()
        section = compare_servers(
            repository,
            concurrencies=concurrencies,
            duration_s=duration_s,
            warmup_s=warmup_s,
            modes=modes,
            batch_sizes=batch_sizes,
            corpus_size=corpus_size,
            work_dir=work,
            triton_http_url=triton_http_url,
            triton_grpc_url=triton_grpc_url,
            triton_extra=triton_extra,
            scan_n=scan_n,
            repeats=repeats,
            slice_s=slice_s,
            log=log,
        )
        report.update(section)
        report["failures"] = _total_failures(section)
        if bert_base:
            log("building the BERT-base-sized encoder (random weights) ...")
            bert_repo = build_bert_base_repository(temp / "bert_repository", base, window=bert_window)
            bert_work = temp / "bert_work"
            bert_work.mkdir()
            # A BERT-base call takes seconds per program on a few CPU cores: small batches in
            # the sweep, and slices long enough to hold several calls.
            bert = compare_servers(
                bert_repo,
                concurrencies=tuple(bert_concurrencies or [c for c in concurrencies if c <= 8] or [1]),
                duration_s=bert_duration_s or duration_s,
                warmup_s=warmup_s,
                modes=modes,
                batch_sizes=(1,),
                corpus_size=min(corpus_size, 128),
                work_dir=bert_work,
                slice_s=max(slice_s, 15.0),
                log=log,
            )
            bert["architecture"] = {"layers": 12, "hidden": 768, "heads": 12, "ffn": 3072, "window": bert_window}
            report["bert_base"] = bert
            report["failures"] += _total_failures(bert)
        report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    json_path.write_text(json.dumps(report, indent=2, default=float) + "\n")
    plot(report, plot_path, f"clonedetect encoder, {report['machine']['logical_cpus']} CPUs")
    report["plot"] = str(plot_path)
    if "bert_base" in report:
        bert_plot = plot_path.with_name(plot_path.stem + "_bert_base" + plot_path.suffix)
        plot(report["bert_base"], bert_plot, "BERT-base-sized encoder (random weights)")
        report["bert_base"]["plot"] = str(bert_plot)
    json_path.write_text(json.dumps(report, indent=2, default=float) + "\n")
    log(format_table(report))
    if "bert_base" in report:
        log("\nBERT-base-sized encoder:\n" + format_table(report["bert_base"]))
    if "scan" in report:
        log(json.dumps(report["scan"], indent=2))
    log(f"wrote {json_path} and {plot_path}")
    if report["failures"] and raise_on_failure:
        raise BenchFailed(f"{report['failures']} requests failed; see {json_path}")
    return report


# -- command line (wired into `clonedetect bench`) -------------------------------------------
def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", required=True, help="write the results here (JSON); the plot goes beside it (.png)")
    parser.add_argument("--concurrency", type=_ints, default=(1, 8, 32), help="comma list (default 1,8,32)")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per mode and concurrency")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma list of {', '.join(MODES)}")
    parser.add_argument(
        "--batch-sizes", type=_ints, default=DEFAULT_BATCH_SIZES, help="in-process batch sizes to sweep"
    )
    parser.add_argument("--model", help="ONNX encoder to benchmark (default: the repository's)")
    parser.add_argument("--model-repository", help="repository to serve (default: the shipped one)")
    parser.add_argument("--corpus-size", type=int, default=256, help="distinct real programs sent")
    parser.add_argument("--http-url", help="use this running Triton (HTTP host:port) instead of starting one")
    parser.add_argument("--grpc-url", help="use this running Triton (gRPC host:port) instead of starting one")
    parser.add_argument("--plot", help="PNG path (default: the JSON path with .png)")
    parser.add_argument(
        "--bert-base", action="store_true", help="also run with a BERT-base-sized encoder (needs torch)"
    )
    parser.add_argument("--bert-window", type=int, default=256, choices=(256, 512))
    parser.add_argument(
        "--bert-concurrency",
        type=_ints,
        help="concurrencies for the BERT-base run (default: those of --concurrency up to 8)",
    )
    parser.add_argument("--bert-duration", type=float, help="seconds per BERT-base measurement (default: --duration)")
    parser.add_argument("--slice", type=float, default=5.0, help="seconds per interleaved slice (modes take turns)")
    parser.add_argument("--repeats", type=int, default=1, help="rounds over all modes; the median run is kept")
    parser.add_argument("--scan", type=int, default=0, metavar="N", help="also time a scan of N programs (e.g. 1000)")


def command_bench(args: argparse.Namespace) -> int:
    from clonedetect import server

    server.unwind_on_sigterm()
    try:
        run_bench(
            args.json,
            args.concurrency,
            args.duration,
            warmup_s=args.warmup,
            model=args.model,
            model_repository=args.model_repository,
            modes=tuple(m.strip() for m in args.modes.split(",")),
            batch_sizes=args.batch_sizes,
            corpus_size=args.corpus_size,
            triton_http_url=args.http_url,
            triton_grpc_url=args.grpc_url,
            plot_path=args.plot,
            bert_base=args.bert_base,
            bert_window=args.bert_window,
            bert_concurrencies=args.bert_concurrency,
            bert_duration_s=args.bert_duration,
            scan_n=args.scan,
            repeats=args.repeats,
            slice_s=args.slice,
        )
    except BenchFailed as failure:
        print(f"clonedetect bench: FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clonedetect bench", description=__doc__.splitlines()[0])
    add_bench_arguments(parser)
    return command_bench(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
