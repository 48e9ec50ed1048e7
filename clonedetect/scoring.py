"""Similarity and calibrated "derived from" probability for two embeddings."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two ``[n, dim]`` arrays (the encoder's output is L2-normalised,
    normalising again keeps this right for any input)."""
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    return np.sum(a * b, axis=-1).astype(np.float32)


@dataclass(frozen=True)
class PlattCalibration:
    """``P(derived) = sigmoid(slope * similarity + intercept)``, fitted on held-back pairs."""

    slope: float
    intercept: float
    threshold: float = 0.5  # documented decision threshold on the probability

    def probability(self, similarity: np.ndarray) -> np.ndarray:
        logits = self.slope * np.asarray(similarity, dtype=np.float64) + self.intercept
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path | str) -> PlattCalibration:
        return cls(**json.loads(Path(path).read_text()))


def score(a: np.ndarray, b: np.ndarray, calibration: PlattCalibration) -> tuple[np.ndarray, np.ndarray]:
    """``(similarity, probability)`` for each row pair."""
    similarity = cosine_similarity(a, b)
    return similarity, calibration.probability(similarity)
