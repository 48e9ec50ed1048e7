"""Turn what the user hands in (directories of submissions, or an in-memory mapping)
into :class:`Submission` objects, and list every file that cannot be used with its reason.

A directory given on the command line holds one submission per entry: a file is a
one-file submission, a directory a multi-file submission made of the source files under
it. A submission is named by the entry's path as given (``subs/alice.c``, ``subs/bob``),
so the names in a report can be opened as they are. This module does the reading; the
detection core only ever sees text.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from clonedetect.client.errors import InvalidInputError
from clonedetect.preprocessing.comments import comment_spans
from clonedetect.preprocessing.validation import MAX_CODE_BYTES
from clonedetect.scanning.languages import language_of, unsupported_reason


@dataclass(frozen=True)
class SourceFile:
    path: str  # as the user can open it (or the in-memory file name)
    language: str
    text: str


@dataclass(frozen=True)
class Submission:
    name: str
    files: tuple[SourceFile, ...]


@dataclass(frozen=True)
class Skipped:
    """A file (or submission directory) left out of the scan, and why."""

    path: str
    reason: str

    def to_dict(self) -> dict:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class Discovery:
    submissions: tuple[Submission, ...]
    skipped: tuple[Skipped, ...]


def has_code(text: str) -> bool:
    """Whether any character outside comments is not whitespace: exactly when the token
    sequence (every such character starts a token) is not empty, without tokenizing the
    file a second time (the scan tokenizes it once, to blank base code and count tokens)."""
    position = 0
    for start, end in comment_spans(text):
        if text[position:start].strip():
            return True
        position = end
    return bool(text[position:].strip())


def source_file(path: str, raw: bytes | str, language: str | None = None) -> SourceFile | Skipped:
    """``raw`` as a usable source file, or the reason it is not one."""
    detected = language_of(path, language)
    if detected is None:
        return Skipped(path, unsupported_reason(path, language))
    size = len(raw.encode("utf-8", errors="surrogatepass")) if isinstance(raw, str) else len(raw)
    if size > MAX_CODE_BYTES:
        return Skipped(path, f"{size:,} bytes, over the {MAX_CODE_BYTES:,}-byte limit")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return Skipped(path, f"not valid UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})")
    if not raw.strip():
        return Skipped(path, "empty")
    if not has_code(raw):
        return Skipped(path, "no code, only comments")
    return SourceFile(path, detected, raw)


def read_source_file(path: str, language: str | None = None) -> SourceFile | Skipped:
    if language_of(path, language) is None:
        return Skipped(path, unsupported_reason(path, language))
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CODE_BYTES + 1)
    except OSError as error:
        return Skipped(path, f"cannot read: {error.strerror}")
    if len(raw) > MAX_CODE_BYTES:
        return Skipped(path, f"over the {MAX_CODE_BYTES:,}-byte limit")
    return source_file(path, raw, language)


def files_under(directory: str) -> list[str]:
    """Every file below ``directory``, in a stable order (sorted, depth first)."""
    found = []
    for folder, subfolders, names in os.walk(directory):
        subfolders.sort()
        found.extend(os.path.join(folder, name) for name in sorted(names))
    return found


def _split(results: list[SourceFile | Skipped]) -> tuple[tuple[SourceFile, ...], list[Skipped]]:
    files = tuple(r for r in results if isinstance(r, SourceFile))
    return files, [r for r in results if isinstance(r, Skipped)]


def _check_directory(path: str, what: str) -> None:
    if not os.path.exists(path):
        raise InvalidInputError(f"{what} {path} does not exist")
    if not os.path.isdir(path):
        raise InvalidInputError(f"{what} {path} is not a directory")


def discover_submissions(roots: Sequence[str], language: str | None = None) -> Discovery:
    """The submissions in ``roots`` (see the module doc) and the files left out."""
    submissions, skipped = [], []
    for root in roots:
        _check_directory(root, "submissions directory")
        for entry in sorted(os.listdir(root)):
            name = os.path.join(root, entry)
            paths = files_under(name) if os.path.isdir(name) else [name]
            files, left_out = _split([read_source_file(path, language) for path in paths])
            skipped += left_out
            if files:
                submissions.append(Submission(name, files))
            elif os.path.isdir(name) and not paths:
                skipped.append(Skipped(name, "empty directory"))
    return Discovery(_unique(submissions), tuple(skipped))


def submissions_from_mapping(
    mapping: Mapping[str, Mapping[str, str | bytes]], language: str | None = None
) -> Discovery:
    """In-memory submissions: ``{name: {file name: code}}``; the same checks as on disk.
    A file is named ``name/file name``, as a file of a submission directory is, so two
    submissions' ``main.c`` stay apart in the result and the report."""
    submissions, skipped = [], []
    for name, sources in mapping.items():
        files, left_out = _split([source_file(f"{name}/{path}", code, language) for path, code in sources.items()])
        skipped += left_out
        if files:
            submissions.append(Submission(str(name), files))
    return Discovery(tuple(submissions), tuple(skipped))


def read_base_code(directory: str, language: str | None = None) -> Discovery:
    """The base-code files under ``directory`` as one submission named after it."""
    _check_directory(directory, "base-code directory")
    files, skipped = _split([read_source_file(path, language) for path in files_under(directory)])
    if not files:
        raise InvalidInputError(f"base-code directory {directory} holds no usable source file")
    return Discovery((Submission(directory, files),), tuple(skipped))


def _unique(submissions: list[Submission]) -> tuple[Submission, ...]:
    counts = Counter(s.name for s in submissions)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        raise InvalidInputError(f"submission {repeated[0]} is given twice (a directory named twice?)")
    return tuple(submissions)
