"""Measured tuning of the serving configuration (the numbers in docs/PERFORMANCE.md).

Every server variant is a temporary copy of the model repository with one change
(the shipped repository is never edited), served by the bundled Triton on free
loopback ports and driven by :mod:`~clonedetect.load_tests.loadgen` (separate
process, closed loop, one program per request). Variants run in groups: the
baseline and a few variants are up at once and measured interleaved (slices, taking
turns) in one load-generator run, so each row's ``throughput_vs_baseline`` compares
numbers taken under the same background load. In-process experiments (padding
buckets, ORT graph optimisation, INT8) use onnxruntime directly.

    python -m clonedetect.load_tests.tuning --json reports/tuning.json            # all
    python -m clonedetect.load_tests.tuning --json t.json --only baseline,encoder_delay_500

Each result row: variant, mode, concurrency, programs/s, p50/p99 ms, CPU split,
failures; cache variants add Triton's cache hit/miss counts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clonedetect.load_tests import bench, payloads
from clonedetect.load_tests.processes import process_tree_memory

ENCODER_BUNDLED = ("code_clone_detector", "configs", "bundled.pbtxt")
TOKENIZER = ("code_tokenizer", "config.pbtxt")
EMBED_ENSEMBLE = ("clone_embed", "config.pbtxt")


# -- pbtxt edits (on a copy) -----------------------------------------------------------
def _edit(repository: Path, parts: tuple[str, ...], change: Callable[[str], str]) -> None:
    path = repository.joinpath(*parts)
    before = path.read_text()
    after = change(before)
    if after == before:
        raise ValueError(f"edit of {'/'.join(parts)} changed nothing")
    path.write_text(after)


def set_instance_count(count: int, parts=ENCODER_BUNDLED):
    return lambda repo: _edit(
        repo, parts, lambda t: re.sub(r"(instance_group\s*\[\s*{\s*count:\s*)\d+", rf"\g<1>{count}", t)
    )


def set_parameter(key: str, value: int | str, parts=ENCODER_BUNDLED):
    return lambda repo: _edit(repo, parts, lambda t: bench.with_parameter(t, key, value))


def set_dynamic_batching(delay_us: int, preferred: tuple[int, ...] = (), parts=ENCODER_BUNDLED):
    block = "dynamic_batching {\n"
    if preferred:
        block += f"  preferred_batch_size: [ {', '.join(str(p) for p in preferred)} ]\n"
    block += f"  max_queue_delay_microseconds: {delay_us}\n}}"
    return lambda repo: _edit(repo, parts, lambda t: re.sub(r"dynamic_batching\s*{[^}]*}", block, t))


def remove_dynamic_batching(parts=ENCODER_BUNDLED):
    return lambda repo: _edit(repo, parts, lambda t: re.sub(r"dynamic_batching\s*{[^}]*}", "", t))


def disable_response_cache(parts: tuple[str, ...]):
    return lambda repo: _edit(repo, parts, lambda t: re.sub(r"response_cache\s*{\s*enable:\s*true\s*}", "", t))


NO_CACHE = [disable_response_cache(EMBED_ENSEMBLE)]


_ENCODER_PATCH = """
        # tuning copy: one more config parameter
        #   max_windows_per_call: encoder windows per ORT call (embed_sequences max_batch)
        self.max_windows = parameter("max_windows_per_call", 64)
"""


def patch_encoder_model():
    """Make the copy's encoder ``model.py`` honour ``max_windows_per_call``."""
    marker = "\n    def execute(self, requests):"

    def change(text: str) -> str:
        if "max_windows_per_call" in text:
            return text + "\n"  # already patched (the edit must change something)
        text = text.replace(marker, _ENCODER_PATCH + marker, 1)
        return text.replace(
            "self.encoder.embed_sequences(sequences)",
            "self.encoder.embed_sequences(sequences, max_batch=self.max_windows)",
        )

    return lambda repo: _edit(repo, ("code_clone_detector", "1", "model.py"), change)


def add_parameter(key: str, value, parts=ENCODER_BUNDLED):
    line = f'parameters {{ key: "{key}" value: {{ string_value: "{value}" }} }}\n'
    return lambda repo: _edit(repo, parts, lambda t: t + line)


