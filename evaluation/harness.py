"""The evaluation harness: model vs baselines on plagiarism, POJ-104, BigCloneBench; INT8.

    from clonedetect.evaluation.harness import run_evaluation
    results = run_evaluation("eval-out", model_onnx, tokenizer_json, calibration_json, literal_rarity_json)

or ``python -m clonedetect.evaluation.harness OUTPUT_DIR [--model ...] [--quick]``.

The report starts with real plagiarism (:mod:`clonedetect.evaluation.soco`: all pairs of
the SOCO 2014 training set; model, winnowing, Dolos and TF-IDF). Every other figure is
computed for the model and, on the same pairs in the same run, for two baselines: token
1-3-gram TF-IDF cosine (:mod:`clonedetect.evaluation.baselines`, fitted on the programs
of the pair set being scored) and winnowing fingerprints (:mod:`clonedetect.evaluation.winnowing`,
the ``copydetect`` library).

Writes ``evaluation.json``, ``evaluation.md`` and ``roc_by_level.png`` to the output
folder (and ``model.int8.onnx`` when the INT8 comparison runs).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from clonedetect import paths
from clonedetect.evaluation import bigclonebench as bcb
from clonedetect.evaluation import plagiarism, report, soco
from clonedetect.evaluation.calibration_metrics import (
    expected_calibration_error,
    reliability_bins,
    roc_auc,
    threshold_metrics,
)
from clonedetect.evaluation.served_scoring import ServedScoring
from clonedetect.scoring import Calibration

METHODS = ("model", "tfidf", "winnowing")
# The synthetic levels also score the verification stage's two scores and the served
# probability (the cosine and both scores through the calibration).
PLAGIARISM_METHODS = ("probability", "model", "verification", "literals", "tfidf", "winnowing")
INT8_AUC_TOLERANCE = 0.01
# copydetect hashes k-grams with Python's hash(), which every process salts differently
# unless PYTHONHASHSEED is set: `clonedetect evaluate` runs with this value so the
# winnowing figures are the same in every run.
WINNOWING_HASH_SEED = "0"


@dataclass(frozen=True)
class EvalConfig:
    """Sample sizes and switches; :data:`FULL` (about 10 min on 2 cores) and :data:`QUICK` (tests)."""

    originals: dict = field(default_factory=lambda: {"cpp": 300, "java": 300, "python": 300})
    negatives_per_original: int = 2
    max_chars: int = 20_000  # Java / Python programs larger than this are not sampled
    map_programs_per_problem: int | None = 250  # POJ-104 valid has 500 per problem; None = all
    bcb_pairs_per_type: int | None = 300
    bcb_scope: str = "held_out"
    ece_bins: int = 10
    int8: bool = True
    int8_bigclonebench: bool = True  # also compare FP32 / INT8 AUC on the BigCloneBench pairs
    speed_batch: int = 32
    speed_repeats: int = 15
    speed_warmup: int = 2
    threads: int = 0  # onnxruntime intra-op threads for every session; 0 = min(4, CPUs)
    use_cache: bool = True
    soco_subset: bool = False  # real plagiarism on a few SOCO files (quick mode) instead of all


FULL = EvalConfig()
QUICK = EvalConfig(
    originals={"cpp": 8, "java": 6, "python": 4},
    negatives_per_original=1,
    max_chars=6_000,
    map_programs_per_problem=5,
    bcb_pairs_per_type=6,
    speed_repeats=1,
    speed_warmup=1,
    soco_subset=True,
)


# --------------------------------------------------------------------------- scorers


class ModelScorer:
    """The ONNX encoder in-process, with every distinct program embedded once per run."""

    def __init__(self, model_onnx: Path | str, tokenizer, threads: int):
        from clonedetect.onnx_encoder import OnnxEncoder

        self.encoder = OnnxEncoder(model_onnx, intra_op_threads=threads, inter_op_threads=1)
        self.tokenizer = tokenizer
        self._cache: dict[str, np.ndarray] = {}
        self.embed_seconds = 0.0

    @staticmethod
    def _key(code: str) -> str:
        return hashlib.sha1(code.encode("utf-8", "surrogatepass")).hexdigest()

    def embed(self, codes: Sequence[str]) -> np.ndarray:
        keys = [self._key(c) for c in codes]
        missing: dict[str, str] = {}
        for key, code in zip(keys, codes, strict=True):
            if key not in self._cache and key not in missing:
                missing[key] = code
        if missing:
            start = time.perf_counter()
            ids = self.tokenizer.token_ids(list(missing.values()))
            vectors = self.encoder.embed_sequences(ids)
            self.embed_seconds += time.perf_counter() - start
            for key, vector in zip(missing, vectors, strict=True):
                self._cache[key] = vector
        return np.stack([self._cache[k] for k in keys]) if keys else np.empty((0, self.encoder.dim), np.float32)

    def pair_similarities(self, codes_a: Sequence[str], codes_b: Sequence[str]) -> np.ndarray:
        from clonedetect.scoring import cosine_similarity

        self.embed(list(codes_a) + list(codes_b))  # one pass, grouped by length
        return cosine_similarity(self.embed(codes_a), self.embed(codes_b)).astype(np.float64)


def tfidf_pair_similarities(codes_a: Sequence[str], codes_b: Sequence[str]) -> np.ndarray:
    """TF-IDF 1-3-gram cosine of each pair, the vectoriser fitted on the pairs' distinct programs."""
    from clonedetect.evaluation.baselines import tfidf_embeddings

    unique = list(dict.fromkeys([*codes_a, *codes_b]))
    index = {code: i for i, code in enumerate(unique)}
    try:
        matrix = tfidf_embeddings(unique)
    except ValueError:  # a tiny set where no n-gram occurs twice
        matrix = tfidf_embeddings(unique, min_df=1)
    a = matrix[[index[c] for c in codes_a]]
    b = matrix[[index[c] for c in codes_b]]
    return np.asarray(a.multiply(b).sum(axis=1)).reshape(-1).astype(np.float64)


