"""What every archive backend offers, and how a location names one.

An archive keeps, per file of a past submission, its embedding, its text as it was
compared (base code blanked) and where it came from. The scan only needs four things of
it, so a backend is four methods and two more for bookkeeping: a folder of shards on one
machine (:mod:`.local`, the default) and Milvus (:mod:`.milvus`) for archives that
outgrow one.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlparse

import numpy as np

from clonedetect.client.errors import InvalidInputError
from clonedetect.scanning.languages import family

FAMILY_CODES = {"c": 1, "java": 2, "python": 3}
"""Language families as small integers: backends filter on them next to the vectors."""

MILVUS_SCHEMES = ("milvus-lite", "milvus")


@dataclass(frozen=True)
class ArchivedFile:
    """Where an archived file came from (its text and embedding are stored beside)."""

    submission: str
    path: str
    language: str
    course: str | None
    term: str
    author: str | None
    added: str  # ISO 8601, UTC

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SearchFilter:
    """What one query may match: files of its language family, not of its author."""

    family: str
    author: str | None


def author_key(author: str | None) -> int:
    """A signed 64-bit key of ``author`` (0: no author), so that backends compare
    integers next to the vectors instead of escaping strings into filter expressions."""
    if author is None:
        return 0
    key = int.from_bytes(hashlib.blake2b(author.encode("utf-8"), digest_size=8).digest(), "little", signed=True)
    return key or 1


def family_code(language: str) -> int:
    return FAMILY_CODES[family(language)]


def batch_summary(files: list[ArchivedFile]) -> dict:
    """What ``archive info`` shows of one ``add`` (one course and term)."""
    first = files[0]
    submissions = len({f.submission for f in files})
    return {
        "course": first.course,
        "term": first.term,
        "added": first.added,
        "submissions": submissions,
        "files": len(files),
    }


class ArchiveStore(Protocol):
    location: str

    def exists(self) -> bool: ...

    def encoder(self) -> dict | None:
        """The encoder the archive's embeddings were made with; None for a new archive."""

    def add(self, embeddings: np.ndarray, files: list[ArchivedFile], texts: list[str], encoder: dict) -> None:
        """Append one batch (one ``archive add``) without rewriting what is stored."""

    def search(self, queries: np.ndarray, limit: int, filters: list[SearchFilter]) -> tuple[np.ndarray, np.ndarray]:
        """Per query the ``limit`` highest inner products among the files its filter
        allows, best first: ``(scores, ids)``, both ``[len(queries), limit]``, padded with -inf / -1."""

    def files(self, ids: list[int]) -> list[ArchivedFile]: ...

    def texts(self, ids: list[int]) -> list[str]: ...

    def batches(self) -> list[dict]:
        """One entry per ``add``: course, term, added, submissions, files."""

    def size_bytes(self) -> int | None: ...


def open_store(location: str) -> ArchiveStore:
    """The backend a location names: ``milvus-lite:///path/archive.db`` (embedded
    Milvus), ``milvus://host:19530[/collection]`` (a Milvus server), else a folder."""
    scheme = urlparse(location).scheme
    if scheme in MILVUS_SCHEMES:
        from clonedetect.archive.milvus import MilvusStore

        return MilvusStore.from_url(location)
    if "://" in location:
        raise InvalidInputError(
            f"archive {location}: unknown scheme {scheme!r}; use a folder, milvus-lite:///path.db "
            "or milvus://host:19530/collection"
        )
    from clonedetect.archive.local import LocalStore

    return LocalStore(os.fspath(location))


def open_existing(location: str) -> ArchiveStore:
    """:func:`open_store`, for reading: a clear error when nothing is archived there."""
    store = open_store(location)
    if not store.exists():
        raise InvalidInputError(f"archive {location} does not exist; create it with `clonedetect archive add`")
    return store
