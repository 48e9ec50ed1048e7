"""``scan(backend, submissions, ...)``: one call from what the user has (directories or an
in-memory mapping, a base-code directory, an author-map CSV) to a
:class:`~clonedetect.scanning.result.ScanResult`; ``CloneDetectorClient.scan`` calls it."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from clonedetect.client.errors import InvalidInputError
from clonedetect.scanning.authors import read_author_map
from clonedetect.scanning.base_code import BaseCode
from clonedetect.scanning.checkpoint import CheckpointBackend
from clonedetect.scanning.engine import Backend, Progress, run_scan
from clonedetect.scanning.inputs import Discovery, discover_submissions, read_base_code, submissions_from_mapping
from clonedetect.scanning.languages import LANGUAGES
from clonedetect.scanning.result import ScanResult, ScanSettings

if TYPE_CHECKING:
    from clonedetect.archive.store import ArchiveStore

IN_MEMORY = "(in memory)"
Sources = Mapping[str, Mapping[str, str | bytes]]


def check_settings(settings: ScanSettings) -> None:
    if not 0.0 <= settings.threshold <= 1.0:
        raise InvalidInputError(f"threshold {settings.threshold} is not a probability: use a value in [0, 1]")
    if not -1.0 <= settings.min_similarity <= 1.0:
        raise InvalidInputError(f"min_similarity {settings.min_similarity} is not a cosine: use a value in [-1, 1]")
    if settings.top_k < 0:
        raise InvalidInputError(f"top_k {settings.top_k} is negative: use 0 (none) or more")
    if settings.max_verified is not None and settings.max_verified < 1:
        raise InvalidInputError(f"max_verified {settings.max_verified} is not positive: use 1 or more, or None (all)")
    if not 0.0 <= settings.common_code_share <= 1.0:
        raise InvalidInputError(
            f"common code share {settings.common_code_share} is not a share: use a value in [0, 1] (1: keep it all)"
        )
    if settings.language is not None and settings.language not in LANGUAGES:
        raise InvalidInputError(f"unknown language {settings.language!r}: use one of {', '.join(LANGUAGES)}")


def _submissions(submissions: Sequence[str | os.PathLike] | Sources, language: str | None, needed: int) -> Discovery:
    if isinstance(submissions, Mapping):
        found = submissions_from_mapping(submissions, language)
    elif isinstance(submissions, (str, bytes, os.PathLike)):
        raise InvalidInputError("pass a list of submission directories, e.g. scan(['subs']), not a single path")
    else:
        found = discover_submissions([os.fspath(path) for path in submissions], language)
    if len(found.submissions) < needed:
        where = "the mapping" if isinstance(submissions, Mapping) else ", ".join(map(os.fspath, submissions))
        count = len(found.submissions)
        wanted = "one or more with an archive" if needed == 1 else "two or more"
        raise InvalidInputError(
            f"found {count} usable submission(s) in {where or 'no directory'}; a scan needs {wanted}"
        )
    return found


def _base_code(base_code: str | os.PathLike | Mapping[str, str | bytes], language: str | None) -> Discovery:
    if isinstance(base_code, Mapping):
        found = submissions_from_mapping({IN_MEMORY: base_code}, language)
        if not found.submissions:
            raise InvalidInputError("the base code holds no usable source file")
        return found
    return read_base_code(os.fspath(base_code), language)


def _label(value) -> str | None:
    return None if value is None else IN_MEMORY if isinstance(value, Mapping) else os.fspath(value)


def _archive(archive: str | os.PathLike | ArchiveStore | None) -> ArchiveStore | None:
    if not isinstance(archive, (str, os.PathLike)):
        return archive
    from clonedetect.archive.store import open_existing  # here: the archive imports this package's modules

    return open_existing(os.fspath(archive))


def scan(
    backend: Backend,
    submissions: Sequence[str | os.PathLike] | Sources,
    base_code: str | os.PathLike | Mapping[str, str | bytes] | None = None,
    authors: str | os.PathLike | Mapping[str, str] | None = None,
    threshold: float = 0.5,
    *,
    language: str | None = None,
    top_k: int = ScanSettings.top_k,
    min_similarity: float = ScanSettings.min_similarity,
    progress: Progress | None = None,
    archive: str | os.PathLike | ArchiveStore | None = None,
    max_verified: int | None = ScanSettings.max_verified,
    checkpoint: str | os.PathLike | None = None,
    common_code_share: float = ScanSettings.common_code_share,
) -> ScanResult:
    """Scan an assignment on the server behind ``backend`` (a ``CloneDetectorClient``).

    ``submissions``: directories whose entries are the submissions, or ``{name: {file
    name: code}}``. ``base_code``: a directory, or ``{file name: code}``. ``authors``: a
    ``submission,author`` CSV, or ``{submission: author}``. ``archive``: past submissions
    to compare with too (a location as ``clonedetect archive`` takes, or an opened store).
    ``max_verified``: verify at most this many candidates among the submissions, the most
    similar (None: every one). ``checkpoint``: a folder keeping the server's answers as
    they come (:mod:`.checkpoint`); a scan stopped at any point and run again with it
    asks only for what is missing and gives the same result. ``common_code_share``: code
    that more than this share of the submissions (and more than 10) hold verbatim is
    removed like base code (:mod:`.common_code`; 1: kept).
    Raises ``InvalidInputError`` for unusable input; unusable files are listed in
    ``result.skipped``.
    """
    store = _archive(archive)
    archive_label = None if store is None else store.location
    settings = ScanSettings(
        threshold,
        min_similarity,
        top_k,
        language,
        _label(base_code),
        _label(authors),
        archive_label,
        max_verified,
        common_code_share,
    )
    check_settings(settings)
    found = _submissions(submissions, language, 1 if store is not None else 2)
    skipped = list(found.skipped)
    base = None
    if base_code is not None:
        base_found = _base_code(base_code, language)
        skipped += base_found.skipped
        base = BaseCode.of(base_found.submissions[0].files)
    author_map = None
    if authors is not None:
        author_map = dict(authors) if isinstance(authors, Mapping) else read_author_map(os.fspath(authors))
    if checkpoint is not None:
        backend = CheckpointBackend(backend, checkpoint)
    return run_scan(
        found.submissions,
        backend,
        base=base,
        authors=author_map,
        settings=settings,
        skipped=skipped,
        progress=progress,
        archive=store,
    )
