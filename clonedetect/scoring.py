"""Similarity and calibrated "derived from" probability of two programs.

``SIMILARITY`` is the cosine of the two embeddings. ``PROBABILITY`` combines it with the
verification stage's tiling score (:mod:`clonedetect.verification`, ``average``) and its
shared-literal score (:mod:`clonedetect.literals`): a logistic model
``sigmoid(w_similarity * similarity + w_verification * verification + w_literals * literals + b)``
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

FEATURES = ("similarity", "verification", "literals")
"""The signals the probability combines, in the order of ``Calibration.weights``; the
scorer model receives exactly these (cosine of the embeddings, tiling score, shared-literal
score). A calibration file fitted on the first two alone (release 0.7 and its
recalibrations) still loads: it weighs the literals 0, so its probabilities are unchanged."""


class CalibrationFileError(ValueError):
    """A ``calibration.json`` that does not describe :data:`FEATURES` (or its first two)."""


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two ``[n, dim]`` arrays (the encoder's output is L2-normalised,
    normalising again keeps this right for any input)."""
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    return np.sum(a * b, axis=-1).astype(np.float32)


@dataclass(frozen=True)
class Calibration:
    """``P(derived) = sigmoid(weights . (similarity, verification, literals) + intercept)``."""

    weights: tuple[float, float, float]
    intercept: float
    threshold: float = 0.5  # documented decision threshold on the probability
    features: tuple[str, ...] = FEATURES

    def logit(self, similarity: np.ndarray, verification: np.ndarray, literals: np.ndarray) -> np.ndarray:
        w_similarity, w_verification, w_literals = self.weights
        return (
            w_similarity * np.asarray(similarity, dtype=np.float64)
            + w_verification * np.asarray(verification, dtype=np.float64)
            + w_literals * np.asarray(literals, dtype=np.float64)
            + self.intercept
        )

    def probability(self, similarity: np.ndarray, verification: np.ndarray, literals: np.ndarray) -> np.ndarray:
        return (1.0 / (1.0 + np.exp(-self.logit(similarity, verification, literals)))).astype(np.float32)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path | str) -> Calibration:
        fields = json.loads(Path(path).read_text())
        features = tuple(fields.get("features", ()))
        weights = [float(w) for w in fields.get("weights", ())]
        if features not in (FEATURES, FEATURES[:2]) or len(weights) != len(features):
            raise CalibrationFileError(
                f"{path}: expected weights for the features {list(FEATURES)}, got features {list(features)}; "
                "refit it with `python -m clonedetect.training.scorer_fit --install`"
            )
        weights += [0.0] * (len(FEATURES) - len(weights))
        return cls(tuple(weights), float(fields["intercept"]), float(fields["threshold"]))


def score(
    a: np.ndarray, b: np.ndarray, verification: np.ndarray, literals: np.ndarray, calibration: Calibration
) -> tuple[np.ndarray, np.ndarray]:
    """``(similarity, probability)`` for each row pair; ``verification`` and ``literals`` are
    the verification stage's scores of the same pairs."""
    similarity = cosine_similarity(a, b)
    verification, literals = np.asarray(verification).reshape(-1), np.asarray(literals).reshape(-1)
    return similarity, calibration.probability(similarity, verification, literals)