def set_ort_spinning(on: bool):
    return set_parameter("allow_spinning", 1 if on else 0)


def max_windows_per_call(windows: int):
    return [patch_encoder_model(), add_parameter("max_windows_per_call", windows)]


def tuned_edits(
    instances: int = 2, intra: int = 1, spinning: bool = False, max_windows: int = 64, dynamic_batching: bool = False
) -> list:
    """Encoder settings; the defaults are the recommended ones (see docs/PERFORMANCE.md):
    one instance per core with one ORT thread each, ORT spin-waiting off, and no dynamic
    batching (one program per ORT call: larger calls are slower per program on CPU)."""
    edits = [set_instance_count(instances), set_parameter("intra_op_thread_count", intra), patch_encoder_model()]
    if spinning:
        edits.append(set_ort_spinning(True))
    edits.append(add_parameter("max_windows_per_call", max_windows))
    if not dynamic_batching:
        edits.append(remove_dynamic_batching())
    return edits


def tuned_repository(base: Path, target: Path, **settings) -> Path:
    """A copy of ``base`` with :func:`tuned_edits` applied (for ``bench --model-repository``)."""
    repository = bench.copy_repository(base, target)
    for edit in tuned_edits(**settings):
        edit(repository)
    return repository


@dataclass
class Variant:
    name: str
    description: str
    edits: list[Callable[[Path], None]] = field(default_factory=list)
    triton_args: tuple[str, ...] = ()
    modes: tuple[str, ...] = ("triton_grpc",)
    loadgen: dict = field(default_factory=dict)  # extra load generator options
    cache_models: tuple[str, ...] = ()


VARIANTS = [  # in groups of 3 after the baseline (see run_tuning): related variants share a run
    Variant(
        "baseline",
        "shipped bundled config: 1 tokenizer, 1 encoder (2 ORT threads, spin-waiting off), no queue delay, "
        "response cache on clone_embed",
        modes=("triton_grpc", "triton_http"),
        loadgen={"unique": True},
    ),
    Variant(
        "http_json",
        "HTTP with JSON tensors instead of the binary extension",
        modes=("triton_http",),
        loadgen={"http_binary": False, "unique": True},
    ),
    Variant("tokenizer_x2", "2 tokenizer instances", [set_instance_count(2, TOKENIZER)], loadgen={"unique": True}),
    Variant(
        "tokenizer_pad_1",
        "tokenizer pads to the request's longest program only (pad_to_multiple_of 1)",
        [set_parameter("pad_to_multiple_of", 1, TOKENIZER)],
        loadgen={"unique": True},
    ),
    Variant(
        "intra1",
        "1 encoder instance, 1 ORT intra-op thread",
        [set_parameter("intra_op_thread_count", 1)],
        loadgen={"unique": True},
    ),
    Variant(
        "intra0",
        "1 encoder instance, ORT default intra-op threads (one per core)",
        [set_parameter("intra_op_thread_count", 0)],
        loadgen={"unique": True},
    ),
    Variant(
        "inter2",
        "ORT inter-op threads 2 (parallel graph branches)",
        [set_parameter("inter_op_thread_count", 2)],
        loadgen={"unique": True},
    ),
    Variant(
        "encoder_x2_intra1",
        "2 encoder instances, 1 ORT thread each",
        [set_instance_count(2), set_parameter("intra_op_thread_count", 1)],
        loadgen={"unique": True},
    ),
    Variant(
        "encoder_x2_intra2",
        "2 encoder instances, 2 ORT threads each (4 threads on 2 cores)",
        [set_instance_count(2)],
        loadgen={"unique": True},
    ),
    Variant(
        "spin", "ORT spin-waiting on (the ORT default), 2 threads", [set_ort_spinning(True)], loadgen={"unique": True}
    ),
    Variant(
        "spin_intra1",
        "ORT spin-waiting on, 1 thread",
        [set_ort_spinning(True), set_parameter("intra_op_thread_count", 1)],
        loadgen={"unique": True},
    ),
    Variant(
        "max_windows_16",
        "at most 16 windows (4096 tokens) per ORT call",
        max_windows_per_call(16),
        loadgen={"unique": True},
    ),
    Variant("max_windows_4", "at most 4 windows per ORT call", max_windows_per_call(4), loadgen={"unique": True}),
    Variant(
        "tuned_no_batching",
        "shared cores: 2 encoder instances x 1 thread, no dynamic batching",
        tuned_edits(),
        loadgen={"unique": True},
    ),
    Variant(
        "no_dynamic_batching",
        "shipped threads (1 instance x 2), no dynamic batching on the encoder",
        [remove_dynamic_batching()],
        loadgen={"unique": True},
    ),
    Variant(
        "encoder_delay_500", "encoder max_queue_delay 500 us", [set_dynamic_batching(500)], loadgen={"unique": True}
    ),
    Variant(
        "encoder_delay_2000", "encoder max_queue_delay 2000 us", [set_dynamic_batching(2000)], loadgen={"unique": True}
    ),
    Variant(
        "encoder_preferred_8_16_delay_1000",
        "encoder preferred batch [8, 16], delay 1000 us",
        [set_dynamic_batching(1000, (8, 16))],
        loadgen={"unique": True},
    ),
    Variant(
        "encoder_preferred_16_32_delay_1000",
        "encoder preferred batch [16, 32], delay 1000 us",
        [set_dynamic_batching(1000, (16, 32))],
        loadgen={"unique": True},
    ),
    Variant(
        "cache_repeated",
        "shipped caches, the same 32 distinct programs resubmitted",
        loadgen={"distinct_programs": 32},
        cache_models=("clone_embed",),
    ),
    Variant(
        "no_cache_repeated",
        "no response cache, the same 32 distinct programs resubmitted",
        NO_CACHE,
        loadgen={"distinct_programs": 32},
    ),
    Variant("no_cache_unique", "no response cache, every request a new program", NO_CACHE, loadgen={"unique": True}),
]


