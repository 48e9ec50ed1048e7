"""Similarity and calibrated "derived from" probability of two programs.

``SIMILARITY`` is the cosine of the two embeddings. ``PROBABILITY`` combines it with the
verification stage's tiling score (:mod:`clonedetect.verification`, ``average``): a
logistic model ``sigmoid(w_similarity * similarity + w_verification * verification + b)``
fitted on held-back pairs whose negatives are independent solutions of the same task
(:mod:`clonedetect.training.calibration`), so that an independent solution that merely
looks alike does not get a high probability. The parameters live in the scorer's
``calibration.json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

FEATURES = ("similarity", "verification")
"""The signals the probability combines, in the order of ``Calibration.weights``; the
scorer model receives exactly these (cosine of the embeddings, verification score)."""


class CalibrationFileError(ValueError):
    """A ``calibration.json`` that does not describe :data:`FEATURES`."""


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two ``[n, dim]`` arrays (the encoder's output is L2-normalised,
    normalising again keeps this right for any input)."""
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    return np.sum(a * b, axis=-1).astype(np.float32)


@dataclass(frozen=True)
class Calibration:
    """``P(derived) = sigmoid(weights . (similarity, verification) + intercept)``."""

    weights: tuple[float, float]
    intercept: float
    threshold: float = 0.5  # documented decision threshold on the probability
    features: tuple[str, ...] = FEATURES

    def logit(self, similarity: np.ndarray, verification: np.ndarray) -> np.ndarray:
        w_similarity, w_verification = self.weights
        similarity = np.asarray(similarity, dtype=np.float64)
        return w_similarity * similarity + w_verification * np.asarray(verification, dtype=np.float64) + self.intercept

    def probability(self, similarity: np.ndarray, verification: np.ndarray) -> np.ndarray:
        return (1.0 / (1.0 + np.exp(-self.logit(similarity, verification)))).astype(np.float32)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path | str) -> Calibration:
        fields = json.loads(Path(path).read_text())
        features = tuple(fields.get("features", ()))
        if features != FEATURES or len(fields.get("weights", ())) != len(FEATURES):
            raise CalibrationFileError(
                f"{path}: expected weights for the features {list(FEATURES)}, got features {list(features)}; "
                "refit it with `python -m clonedetect.training.scorer_fit --install`"
            )
        return cls(tuple(float(w) for w in fields["weights"]), float(fields["intercept"]), float(fields["threshold"]))


def score(
    a: np.ndarray, b: np.ndarray, verification: np.ndarray, calibration: Calibration
) -> tuple[np.ndarray, np.ndarray]:
    """``(similarity, probability)`` for each row pair; ``verification`` is the verification
    stage's score of the same pairs."""
    similarity = cosine_similarity(a, b)
    return similarity, calibration.probability(similarity, np.asarray(verification).reshape(-1))
