"""``archive add``: past submissions into the archive, prepared exactly as a scan would.

The submissions are found, their base code blanked and their files embedded as
:func:`clonedetect.scanning.scan` does, so an archived file's embedding and text are what
the scan would have compared; they are stored with where they came from.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timezone

import numpy as np

from clonedetect.archive.encoder import check_same_encoder, identify_encoder
from clonedetect.archive.store import ArchivedFile, ArchiveStore
from clonedetect.client.errors import InvalidInputError
from clonedetect.scanning.authors import authors_of, read_author_map
from clonedetect.scanning.base_code import BaseCode, PreparedFile, prepare
from clonedetect.scanning.engine import SLICE, Progress
from clonedetect.scanning.inputs import discover_submissions, read_base_code


def _prepared_files(roots: Sequence[str], base_code: str | None, language: str | None):
    found = discover_submissions(roots, language)
    skipped = list(found.skipped)
    base = None
    if base_code is not None:
        base_found = read_base_code(base_code, language)
        skipped += base_found.skipped
        base = BaseCode.of(base_found.submissions[0].files)
    prepared = [
        (s.name, [f for f in (prepare(source, base) for source in s.files) if f.compared]) for s in found.submissions
    ]
    prepared = [(name, files) for name, files in prepared if files]
    if not prepared:
        raise InvalidInputError(f"found no usable submission in {', '.join(roots)}; nothing to archive")
    _check_unique_entries([name for name, _ in prepared])
    return prepared, skipped


def _check_unique_entries(names: list[str]) -> None:
    """An archived submission is named by its entry (``alice.c``), not by where its
    directory was on the machine that added it; two of one name in a term would be one."""
    seen: dict[str, str] = {}
    for name in names:
        entry = os.path.basename(name)
        if entry in seen:
            raise InvalidInputError(f"submissions {seen[entry]} and {name} would both be archived as {entry}")
        seen[entry] = name


def _archived_file(name: str, source_path: str, language: str, **where) -> ArchivedFile:
    """The record of one file: submission and path relative to the submissions directory."""
    root = os.path.dirname(name)
    path = os.path.relpath(source_path, root) if root else source_path
    return ArchivedFile(os.path.basename(name), path, language, **where)


def _embed(backend, files: list[PreparedFile], progress: Progress | None) -> np.ndarray:
    parts = []
    for start in range(0, len(files), SLICE):
        parts.append(np.asarray(backend.embed([f.text for f in files[start : start + SLICE]]), dtype=np.float32))
        if progress:
            progress("embedding", min(start + SLICE, len(files)), len(files))
    embeddings = np.concatenate(parts, axis=0)
    return embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)


def add_submissions(
    store: ArchiveStore,
    backend,
    roots: Sequence[str],
    *,
    term: str | None = None,
    course: str | None = None,
    base_code: str | None = None,
    author_map: str | None = None,
    language: str | None = None,
    progress: Progress | None = None,
) -> dict:
    """Archive the submissions in ``roots`` as one batch; returns what was added.
    ``term`` defaults to today's date (UTC), so that every batch is named."""
    prepared, skipped = _prepared_files([os.fspath(r) for r in roots], base_code, language)
    authors = authors_of([name for name, _ in prepared], read_author_map(author_map) if author_map else {})
    encoder = identify_encoder(backend)
    check_same_encoder(store.encoder(), encoder, store.location)
    added = datetime.now(timezone.utc).isoformat(timespec="seconds")
    term = term or added[:10]
    records, files = [], []
    for (name, group), author in zip(prepared, authors, strict=True):
        for f in group:
            where = {"course": course, "term": term, "author": author, "added": added}
            records.append(_archived_file(name, f.source.path, f.source.language, **where))
            files.append(f)
    store.add(_embed(backend, files, progress), records, [f.text for f in files], encoder)
    return {
        "archive": store.location,
        "course": course,
        "term": term,
        "submissions": len(prepared),
        "files": len(files),
        "skipped": [s.to_dict() for s in skipped],
    }
