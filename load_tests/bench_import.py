"""Benchmark of an imported model: through Triton vs per-request onnxruntime, optimised
vs not, FP32 vs INT8, side by side in one run.

A random BERT (default BERT-base size: 12 layers x 768, 12 heads, 512 positions) with a
WordPiece tokenizer trained on POJ-104 programs is built here
(:mod:`~clonedetect.load_tests.bench_import_model`), imported three ways with
``clonedetect import-model``'s code (:mod:`~clonedetect.load_tests.bench_import_variants`)
into a temporary repository, and served at once by the bundled Triton (gRPC, the
``bench_<variant>_embed`` ensembles, dynamic batching) and by one per-request
onnxruntime worker per variant (:mod:`~clonedetect.load_tests.per_request_server`).
One load-generator run at a fixed concurrency measures all six targets interleaved in
slices (:func:`~clonedetect.load_tests.bench_measure.measure_interleaved`), on the same
median-length POJ-104 programs; memory is each server process's resident set, idle and
peak under load.

Usage: ``python -m clonedetect.load_tests.bench_import --json reports/bench/import.json``
(a JSON, a Markdown table on stdout, a PNG beside the JSON).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from clonedetect import paths
from clonedetect.importing.errors import ImportModelError
from clonedetect.load_tests.bench import BenchFailed
from clonedetect.load_tests.bench_import_model import BERT_BASE, TINY, ModelShape, build_source
from clonedetect.load_tests.bench_import_report import format_table, import_ratios, plot, worker_memory
from clonedetect.load_tests.bench_import_variants import (
    VARIANTS,
    describe_programs,
    encoder_file,
    import_variants,
    median_length_programs,
    tokenizer_file,
)
from clonedetect.load_tests.bench_measure import measure_interleaved
from clonedetect.load_tests.bench_servers import PerRequestService, encoder_settings, machine_info, start_triton
from clonedetect.load_tests.peak_memory import PeakSampler
from clonedetect.load_tests.processes import process_tree_memory

SHAPES = {"bert-base": BERT_BASE, "tiny": TINY}
SERVERS = ("triton_grpc", "per_request")
MEMORY_SAMPLE_S = 1.0  # a BERT-sized call lasts seconds: its peak outlives a sample


@dataclass(frozen=True)
class ImportBenchSettings:
    json_path: Path
    shape: ModelShape = BERT_BASE
    concurrency: int = 4
    duration_s: float = 45.0
    warmup_s: float = 5.0
    slice_s: float = 15.0
    programs: int = 16
    tokenizer_programs: int = 3000

    def __post_init__(self) -> None:
        object.__setattr__(self, "json_path", Path(self.json_path))
        if min(self.concurrency, self.programs, self.tokenizer_programs) < 1:
            raise ValueError("--concurrency, --programs and --tokenizer-programs must be at least 1")
        if self.duration_s <= 0 or self.slice_s <= 0 or self.warmup_s < 0:
            raise ValueError("--duration and --slice must be positive, --warmup not negative")

    @property
    def plot_path(self) -> Path:
        return self.json_path.with_suffix(".png")

    def describe(self) -> dict:
        return {
            "concurrency": self.concurrency,
            "duration_s": self.duration_s,
            "warmup_s": self.warmup_s,
            "slice_s": self.slice_s,
            "programs": self.programs,
            "tokenizer_programs": self.tokenizer_programs,
            "programs_per_request": 1,
            "triton_protocol": "grpc",
            "interleaved": True,
        }


def _start_servers(stack: ExitStack, repository: Path, imports: dict, work: Path, log) -> dict:
    """The bundled Triton on the repository and a per-request worker per variant, each
    stopped by PID when ``stack`` closes."""
    log("starting Triton with every variant ...")
    triton = start_triton(repository, work)
    stack.callback(triton.stop)
    per_request = {}
    for variant, imported in imports.items():
        settings = encoder_settings(repository, imported["encoder_model"])  # the same workers and threads
        service = PerRequestService(
            tokenizer_file(repository, variant),
            encoder_file(repository, variant),
            settings["workers"],
            settings["intra_op_threads"],
            settings["inter_op_threads"],
            work / f"per_request_{variant}.log",
            spinning=bool(settings["allow_spinning"]),
            windowed_tokenizer=True,
        )
        stack.callback(service.stop)
        per_request[variant] = service
    for service in per_request.values():
        service.wait_until_ready()
    return {"triton": triton, "per_request": per_request}


def _targets(servers: dict, imports: dict) -> list[dict]:
    """Triton's ensemble and the per-request worker of every variant, as load-generator targets."""
    triton, targets = servers["triton"], []
    for variant, imported in imports.items():
        dim = imported["record"]["dim"]
        targets.append(
            {
                "mode": "triton_grpc",
                "name": f"triton_grpc:{variant}",
                "url": triton.grpc_url,
                "server_pids": [triton.process.pid],
                "triton_model": imported["embed_model"],
                "unique": True,  # the ensemble's response cache must never answer
                "embedding_dim": dim,
            }
        )
        service = servers["per_request"][variant]
        targets.append(
            {
                "mode": "per_request",
                "name": f"per_request:{variant}",
                "url": service.url,
                "server_pids": [service.process.pid],
                "embedding_dim": dim,
            }
        )
    return targets