def winnowing_pair_similarities(codes_a: Sequence[str], codes_b: Sequence[str], language: str) -> np.ndarray:
    from clonedetect.evaluation.winnowing import winnowing_pair_similarities as similarities

    return similarities(codes_a, codes_b, language)


def auc_by_level(
    labels: np.ndarray, levels: np.ndarray, scores: np.ndarray, level_range=plagiarism.LEVEL_RANGE
) -> dict:
    """ROC AUC of each level's positives against all negatives, and of everything together."""
    negatives = labels == 0
    out = {
        f"L{lv}": roc_auc(labels[negatives | (levels == lv)], scores[negatives | (levels == lv)]) for lv in level_range
    }
    out["overall"] = roc_auc(labels, scores)
    return out


# --------------------------------------------------------------------------- sections


def _plagiarism(
    config: EvalConfig, seed: int, model: ModelScorer, served: ServedScoring, log
) -> tuple[dict, dict, dict]:
    languages, curves, arrays = {}, {}, {}
    for language in plagiarism.LANGUAGES:
        start = time.perf_counter()
        pair_set = plagiarism.plagiarism_pairs(
            language,
            config.originals[language],
            config.negatives_per_original,
            seed,
            use_cache=config.use_cache,
            max_chars=config.max_chars,
        )
        built = time.perf_counter() - start
        pairs = pair_set.pairs
        codes_a, codes_b = [p.code_a for p in pairs], [p.code_b for p in pairs]
        labels = np.array([p.label for p in pairs], dtype=int)
        levels = np.array([p.level for p in pairs], dtype=int)
        scores = {
            "model": model.pair_similarities(codes_a, codes_b),
            **served.signals(codes_a, codes_b),
            "tfidf": tfidf_pair_similarities(codes_a, codes_b),
            "winnowing": winnowing_pair_similarities(codes_a, codes_b, language),
        }
        scores["probability"] = served.probability(scores["model"], scores)
        languages[language] = {
            **pair_set.stats,
            "auc": {m: auc_by_level(labels, levels, scores[m]) for m in PLAGIARISM_METHODS},
            "mean_similarity": {
                m: {
                    "positive": float(scores[m][labels == 1].mean()) if (labels == 1).any() else None,
                    "negative": float(scores[m][labels == 0].mean()) if (labels == 0).any() else None,
                }
                for m in PLAGIARISM_METHODS
            },
        }
        curves[language] = {m: (labels, levels, scores[m]) for m in PLAGIARISM_METHODS}
        arrays[language] = {
            "labels": labels,
            "levels": levels,
            "codes_a": codes_a,
            "codes_b": codes_b,
            "scores": scores,
        }
        log(
            f"plagiarism {language}: {len(pairs)} pairs ({pair_set.n_originals} originals), "
            f"variants {built:.1f}s, total {time.perf_counter() - start:.1f}s; "
            f"AUC model {languages[language]['auc']['model']['overall']:.3f} "
            f"tfidf {languages[language]['auc']['tfidf']['overall']:.3f} "
            f"winnowing {languages[language]['auc']['winnowing']['overall']:.3f}"
        )
    labels = np.concatenate([a["labels"] for a in arrays.values()])
    levels = np.concatenate([a["levels"] for a in arrays.values()])
    pooled = {
        m: auc_by_level(labels, levels, np.concatenate([a["scores"][m] for a in arrays.values()]))
        for m in PLAGIARISM_METHODS
    }
    section = {
        "methods": list(PLAGIARISM_METHODS),
        "levels": {f"L{k}": v for k, v in _level_names().items()},
        "languages": languages,
        "overall": {"auc": pooled, "n_pairs": int(len(labels)), "n_positives": int(labels.sum())},
    }
    return section, curves, arrays


