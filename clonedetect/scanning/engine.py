"""The scan: submissions in, ranked pairs and clusters out.

No file I/O here (:mod:`.inputs` reads, :mod:`.writers` writes): the core gets
:class:`~clonedetect.scanning.inputs.Submission` objects and reaches the server through a
``backend`` with the client's ``embed`` and ``compare_many``, so it runs the same from the
CLI, from Python and in tests. Steps: blank base code and common code locally; embed every file once;
rank all submission pairs by cosine on the client; verify the candidates on the server
(``clone_compare``: calibrated probability and evidence); report, rank and cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from clonedetect.client.protocol import Comparison
from clonedetect.scanning.authors import authors_of
from clonedetect.scanning.base_code import BaseCode, PreparedFile, prepare
from clonedetect.scanning.candidates import cap_candidates, exclude_same_author, select_candidates
from clonedetect.scanning.clusters import clusters
from clonedetect.scanning.common_code import remove_common_code
from clonedetect.scanning.inputs import Skipped, Submission
from clonedetect.scanning.languages import family
from clonedetect.scanning.result import FileReport, PairReport, ScanResult, ScanSettings, SubmissionReport
from clonedetect.scanning.similarity import FileLayout, best_file_pair, submission_similarity

if TYPE_CHECKING:
    from clonedetect.archive.store import ArchiveStore

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` while a scan runs."""

SLICE = 256  # programs per embed/compare_many call: the client splits and overlaps each call's requests


class Backend(Protocol):
    def embed(self, codes: list[str]) -> np.ndarray: ...

    def compare_many(self, pairs: list[tuple[str, str]]) -> list[Comparison]: ...


def _no_progress(stage: str, done: int, total: int) -> None:
    """The default: a library call stays quiet."""


def _in_slices(function: Callable[[list], list], items: list, stage: str, progress: Progress) -> list:
    results: list = []
    for start in range(0, len(items), SLICE):
        results.extend(function(items[start : start + SLICE]))
        progress(stage, min(start + SLICE, len(items)), len(items))
    return results


def _prepare_all(submissions: Sequence[Submission], base: BaseCode | None, progress: Progress):
    prepared = []
    for done, submission in enumerate(submissions, start=1):
        prepared.append([prepare(source, base) for source in submission.files])
        if base is not None:
            progress("removing base code", done, len(submissions))
    return prepared


def _report(submission: Submission, files: list[PreparedFile], author: str | None) -> SubmissionReport:
    reports = tuple(
        FileReport(
            f.source.path,
            f.source.language,
            f.tokens,
            f.base_code_tokens,
            f.compared,
            f.base_code_lines,
            f.common_code_tokens,
            f.common_code_lines,
            f.source.text,
        )
        for f in files
    )
    return SubmissionReport(submission.name, author, reports)


def _embed(files: list[list[PreparedFile]], backend: Backend, progress: Progress) -> tuple[np.ndarray, FileLayout]:
    flat = [f for group in files for f in group]
    families = sorted({family(f.source.language) for f in flat})
    layout = FileLayout(
        starts=np.cumsum([0] + [len(group) for group in files]),
        families=np.array([families.index(family(f.source.language)) for f in flat]),
    )
    vectors = _in_slices(lambda part: list(backend.embed([f.text for f in part])), flat, "embedding", progress)
    embeddings = np.asarray(vectors, dtype=np.float32).reshape(len(flat), -1)
    embeddings /= np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    return embeddings, layout


def _pair(a: str, b: str, file_a: PreparedFile, file_b: PreparedFile, comparison: Comparison) -> PairReport:
    return PairReport(
        a=a,
        b=b,
        similarity=comparison.similarity,
        probability=comparison.probability,
        verification=comparison.verification,
        literals=comparison.literals,
        file_a=file_a.source.path,
        file_b=file_b.source.path,
        fragments=tuple(comparison.evidence.get("fragments", ())),
        shared_literals=comparison.shared_literals,
    )


def _verify(names, files, embeddings, layout, candidates, backend, progress) -> list[PairReport]:
    """Each candidate verified on its most similar file pair."""
    flat = [f for group in files for f in group]
    rows = [best_file_pair(embeddings, layout, a, b) for a, b in candidates]
    texts = [(flat[row_a].text, flat[row_b].text) for row_a, row_b in rows]
    comparisons = _in_slices(backend.compare_many, texts, "verifying", progress)
    return [
        _pair(names[a], names[b], flat[row_a], flat[row_b], comparison)
        for (a, b), (row_a, row_b), comparison in zip(candidates, rows, comparisons, strict=True)
    ]


def _with_archive(archive, names, files, embeddings, authors, settings, backend, progress) -> list[PairReport]:
    from clonedetect.archive.matching import archive_pairs  # here: the archive imports the scan's modules

    def in_slices(function, items, stage):
        return _in_slices(function, items, stage, progress)

    return archive_pairs(archive, names, files, embeddings, authors, settings, backend, in_slices)


def _candidates(names, files, authors, archive, settings, backend, progress) -> tuple[list[PairReport], int]:
    """Every verified pair (among the compared submissions, and with the archive), and
    how many candidates among the submissions ``max_verified`` left unverified."""
    if len(files) < (1 if archive is not None else 2):
        return [], 0
    embeddings, layout = _embed(files, backend, progress)
    pairs, unverified = [], 0
    if len(files) > 1:
        similarity = exclude_same_author(submission_similarity(embeddings, layout), authors)
        chosen = select_candidates(similarity, settings.min_similarity, settings.top_k)
        chosen, unverified = cap_candidates(chosen, similarity, settings.max_verified)
        pairs += _verify(names, files, embeddings, layout, chosen, backend, progress)
    if archive is not None:
        pairs += _with_archive(archive, names, files, embeddings, authors, settings, backend, progress)
    return pairs, unverified


def _ranked(pairs: list[PairReport]) -> tuple[PairReport, ...]:
    return tuple(sorted(pairs, key=lambda p: (-p.probability, -p.similarity, p.a, p.b)))


def run_scan(
    submissions: Sequence[Submission],
    backend: Backend,
    *,
    base: BaseCode | None = None,
    authors: Mapping[str, str] | None = None,
    settings: ScanSettings | None = None,
    skipped: Sequence[Skipped] = (),
    progress: Progress | None = None,
    archive: ArchiveStore | None = None,
) -> ScanResult:
    """Scan ``submissions`` (see the module doc); ``skipped`` is passed through to the result.
    With an ``archive`` of past submissions, each is also compared with those (never the
    archived ones with each other), and one submission is enough."""
    settings = settings or ScanSettings()
    progress = progress or _no_progress
    names = [s.name for s in submissions]
    author_of = authors_of(names, authors or {})
    prepared = remove_common_code(_prepare_all(submissions, base, progress), settings.common_code_share)
    reports = tuple(_report(s, p, a) for s, p, a in zip(submissions, prepared, author_of, strict=True))
    active = [index for index, files in enumerate(prepared) if any(f.compared for f in files)]
    files = [[f for f in prepared[index] if f.compared] for index in active]
    scanned = ([names[i] for i in active], files, [author_of[i] for i in active])
    verified, unverified = _candidates(*scanned, archive, settings, backend, progress)
    candidates = _ranked(verified)
    reported = tuple(p for p in candidates if p.probability >= settings.threshold)
    order = names + [p.b for p in reported if p.archived is not None]
    found = clusters([(p.a, p.b, p.probability) for p in reported], order)
    return ScanResult(settings, reports, tuple(skipped), candidates, reported, tuple(found), unverified)