def model_statistics(http_url: str, model: str) -> dict:
    with urllib.request.urlopen(f"http://{http_url}/v2/models/{model}/stats", timeout=10) as reply:
        stats = json.loads(reply.read())["model_stats"][0]["inference_stats"]
    return {
        "success": stats["success"]["count"],
        "cache_hit": stats.get("cache_hit", {}).get("count", 0),
        "cache_miss": stats.get("cache_miss", {}).get("count", 0),
    }


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
    servers = {}
    try:
        for variant in variants:
            repository = bench.copy_repository(base, work / f"repo-{tag}-{variant.name}")
            for edit in variant.edits:
                edit(repository)
            log_dir = work / f"log-{tag}-{variant.name}"
            log_dir.mkdir()
            servers[variant.name] = bench.start_triton(repository, log_dir, variant.triton_args)
        rows = []
        for concurrency in concurrencies:
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
            stats_before = {
                (v.name, m): model_statistics(servers[v.name].http_url, m) for v in variants for m in v.cache_models
            }
            measured = bench.measure_interleaved(
                targets, concurrency, duration_s, warmup_s, slice_s, corpus_size, work, f"{tag}-c{concurrency}"
            )
            stats_after = {
                (v.name, m): model_statistics(servers[v.name].http_url, m) for v in variants for m in v.cache_models
            }
            baseline = {mode: r for (v, mode), r in zip(keys, measured, strict=True) if v.name == "baseline"}
            for (variant, mode), result in zip(keys, measured, strict=True):
                row = {
                    "group": tag,
                    "variant": variant.name,
                    "description": variant.description,
                    "mode": mode,
                    "concurrency": concurrency,
                    **result,
                }
                reference = baseline.get(mode) or baseline.get("triton_grpc")
                if reference and reference["throughput"] > 0:
                    row["throughput_vs_baseline"] = round(result["throughput"] / reference["throughput"], 3)
                    row["p50_ms_minus_baseline"] = round(result["p50_ms"] - reference["p50_ms"], 2)
                if variant.cache_models:
                    row["cache"] = {
                        m: {
                            k: stats_after[(variant.name, m)][k] - stats_before[(variant.name, m)][k]
                            for k in ("cache_hit", "cache_miss")
                        }
                        for m in variant.cache_models
                    }
                rows.append(row)
                log(
                    f"  {variant.name:<36} {mode:<12} c={concurrency:<3} {row['throughput']:8.1f}/s "
                    f"p50 {row['p50_ms']:7.1f} p99 {row['p99_ms']:7.1f} "
                    f"x{row.get('throughput_vs_baseline', float('nan')):.2f} fails {row['failures']}"
                    + (f" cache {row['cache']}" if "cache" in row else "")
                )
        for variant in variants:
            memory = process_tree_memory(servers[variant.name].process.pid)
            for row in rows:
                if row["variant"] == variant.name and row["group"] == tag:
                    row["server_rss_mb"] = memory["total_rss_mb"]
        return rows
    finally:
        for triton in servers.values():
            triton.stop()