def _level_names() -> dict:
    try:
        from clonedetect.obfuscation import LEVELS

        return dict(LEVELS)
    except ImportError:  # pragma: no cover
        return {}


def _map_at_r(config: EvalConfig, seed: int, model: ModelScorer, log) -> tuple[dict, list[str], list[str]]:
    import random

    from clonedetect import data
    from clonedetect.evaluation.baselines import tfidf_map_at_r
    from clonedetect.evaluation.map_at_r import map_at_r

    programs = data.poj104_programs("valid")
    if config.map_programs_per_problem is not None:
        by_problem: dict[str, list] = {}
        for p in programs:
            by_problem.setdefault(p.label, []).append(p)
        rng = random.Random(plagiarism.derived_seed(seed, "map-at-r"))
        programs = [
            p
            for label in sorted(by_problem, key=int)
            for p in sorted(
                rng.sample(by_problem[label], min(config.map_programs_per_problem, len(by_problem[label]))),
                key=lambda q: int(q.path.stem),
            )
        ]
    codes = [p.read() for p in programs]
    labels = [p.label for p in programs]
    start = time.perf_counter()
    model_map = map_at_r(model.embed(codes), labels)
    model_s = time.perf_counter() - start
    start = time.perf_counter()
    tfidf_map = tfidf_map_at_r(codes, labels)
    log(
        f"MAP@R on {len(codes)} POJ-104 valid programs: model {model_map:.4f} ({model_s:.0f}s), "
        f"tfidf {tfidf_map:.4f} ({time.perf_counter() - start:.0f}s)"
    )
    section = {
        "dataset": "POJ-104 valid split (problems 65-80)",
        "n_programs": len(codes),
        "n_problems": len(set(labels)),
        "programs_per_problem": config.map_programs_per_problem or "all",
        "model": model_map,
        "tfidf": tfidf_map,
    }
    return section, codes, labels


def _bigclonebench(config: EvalConfig, seed: int, model: ModelScorer, log) -> tuple[dict, dict]:
    pairs = bcb.bcb_pairs(config.bcb_pairs_per_type, seed, config.bcb_scope)
    codes_a, codes_b = [p.code_a for p in pairs], [p.code_b for p in pairs]
    types = np.array([p.clone_type for p in pairs], dtype=int)
    scores = {
        "model": model.pair_similarities(codes_a, codes_b),
        "tfidf": tfidf_pair_similarities(codes_a, codes_b),
        "winnowing": winnowing_pair_similarities(codes_a, codes_b, "java"),
    }
    section = {
        "scope": (
            "pairs whose two functions are both in the held-out slice"
            if config.bcb_scope == "held_out"
            else "all labelled pairs"
        ),
        "types": {bcb.TYPE_NAMES[t]: bcb.TYPE_DESCRIPTIONS[t] for t in bcb.TYPE_NAMES},
        "noisy_types": [bcb.TYPE_NAMES[t] for t in bcb.NOISY_TYPES],
        "methods": list(METHODS),
        "n_pairs": {
            **{bcb.TYPE_NAMES[t]: int((types == t).sum()) for t in bcb.TYPE_NAMES},
            "all_types": int((types != bcb.NON_CLONE_TYPE).sum()),
        },
        "auc": {m: _auc_by_type(types, scores[m]) for m in METHODS},
    }
    log(f"BigCloneBench: {len(pairs)} pairs; AUC model {section['auc']['model']}")
    return section, {"types": types, "codes_a": codes_a, "codes_b": codes_b, "scores": scores}


