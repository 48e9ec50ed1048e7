"""The scan at course scale, clonedetect beside Dolos in one run:

    python -m clonedetect.load_tests.scan_bench --sizes 1000,3000,10000 --json reports/scan_bench.json

For each size N: N real student programs of POJ-104 (train and valid, a seeded sample
across its 80 problems) are written as one-file submissions ``NNNN.cpp`` into a temporary
folder; a fresh local Triton is started on free ports (fresh, so that the embedding cache
holds nothing of the previous size); the folder is scanned through the public API
(:func:`clonedetect.scanning.scan`, what ``clonedetect scan`` calls) and the HTML report
and the JSON written, as ``clonedetect scan DIR --report R.html --json R.json`` does; then
Dolos runs on the same files (:mod:`.scan_bench_dolos`). Measured: wall time of the scan
with its outputs and of its phases (embed, pair matrix, verify, report), peak memory of
this process (the client) and of tritonserver's process tree, and Dolos's wall time and
peak memory. Triton's start-up is reported apart: a course's server is already running.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from clonedetect import data, server
from clonedetect.client import CloneDetectorClient
from clonedetect.load_tests.archive_bench import peak_rss_mib
from clonedetect.load_tests.peak_memory import PeakSampler
from clonedetect.load_tests.scan_bench_dolos import measure_dolos
from clonedetect.scanning import report_html, scan, writers
from clonedetect.scanning.result import ScanSettings

EVIDENCE_PAIRS = 100  # the top pairs whose evidence the report must hold


def pick_programs(count: int, seed: int = 0) -> list[data.Program]:
    """``count`` POJ-104 programs drawn without replacement, in corpus order."""
    programs = data.poj104_programs("train") + data.poj104_programs("valid")
    chosen = np.random.default_rng(seed).choice(len(programs), size=count, replace=False)
    return [programs[index] for index in sorted(chosen.tolist())]


def write_submissions(programs: list[data.Program], folder: Path) -> list[Path]:
    """One submission per program, ``0000.cpp``, ``0001.cpp``, ... in ``folder``."""
    width = max(4, len(str(len(programs) - 1)))
    paths = []
    for number, program in enumerate(programs):
        path = folder / f"{number:0{width}d}.cpp"
        path.write_text(program.read(), encoding="utf-8")
        paths.append(path)
    return paths


class TimedBackend:
    """The client, with the time spent in its calls: the scan's embed and verify phases,
    and the gap between them (the pair matrix and the choice of candidates)."""

    def __init__(self, client: CloneDetectorClient):
        self.client = client
        self.spans: dict[str, list[float]] = {"embed": [], "compare_many": []}

    def _timed(self, name: str, function, items: list):
        started = time.perf_counter()
        result = function(items)
        self.spans[name] += [started, time.perf_counter()]
        return result

    def embed(self, codes: list[str]) -> np.ndarray:
        return self._timed("embed", self.client.embed, codes)

    def compare_many(self, pairs: list[tuple[str, str]]) -> list:
        return self._timed("compare_many", self.client.compare_many, pairs)

    def phases(self, started: float, scanned: float) -> dict[str, float]:
        embed, compare = self.spans["embed"], self.spans["compare_many"]
        verify_start = compare[0] if compare else scanned
        return {
            "read_and_prepare_s": round(embed[0] - started, 2),
            "embed_s": round(embed[-1] - embed[0], 2),
            "pair_matrix_s": round(verify_start - embed[-1], 2),
            "verify_s": round(compare[-1] - compare[0], 2) if compare else 0.0,
            "rank_and_cluster_s": round(scanned - (compare[-1] if compare else embed[-1]), 2),
        }


def write_outputs(result, outputs: Path) -> dict:
    """The HTML report and the JSON, as ``--report`` and ``--json`` write them."""
    started = time.perf_counter()
    (outputs / "report.html").write_text(report_html.to_html(result), encoding="utf-8")
    report_s = time.perf_counter() - started
    (outputs / "scan.json").write_text(writers.to_json(result), encoding="utf-8")
    shown = {p.file_a for p in result.candidates} | {p.file_b for p in result.candidates}
    return {
        "report_s": round(report_s, 2),
        "json_s": round(time.perf_counter() - started - report_s, 2),
        "report_mb": round(os.path.getsize(outputs / "report.html") / 2**20, 2),
        "json_mb": round(os.path.getsize(outputs / "scan.json") / 2**20, 2),
        "report_files_with_text": len(shown),
    }


def result_counts(result) -> dict:
    top = result.candidates[:EVIDENCE_PAIRS]
    return {
        "verified_pairs": len(result.candidates),
        "unverified_candidates": result.unverified,
        "reported_pairs": len(result.pairs),
        "clusters": len(result.clusters),
        f"top_{EVIDENCE_PAIRS}_with_fragments": sum(1 for p in top if p.fragments),
    }


def _peak_since(before_mb: float | None) -> float | None:
    peak = peak_rss_mib()
    return peak if peak is None or before_mb is None else max(peak, before_mb)


def measure_scan(folder: Path, triton: server.TritonProcess, args) -> dict:
    """One scan of ``folder`` with its outputs, timed and its memory sampled."""
    url = triton.http_url if args.protocol == "http" else triton.grpc_url
    with CloneDetectorClient(url, protocol=args.protocol, timeout=600) as client:
        backend = TimedBackend(client)
        before_mb = peak_rss_mib(reset=True)
        with PeakSampler(triton.process.pid) as server_memory:
            started = time.perf_counter()
            result = scan(backend, [folder], max_verified=args.max_verified)
            scanned = time.perf_counter()
            outputs = write_outputs(result, folder.parent)
            finished = time.perf_counter()
    return {
        "wall_s": round(finished - started, 2),
        "phases": {**backend.phases(started, scanned), "report_s": outputs.pop("report_s")},
        "client_rss_before_mb": before_mb,
        "client_peak_rss_mb": _peak_since(before_mb),
        "tritonserver_peak_rss_mb": round(server_memory.peak_mb, 1),
        **result_counts(result),
        **outputs,
    }


def measure_size(count: int, args, scratch: Path) -> dict:
    """Both tools on the same ``count`` files; the ratio of their wall times."""
    folder = scratch / f"n{count}" / "submissions"
    folder.mkdir(parents=True)
    paths = write_submissions(pick_programs(count, args.seed), folder)
    started = time.perf_counter()
    with server.start_on_free_ports(log_path=folder.parent / "triton.log") as triton:
        startup_s = time.perf_counter() - started
        figures = {
            "files": count,
            "triton_startup_s": round(startup_s, 1),
            "clonedetect": measure_scan(folder, triton, args),
        }
    if args.dolos:
        figures["dolos"] = measure_dolos(paths, "cpp", args.dolos_heap_mb, args.dolos_timeout_s)
        if figures["dolos"].get("finished"):
            figures["dolos_over_clonedetect"] = round(figures["dolos"]["wall_s"] / figures["clonedetect"]["wall_s"], 1)
    return figures


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m clonedetect.load_tests.scan_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sizes", default="1000,3000,10000", help="numbers of submissions, comma-separated")
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--protocol", choices=("http", "grpc"), default="http", help="as `clonedetect scan` (http)")
    parser.add_argument("--max-verified", type=int, default=ScanSettings.max_verified, help="0: verify every candidate")
    parser.add_argument("--no-dolos", dest="dolos", action="store_false", help="measure clonedetect only")
    parser.add_argument("--dolos-heap-mb", type=int, default=16384, help="Node's heap limit for Dolos")
    parser.add_argument("--dolos-timeout-s", type=float, default=600.0, help="Dolos's time limit per size")
    args = parser.parse_args(argv)
    args.max_verified = args.max_verified or None
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    figures = {"machine_cores": os.cpu_count(), "seed": args.seed, "protocol": args.protocol}
    figures.update(max_verified=args.max_verified, sizes=[])
    with tempfile.TemporaryDirectory(prefix="scan-bench-") as scratch:
        for count in (int(size) for size in args.sizes.split(",")):
            figures["sizes"].append(measure_size(count, args, Path(scratch)))
            print(json.dumps(figures["sizes"][-1]), flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
