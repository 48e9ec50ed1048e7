"""Remove the code every student was handed (the base code) before comparing.

Two students who both kept the skeleton share it token for token, so left in, it makes
independent solutions look alike and shows up as evidence between them. Each submission
file is aligned with each base-code file by the verification stage's greedy string
tiling (:func:`clonedetect.verification.verify_sequences`); the lines of the matched
fragments are blanked (newlines kept, so every line number in the evidence is still the
original file's). Whole lines go: a student's own code on a line that starts or ends a
base-code fragment goes with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from clonedetect.preprocessing.comments import comment_spans
from clonedetect.scanning.inputs import SourceFile
from clonedetect.scanning.languages import family
from clonedetect.token_sequence import TokenSequence, token_sequence
from clonedetect.verification import MIN_MATCH_TOKENS, verify_sequences

MIN_OWN_TOKENS = MIN_MATCH_TOKENS
"""A file with fewer tokens of its own than the shortest evidence fragment is not compared:
two leftovers like ``#include "stats.h"`` would otherwise look like perfect copies."""


@dataclass(frozen=True)
class BaseCode:
    """The token sequences of the base-code files, made once for every submission file."""

    sequences: tuple[tuple[str, TokenSequence], ...]  # (language family, sequence)

    @classmethod
    def of(cls, files: Iterable[SourceFile]) -> BaseCode:
        return cls(tuple((family(f.language), token_sequence(f.text)) for f in files))


@dataclass(frozen=True)
class PreparedFile:
    """A submission file as it is embedded and compared: base code (and common code,
    :mod:`.common_code`) blanked."""

    source: SourceFile
    text: str
    tokens: int
    base_code_tokens: int
    base_code_lines: tuple[tuple[int, int], ...] = ()  # [first, last] ranges, 1-based, for the report
    common_code_tokens: int = 0
    common_code_lines: tuple[tuple[int, int], ...] = ()

    @property
    def compared(self) -> bool:
        return self.tokens - self.base_code_tokens - self.common_code_tokens >= MIN_OWN_TOKENS


def base_code_lines(sequence: TokenSequence, language: str, base: BaseCode | None) -> set[int]:
    """The 1-based lines of a file that match base code of its language family."""
    lines: set[int] = set()
    for base_family, base_sequence in base.sequences if base else ():
        if base_family != family(language):
            continue
        for fragment in verify_sequences(sequence, base_sequence).fragments:
            lines.update(range(fragment.lines_a[0], fragment.lines_a[1] + 1))
    return lines


def line_ranges(lines: set[int]) -> tuple[tuple[int, int], ...]:
    """``{4, 5, 6, 9}`` as ``((4, 6), (9, 9))``: how a report lists (and greys out) base code."""
    ranges: list[tuple[int, int]] = []
    for number in sorted(lines):
        if ranges and ranges[-1][1] == number - 1:
            ranges[-1] = (ranges[-1][0], number)
        else:
            ranges.append((number, number))
    return tuple(ranges)


def blank_lines(text: str, lines: set[int]) -> str:
    """``text`` with ``lines`` emptied. Comments are blanked first, so that emptying the
    line that opens a block comment cannot turn the comment's body into code."""
    parts, position = [], 0
    for start, end in comment_spans(text):
        parts += [text[position:start], re.sub(r"[^\n]", " ", text[start:end])]
        position = end
    text = "".join(parts) + text[position:]
    kept = ("" if number in lines else line for number, line in enumerate(text.split("\n"), start=1))
    return "\n".join(kept)


def prepare(source: SourceFile, base: BaseCode | None) -> PreparedFile:
    sequence = token_sequence(source.text)
    lines = base_code_lines(sequence, source.language, base)
    if not lines:
        return PreparedFile(source, source.text, len(sequence), 0)
    base_tokens = sum(1 for line in sequence.lines if line in lines)
    return PreparedFile(source, blank_lines(source.text, lines), len(sequence), base_tokens, line_ranges(lines))