def _auc_by_type(types: np.ndarray, scores: np.ndarray) -> dict:
    negatives = types == bcb.NON_CLONE_TYPE
    out = {}
    for t in bcb.CLONE_TYPES:
        mask = negatives | (types == t)
        out[bcb.TYPE_NAMES[t]] = roc_auc((types[mask] != bcb.NON_CLONE_TYPE).astype(int), scores[mask])
    out["all_types"] = roc_auc((types != bcb.NON_CLONE_TYPE).astype(int), scores)
    return out


def _calibration(calibration: Calibration, arrays: dict, bins: int) -> dict:
    def part(labels, scores):
        probability = scores["probability"]
        return {
            "n_pairs": int(len(labels)),
            "positive_fraction": float(labels.mean()) if len(labels) else None,
            "ece": expected_calibration_error(labels, probability, bins),
            "at_threshold": threshold_metrics(labels, probability, calibration.threshold),
            "reliability": reliability_bins(labels, probability, bins),
        }

    labels = np.concatenate([a["labels"] for a in arrays.values()])
    pooled = {"probability": np.concatenate([a["scores"]["probability"] for a in arrays.values()])}
    return {
        "features": list(calibration.features),
        "weights": list(calibration.weights),
        "intercept": calibration.intercept,
        "threshold": calibration.threshold,
        "ece_bins": bins,
        "note": "ECE depends on the share of positives; here every original gives 6 positives (one per level).",
        **part(labels, pooled),
        "per_language": {lang: part(a["labels"], a["scores"]) for lang, a in arrays.items()},
    }


