"""Which submission pairs are worth the server's verification.

Embedding every file once and ranking all pairs by cosine is cheap; the full comparison
(calibrated probability, greedy string tiling) is not. So only pairs above a similarity
floor are verified, plus each submission's ``top_k`` most similar partners, so that every
submission shows its nearest neighbours even in an assignment where nothing is copied.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def exclude_same_author(similarity: np.ndarray, authors: Sequence[str | None]) -> np.ndarray:
    """``similarity`` with each submission's pairs with itself, and with submissions of
    the same author, set to ``-inf`` (never candidates). A None author is nobody else's."""
    numbers: dict[str, int] = {}
    ids = np.array([-1 - i if a is None else numbers.setdefault(a, len(numbers)) for i, a in enumerate(authors)])
    masked = similarity.copy()
    masked[ids[:, None] == ids[None, :]] = -np.inf
    return masked


def select_candidates(similarity: np.ndarray, floor: float, top_k: int) -> list[tuple[int, int]]:
    """Pairs ``(a, b)``, ``a < b``, with a finite similarity that is at least ``floor`` or
    among the ``top_k`` highest of ``a``'s or ``b``'s row; sorted."""
    finite = np.isfinite(similarity)
    chosen = finite & (similarity >= floor)
    count = len(similarity)
    if top_k > 0 and count > 1:
        k = min(top_k, count - 1)
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        rows = np.repeat(np.arange(count), k)
        chosen[rows, nearest.reshape(-1)] |= finite[rows, nearest.reshape(-1)]
    chosen = chosen | chosen.T
    first, second = np.nonzero(np.triu(chosen, k=1))
    return list(zip(first.tolist(), second.tolist(), strict=True))