# -- in-process experiments ------------------------------------------------------------------
def _rotating_batches(ids: list, size: int):
    """Endless batches of ``size`` sequences, going round ``ids`` in order."""
    position = 0
    while True:
        yield [ids[(position + i) % len(ids)] for i in range(size)]
        position += size


def interleaved_throughput(
    runners: dict[str, Callable[[], int]], seconds_each: float, slice_s: float = 2.0
) -> dict[str, float]:
    """Programs/s of each runner (a call does some work and returns how many programs),
    about ``seconds_each`` seconds each, in turns of ``slice_s`` so that background load
    falls on all alike."""
    for run in runners.values():
        run()  # warm
    done = dict.fromkeys(runners, 0)
    spent = dict.fromkeys(runners, 0.0)
    rounds = max(1, round(seconds_each / slice_s))
    names = list(runners)
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            while time.perf_counter() - started < slice_s:
                done[name] += runners[name]()
            spent[name] += time.perf_counter() - started
    return {name: done[name] / spent[name] for name in names}


def padding_buckets(repository: Path, duration_s: float = 5.0, corpus_size: int = 256, concurrency: int = 32) -> dict:
    """What the stock ORT backend (equal shapes only) would batch: ``concurrency`` waiting
    requests, each padded to a multiple of ``bucket`` tokens, merge only with requests
    of the same padded length (one ORT call per distinct length)."""
    from clonedetect.onnx_encoder import OnnxEncoder
    from clonedetect.preprocessing.tokenization import CodeTokenizer, pad_batch

    settings = bench.encoder_settings(repository)
    tokenizer = CodeTokenizer.from_file(repository / "code_tokenizer" / "1" / "tokenizer.json")
    encoder = OnnxEncoder(
        repository / "code_clone_detector" / "1" / "model.onnx", intra_op_threads=settings["intra_op_threads"]
    )
    ids = tokenizer.token_ids(list(payloads.load_corpus(corpus_size).programs))
    runners, calls = {}, {}

    def bucketed(bucket: int) -> Callable[[], int]:
        batches = _rotating_batches(ids, concurrency)

        def run() -> int:
            waiting = next(batches)
            groups = defaultdict(list)
            for sequence in waiting:
                groups[-(-len(sequence) // bucket) * bucket].append(sequence)
            for length, members in groups.items():  # one ORT call per distinct padded shape
                for start in range(0, len(members), 64):
                    encoder.embed(*pad_batch(members[start : start + 64], length))
            return concurrency

        return run

    for bucket in (1, 64, 256, 512):
        runners[f"pad_to_{bucket}"] = bucketed(bucket)
        shapes = [
            len({-(-len(s) // bucket) * bucket for s in ids[i : i + concurrency]})
            for i in range(0, len(ids) - concurrency + 1, concurrency)
        ]
        calls[f"pad_to_{bucket}"] = round(float(np.mean(shapes)), 2)
    ragged_batches = _rotating_batches(ids, concurrency)

    def ragged() -> int:  # the bundled model.py: unpad, group by window count
        encoder.embed_sequences(next(ragged_batches))
        return concurrency

    runners["ragged_window_groups"] = ragged
    calls["ragged_window_groups"] = None
    measured = interleaved_throughput(runners, duration_s)
    return {name: {"throughput": round(measured[name], 2), "ort_shapes_per_batch": calls[name]} for name in runners}


def graph_and_int8(
    model_path: Path,
    tokenizer_path: Path,
    work: Path,
    intra: int = 2,
    duration_s: float = 8.0,
    corpus_size: int = 128,
    batch_size: int = 32,
    num_heads: int = 4,
    hidden_size: int = 128,
    slice_s: float = 2.0,
) -> dict:
    """onnxruntime.transformers fusion and dynamic INT8 on ``model_path``: in-process
    throughput at ``batch_size``, fused-op counts, and agreement with the FP32 embeddings."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    from clonedetect.onnx_encoder import OnnxEncoder
    from clonedetect.preprocessing.tokenization import CodeTokenizer

    logging.getLogger().setLevel(logging.ERROR)  # the quantizer warns per tensor
    tokenizer = CodeTokenizer.from_file(tokenizer_path)
    ids = tokenizer.token_ids(list(payloads.load_corpus(corpus_size).programs))
    variants = {"fp32_ort_all": model_path}
    fused = work / f"{model_path.stem}-fused.onnx"
    optimized = optimizer.optimize_model(
        str(model_path), model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=1
    )
    optimized.save_model_to_file(str(fused))
    variants["fp32_transformers_fused"] = fused
    fused_ops = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
    int8 = work / f"{model_path.stem}-int8.onnx"
    quantize_dynamic(str(model_path), str(int8), weight_type=QuantType.QInt8)
    variants["int8_dynamic"] = int8
    int8_fused = work / f"{model_path.stem}-fused-int8.onnx"
    quantize_dynamic(
        str(fused),
        str(int8_fused),
        weight_type=QuantType.QInt8,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # fused ops are outside shape inference
    )
    variants["int8_dynamic_fused"] = int8_fused

    def neighbours(e: np.ndarray) -> np.ndarray:  # each program's nearest other program
        similarities = e @ e.T
        np.fill_diagonal(similarities, -2)
        return similarities.argmax(axis=1)

    encoders = {name: OnnxEncoder(path, intra_op_threads=intra) for name, path in variants.items()}
    reference = encoders["fp32_ort_all"].embed_sequences(ids)
    out = {"fused_operators": fused_ops}

    def runner(encoder) -> Callable[[], int]:
        batches = _rotating_batches(ids, batch_size)

        def run() -> int:
            encoder.embed_sequences(next(batches))
            return batch_size

        return run

    measured = interleaved_throughput({name: runner(e) for name, e in encoders.items()}, duration_s, slice_s)
    for name, encoder in encoders.items():
        embeddings = encoder.embed_sequences(ids)
        agreement = np.sum(embeddings * reference, axis=1)
        out[name] = {
            "file_mb": round(variants[name].stat().st_size / 2**20, 1),
            "throughput": round(measured[name], 2),
            "min_cosine_to_fp32": round(float(agreement.min()), 5),
            "mean_cosine_to_fp32": round(float(agreement.mean()), 5),
            "nearest_neighbour_agreement": round(float(np.mean(neighbours(embeddings) == neighbours(reference))), 4),
        }
    return out


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
    from clonedetect import server

    base = Path(model_repository) if model_repository else server.MODEL_REPOSITORY
    json_path = Path(json_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "machine": bench.machine_info(),
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
    with tempfile.TemporaryDirectory(prefix="clonedetect-tuning-") as temp:
        work = Path(temp)
        for index in range(0, len(chosen), group_size - 1):
            group = [VARIANTS[0], *chosen[index : index + group_size - 1]]  # the baseline is in every group
            log(f"group {index // (group_size - 1) + 1}: {', '.join(v.name for v in group)}")
            report["rows"].extend(
                run_group(
                    group,
                    base,
                    concurrencies,
                    duration_s,
                    warmup_s,
                    slice_s,
                    corpus_size,
                    work,
                    f"g{index // (group_size - 1) + 1}",
                    log,
                )
            )
            json_path.write_text(json.dumps(report, indent=2, default=float) + "\n")
        if in_process and (not only or "padding" in only):
            report["padding_buckets"] = padding_buckets(base)
            log(f"  padding buckets: {report['padding_buckets']}")
            json_path.write_text(json.dumps(report, indent=2, default=float) + "\n")
        if in_process and (not only or "ort_shapes" in only):
            report["ort_call_shapes"] = ort_call_shapes(base)
            log(f"  ORT call shapes / threads / spinning: {report['ort_call_shapes']}")
            json_path.write_text(json.dumps(report, indent=2, default=float) + "\n")
        if in_process and (not only or "graph" in only):
            report["graph_int8"] = {
                "shipped": graph_and_int8(
                    base / "code_clone_detector" / "1" / "model.onnx",
                    base / "code_tokenizer" / "1" / "tokenizer.json",
                    work,
                )
            }
            log(f"  graph/int8 shipped: {report['graph_int8']['shipped']}")
            if bert_model == "build":
                bert_model = (
                    bench.build_bert_base_repository(work / "bert", base) / "code_clone_detector" / "1" / "model.onnx"
                )
            if bert_model:
                report["graph_int8"]["bert_base"] = graph_and_int8(
                    Path(bert_model),
                    base / "code_tokenizer" / "1" / "tokenizer.json",
                    work,
                    num_heads=12,
                    hidden_size=768,
                    duration_s=12.0,
                    corpus_size=16,
                    batch_size=4,
                    slice_s=6.0,
                )
                log(f"  graph/int8 bert-base: {report['graph_int8']['bert_base']}")
    report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    json_path.write_text(json.dumps(report, indent=2, default=float) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
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
    args = parser.parse_args(argv)
    if args.write_tuned_repository:
        from clonedetect import server

        print(tuned_repository(args.model_repository or server.MODEL_REPOSITORY, args.write_tuned_repository))
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


def ort_call_shapes(repository: Path, duration_s: float = 6.0, corpus_size: int = 256, slice_s: float = 2.0) -> dict:
    """In-process: programs/s and programs per CPU-second for 32 waiting programs run as
    ORT calls of at most ``max_batch`` windows (``embed_sequences(max_batch=...)``),
    with 1 or 2 intra-op threads and ORT's spin-waiting on or off, or one program per
    call from 2 threads at once (what the per-request service does)."""
    import resource
    from concurrent.futures import ThreadPoolExecutor

    from clonedetect.onnx_encoder import OnnxEncoder
    from clonedetect.preprocessing.tokenization import CodeTokenizer

    model = repository / "code_clone_detector" / "1" / "model.onnx"
    tokenizer = CodeTokenizer.from_file(repository / "code_tokenizer" / "1" / "tokenizer.json")
    ids = tokenizer.token_ids(list(payloads.load_corpus(corpus_size).programs))

    encoders = {(t, s): OnnxEncoder(model, intra_op_threads=t, allow_spinning=s) for t in (1, 2) for s in (True, False)}
    pool = ThreadPoolExecutor(2)
    cpu_used: dict[str, float] = defaultdict(float)
    done: dict[str, int] = defaultdict(int)

    def runner(name: str, work: Callable[[list], None]) -> Callable[[], int]:
        batches = _rotating_batches(ids, 32)

        def run() -> int:
            batch = next(batches)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            work(batch)
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu_used[name] += (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
            done[name] += 32
            return 32

        return run

    runners = {}
    for threads in (1, 2):
        for spinning in (True, False):
            e = encoders[(threads, spinning)]
            for max_batch in (4, 16, 64):
                name = f"intra{threads}_{'spin' if spinning else 'nospin'}_maxbatch{max_batch}"
                runners[name] = runner(name, lambda batch, e=e, m=max_batch: e.embed_sequences(batch, max_batch=m))
    for spinning in (True, False):
        e = encoders[(1, spinning)]
        name = f"two_threads_x_intra1_{'spin' if spinning else 'nospin'}_one_program_per_call"
        runners[name] = runner(name, lambda batch, e=e: list(pool.map(lambda s: e.embed_sequences([s]), batch)))
    measured = interleaved_throughput(runners, duration_s, slice_s)
    pool.shutdown()
    return {
        name: {
            "throughput": round(rate, 2),
            "programs_per_cpu_second": round(done[name] / max(cpu_used[name], 1e-9), 2),
        }
        for name, rate in measured.items()
    }


if __name__ == "__main__":
    sys.exit(main())
