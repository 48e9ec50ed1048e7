"""POJ-104 valid MAP@R: the exported encoder vs the token 1-3-gram TF-IDF baseline.

    from clonedetect.evaluation.poj104 import evaluate_poj104_map
    from clonedetect import paths
    evaluate_poj104_map(paths.encoder_file(), paths.tokenizer_file())

or ``python -m clonedetect.evaluation.poj104 [--model ...] [--tokenizer ...] [--limit N]``.
The valid split (problems 65-80, 8,000 programs) is never trained on. The whole split
takes a couple of minutes on two CPU cores (embedding ~1 min, TF-IDF ~20 s).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from clonedetect import data, paths
from clonedetect.evaluation.baselines import tfidf_map_at_r
from clonedetect.evaluation.map_at_r import map_at_r

DEFAULT_MODEL = paths.encoder_file()
DEFAULT_TOKENIZER = paths.tokenizer_file()


def valid_programs(limit: int | None = None, seed: int = 0) -> list[data.Program]:
    """The POJ-104 valid programs; with ``limit``, at most ``limit`` per problem (a fixed
    random sample, so every problem keeps the same share)."""
    programs = data.poj104_programs("valid")
    if limit is None:
        return programs
    rng = random.Random(seed)
    by_problem: dict[str, list[data.Program]] = {}
    for program in programs:
        by_problem.setdefault(program.label, []).append(program)
    return [
        program
        for label in sorted(by_problem, key=int)
        for program in sorted(
            rng.sample(by_problem[label], min(limit, len(by_problem[label]))), key=lambda p: int(p.path.stem)
        )
    ]


def evaluate_poj104_map(
    model_onnx: Path | str = DEFAULT_MODEL,
    tokenizer_json: Path | str = DEFAULT_TOKENIZER,
    limit: int | None = None,
    *,
    baseline: bool = True,
    threads: int = 0,
    verbose: bool = True,
) -> dict:
    """MAP@R of the model (and the TF-IDF baseline) on POJ-104 valid; ``limit`` = programs
    per problem (None: all 500). Returns ``{"model_map_at_r", "tfidf_map_at_r", ...}``."""
    from clonedetect.onnx_encoder import OnnxEncoder
    from clonedetect.preprocessing.tokenization import CodeTokenizer

    programs = valid_programs(limit)
    codes = [p.read() for p in programs]
    labels = [p.label for p in programs]
    started = time.perf_counter()
    ids = CodeTokenizer.from_file(tokenizer_json).token_ids(codes)
    embeddings = OnnxEncoder(model_onnx, intra_op_threads=threads).embed_sequences(ids)
    result = {
        "dataset": "POJ-104 valid (problems 65-80)",
        "n_programs": len(codes),
        "n_problems": len(set(labels)),
        "model_map_at_r": map_at_r(embeddings, labels),
        "model_seconds": time.perf_counter() - started,
    }
    if verbose:
        print(f"POJ-104 valid, {len(codes)} programs: model MAP@R {result['model_map_at_r']:.4f}", flush=True)
    if baseline:
        started = time.perf_counter()
        result["tfidf_map_at_r"] = tfidf_map_at_r(codes, labels)
        result["tfidf_seconds"] = time.perf_counter() - started
        if verbose:
            print(
                f"POJ-104 valid, {len(codes)} programs: TF-IDF 1-3-gram MAP@R {result['tfidf_map_at_r']:.4f}",
                flush=True,
            )
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m clonedetect.evaluation.poj104", description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--tokenizer", type=Path, default=DEFAULT_TOKENIZER)
    parser.add_argument("--limit", type=int, default=None, help="programs per problem (default: all)")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    return evaluate_poj104_map(args.model, args.tokenizer, args.limit, baseline=not args.no_baseline)


if __name__ == "__main__":
    main()