def speed_benchmark(
    fp32_onnx: Path | str,
    int8_onnx: Path | str,
    tokenizer,
    codes: Sequence[str],
    *,
    batch: int = 32,
    threads: int = 1,
    repeats: int = 15,
    warmup: int = 2,
) -> dict:
    """Median latency of one batch of the ``batch`` programs closest to the median token
    length of ``codes``, FP32 vs INT8, alternating the two sessions call by call."""
    from clonedetect.onnx_encoder import OnnxEncoder
    from clonedetect.preprocessing.tokenization import pad_batch

    ids = tokenizer.token_ids(list(codes))
    lengths = np.array([len(i) for i in ids])
    median = float(np.median(lengths))
    order = np.argsort(np.abs(lengths - median), kind="stable")[:batch]
    chosen = [ids[i] for i in order]
    while len(chosen) < batch:  # fewer programs than a batch: repeat them
        chosen.append(chosen[len(chosen) % len(order)])
    sessions = {
        "fp32": OnnxEncoder(fp32_onnx, intra_op_threads=threads, inter_op_threads=1),
        "int8": OnnxEncoder(int8_onnx, intra_op_threads=threads, inter_op_threads=1),
    }
    window = sessions["fp32"].window
    padded = -(-max(len(c) for c in chosen) // window) * window
    input_ids, mask = pad_batch(chosen, padded)
    times = {name: [] for name in sessions}
    for session in sessions.values():
        for _ in range(warmup):
            session.embed(input_ids, mask)
    for r in range(repeats):
        for name in ("fp32", "int8") if r % 2 == 0 else ("int8", "fp32"):
            start = time.perf_counter()
            sessions[name].embed(input_ids, mask)
            times[name].append(time.perf_counter() - start)
    fp32_ms = 1000 * float(np.median(times["fp32"]))
    int8_ms = 1000 * float(np.median(times["int8"]))
    return {
        "batch": batch,
        "threads": threads,
        "repeats": repeats,
        "median_tokens": median,
        "tokens_per_program": [int(lengths[order].min()), int(lengths[order].max())],
        "padded_tokens": int(padded),
        "fp32_ms": fp32_ms,
        "int8_ms": int8_ms,
        "fp32_min_ms": 1000 * min(times["fp32"]),
        "int8_min_ms": 1000 * min(times["int8"]),
        "speedup": fp32_ms / int8_ms,
        "programs_per_s": {"fp32": batch / fp32_ms * 1000, "int8": batch / int8_ms * 1000},
        "cpu": platform.processor() or platform.machine(),
    }


def _served_int8(model_onnx: Path | str, int8_path: Path) -> dict | None:
    """Whether the INT8 model measured here is the one served as the encoder's version 2
    (only asked when the evaluated model is the served FP32 version 1)."""
    from clonedetect import paths
    from clonedetect.client.protocol import ENSEMBLES

    int8 = paths.encoder_file(version=paths.INT8_VERSION)
    if Path(model_onnx).resolve() != paths.encoder_file().resolve():
        return None
    return {
        "model": paths.ENCODER_MODEL,
        "version": paths.INT8_VERSION,
        "ensembles": list(ENSEMBLES["int8"]),
        "identical_to_measured": int8.is_file() and int8.read_bytes() == int8_path.read_bytes(),
    }


def _int8(config, output_dir, model_onnx, model, tokenizer, arrays, bcb_arrays, map_codes, threads, log) -> dict:
    from clonedetect.training.quantization import quantization_summary, quantize_encoder

    start = time.perf_counter()
    int8_path = quantize_encoder(model_onnx, output_dir / paths.INT8_ENCODER_FILE)
    summary = quantization_summary(int8_path)
    quantized = ModelScorer(int8_path, tokenizer, threads)
    log(f"INT8: quantised in {time.perf_counter() - start:.1f}s")
    auc_fp32, auc_int8 = {}, {}
    all_codes = []
    labels_all, fp32_all, int8_all = [], [], []
    for language, a in arrays.items():
        sim8 = quantized.pair_similarities(a["codes_a"], a["codes_b"])
        auc_fp32[f"plagiarism_{language}"] = roc_auc(a["labels"], a["scores"]["model"])
        auc_int8[f"plagiarism_{language}"] = roc_auc(a["labels"], sim8)
        labels_all.append(a["labels"]), fp32_all.append(a["scores"]["model"]), int8_all.append(sim8)
        all_codes += a["codes_a"] + a["codes_b"]
    labels_all = np.concatenate(labels_all)
    auc_fp32["plagiarism_all"] = roc_auc(labels_all, np.concatenate(fp32_all))
    auc_int8["plagiarism_all"] = roc_auc(labels_all, np.concatenate(int8_all))
    if bcb_arrays is not None and config.int8_bigclonebench:
        sim8 = quantized.pair_similarities(bcb_arrays["codes_a"], bcb_arrays["codes_b"])
        for name, value in _auc_by_type(bcb_arrays["types"], bcb_arrays["scores"]["model"]).items():
            auc_fp32[f"bigclonebench_{name}"] = value
        for name, value in _auc_by_type(bcb_arrays["types"], sim8).items():
            auc_int8[f"bigclonebench_{name}"] = value
        all_codes += bcb_arrays["codes_a"] + bcb_arrays["codes_b"]
    change = {k: auc_int8[k] - auc_fp32[k] for k in auc_fp32}
    finite = [abs(v) for v in change.values() if np.isfinite(v)]
    unique = list(dict.fromkeys(all_codes))
    e32, e8 = model.embed(unique), quantized.embed(unique)
    cosine = (e32 * e8).sum(1) / np.maximum(np.linalg.norm(e32, axis=1) * np.linalg.norm(e8, axis=1), 1e-12)
    speed = speed_benchmark(
        model_onnx,
        int8_path,
        tokenizer,
        map_codes,
        batch=config.speed_batch,
        threads=threads,
        repeats=config.speed_repeats,
        warmup=config.speed_warmup,
    )
    log(
        f"INT8: max |AUC change| {max(finite) if finite else float('nan'):.4f}; "
        f"FP32 {speed['fp32_ms']:.0f} ms, INT8 {speed['int8_ms']:.0f} ms per batch of {speed['batch']} "
        f"(x{speed['speedup']:.2f})"
    )
    source_meta = report.to_jsonable(quantization_summary(model_onnx)["metadata"])
    return {
        "model_int8": _shown(int8_path),
        "served_as": _served_int8(model_onnx, int8_path),
        "method": "onnxruntime.quantization.quantize_dynamic, INT8 weights (MatMul incl. the Gemm, Gather), "
        "MatMulConstBOnly",
        "size_bytes": {"fp32": Path(model_onnx).stat().st_size, "int8": summary["file_bytes"]},
        "quantized_ops": summary["integer_ops"],
        "metadata_kept": all(summary["metadata"].get(k) == v for k, v in source_meta.items()),
        "auc": {"fp32": auc_fp32, "int8": auc_int8},
        "auc_change": change,
        "max_abs_auc_change": max(finite) if finite else None,
        "tolerance": INT8_AUC_TOLERANCE,
        "within_tolerance": bool(finite) and max(finite) <= INT8_AUC_TOLERANCE,
        "embedding_cosine": {"n_programs": len(unique), "min": float(cosine.min()), "mean": float(cosine.mean())},
        "speed": speed,
    }


# --------------------------------------------------------------------------- entry points


def _shown(path: Path | str) -> str:
    """``path`` as the report shows it: relative to the project when inside it, so a
    report committed to ``docs/`` names no folder of the machine that made it."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(paths.PROJECT_ROOT)) if resolved.is_relative_to(paths.PROJECT_ROOT) else str(path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_evaluation(
    output_dir: Path | str,
    model_onnx: Path | str,
    tokenizer_json: Path | str,
    calibration_json: Path | str,
    literal_rarity_json: Path | str,
    *,
    quick: bool = False,
    seed: int = 0,
    config: EvalConfig | None = None,
    int8: bool | None = None,
    verbose: bool = False,
) -> dict:
    """Run every evaluation; write ``evaluation.json``, ``evaluation.md``, ``roc_by_level.png``
    into ``output_dir``; return the results (as written to the JSON)."""
    from clonedetect.preprocessing.tokenization import CodeTokenizer

    config = config or (QUICK if quick else FULL)
    if int8 is not None:
        config = replace(config, int8=int8)
    threads = config.threads or min(4, os.cpu_count() or 1)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model_onnx, tokenizer_json, calibration_json = Path(model_onnx), Path(tokenizer_json), Path(calibration_json)
    begin = time.perf_counter()
    sections: dict[str, float] = {}

    def log(message: str) -> None:
        if verbose:
            print(f"[{time.perf_counter() - begin:6.1f}s] {message}", flush=True)

    def timed(name, fn, *args):
        start = time.perf_counter()
        value = fn(*args)
        sections[name] = time.perf_counter() - start
        return value

    tokenizer = CodeTokenizer.from_file(tokenizer_json)
    model = ModelScorer(model_onnx, tokenizer, threads)
    served = ServedScoring.load(calibration_json, literal_rarity_json)
    calibration = served.calibration
    results: dict = {}
    results["real_plagiarism"] = timed(
        "real_plagiarism",
        lambda: soco.evaluate_real_plagiarism(model, served, quick=config.soco_subset, log=log),
    )
    results["plagiarism"], curves, arrays = timed("plagiarism", _plagiarism, config, seed, model, served, log)
    results["map_at_r"], map_codes, _ = timed("map_at_r", _map_at_r, config, seed, model, log)
    results["bigclonebench"], bcb_arrays = timed("bigclonebench", _bigclonebench, config, seed, model, log)
    results["calibration"] = timed("calibration", _calibration, calibration, arrays, config.ece_bins)
    if config.int8:
        results["int8"] = timed(
            "int8", _int8, config, output_dir, model_onnx, model, tokenizer, arrays, bcb_arrays, map_codes, threads, log
        )
    paths = {
        "json": output_dir / "evaluation.json",
        "markdown": output_dir / "evaluation.md",
        "roc_png": output_dir / "roc_by_level.png",
    }
    timed("roc_png", report.plot_roc, curves, paths["roc_png"])
    results["meta"] = {
        "model_onnx": _shown(model_onnx),
        "model_sha256": _sha256(model_onnx),
        "tokenizer_json": _shown(tokenizer_json),
        "calibration_json": _shown(calibration_json),
        "literal_rarity_json": _shown(literal_rarity_json),
        "seed": seed,
        "quick": quick,
        "threads": threads,
        "cpus": os.cpu_count(),
        "config": asdict(config),
        "obfuscator_fingerprint": plagiarism.generator_fingerprint(),
        "held_out": "the training split's held-out 20% (training/corpus.py rule via plagiarism.held_out); "
        "keys: BigCloneBench id, stdlib path relative to the stdlib folder",
        "python_hash_seed": os.environ.get("PYTHONHASHSEED"),
        "model_embedding_s": model.embed_seconds,
        "section_runtime_s": sections,
        "runtime_s": time.perf_counter() - begin,
        "versions": _versions(),
    }
    results["artifacts"] = {k: str(v) for k, v in paths.items()}
    results = report.to_jsonable(results)
    report.write_markdown(results, paths["markdown"])
    report.write_json(results, paths["json"])
    log(f"done in {results['meta']['runtime_s']:.0f}s: {paths['markdown']}")
    return results


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("onnxruntime", "numpy", "scikit-learn", "copydetect", "tokenizers"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="clonedetect evaluate",
        description="Evaluate the clone detector against TF-IDF, winnowing and Dolos baselines; "
        "write JSON, markdown and a ROC PNG.",
    )
    parser.add_argument("output_dir", type=Path, help="folder for evaluation.json / evaluation.md / roc_by_level.png")
    parser.add_argument("--model", type=Path, default=paths.encoder_file())
    parser.add_argument("--tokenizer", type=Path, default=paths.tokenizer_file())
    parser.add_argument("--calibration", type=Path, default=paths.calibration_file())
    parser.add_argument("--literal-rarity", type=Path, default=paths.literal_rarity_file())
    parser.add_argument("--quick", action="store_true", help="tiny samples (seconds), for smoke tests")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-int8", action="store_true", help="skip the INT8 quantisation comparison")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads (default min(4, CPUs))")
    parser.add_argument("--originals", type=int, default=None, help="originals per language (default 300)")
    parser.add_argument(
        "--map-per-problem", type=int, default=None, help="POJ-104 programs per problem for MAP@R (0 = all)"
    )
    parser.add_argument("--bcb-per-type", type=int, default=None, help="BigCloneBench pairs per type")
    parser.add_argument("--bcb-scope", choices=("held_out", "all"), default=None)
    parser.add_argument("--no-cache", action="store_true", help="regenerate obfuscated variants")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if os.environ.get("PYTHONHASHSEED") != WINNOWING_HASH_SEED:
        # Python fixes the hash salt at start-up: run again in a process with it set.
        env = {**os.environ, "PYTHONHASHSEED": WINNOWING_HASH_SEED}
        command = [sys.executable, "-m", "clonedetect.evaluation.harness", *(sys.argv[1:] if argv is None else argv)]
        return subprocess.run(command, env=env, check=False).returncode

    config = QUICK if args.quick else FULL
    changes = {}
    if args.threads is not None:
        changes["threads"] = args.threads
    if args.originals is not None:
        changes["originals"] = dict.fromkeys(plagiarism.LANGUAGES, args.originals)
    if args.map_per_problem is not None:
        changes["map_programs_per_problem"] = args.map_per_problem or None
    if args.bcb_per_type is not None:
        changes["bcb_pairs_per_type"] = args.bcb_per_type
    if args.bcb_scope is not None:
        changes["bcb_scope"] = args.bcb_scope
    if args.no_cache:
        changes["use_cache"] = False
    if args.no_int8:
        changes["int8"] = False
    results = run_evaluation(
        args.output_dir,
        args.model,
        args.tokenizer,
        args.calibration,
        args.literal_rarity,
        quick=args.quick,
        seed=args.seed,
        config=replace(config, **changes),
        verbose=not args.quiet,
    )
    print(Path(results["artifacts"]["markdown"]).read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
