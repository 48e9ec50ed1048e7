"""Which submission pairs are worth the server's verification.

Embedding every file once and ranking all pairs by cosine is cheap; the full comparison
(calibrated probability, greedy string tiling) is not. So only pairs above a similarity
floor are verified, plus each submission's ``top_k`` most similar partners, so that every
submission shows its nearest neighbours even in an assignment where nothing is copied.
Both grow with the number of submissions (all pairs of one exercise can lie above the
floor), so at most ``max_verified`` of them, the most similar, are verified: the
probability rises with the similarity, so the pairs cut off are the least likely copies.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BLOCK_ROWS = 1024  # rows of the similarity matrix taken at once


def exclude_same_author(similarity: np.ndarray, authors: Sequence[str | None]) -> np.ndarray:
    """``similarity`` with each submission's pairs with itself, and with submissions of
    the same author, set to ``-inf`` (never candidates). A None author is nobody else's."""
    numbers: dict[str, int] = {}
    ids = np.array([-1 - i if a is None else numbers.setdefault(a, len(numbers)) for i, a in enumerate(authors)])
    masked = similarity.copy()
    masked[ids[:, None] == ids[None, :]] = -np.inf
    return masked


def _row_picks(block: np.ndarray, first_row: int, floor: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of a block of rows that are finite and at least ``floor`` or among
    their row's ``k`` highest."""
    chosen = block >= floor
    if k:
        nearest = np.argpartition(block, -k, axis=1)[:, -k:]
        chosen[np.arange(len(block))[:, None], nearest] = True
    chosen &= np.isfinite(block)
    rows, columns = np.nonzero(chosen)
    return rows + first_row, columns


def select_candidates(similarity: np.ndarray, floor: float, top_k: int) -> list[tuple[int, int]]:
    """Pairs ``(a, b)``, ``a < b``, with a finite similarity that is at least ``floor`` or
    among the ``top_k`` highest of ``a``'s or ``b``'s row; sorted. Rows are taken in
    blocks, so no temporary is the whole matrix's size (for 10,000 submissions the index
    array of a whole-matrix ``argpartition`` alone is 800 MB)."""
    count = len(similarity)
    if count < 2:
        return []
    k = min(top_k, count - 1)
    picks = [_row_picks(similarity[s : s + BLOCK_ROWS], s, floor, k) for s in range(0, count, BLOCK_ROWS)]
    rows, columns = np.concatenate([p[0] for p in picks]), np.concatenate([p[1] for p in picks])
    low, high = np.minimum(rows, columns), np.maximum(rows, columns)
    distinct = low != high
    keys = np.unique(low[distinct].astype(np.int64) * count + high[distinct])
    return list(zip((keys // count).tolist(), (keys % count).tolist(), strict=True))


def cap_candidates(
    pairs: list[tuple[int, int]], similarity: np.ndarray, max_verified: int | None
) -> tuple[list[tuple[int, int]], int]:
    """The ``max_verified`` most similar of ``pairs`` (all of them when None), in their
    order, and how many were left out. Ties go to the pair listed first."""
    if max_verified is None or len(pairs) <= max_verified:
        return pairs, 0
    first, second = np.asarray(pairs).T
    kept = np.sort(np.argsort(-similarity[first, second], kind="stable")[:max_verified])
    return [pairs[index] for index in kept.tolist()], len(pairs) - max_verified
