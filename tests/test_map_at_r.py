"""MAP@R on tiny cases with known answers."""

import numpy as np
import pytest

from clonedetect.evaluation.map_at_r import map_at_r, map_at_r_from_similarity


def similarity_from_rankings(rankings: dict[int, list[int]], n: int) -> np.ndarray:
    """A similarity matrix whose row q ranks the items in ``rankings[q]`` first, in order."""
    sims = np.zeros((n, n))
    for query, ranking in rankings.items():
        for position, item in enumerate(ranking):
            sims[query, item] = 100 - position
        sims[query, query] = 1000  # the query itself must be ignored
    return sims


def naive_map_at_r(sims: np.ndarray, labels: list) -> float:
    scores = []
    for q in range(len(labels)):
        r = sum(1 for j, label in enumerate(labels) if j != q and label == labels[q])
        if r == 0:
            continue
        order = [j for j in np.argsort(-sims[q], kind="stable") if j != q][:r]
        hits, ap = 0, 0.0
        for k, j in enumerate(order, start=1):
            if labels[j] == labels[q]:
                hits += 1
                ap += hits / k
        scores.append(ap / r)
    return float(np.mean(scores))


def test_perfect_clusters_score_one():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8))
    labels = np.repeat([0, 1, 2], 4)
    embeddings = centres[labels] + 0.01 * rng.normal(size=(12, 8))
    assert map_at_r(embeddings, labels) == pytest.approx(1.0)


def test_hand_computed_case():
    # Labels A A A B B B: every query has R = 2.
    labels = ["A", "A", "A", "B", "B", "B"]
    rankings = {
        0: [1, 3, 2, 4, 5],  # top-2 relevant: [1, 0] -> AP = (1/1) / 2 = 0.5
        1: [3, 0, 2, 4, 5],  # [0, 1] -> AP = (1/2) / 2 = 0.25
        2: [0, 1, 3, 4, 5],  # [1, 1] -> AP = (1 + 1) / 2 = 1
        3: [4, 5, 0, 1, 2],  # [1, 1] -> 1
        4: [0, 1, 3, 5, 2],  # [0, 0] -> 0
        5: [3, 0, 4, 1, 2],  # [1, 0] -> 0.5
    }
    sims = similarity_from_rankings(rankings, 6)
    expected = (0.5 + 0.25 + 1 + 1 + 0 + 0.5) / 6
    assert map_at_r_from_similarity(lambda rows: sims[rows], labels) == pytest.approx(expected)
    assert naive_map_at_r(sims, labels) == pytest.approx(expected)


def test_worst_ranking_scores_zero():
    # Two pairs; each query's partner is ranked last.
    labels = [0, 0, 1, 1]
    sims = similarity_from_rankings({0: [2, 3, 1], 1: [2, 3, 0], 2: [0, 1, 3], 3: [0, 1, 2]}, 4)
    assert map_at_r_from_similarity(lambda rows: sims[rows], labels) == 0.0


def test_singleton_labels_are_skipped():
    # Item 4 has a unique label: it is not a query (and is a non-relevant item for others).
    labels = [0, 0, 1, 1, 2]
    sims = similarity_from_rankings({0: [1], 1: [0], 2: [3], 3: [2], 4: [0]}, 5)
    assert map_at_r_from_similarity(lambda rows: sims[rows], labels) == pytest.approx(1.0)


def test_matches_naive_loop_and_is_chunk_independent():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 7, size=90)
    embeddings = rng.normal(size=(90, 16)) + 0.8 * rng.normal(size=(7, 16))[labels]
    normed = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    expected = naive_map_at_r(normed @ normed.T, list(labels))
    assert map_at_r(embeddings, labels) == pytest.approx(expected)
    assert map_at_r(embeddings, labels, chunk=7) == pytest.approx(expected)


def test_needs_a_shared_label():
    with pytest.raises(ValueError):
        map_at_r(np.eye(3), [0, 1, 2])
