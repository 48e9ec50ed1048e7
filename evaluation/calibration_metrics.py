"""Metrics on pair scores: ROC AUC / curve, expected calibration error, threshold metrics.

All functions take ``labels`` (1 = positive / derived pair, 0 = negative) and per-pair
``scores`` (any monotone similarity) or ``probabilities`` (in ``[0, 1]``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def _as_arrays(labels: Sequence, scores: Sequence) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).astype(bool).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if y.shape != s.shape:
        raise ValueError(f"{len(y)} labels but {len(s)} scores")
    return y, s


def roc_auc(labels: Sequence, scores: Sequence) -> float:
    """Area under the ROC curve (ties count half); ``nan`` when a class is missing."""
    y, s = _as_arrays(labels, scores)
    if y.all() or not y.any():
        return math.nan
    return float(roc_auc_score(y, s))


def roc_points(labels: Sequence, scores: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """``(false_positive_rate, true_positive_rate)`` of the ROC curve (empty when a class is missing)."""
    y, s = _as_arrays(labels, scores)
    if y.all() or not y.any():
        return np.empty(0), np.empty(0)
    fpr, tpr, _ = roc_curve(y, s)
    return fpr, tpr


def reliability_bins(labels: Sequence, probabilities: Sequence, n_bins: int = 10) -> list[dict]:
    """Equal-width probability bins ``[i/n, (i+1)/n)`` (the last one closed): for each,
    the number of pairs, their mean predicted probability and their observed positive rate."""
    y, p = _as_arrays(labels, probabilities)
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    if len(p) and (p.min() < 0.0 or p.max() > 1.0):
        raise ValueError("probabilities must lie in [0, 1]")
    index = np.minimum((p * n_bins).astype(int), n_bins - 1)
    bins = []
    for b in range(n_bins):
        members = index == b
        count = int(members.sum())
        bins.append(
            {
                "low": b / n_bins,
                "high": (b + 1) / n_bins,
                "count": count,
                "mean_probability": float(p[members].mean()) if count else None,
                "positive_fraction": float(y[members].mean()) if count else None,
            }
        )
    return bins


def expected_calibration_error(labels: Sequence, probabilities: Sequence, n_bins: int = 10) -> float:
    """ECE = sum over equal-width bins of ``count/n * |positive_fraction - mean_probability|``."""
    y, _ = _as_arrays(labels, probabilities)
    if len(y) == 0:
        return math.nan
    total = 0.0
    for b in reliability_bins(labels, probabilities, n_bins):
        if b["count"]:
            total += b["count"] / len(y) * abs(b["positive_fraction"] - b["mean_probability"])
    return float(total)


def f_beta(precision: float, recall: float, beta: float) -> float:
    """The F-score that weighs recall ``beta`` times as much as precision (0 when both are 0)."""
    if math.isnan(precision) or math.isnan(recall):
        return math.nan
    denominator = beta**2 * precision + recall
    return (1 + beta**2) * precision * recall / denominator if denominator else 0.0


def threshold_metrics(labels: Sequence, probabilities: Sequence, threshold: float) -> dict:
    """Accuracy, precision, recall, F1 and F1.5 (recall weighed 1.5 times, as plagiarism
    benchmarks report it) of ``probability >= threshold`` as the decision."""
    y, p = _as_arrays(labels, probabilities)
    predicted = p >= threshold
    tp = int((predicted & y).sum())
    fp = int((predicted & ~y).sum())
    fn = int((~predicted & y).sum())
    tn = int((~predicted & ~y).sum())
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / (tp + fn) if tp + fn else math.nan
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0 if (tp + fp and tp + fn) else math.nan
    return {
        "threshold": float(threshold),
        "accuracy": (tp + tn) / len(y) if len(y) else math.nan,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "f1_5": f_beta(precision, recall, 1.5),
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "true_negatives": tn,
    }
