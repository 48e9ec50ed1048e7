"""All-pairs cosine similarity of the embedded files, aggregated to submissions.

The file × file matrix is computed in blocks of rows, so a scan of many thousands of
files never holds it whole: only the submission × submission maximum is kept. The file
pair behind a submission pair's maximum is looked up again for the few pairs verified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK_ROWS = 2048


@dataclass(frozen=True)
class FileLayout:
    """Embedded files ordered by submission: submission ``i`` owns rows
    ``starts[i]:starts[i + 1]``; ``families[r]`` is row r's language family id."""

    starts: np.ndarray
    families: np.ndarray

    @property
    def submissions(self) -> int:
        return len(self.starts) - 1

    def rows(self, submission: int) -> slice:
        return slice(int(self.starts[submission]), int(self.starts[submission + 1]))


def _masked_cosines(rows: np.ndarray, columns: np.ndarray, families_rows, families_columns) -> np.ndarray:
    cosines = rows @ columns.T
    cosines[families_rows[:, None] != families_columns[None, :]] = -np.inf
    return cosines


def _max_per_group(values: np.ndarray, starts: np.ndarray, axis: int) -> np.ndarray:
    """``np.maximum.reduceat`` over groups beginning at ``starts``; skipped when every group
    is one row (one file per submission, the usual case), where it would only copy, slowly."""
    if len(starts) == values.shape[axis]:
        return values
    return np.maximum.reduceat(values, starts, axis=axis)


def submission_similarity(embeddings: np.ndarray, layout: FileLayout) -> np.ndarray:
    """``[S, S]`` float32: the highest cosine over the two submissions' file pairs of one
    language family (``-inf`` where they have none). The diagonal is not meaningful."""
    owners = np.repeat(np.arange(layout.submissions), np.diff(layout.starts))
    result = np.full((layout.submissions, layout.submissions), -np.inf, dtype=np.float32)
    column_starts = layout.starts[:-1]
    for first in range(0, len(embeddings), BLOCK_ROWS):
        block = slice(first, first + BLOCK_ROWS)
        cosines = _masked_cosines(embeddings[block], embeddings, layout.families[block], layout.families)
        per_submission = _max_per_group(cosines, column_starts, axis=1)
        block_owners = owners[block]
        changes = np.flatnonzero(np.r_[True, block_owners[1:] != block_owners[:-1]])
        rows = block_owners[changes]
        result[rows] = np.maximum(result[rows], _max_per_group(per_submission, changes, axis=0))
    return result


def best_file_pair(embeddings: np.ndarray, layout: FileLayout, a: int, b: int) -> tuple[int, int]:
    """The rows of the most similar file pair of submissions ``a`` and ``b``."""
    rows_a, rows_b = layout.rows(a), layout.rows(b)
    cosines = _masked_cosines(embeddings[rows_a], embeddings[rows_b], layout.families[rows_a], layout.families[rows_b])
    index_a, index_b = np.unravel_index(int(np.argmax(cosines)), cosines.shape)
    return rows_a.start + int(index_a), rows_b.start + int(index_b)
