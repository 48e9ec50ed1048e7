"""Recalibration on a user's own labelled pairs: refit the probability, measure before and after.

The served ``PROBABILITY`` is fitted on this project's held-out pairs with a 50 % prior
(:mod:`clonedetect.training.calibration`). A service that has judged cases of its own knows
better what its pairs look like and how often they are copies: :func:`refit` fits the same
logistic model of the three signals (:class:`clonedetect.scoring.Calibration`) on part of the user's
labels, with their own base rate, chooses the decision threshold that maximises F1.5 on
that part (recall weighed 1.5 times, as plagiarism checks are judged), and reports the
calibration error and the decisions of the live and the refitted calibration on the
labels held back. No I/O: ``clonedetect calibrate`` reads the pairs and installs the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clonedetect.scoring import FEATURES, Calibration

MIN_PER_CLASS = 10  # labels of each verdict needed to fit and still hold some back
HELD_BACK = 0.3
THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.01), 2)  # candidate decision thresholds


class NotEnoughLabelsError(ValueError):
    """Too few pairs of one verdict to fit a calibration and check it."""


@dataclass(frozen=True)
class Refit:
    calibration: Calibration
    before: dict  # the live calibration on the held-back labels
    after: dict  # the refitted one on the same labels
    fitted_pairs: int
    held_back_pairs: int

    def to_dict(self) -> dict:
        return {
            "weights": list(self.calibration.weights),
            "intercept": self.calibration.intercept,
            "threshold": self.calibration.threshold,
            "fitted_pairs": self.fitted_pairs,
            "held_back_pairs": self.held_back_pairs,
            "before": self.before,
            "after": self.after,
        }


def held_back_split(labels: np.ndarray, share: float = HELD_BACK, seed: int = 0) -> np.ndarray:
    """A mask of the held-back pairs: ``share`` of each verdict (at least 3), chosen at random."""
    rng = np.random.default_rng(seed)
    held = np.zeros(len(labels), dtype=bool)
    for verdict in (0, 1):
        members = np.flatnonzero(labels == verdict)
        count = max(3, round(share * len(members)))
        held[rng.choice(members, size=count, replace=False)] = True
    return held


def best_threshold(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The threshold of :data:`THRESHOLDS` with the highest F1.5 (the lowest among ties)."""
    from clonedetect.evaluation.calibration_metrics import threshold_metrics

    scores = [threshold_metrics(labels, probabilities, t)["f1_5"] for t in THRESHOLDS]
    return float(THRESHOLDS[int(np.nanargmax(scores))])


def decisions(labels: np.ndarray, probabilities: np.ndarray, threshold: float) -> dict:
    from clonedetect.evaluation.calibration_metrics import expected_calibration_error, threshold_metrics

    at = threshold_metrics(labels, probabilities, threshold)
    return {
        "ece": expected_calibration_error(labels, probabilities),
        "threshold": threshold,
        **{key: at[key] for key in ("precision", "recall", "f1_5", "false_positives", "false_negatives")},
    }


def _fit(signals: np.ndarray, labels: np.ndarray) -> Calibration:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=1000)  # the user's own base rate: no class weights
    model.fit(signals, labels)
    fitted = Calibration(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]))
    threshold = best_threshold(labels, fitted.probability(*signals.T))
    return Calibration(fitted.weights, fitted.intercept, threshold)


def refit(signals: np.ndarray, labels: np.ndarray, live: Calibration, seed: int = 0) -> Refit:
    """Fit on the pairs not held back; compare ``live`` and the refit on the held-back ones.
    ``signals`` has one row per pair: its similarity, verification and literal scores
    (:data:`clonedetect.scoring.FEATURES`)."""
    labels = np.asarray(labels, dtype=int)
    signals = np.asarray(signals, dtype=np.float64)
    if signals.shape != (len(labels), len(FEATURES)):
        raise ValueError(f"signals must have one row of {list(FEATURES)} per label, got shape {signals.shape}")
    counts = {verdict: int((labels == verdict).sum()) for verdict in (0, 1)}
    if min(counts.values()) < MIN_PER_CLASS or len(labels) != counts[0] + counts[1]:
        raise NotEnoughLabelsError(
            f"labels must be 0 or 1 with at least {MIN_PER_CLASS} pairs of each; got {counts[1]} labelled 1, "
            f"{counts[0]} labelled 0 and {len(labels) - counts[0] - counts[1]} other"
        )
    held = held_back_split(labels, seed=seed)
    fit = ~held
    refitted = _fit(signals[fit], labels[fit])

    def on_held(calibration: Calibration) -> dict:
        probability = calibration.probability(*signals[held].T)
        return decisions(labels[held], probability, calibration.threshold)

    return Refit(refitted, on_held(live), on_held(refitted), int(fit.sum()), int(held.sum()))
