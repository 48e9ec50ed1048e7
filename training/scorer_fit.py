"""Refit the scorer's calibration for the shipped encoder, without retraining it.

``python -m clonedetect.training.scorer_fit [--install]`` counts the literals of the
training corpora (the verifier's :class:`clonedetect.literals.LiteralRarity`), builds the
held-out calibration pairs exactly as training does (:mod:`clonedetect.training.calibration`),
embeds them with the repository's ONNX encoder, scores them with the verification stage
and fits the probability on the three signals. Needs no torch: the ONNX encoder runs in
onnxruntime. :func:`literal_rarity` and :func:`fit_scorer` are the steps training runs
after export.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from clonedetect import paths
from clonedetect.literals import LiteralRarity
from clonedetect.scoring import Calibration
from clonedetect.token_sequence import token_sequence
from clonedetect.training.calibration import Pairs, build_pairs, calibrate
from clonedetect.verification import pair_signals

ANCHORS = 1500
EVAL_PER_PROBLEM = 25  # training's early-stopping subset per POJ-104 valid problem (never calibrated on)
SEED = 1  # training's seed + 1


def literal_rarity() -> LiteralRarity:
    """The rarity of each literal over the training programs (POJ-104 train, the training
    80 % of the Java and Python corpora): no calibration or evaluation program is counted."""
    from clonedetect.training import corpus as corpora

    background = (corpora.poj104("train"), corpora.java(held_out=False), corpora.python(held_out=False))
    return LiteralRarity.fit(token_sequence(text).literals for corpus in background for text in corpus.texts)


def fit_scorer(
    pairs: Pairs, embed: Callable[[list[np.ndarray]], np.ndarray], rarity: LiteralRarity
) -> tuple[Calibration, dict]:
    """The calibration of ``pairs`` for the encoder behind ``embed`` (token ids -> unit
    vectors) and the verifier's literal ``rarity``."""
    embeddings_a, embeddings_b = pairs.embed_sides(embed)
    similarity = np.sum(embeddings_a * embeddings_b, axis=1)
    verification, shared = pair_signals(pairs.text_a, pairs.text_b, rarity)
    return calibrate(pairs, np.column_stack([similarity, verification, shared]))


def calibration_pairs(tokenizer_json: Path, anchors: int = ANCHORS, seed: int = SEED) -> Pairs:
    """Training's calibration pairs for a trained tokenizer (held-out items only)."""
    from clonedetect.preprocessing.tokenization import CodeTokenizer
    from clonedetect.training import corpus as corpora
    from clonedetect.training.variants import load_obfuscator

    valid = corpora.tokenize(corpora.poj104("valid"), tokenizer_json, "poj104-valid")
    _, rest = corpora.valid_split(valid, EVAL_PER_PROBLEM)
    held = corpora.calibration_corpus(valid.subset(rest), tokenizer_json)
    return build_pairs(held, CodeTokenizer.from_file(tokenizer_json), anchors, seed=seed, obfuscate=load_obfuscator())


def main(argv: list[str] | None = None) -> dict:
    from clonedetect.onnx_encoder import OnnxEncoder

    parser = argparse.ArgumentParser(prog="python -m clonedetect.training.scorer_fit", description=__doc__)
    parser.add_argument("--model-repository", type=Path, default=paths.MODEL_REPOSITORY)
    parser.add_argument("--anchors", type=int, default=ANCHORS)
    parser.add_argument("--install", action="store_true", help="write the result to the repository's scorer")
    args = parser.parse_args(argv)
    rarity = literal_rarity()
    pairs = calibration_pairs(paths.tokenizer_file(args.model_repository), args.anchors)
    encoder = OnnxEncoder(paths.encoder_file(args.model_repository))
    calibration, report = fit_scorer(pairs, encoder.embed_sequences, rarity)
    print(json.dumps(report, indent=2))
    if args.install:
        rarity.save(paths.literal_rarity_file(args.model_repository))
        calibration.save(paths.calibration_file(args.model_repository))
        print(f"installed {paths.literal_rarity_file(args.model_repository)}", file=sys.stderr)
        print(f"installed {paths.calibration_file(args.model_repository)}", file=sys.stderr)
    return report


if __name__ == "__main__":
    main()
