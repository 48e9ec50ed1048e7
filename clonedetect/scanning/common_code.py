"""Remove the code that many submissions of a scan share verbatim (common code).

A skeleton nobody handed in as ``--base-code``, a course's input-reading routine, a
contest template: kept, such code makes independent solutions look alike and shows up as
evidence between them. As MOSS does, a passage is ignored when it occurs in too many
submissions: here every run of :data:`RUN_TOKENS` consecutive tokens, compared by their
original text (names and literals as written, comments and layout left out), that occurs
in more than :func:`common_limit` submissions of one language family. The lines of
those runs are blanked like base code, so they are neither embedded nor evidence.

Shared by more than 20 % of the submissions *and* more than 10 of them (by default): a
small class, or a group of up to ten students passing one solution around, is never
hidden; code that a fifth of a large class writes identically is what every one of them
was given or taught. ``share`` 1.0 turns it off.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from clonedetect.scanning.base_code import PreparedFile, blank_lines, line_ranges
from clonedetect.scanning.languages import family
from clonedetect.token_sequence import TokenSequence, token_sequence
from clonedetect.verification import MIN_MATCH_TOKENS

RUN_TOKENS = MIN_MATCH_TOKENS  # a run this long is the shortest fragment that can be evidence
MIN_SUBMISSIONS = 10
DEFAULT_SHARE = 0.2


def common_limit(submissions: int, share: float) -> int:
    """A run is common when more than this many submissions hold it."""
    return max(MIN_SUBMISSIONS, int(share * submissions))


def _runs(language_family: str, sequence: TokenSequence) -> list[int]:
    """A key for each run of the file: the hash of its family and its tokens' text (within
    one process: the counts never leave it)."""
    texts = sequence.texts
    return [hash((language_family, texts[start : start + RUN_TOKENS])) for start in range(len(texts) - RUN_TOKENS + 1)]


def _lines_of(sequence: TokenSequence, runs: list[int], holders: Counter, limit: int) -> set[int]:
    lines: set[int] = set()
    for start, run in enumerate(runs):
        if holders[run] > limit:
            lines.update(sequence.lines[start : start + RUN_TOKENS])
    return lines


def common_lines(submissions: Sequence[Sequence[tuple[str, TokenSequence]]], share: float) -> list[list[set[int]]]:
    """For each submission (a list of ``(language family, token sequence)`` per file), the
    1-based lines of each file that lie in a common run of its family (none at ``share``
    1.0: no run is held by more submissions than there are)."""
    runs = [[_runs(*file) for file in files] for files in submissions]
    holders = Counter(run for files in runs for run in set().union(*files))
    limit = common_limit(len(submissions), share)
    return [
        [_lines_of(sequence, keys, holders, limit) for (_, sequence), keys in zip(files, file_keys, strict=True)]
        for files, file_keys in zip(submissions, runs, strict=True)
    ]


def _without(file: PreparedFile, sequence: TokenSequence, lines: set[int]) -> PreparedFile:
    if not lines:
        return file
    tokens = sum(1 for line in sequence.lines if line in lines)
    text = blank_lines(file.text, lines)
    return replace(file, text=text, common_code_tokens=tokens, common_code_lines=line_ranges(lines))


def remove_common_code(prepared: Sequence[Sequence[PreparedFile]], share: float) -> list[list[PreparedFile]]:
    """The files of each submission with their common code blanked (base code already is);
    at ``share`` 1.0 the files as they are, without tokenising them again."""
    if share >= 1.0:
        return [list(files) for files in prepared]
    sequences = [[(family(f.source.language), token_sequence(f.text)) for f in files] for files in prepared]
    found = common_lines(sequences, share)
    return [
        [_without(file, sequence, lines) for file, (_, sequence), lines in zip(files, pairs, file_lines, strict=True)]
        for files, pairs, file_lines in zip(prepared, sequences, found, strict=True)
    ]
