"""Who wrote which submission: submissions of one author are never compared.

A student may hand in several attempts, or a course may list a team's submissions
separately; comparing those with each other only buries the real pairs.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence

from clonedetect.client.errors import InvalidInputError

HEADER = ("submission", "author")


def read_author_map(path: str) -> dict[str, str]:
    """The ``submission,author`` CSV at ``path`` as a dict; a clear error when it is not one."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except OSError as error:
        raise InvalidInputError(f"cannot read author map {path}: {error.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise InvalidInputError(f"author map {path} is not a UTF-8 CSV file: {error}") from None
    if not rows or tuple(cell.strip().lower() for cell in rows[0]) != HEADER:
        raise InvalidInputError(f"author map {path} must start with the header line 'submission,author'")
    return _parse_rows(path, rows[1:])


def _parse_rows(path: str, rows: list[list[str]]) -> dict[str, str]:
    authors: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise InvalidInputError(f"author map {path}, line {line}: expected 'submission,author', got {row}")
        submission, author = row[0].strip(), row[1].strip()
        if authors.get(submission, author) != author:
            raise InvalidInputError(f"author map {path}, line {line}: {submission} already has another author")
        authors[submission] = author
    return authors


def authors_of(names: Sequence[str], author_map: Mapping[str, str]) -> list[str | None]:
    """The author of each submission: by its full name, else by the entry's basename
    (``alice.c`` for ``subs/alice.c``); None where the map does not say."""
    return [author_map.get(name, author_map.get(os.path.basename(os.path.normpath(name)))) for name in names]
