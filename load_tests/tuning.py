"""Measured tuning of the serving configuration (the numbers in docs/PERFORMANCE.md).

Every server variant (:mod:`~clonedetect.load_tests.tuning_variants`) is a temporary
copy of the model repository with one change (:mod:`~clonedetect.load_tests.tuning_edits`;
the shipped repository is never edited), served by the bundled Triton on free
loopback ports and driven by :mod:`~clonedetect.load_tests.loadgen` (separate
process, closed loop, one program per request). Variants run in groups
(:mod:`~clonedetect.load_tests.tuning_served`): the baseline and a few variants are
up at once and measured interleaved (slices, taking turns) in one load-generator
run, so each row's ``throughput_vs_baseline`` compares numbers taken under the same
background load. In-process experiments (padding buckets, ORT call shapes, ORT graph
optimisation, INT8; :mod:`~clonedetect.load_tests.tuning_in_process`) use
onnxruntime directly.

    python -m clonedetect.load_tests.tuning --json reports/tuning.json            # all
    python -m clonedetect.load_tests.tuning --json t.json --only baseline,encoder_delay_500
    python -m clonedetect.load_tests.tuning --write-tuned-repository reports/tuned_repo

Each result row: variant, mode, concurrency, programs/s, p50/p99 ms, CPU split,
failures; cache variants add Triton's cache hit/miss counts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from clonedetect import paths
from clonedetect.load_tests.bench_servers import build_bert_base_repository, machine_info
from clonedetect.load_tests.tuning_edits import tuned_repository
from clonedetect.load_tests.tuning_in_process import graph_and_int8, ort_call_shapes, padding_buckets
from clonedetect.load_tests.tuning_served import run_group
from clonedetect.load_tests.tuning_variants import VARIANTS


def _write(report: dict, json_path: Path) -> None:
    json_path.write_text(json.dumps(report, indent=2, default=float) + "\n")


def _run_groups(report: dict, chosen: list, base: Path, measure: dict, group_size: int, work: Path, json_path, log):
    """The chosen variants in groups of ``group_size - 1``, each beside the baseline."""
    for index in range(0, len(chosen), group_size - 1):
        number = index // (group_size - 1) + 1
        group = [VARIANTS[0], *chosen[index : index + group_size - 1]]  # the baseline is in every group
        log(f"group {number}: {', '.join(v.name for v in group)}")
        report["rows"].extend(run_group(group, base, **measure, work=work, tag=f"g{number}", log=log))
        _write(report, json_path)


def _graph_and_int8(base: Path, bert_model, work: Path, log) -> dict:
    """Fusion and INT8 on the shipped encoder, and on a BERT-base-sized one if asked."""
    tokenizer = paths.tokenizer_file(base)
    section = {"shipped": graph_and_int8(paths.encoder_file(base), tokenizer, work)}
    log(f"  graph/int8 shipped: {section['shipped']}")
    if bert_model == "build":
        bert_model = paths.encoder_file(build_bert_base_repository(work / "bert", base))
    if bert_model:
        section["bert_base"] = graph_and_int8(
            Path(bert_model),
            tokenizer,
            work,
            num_heads=12,
            hidden_size=768,
            duration_s=12.0,
            corpus_size=16,
            batch_size=4,
            slice_s=6.0,
        )
        log(f"  graph/int8 bert-base: {section['bert_base']}")
    return section


def _run_in_process(report: dict, only: tuple[str, ...], base: Path, bert_model, work: Path, json_path, log):
    if not only or "padding" in only:
        report["padding_buckets"] = padding_buckets(base)
        log(f"  padding buckets: {report['padding_buckets']}")
        _write(report, json_path)
    if not only or "ort_shapes" in only:
        report["ort_call_shapes"] = ort_call_shapes(base)
        log(f"  ORT call shapes / threads / spinning: {report['ort_call_shapes']}")
        _write(report, json_path)
    if not only or "graph" in only:
        report["graph_int8"] = _graph_and_int8(base, bert_model, work, log)


def run_tuning(
    json_path: str | Path,
    only: tuple[str, ...] = (),
    concurrencies=(1, 32),
    duration_s: float = 10.0,
    warmup_s: float = 2.0,
    corpus_size: int = 256,
    in_process: bool = True,
    bert_model: Path | str | None = None,
    model_repository: Path | None = None,
    group_size: int = 4,
    slice_s: float = 2.0,
    log=print,
) -> dict:
    base = Path(model_repository) if model_repository else paths.MODEL_REPOSITORY
    json_path = Path(json_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "machine": machine_info(),
        "settings": {
            "concurrencies": list(concurrencies),
            "duration_s": duration_s,
            "slice_s": slice_s,
            "corpus_size": corpus_size,
            "group_size": group_size,
        },
        "rows": [],
    }
    chosen = [v for v in VARIANTS[1:] if not only or v.name in only]
    measure = {
        "concurrencies": concurrencies,
        "duration_s": duration_s,
        "warmup_s": warmup_s,
        "slice_s": slice_s,
        "corpus_size": corpus_size,
    }
    with tempfile.TemporaryDirectory(prefix="clonedetect-tuning-") as temp:
        work = Path(temp)
        _run_groups(report, chosen, base, measure, group_size, work, json_path, log)
        if in_process:
            _run_in_process(report, only, base, bert_model, work, json_path, log)
    report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    _write(report, json_path)
    return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m clonedetect.load_tests.tuning", description="Measured tuning runs."
    )
    parser.add_argument("--json", help="write the tuning results here")
    parser.add_argument(
        "--write-tuned-repository",
        type=Path,
        metavar="DIR",
        help="only write a copy of the repository with the recommended encoder settings to DIR "
        "(for bench --model-repository)",
    )
    parser.add_argument(
        "--only", default="", help="comma list of variant names (and/or 'padding', 'ort_shapes', 'graph')"
    )
    parser.add_argument("--concurrency", default="1,32")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--corpus-size", type=int, default=256)
    parser.add_argument("--no-in-process", action="store_true")
    parser.add_argument(
        "--bert-model", help="a BERT-base-sized ONNX for the graph/INT8 runs, or 'build' to build one (needs torch)"
    )
    parser.add_argument("--model-repository", type=Path)
    parser.add_argument(
        "--group-size", type=int, default=4, help="servers measured together (the baseline + N-1 variants)"
    )
    parser.add_argument("--slice", type=float, default=2.0)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.write_tuned_repository:
        print(tuned_repository(args.model_repository or paths.MODEL_REPOSITORY, args.write_tuned_repository))
        return 0
    if not args.json:
        parser.error("--json is required")
    run_tuning(
        args.json,
        tuple(x for x in args.only.split(",") if x),
        tuple(int(c) for c in args.concurrency.split(",")),
        args.duration,
        args.warmup,
        args.corpus_size,
        not args.no_in_process,
        args.bert_model,
        args.model_repository,
        group_size=args.group_size,
        slice_s=args.slice,
        log=lambda *a: print(*a, flush=True),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
