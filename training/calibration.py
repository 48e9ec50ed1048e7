"""The scorer's calibration: (cosine, verification score, shared-literal score) -> P(derived
from), fitted on pairs never trained on.

Pairs come from held-out items only: POJ-104 **valid** programs outside the early-stopping
subset, the held-out 20 % of the BigCloneBench functions and of the Python stdlib files.
For each anchor:

* positive: the anchor vs a disguised copy of it (an obfuscator variant at a random level
  1-6 when the obfuscator is installed, else the regex augmentation at a random strength);
* negative: the anchor vs another program of the *same* POJ-104 problem (an independent
  solution of the same task: the hard case for a plagiarism detector), for POJ anchors;
* negative: the anchor vs a random other held-out item (reported, not fitted on).

The fit uses the copies against the same-task solutions only: every pair of a scanned
assignment is a same-task pair, and random pairs, trivially far apart, pull the decision
boundary down towards where independent solutions of one task sit. It is a logistic
regression on the three features (:data:`clonedetect.scoring.FEATURES`), classes balanced (a
50 % prior), with the default L2 penalty so that no weight grows without bound on the
synthetic copies, which the cosine alone separates almost perfectly. The anchors are split
in two halves: fitted on one and checked on the other; the shipped fit uses all. The
decision threshold is 0.5 on the probability.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from clonedetect.preprocessing.tokenization import CodeTokenizer
from clonedetect.scoring import FEATURES, Calibration
from clonedetect.training.augment import augment
from clonedetect.training.corpus import Corpus

THRESHOLD = 0.5


@dataclass
class Pairs:
    a: list[np.ndarray]
    b: list[np.ndarray]
    positive: np.ndarray  # bool
    kind: list[str]  # "copy", "same-task", "random"
    anchor: np.ndarray  # anchor number, for the fit/check split
    text_a: list[str]  # the programs themselves (the verification stage reads text)
    text_b: list[str]

    def embed_sides(self, embed: Callable[[list[np.ndarray]], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(embed(a), embed(b))`` row by row, embedding each distinct program once: an
        anchor is side ``a`` of up to three pairs (the same array object each time)."""
        position: dict[int, int] = {}
        distinct: list[np.ndarray] = []
        for sequence in (*self.a, *self.b):
            if id(sequence) not in position:
                position[id(sequence)] = len(distinct)
                distinct.append(sequence)
        vectors = embed(distinct)
        return vectors[[position[id(s)] for s in self.a]], vectors[[position[id(s)] for s in self.b]]


def build_pairs(corpus: Corpus, tokenizer: CodeTokenizer, anchors: int, seed: int, obfuscate=None) -> Pairs:
    """Pairs over ``corpus`` (held-out items; ``labels`` >= 0 are POJ-104 problems)."""
    rng = random.Random(seed)
    labels = np.asarray(corpus.labels)
    by_problem: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        if label >= 0:
            by_problem.setdefault(int(label), []).append(i)
    chosen = rng.sample(range(len(corpus)), min(anchors, len(corpus)))
    copies = []
    for i in chosen:
        text, language = corpus.texts[i], corpus.languages[i]
        copy = None
        if obfuscate is not None:
            try:
                copy = obfuscate(text, language, rng.randint(1, 6), rng.randrange(2**31))
            except Exception:  # noqa: BLE001 - fall back to the regex augmentation
                copy = None
        copies.append(copy if isinstance(copy, str) and copy.strip() else augment(text, language, rng))
    copy_ids = tokenizer.token_ids(copies)
    a, b, positive, kind, anchor, text_a, text_b = [], [], [], [], [], [], []

    def add(i, y, y_text, is_positive, what, number):
        a.append(corpus.ids[i])
        b.append(y)
        text_a.append(corpus.texts[i])
        text_b.append(y_text)
        positive.append(is_positive)
        kind.append(what)
        anchor.append(number)

    for number, (i, copy, copy_text) in enumerate(zip(chosen, copy_ids, copies, strict=True)):
        add(i, copy, copy_text, True, "copy", number)
        if labels[i] >= 0:
            j = rng.choice([k for k in by_problem[int(labels[i])] if k != i])
            add(i, corpus.ids[j], corpus.texts[j], False, "same-task", number)
        j = rng.randrange(len(corpus) - 1)
        j += j >= i
        add(i, corpus.ids[j], corpus.texts[j], False, "random", number)
    return Pairs(a, b, np.asarray(positive), kind, np.asarray(anchor), text_a, text_b)


FITTED_KINDS = ("copy", "same-task")


def fit_calibration(signals: np.ndarray, positive: np.ndarray, threshold: float = THRESHOLD) -> Calibration:
    """The logistic model of ``signals`` (one row per pair, :data:`clonedetect.scoring.FEATURES`)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    model.fit(signals, positive.astype(int))
    weights = tuple(float(w) for w in model.coef_[0])
    return Calibration(weights, float(model.intercept_[0]), threshold)


def _auc(positive_scores: np.ndarray, negative_scores: np.ndarray) -> float:
    """P(random positive scores above random negative) (ties count one half)."""
    from sklearn.metrics import roc_auc_score

    if len(positive_scores) == 0 or len(negative_scores) == 0:
        return float("nan")
    y = np.r_[np.ones(len(positive_scores)), np.zeros(len(negative_scores))]
    return float(roc_auc_score(y, np.r_[positive_scores, negative_scores]))


def _check(held: Calibration, signals: np.ndarray, positive: np.ndarray) -> dict:
    predicted = held.probability(*signals.T) >= held.threshold
    tp = int((predicted & positive).sum())
    precision = tp / max(1, int(predicted.sum()))
    recall = tp / max(1, int(positive.sum()))
    return {
        "check_precision": precision,
        "check_recall": recall,
        "check_f1": 2 * precision * recall / max(1e-12, precision + recall),
    }


def calibrate(pairs: Pairs, signals: np.ndarray) -> tuple[Calibration, dict]:
    """Fit on the even anchors' copy and same-task pairs, report on the odd ones; the
    shipped fit uses all of them. ``signals`` has a row per pair of ``pairs``: its cosine,
    verification score and shared-literal score (:data:`clonedetect.scoring.FEATURES`)."""
    kinds = np.asarray(pairs.kind)
    fitted = np.isin(kinds, FITTED_KINDS)
    fit, check = fitted & (pairs.anchor % 2 == 0), fitted & (pairs.anchor % 2 == 1)
    held = fit_calibration(signals[fit], pairs.positive[fit])
    final = fit_calibration(signals[fitted], pairs.positive[fitted])
    probability = final.probability(*signals.T)
    logit = final.logit(*signals.T)
    copy = kinds == "copy"
    means = {
        feature: {
            k: float(signals[kinds == k, column].mean()) for k in ("copy", "same-task", "random") if (kinds == k).any()
        }
        for column, feature in enumerate(FEATURES)
    }
    report = {
        "pairs": int(fitted.sum()),
        **_check(held, signals[check], pairs.positive[check]),
        "auc_copy_vs_same_task": _auc(logit[copy], logit[kinds == "same-task"]),
        "auc_copy_vs_random": _auc(signals[copy, 0], signals[kinds == "random", 0]),
        **{f"mean_{feature}": means[feature] for feature in FEATURES},
        "same_task_above_threshold": float((probability[kinds == "same-task"] >= final.threshold).mean()),
        "weights": dict(zip(FEATURES, final.weights, strict=True)),
        "intercept": final.intercept,
    }
    return final, report
