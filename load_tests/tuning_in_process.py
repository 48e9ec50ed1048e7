"""The in-process tuning experiments, on onnxruntime directly: what padding buckets
would cost the stock ORT backend, ORT graph fusion and dynamic INT8, and ORT call
shapes, threads and spin-waiting. Runners take turns in slices (as the served runs
do), so background load falls on all of them alike."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from clonedetect import paths
from clonedetect.load_tests import payloads
from clonedetect.load_tests.bench_servers import encoder_settings


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

    settings = encoder_settings(repository)
    tokenizer = CodeTokenizer.from_file(paths.tokenizer_file(repository))
    encoder = OnnxEncoder(paths.encoder_file(repository), intra_op_threads=settings["intra_op_threads"])
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


def _fused_and_int8_models(model_path: Path, work: Path, num_heads: int, hidden_size: int) -> tuple[dict, dict]:
    """``model_path`` beside its onnxruntime.transformers fusion and their dynamic INT8
    quantisations (files in ``work``), by name; and the fused-operator counts."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    logging.getLogger().setLevel(logging.ERROR)  # the quantizer warns per tensor
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
    return variants, fused_ops


def _neighbours(e: np.ndarray) -> np.ndarray:
    """Each program's nearest other program."""
    similarities = e @ e.T
    np.fill_diagonal(similarities, -2)
    return similarities.argmax(axis=1)


def _batch_runner(encoder, ids: list, batch_size: int) -> Callable[[], int]:
    batches = _rotating_batches(ids, batch_size)

    def run() -> int:
        encoder.embed_sequences(next(batches))
        return batch_size

    return run


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
    from clonedetect.onnx_encoder import OnnxEncoder
    from clonedetect.preprocessing.tokenization import CodeTokenizer

    tokenizer = CodeTokenizer.from_file(tokenizer_path)
    ids = tokenizer.token_ids(list(payloads.load_corpus(corpus_size).programs))
    variants, fused_ops = _fused_and_int8_models(model_path, work, num_heads, hidden_size)
    encoders = {name: OnnxEncoder(path, intra_op_threads=intra) for name, path in variants.items()}
    reference = encoders["fp32_ort_all"].embed_sequences(ids)
    out = {"fused_operators": fused_ops}
    runners = {name: _batch_runner(e, ids, batch_size) for name, e in encoders.items()}
    measured = interleaved_throughput(runners, duration_s, slice_s)
    for name, encoder in encoders.items():
        embeddings = encoder.embed_sequences(ids)
        agreement = np.sum(embeddings * reference, axis=1)
        out[name] = {
            "file_mb": round(variants[name].stat().st_size / 2**20, 1),
            "throughput": round(measured[name], 2),
            "min_cosine_to_fp32": round(float(agreement.min()), 5),
            "mean_cosine_to_fp32": round(float(agreement.mean()), 5),
            "nearest_neighbour_agreement": round(float(np.mean(_neighbours(embeddings) == _neighbours(reference))), 4),
        }
    return out


def ort_call_shapes(repository: Path, duration_s: float = 6.0, corpus_size: int = 256, slice_s: float = 2.0) -> dict:
    """In-process: programs/s and programs per CPU-second for 32 waiting programs run as
    ORT calls of at most ``max_batch`` windows (``embed_sequences(max_batch=...)``),
    with 1 or 2 intra-op threads and ORT's spin-waiting on or off, or one program per
    call from 2 threads at once (what the per-request service does)."""
    import resource
    from concurrent.futures import ThreadPoolExecutor

    from clonedetect.onnx_encoder import OnnxEncoder
    from clonedetect.preprocessing.tokenization import CodeTokenizer

    model = paths.encoder_file(repository)
    tokenizer = CodeTokenizer.from_file(paths.tokenizer_file(repository))
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
