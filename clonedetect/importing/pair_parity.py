"""Parity of an installed cross-encoder graph with its source model, on a few pairs of programs.

The reference is computed the slow, independent way: the source model scores each window
pair on its own, unpadded, and the maximum per comparison is taken here. The graph under
test gets all comparisons as one padded batch, as the pair tokenizer step sends them, so
comparisons with fewer window pairs than the most also bring empty ones.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from clonedetect.importing.pair_windows import PairWindowTokenizer, pad_pairs
from clonedetect.importing.parity import PARITY_SAMPLES

# INT8 moves a probability by at most this much, or the import is refused.
INT8_MAX_ABS_DIFF = 0.02

_SHORT = PARITY_SAMPLES[:4]
_LINES = PARITY_SAMPLES[4].splitlines(keepends=True)
_LONG = "".join(_LINES[: len(_LINES) // 2])  # several windows of a 512-position model
_MEDIUM = "".join(_LINES[:8])
# Short pairs (one window each, both orders of one pair), a long program beside a short
# one and two medium ones (a grid of window pairs on small windows).
PARITY_PAIRS = (
    (_SHORT[0], _SHORT[1]),
    (_SHORT[1], _SHORT[0]),
    (_SHORT[2], _SHORT[3]),
    (_LONG, _SHORT[1]),
    (_MEDIUM, _SHORT[2] + _MEDIUM),
)

WindowPairProbability = Callable[[list[int], list[int]], float]


def sample_windows(tokenizer: PairWindowTokenizer) -> list[list[tuple[list[int], list[int]]]]:
    return [tokenizer.window_pairs(a, b, what=f"parity pair {i}") for i, (a, b) in enumerate(PARITY_PAIRS)]


def reference_probabilities(probability: WindowPairProbability, comparisons: list) -> np.ndarray:
    """Each comparison: the source model on every window pair alone, the highest score."""
    return np.asarray([max(probability(ids, types) for ids, types in windows) for windows in comparisons])


def graph_scores(onnx_path: Path, comparisons: list) -> tuple[np.ndarray, np.ndarray]:
    """The graph's similarity and probability outputs on one padded batch."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    input_ids, attention_mask, token_type_ids = pad_pairs(comparisons)
    feed = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
    similarity, probability = session.run(["similarity", "probability"], feed)
    return similarity.reshape(-1), probability.reshape(-1)


def window_pair_count(comparisons: list) -> int:
    return sum(len(windows) for windows in comparisons)