def _memory_now(servers: dict) -> dict:
    memory = {"triton": process_tree_memory(servers["triton"].process.pid)}
    for variant, service in servers["per_request"].items():
        memory[f"per_request:{variant}"] = process_tree_memory(service.process.pid)
    return memory


def _measure(settings: ImportBenchSettings, servers: dict, imports: dict, programs: list[str], work: Path, log):
    """One interleaved load-generator run over every target; results and peak memory."""
    pids = {"triton": servers["triton"].process.pid}
    pids.update({f"per_request:{v}": s.process.pid for v, s in servers["per_request"].items()})
    targets = _targets(servers, imports)
    log(f"measuring {len(targets)} targets at concurrency {settings.concurrency}, {settings.duration_s:g} s each ...")
    with ExitStack() as samplers:
        peaks = {name: samplers.enter_context(PeakSampler(pid, MEMORY_SAMPLE_S)) for name, pid in pids.items()}
        measured = measure_interleaved(
            targets,
            settings.concurrency,
            settings.duration_s,
            settings.warmup_s,
            settings.slice_s,
            len(programs),
            work,
            "import",
            programs=programs,
        )
    results: dict[str, dict] = {variant: {} for variant in imports}
    for target, result in zip(targets, measured, strict=True):
        server, variant = target["name"].split(":")
        results[variant][server] = result
        log(f"  {target['name']:<28} {result['throughput']:7.2f} programs/s  p50 {result['p50_ms']:8.0f} ms")
    peak = {name: {"total_rss_mb": p.peak_mb, "by_process": p.by_process} for name, p in peaks.items()}
    return results, peak


def _quiet_libraries() -> None:
    """No progress bars from transformers, no chatter from onnxruntime's fusions."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)


def run_import_bench(settings: ImportBenchSettings, *, quiet: bool = False) -> dict:
    """Build, import, serve and measure; write the JSON and the PNG; raise
    :class:`~clonedetect.load_tests.bench.BenchFailed` (after writing) if a request failed."""
    log = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    _quiet_libraries()
    settings.json_path.parent.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": machine_info(), "settings": settings.describe(), "model": settings.shape.describe()}
    with tempfile.TemporaryDirectory(prefix="clonedetect-bench-import-") as temp:
        temp = Path(temp)
        log(f"building a random BERT {settings.shape.describe()} and its tokenizer ...")
        source = build_source(temp / "source", settings.shape, settings.tokenizer_programs)
        repository = temp / "model_repository"
        # The imports' ensembles begin with the shipped admission step.
        admission = paths.MODEL_REPOSITORY / paths.ADMISSION_MODEL
        shutil.copytree(admission, repository / paths.ADMISSION_MODEL, ignore=shutil.ignore_patterns("__pycache__"))
        imports = import_variants(source, repository, log)
        programs = median_length_programs(settings.programs)
        report["imports"] = imports
        report["programs"] = describe_programs(programs, tokenizer_file(repository, next(iter(VARIANTS))))
        with ExitStack() as stack:
            servers = _start_servers(stack, repository, imports, temp, log)
            idle = _memory_now(servers)
            results, peak = _measure(settings, servers, imports, programs, temp, log)
            after = _memory_now(servers)
        report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    report["results"] = results
    report["memory"] = {"idle": idle, "after_load": after, "peak": peak}
    report["memory_per_worker"] = worker_memory(report["memory"], imports)
    report["ratios"] = import_ratios(results)
    report["failures"] = sum(row["failures"] for rows in results.values() for row in rows.values())
    settings.json_path.write_text(json.dumps(report, indent=2, default=float) + "\n")
    plot(report, settings.plot_path)
    log(format_table(report))
    log(f"wrote {settings.json_path} and {settings.plot_path}")
    if report["failures"]:
        raise BenchFailed(f"{report['failures']} requests failed; see {settings.json_path}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clonedetect.load_tests.bench_import", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--json", required=True, help="write the results here; the PNG goes beside it")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="bert-base", help="the random model's size")
    parser.add_argument("--concurrency", type=int, default=4, help="clients, one program per request")
    parser.add_argument("--duration", type=float, default=45.0, help="measured seconds per target")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds per target first")
    parser.add_argument("--slice", type=float, default=15.0, help="seconds per interleaved slice")
    parser.add_argument("--programs", type=int, default=16, help="distinct median-length programs sent")
    parser.add_argument("--tokenizer-programs", type=int, default=3000, help="POJ-104 programs to train on")
    args = parser.parse_args(argv)
    from clonedetect import server

    server.unwind_on_sigterm()
    try:
        settings = ImportBenchSettings(
            Path(args.json),
            SHAPES[args.shape],
            args.concurrency,
            args.duration,
            args.warmup,
            args.slice,
            args.programs,
            args.tokenizer_programs,
        )
    except ValueError as error:
        parser.error(str(error))
    try:
        run_import_bench(settings)
    except (BenchFailed, ImportModelError, FileNotFoundError) as failure:  # the data archive missing
        print(f"bench_import: FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
