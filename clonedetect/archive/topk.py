"""The running top-k of a chunked search, with the archive's filters.

Most of the work of a search over a large archive is not the matrix product but picking
each query's best few of every chunk. Once a query holds ``limit`` hits, a chunk's entry
matters only when it beats the worst of them, and after the first chunks few do: those
are found with one comparison and merged sparsely (filters checked on them alone). Only
while most entries still pass (the first chunk) is the whole chunk masked and partitioned.
"""

from __future__ import annotations

import numpy as np

DENSE_FACTOR = 8  # more than this many passing entries per kept hit: mask and partition the chunk


def _excluded(families, authors, chunk_keys) -> np.ndarray:
    """``[queries, chunk]``: another language family, or the query's own author."""
    excluded = families[:, None] != chunk_keys["family"][None, :]
    excluded |= (authors[:, None] == chunk_keys["author"][None, :]) & (authors[:, None] != 0)
    return excluded


def _allowed(families, authors, chunk_keys, rows, columns) -> np.ndarray:
    """:func:`_excluded`'s opposite for the entries ``(rows, columns)`` alone."""
    keys = chunk_keys[columns]
    return (families[rows] == keys["family"]) & ((authors[rows] != keys["author"]) | (authors[rows] == 0))


def _keep_best(best_scores, best_ids, rows, values, ids):
    """The running best (sorted, best first) merged with the entries ``(rows, values, ids)``."""
    count, limit = best_scores.shape
    finite = np.isfinite(values)
    all_rows = np.concatenate([np.repeat(np.arange(count), limit), rows[finite]])
    all_scores = np.concatenate([best_scores.reshape(-1), values[finite]])
    all_ids = np.concatenate([best_ids.reshape(-1), ids[finite]])
    order = np.lexsort((-all_scores, all_rows))
    ordered_rows = all_rows[order]
    rank = np.arange(len(order)) - np.searchsorted(ordered_rows, ordered_rows, side="left")
    keep = order[rank < limit]  # every row has its ``limit`` old entries, so exactly ``limit`` each
    return all_scores[keep].reshape(count, limit), all_ids[keep].reshape(count, limit)


def merge_chunk(best_scores, best_ids, scores, chunk_ids, families, authors, chunk_keys):
    """The running best of each query (``[queries, limit]``, best first, padded with -inf
    and -1) after the chunk ``scores`` (``[queries, chunk]``, rows ``chunk_ids``)."""
    limit = best_scores.shape[1]
    rows, columns = np.nonzero(scores > best_scores[:, -1:])
    if len(rows) > DENSE_FACTOR * limit * len(scores):
        np.putmask(scores, _excluded(families, authors, chunk_keys), -np.inf)
        kept = min(limit, scores.shape[1])
        columns = np.argpartition(scores, scores.shape[1] - kept, axis=1)[:, -kept:].reshape(-1)
        rows = np.repeat(np.arange(len(scores)), kept)
    else:
        allowed = _allowed(families, authors, chunk_keys, rows, columns)
        rows, columns = rows[allowed], columns[allowed]
    return _keep_best(best_scores, best_ids, rows, scores[rows, columns], chunk_ids[columns])
