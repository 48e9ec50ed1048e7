"""MAP@R, the CodeXGLUE POJ-104 retrieval metric, vectorised with numpy.

For each query item, R = the number of *other* items with the same label. The other
items are ranked by similarity (the query itself excluded) and

    AP@R = (1 / R) * sum_{k=1..R} P@k * rel(k)

where rel(k) says whether the k-th retrieved item has the query's label and P@k is the
precision among the first k. MAP@R is the mean over queries with R >= 1 (a query whose
label is unique has nothing to retrieve and is skipped, as in the CodeXGLUE evaluator).
Ties are broken by the lower index (stable sort).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def map_at_r_from_similarity(
    similarity_rows: Callable[[np.ndarray], np.ndarray], labels: Sequence, chunk: int = 1024
) -> float:
    """MAP@R given ``similarity_rows(query_indices) -> [len(query_indices), n]`` similarities.

    The callback lets callers compute the ``n x n`` similarity in row chunks (embeddings,
    sparse TF-IDF) without holding it whole."""
    codes = np.unique(np.asarray(labels), return_inverse=True)[1].reshape(-1)
    n = len(codes)
    counts = np.bincount(codes)
    r_all = counts[codes] - 1
    max_r = int(r_all.max()) if n else 0
    if max_r == 0:
        raise ValueError("MAP@R needs at least two items sharing a label")
    total, queries = 0.0, 0
    for start in range(0, n, chunk):
        rows = np.arange(start, min(start + chunk, n))
        sims = np.array(similarity_rows(rows), dtype=np.float64, copy=True)
        sims[np.arange(len(rows)), rows] = -np.inf  # never retrieve the query itself
        # Top max_r by similarity (descending), ties by lower index: stable argsort of -sims.
        if max_r < n - 1:
            candidates = np.argpartition(-sims, max_r, axis=1)[:, : max_r + 1]
            # The partition may cut inside a tie; sort the candidates with a stable key.
            order = np.lexsort((candidates, -np.take_along_axis(sims, candidates, axis=1)), axis=1)
            top = np.take_along_axis(candidates, order, axis=1)[:, :max_r]
        else:
            top = np.argsort(-sims, axis=1, kind="stable")[:, :max_r]
        relevant = codes[top] == codes[rows][:, None]
        r = r_all[rows]
        within_r = np.arange(1, max_r + 1)[None, :] <= r[:, None]
        relevant &= within_r
        precision = np.cumsum(relevant, axis=1) / np.arange(1, max_r + 1)[None, :]
        ap_sum = (precision * relevant).sum(axis=1)
        valid = r > 0
        total += float((ap_sum[valid] / r[valid]).sum())
        queries += int(valid.sum())
    return total / queries


def map_at_r(embeddings: np.ndarray, labels: Sequence, chunk: int = 1024) -> float:
    """MAP@R with cosine similarity between rows of ``embeddings`` ``[n, dim]``."""
    x = np.asarray(embeddings, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return map_at_r_from_similarity(lambda rows: x[rows] @ x.T, labels, chunk)
