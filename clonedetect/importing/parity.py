"""Parity of an installed graph with its source model, on a few tokenised programs.

The reference is computed the slow, independent way: the source model runs on each
window of each program on its own, and the pooling and normalisation are done here in
numpy. The graph under test gets all programs as one padded batch, as the tokenizer step
sends them, so programs with fewer windows than the longest also bring empty windows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clonedetect.importing.exported import WindowVectors
from clonedetect.preprocessing.tokenization import pad_batch
from clonedetect.preprocessing.windowed_tokenization import WindowedTokenizer

MAX_ABS_DIFF = 1e-4
INT8_MIN_COSINE = 0.99  # below it, the quantised encoder would rank programs differently

_LOOP = "for (int i = 0; i < n; i++) {\n    if (a[i] > best) { best = a[i]; index = i; }\n}\n"
PARITY_SAMPLES = (
    "int main(void) {\n    int a = 1, b = 2;\n    return a + b;\n}\n",
    "def mean(values):\n    return sum(values) / len(values) if values else 0.0\n",
    "public class Box {\n    private final int size;\n    Box(int size) { this.size = size; }\n}\n",
    "x",
    # Longer than two windows of a 512-position model: the windowing is exercised too.
    "int best_index(int *a, int n) {\n    int best = a[0], index = 0;\n" + _LOOP * 40 + "    return index;\n}\n",
)


def sample_sequences(tokenizer: WindowedTokenizer) -> list[np.ndarray]:
    return tokenizer.token_ids(list(PARITY_SAMPLES))


def reference_embeddings(source_vectors: WindowVectors, sequences: list[np.ndarray], window: int) -> np.ndarray:
    """Each program: the source model on every window, pooled over all of them, unit length."""
    embeddings = []
    for ids in sequences:
        pieces = [source_vectors(ids[start : start + window]) for start in range(0, len(ids), window)]
        vectors = np.concatenate([v for v, _ in pieces]).astype(np.float64)
        weights = np.concatenate([w for _, w in pieces]).astype(np.float64)
        pooled = (vectors * weights[:, None]).sum(0) / weights.sum()
        embeddings.append(pooled / max(np.linalg.norm(pooled), 1e-9))
    return np.asarray(embeddings, dtype=np.float32)


def graph_embeddings(onnx_path: Path, sequences: list[np.ndarray], window: int) -> np.ndarray:
    """The graph on one batch padded to whole windows (what the tokenizer step sends)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    longest = max(len(ids) for ids in sequences)
    input_ids, attention_mask = pad_batch(sequences, -(-longest // window) * window)
    return session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})[0]


def max_abs_diff(expected: np.ndarray, actual: np.ndarray) -> float:
    return float(np.abs(expected - actual).max())


def min_cosine(expected: np.ndarray, actual: np.ndarray) -> float:
    """Smallest cosine between matching rows (both sides unit length)."""
    return float((expected * actual).sum(axis=1).min())
