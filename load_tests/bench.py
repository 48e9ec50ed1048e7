"""Side-by-side benchmark: the same programs, the same ONNX model, one run.

Modes (each at every concurrency, default 1, 8, 32; one program per request):
``inprocess_batched`` (onnxruntime in the load generator's process, ``concurrency``
programs per call; its batch-size sweep's best is the *hardware limit*),
``per_request`` (the seed's design: one program per ORT call, in its own process,
with the encoder's worker count and ORT threads) and ``triton_http`` /
``triton_grpc`` (the embed ensemble on the bundled Triton). See
:mod:`~clonedetect.load_tests.bench_compare` for how they are measured: interleaved
slices, so background load on a shared machine falls on all modes alike.

Output: a JSON file (``results[mode][str(concurrency)]`` = ``{"throughput", "p50_ms",
"p99_ms", ...}``, machine info, memory, ratios against the targets), a table on
stdout, and a PNG of throughput and p99 against concurrency. ``--bert-base`` repeats
the comparison with a BERT-base-sized encoder (random weights); ``--scan N`` adds the
scan-scale figure (N programs through Triton and all N(N-1)/2 similarities).

This module is the command line (``clonedetect bench``); the work is in
``bench_servers``, ``bench_measure``, ``bench_compare`` and ``bench_report``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from clonedetect import paths
from clonedetect.load_tests.bench_compare import DEFAULT_BATCH_SIZES, MODES, compare_servers
from clonedetect.load_tests.bench_measure import TARGETS
from clonedetect.load_tests.bench_report import format_table, plot, total_failures
from clonedetect.load_tests.bench_servers import (
    build_bert_base_repository,
    copy_repository,
    install_model,
    machine_info,
)

BERT_ARCHITECTURE = {"layers": 12, "hidden": 768, "heads": 12, "ffn": 3072}


class BenchFailed(RuntimeError):
    """Some requests of the benchmark failed (the JSON is still written)."""


@dataclass(frozen=True)
class BenchSettings:
    """What one benchmark run measures and where it writes; normalised on creation
    (paths as :class:`~pathlib.Path`, modes in :data:`MODES` order, concurrencies sorted).

    ``model``: an ONNX encoder to use instead of the repository's (it is installed in a
    temporary repository copy so Triton and the baselines run the same file)."""

    json_path: Path
    concurrencies: tuple[int, ...] = (1, 8, 32)
    duration_s: float = 20.0
    warmup_s: float = 2.0
    model: Path | None = None
    model_repository: Path = paths.MODEL_REPOSITORY
    modes: tuple[str, ...] = MODES
    batch_sizes: tuple[int, ...] = DEFAULT_BATCH_SIZES
    corpus_size: int = 256
    triton_http_url: str | None = None
    triton_grpc_url: str | None = None
    triton_extra: tuple[str, ...] = ()
    plot_path: Path | None = None
    bert_base: bool = False
    bert_window: int = 256
    bert_concurrencies: tuple[int, ...] | None = None
    bert_duration_s: float | None = None
    scan_n: int = 0
    repeats: int = 1
    slice_s: float = 5.0

    def __post_init__(self) -> None:
        normal = {
            "json_path": Path(self.json_path),
            "model": Path(self.model) if self.model else None,
            "model_repository": Path(self.model_repository or paths.MODEL_REPOSITORY),
            "modes": tuple(m for m in MODES if m in self.modes),
            "concurrencies": tuple(sorted({int(c) for c in self.concurrencies})),
            "plot_path": Path(self.plot_path) if self.plot_path else Path(self.json_path).with_suffix(".png"),
        }
        for name, value in normal.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BenchSettings:
        """The settings :func:`add_bench_arguments` parsed."""
        return cls(
            json_path=args.json,
            concurrencies=args.concurrency,
            duration_s=args.duration,
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

    def report_settings(self) -> dict:
        """The ``settings`` section of the JSON."""
        return {
            "concurrencies": list(self.concurrencies),
            "duration_s": self.duration_s,
            "warmup_s": self.warmup_s,
            "modes": list(self.modes),
            "batch_sizes": list(self.batch_sizes),
            "corpus_size": self.corpus_size,
            "programs_per_request": 1,
            "model_repository": str(self.model_repository),
            "model": str(self.model) if self.model else None,
            "triton_extra": list(self.triton_extra),
            "repeats": self.repeats,
            "slice_s": self.slice_s,
            "interleaved": True,
        }

    def bert_base_run(self) -> BenchSettings:
        """The BERT-base comparison's settings: a BERT-base call takes seconds per program
        on a few CPU cores, so small batches in the sweep, and slices long enough to hold
        several calls; no given servers, no scan, no repeats."""
        small = [c for c in self.concurrencies if c <= 8] or [1]
        return BenchSettings(
            json_path=self.json_path,
            concurrencies=tuple(self.bert_concurrencies or small),
            duration_s=self.bert_duration_s or self.duration_s,
            warmup_s=self.warmup_s,
            modes=self.modes,
            batch_sizes=(1,),
            corpus_size=min(self.corpus_size, 128),
            slice_s=max(self.slice_s, 15.0),
        )


def _compare(settings: BenchSettings, repository: Path, work_dir: Path, log) -> dict:
    work_dir.mkdir()
    return compare_servers(
        repository,
        concurrencies=settings.concurrencies,
        duration_s=settings.duration_s,
        warmup_s=settings.warmup_s,
        modes=settings.modes,
        batch_sizes=settings.batch_sizes,
        corpus_size=settings.corpus_size,
        work_dir=work_dir,
        triton_http_url=settings.triton_http_url,
        triton_grpc_url=settings.triton_grpc_url,
        triton_extra=settings.triton_extra,
        scan_n=settings.scan_n,
        repeats=settings.repeats,
        slice_s=settings.slice_s,
        log=log,
    )


def _measure(settings: BenchSettings, report: dict, temp: Path, log) -> None:
    """The comparison on the repository (and on a BERT-base-sized copy), into ``report``."""
    repository = settings.model_repository
    if settings.model:
        repository = copy_repository(settings.model_repository, temp / "model_repository")
        install_model(repository, settings.model)
    concurrencies = list(settings.concurrencies)
    log(f"benchmark: modes {', '.join(settings.modes)}; concurrency {concurrencies}; {settings.duration_s:g} s each")
    section = _compare(settings, repository, temp / "work", log)
    report.update(section)
    report["failures"] = total_failures(section)
    if settings.bert_base:
        log("building the BERT-base-sized encoder (random weights) ...")
        window = settings.bert_window
        bert_repo = build_bert_base_repository(temp / "bert_repository", settings.model_repository, window=window)
        bert = _compare(settings.bert_base_run(), bert_repo, temp / "bert_work", log)
        bert["architecture"] = {**BERT_ARCHITECTURE, "window": window}
        report["bert_base"] = bert
        report["failures"] += total_failures(bert)


def _write(report: dict, settings: BenchSettings) -> None:
    """The JSON and the plots beside it (the JSON is written first, in case plotting fails)."""
    json_path, plot_path = settings.json_path, settings.plot_path
    json_path.write_text(json.dumps(report, indent=2, default=float) + "\n")
    plot(report, plot_path, f"clonedetect encoder, {report['machine']['logical_cpus']} CPUs")
    report["plot"] = str(plot_path)
    if "bert_base" in report:
        bert_plot = plot_path.with_name(plot_path.stem + "_bert_base" + plot_path.suffix)
        plot(report["bert_base"], bert_plot, "BERT-base-sized encoder (random weights)")
        report["bert_base"]["plot"] = str(bert_plot)
    json_path.write_text(json.dumps(report, indent=2, default=float) + "\n")


def _print_summary(report: dict, settings: BenchSettings, log) -> None:
    log(format_table(report))
    if "bert_base" in report:
        log("\nBERT-base-sized encoder:\n" + format_table(report["bert_base"]))
    if "scan" in report:
        log(json.dumps(report["scan"], indent=2))
    log(f"wrote {settings.json_path} and {settings.plot_path}")


def run_bench(settings: BenchSettings, *, quiet: bool = False, raise_on_failure: bool = True) -> dict:
    """Run the comparison, write ``settings.json_path`` (and a PNG beside it), print the table.

    Raises :class:`BenchFailed` after writing the JSON if any request failed."""
    log = (lambda *a, **k: None) if quiet else (lambda *a, **k: print(*a, **k, flush=True))
    settings.json_path.parent.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": machine_info(), "settings": settings.report_settings(), "targets": TARGETS}
    with tempfile.TemporaryDirectory(prefix="clonedetect-bench-") as temp:
        _measure(settings, report, Path(temp), log)
        report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    _write(report, settings)
    _print_summary(report, settings, log)
    if report["failures"] and raise_on_failure:
        raise BenchFailed(f"{report['failures']} requests failed; see {settings.json_path}")
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
        run_bench(BenchSettings.from_args(args))
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
