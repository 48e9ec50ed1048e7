"""A scan's new submissions against the archive: candidates, then the server's verdict.

Each new file asks the archive for its nearest archived files of its language family and
not of its author; archived files are never queried, so the archive is never compared with
itself. As among new submissions, a candidate is a hit among a file's ``top_k`` nearest or
with a cosine of at least ``min_similarity``; hits of one archived submission count once,
on the most similar file pair, which ``clone_compare`` verifies (the archived text as it
was compared when archived, base code blanked).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clonedetect.archive.encoder import check_same_encoder, identify_encoder
from clonedetect.archive.store import ArchivedFile, ArchiveStore, SearchFilter
from clonedetect.scanning.base_code import PreparedFile
from clonedetect.scanning.languages import family
from clonedetect.scanning.result import ArchivedSide, PairReport, ScanSettings

MAX_HITS = 50
"""Archived files fetched per new file: its top_k and, up to this many, those above the floor."""


@dataclass(frozen=True)
class Hit:
    submission: int  # index among the scan's compared submissions
    row: int  # the new file's row among them
    file_id: int  # the archived file
    similarity: float


def archive_name(file: ArchivedFile, what: str) -> str:
    """How a report names an archived submission or file: ``archive:[<course>/]<term>/<what>``."""
    return "archive:" + "/".join(part for part in (file.course, file.term, what) if part)


def _hits(store: ArchiveStore, embeddings, owners, filters, settings: ScanSettings) -> list[Hit]:
    scores, ids = store.search(embeddings, max(settings.top_k, MAX_HITS), filters)
    ranks = np.arange(scores.shape[1])[None, :]
    chosen = np.isfinite(scores) & ((ranks < settings.top_k) | (scores >= settings.min_similarity))
    rows, columns = np.nonzero(chosen)
    return [Hit(owners[r], int(r), int(ids[r, c]), float(scores[r, c])) for r, c in zip(rows, columns, strict=True)]


def _best_per_pair(hits: list[Hit], archived: dict[int, ArchivedFile]) -> list[Hit]:
    """One hit per (new submission, archived submission): the most similar file pair."""
    best: dict[tuple, Hit] = {}
    for hit in hits:
        file = archived[hit.file_id]
        key = (hit.submission, file.course, file.term, file.submission)
        if key not in best or hit.similarity > best[key].similarity:
            best[key] = hit
    return sorted(best.values(), key=lambda h: (h.submission, -h.similarity, h.file_id))


def _pair(name: str, new_file: PreparedFile, archived: ArchivedFile, text: str, comparison) -> PairReport:
    return PairReport(
        a=name,
        b=archive_name(archived, archived.submission),
        similarity=comparison.similarity,
        probability=comparison.probability,
        verification=comparison.verification,
        literals=comparison.literals,
        file_a=new_file.source.path,
        file_b=archive_name(archived, archived.path),
        fragments=tuple(comparison.evidence.get("fragments", ())),
        shared_literals=comparison.shared_literals,
        archived=ArchivedSide(
            archived.submission, archived.course, archived.term, archived.author, archived.added, text
        ),
    )


def archive_pairs(store, names, files, embeddings, authors, settings, backend, in_slices) -> list[PairReport]:
    """The verified pairs of the scan's compared submissions (``names``, their prepared
    ``files`` and ``embeddings`` in that order, their ``authors``) with the archive.
    ``in_slices(function, items, stage)`` runs a server call in slices with progress."""
    check_same_encoder(store.encoder(), identify_encoder(backend), store.location)
    flat = [(index, f) for index, group in enumerate(files) for f in group]
    owners = [index for index, _ in flat]
    filters = [SearchFilter(family(f.source.language), authors[index]) for index, f in flat]
    hits = _hits(store, embeddings, owners, filters, settings)
    if not hits:
        return []
    archived = dict(zip(ids := sorted({h.file_id for h in hits}), store.files(ids), strict=True))
    chosen = _best_per_pair(hits, archived)
    texts = store.texts([h.file_id for h in chosen])
    pairs = [(flat[h.row][1].text, text) for h, text in zip(chosen, texts, strict=True)]
    comparisons = in_slices(backend.compare_many, pairs, "verifying archive pairs")
    return [
        _pair(names[h.submission], flat[h.row][1], archived[h.file_id], text, comparison)
        for h, text, comparison in zip(chosen, texts, comparisons, strict=True)
    ]
