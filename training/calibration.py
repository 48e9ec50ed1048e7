"""Platt calibration of cosine similarity -> P(derived from), on pairs never trained on.

Pairs come from held-out items only: POJ-104 **valid** programs outside the early-stopping
subset, the held-out 20 % of the BigCloneBench functions and of the Python stdlib files.
For each anchor:

* positive: the anchor vs a disguised copy of it (an obfuscator variant at a random level
  1-6 when the obfuscator is installed, else the regex augmentation at a random strength);
* negative: the anchor vs another program of the *same* POJ-104 problem (an independent
  solution of the same task: the hard case for a plagiarism detector), for POJ anchors;
* negative: the anchor vs a random other held-out item.

The anchors are split in two halves: Platt scaling (1-d logistic regression, classes
balanced, i.e. a 50 % prior) is fitted on one and checked on the other. The decision
threshold is 0.5 on the probability: with balanced classes that is the similarity where
"derived" and "not derived" are equally likely.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from clonedetect.preprocessing.tokenization import CodeTokenizer
from clonedetect.scoring import PlattCalibration
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
    a, b, positive, kind, anchor = [], [], [], [], []

    def add(x, y, is_positive, what, number):
        a.append(x)
        b.append(y)
        positive.append(is_positive)
        kind.append(what)
        anchor.append(number)

    for number, (i, copy) in enumerate(zip(chosen, copy_ids, strict=True)):
        add(corpus.ids[i], copy, True, "copy", number)
        if labels[i] >= 0:
            j = rng.choice([k for k in by_problem[int(labels[i])] if k != i])
            add(corpus.ids[i], corpus.ids[j], False, "same-task", number)
        j = rng.randrange(len(corpus) - 1)
        add(corpus.ids[i], corpus.ids[j + (j >= i)], False, "random", number)
    return Pairs(a, b, np.asarray(positive), kind, np.asarray(anchor))


def fit_platt(similarity: np.ndarray, positive: np.ndarray, threshold: float = THRESHOLD) -> PlattCalibration:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e4, class_weight="balanced", max_iter=1000)
    model.fit(similarity.reshape(-1, 1), positive.astype(int))
    return PlattCalibration(float(model.coef_[0, 0]), float(model.intercept_[0]), threshold)


def _auc(positive_scores: np.ndarray, negative_scores: np.ndarray) -> float:
    """P(random positive scores above random negative) (ties count one half)."""
    from sklearn.metrics import roc_auc_score

    if len(positive_scores) == 0 or len(negative_scores) == 0:
        return float("nan")
    y = np.r_[np.ones(len(positive_scores)), np.zeros(len(negative_scores))]
    return float(roc_auc_score(y, np.r_[positive_scores, negative_scores]))


def calibrate(pairs: Pairs, similarity: np.ndarray) -> tuple[PlattCalibration, dict]:
    """Fit on the even anchors, report on the odd ones; the shipped fit uses all pairs."""
    fit = pairs.anchor % 2 == 0
    check = ~fit
    held = fit_platt(similarity[fit], pairs.positive[fit])
    predicted = held.probability(similarity[check]) >= held.threshold
    truth = pairs.positive[check]
    tp = int((predicted & truth).sum())
    precision = tp / max(1, int(predicted.sum()))
    recall = tp / max(1, int(truth.sum()))
    kinds = np.asarray(pairs.kind)
    copy = similarity[kinds == "copy"]
    report = {
        "pairs": int(len(similarity)),
        "check_precision": precision,
        "check_recall": recall,
        "check_f1": 2 * precision * recall / max(1e-12, precision + recall),
        "auc_copy_vs_same_task": _auc(copy, similarity[kinds == "same-task"]),
        "auc_copy_vs_random": _auc(copy, similarity[kinds == "random"]),
        "mean_similarity": {
            k: float(similarity[kinds == k].mean()) for k in ("copy", "same-task", "random") if (kinds == k).any()
        },
    }
    final = fit_platt(similarity, pairs.positive)
    report["slope"], report["intercept"] = final.slope, final.intercept
    report["similarity_at_threshold"] = -final.intercept / final.slope if final.slope else float("nan")
    return final, report
