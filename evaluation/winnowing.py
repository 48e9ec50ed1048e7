"""Winnowing-fingerprint baseline (MOSS-style), through the maintained ``copydetect`` library.

``copydetect`` lexes a program with Pygments, replaces identifiers / function names /
class names / strings by one placeholder character each and drops comments and
whitespace, then hashes the character k-grams of that filtered text and keeps the
winnowed minimum of every window (Schleimer et al., SIGMOD 2003). ``compare_files``
gives, for each of the two programs, the share of its fingerprinted text that the
other program also contains.

The pair similarity used here is the mean of those two shares (symmetric, in
``[0, 1]``; 1.0 for identical programs long enough to be fingerprinted). The defaults
are copydetect's own: noise threshold ``k = 25`` and guarantee threshold 30, i.e.
window ``30 - 25 + 1 = 6``.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterable, Sequence

import numpy as np
from copydetect import CodeFingerprint, compare_files

DEFAULT_K = 25
DEFAULT_WINDOW = 6

# The project's language names -> (Pygments lexer name, file suffix copydetect displays).
LEXERS = {"c": ("c", ".c"), "cpp": ("cpp", ".cpp"), "java": ("java", ".java"), "python": ("python", ".py")}


def fingerprint(code: str, language: str, k: int = DEFAULT_K, window: int = DEFAULT_WINDOW) -> CodeFingerprint:
    """copydetect's fingerprint of ``code`` (read from memory, lexed as ``language``)."""
    if language not in LEXERS:
        raise ValueError(f"no lexer for language {language!r}: known {sorted(LEXERS)}")
    lexer, suffix = LEXERS[language]
    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)  # copydetect warns on every file it cannot lex
    try:
        return CodeFingerprint(f"program{suffix}", k, window, filter=True, language=lexer, fp=io.StringIO(code))
    finally:
        logger.setLevel(level)


def fingerprint_similarity(a: CodeFingerprint, b: CodeFingerprint) -> float:
    """Mean of the two overlap shares reported by ``copydetect.compare_files``."""
    _, (share_a, share_b), _ = compare_files(a, b)
    return float((share_a + share_b) / 2.0)


def winnowing_similarity(
    code_a: str, code_b: str, language: str, k: int = DEFAULT_K, window: int = DEFAULT_WINDOW
) -> float:
    """Similarity of two programs in ``[0, 1]``."""
    return fingerprint_similarity(fingerprint(code_a, language, k, window), fingerprint(code_b, language, k, window))


class WinnowingScorer:
    """Pair similarities with each distinct program fingerprinted once."""

    def __init__(self, language: str, k: int = DEFAULT_K, window: int = DEFAULT_WINDOW):
        self.language, self.k, self.window = language, k, window
        self._cache: dict[str, CodeFingerprint] = {}

    def _fingerprint(self, code: str) -> CodeFingerprint:
        key = hashlib.sha1(code.encode("utf-8", "surrogatepass")).hexdigest()
        if key not in self._cache:
            self._cache[key] = fingerprint(code, self.language, self.k, self.window)
        return self._cache[key]

    def pair_similarities(self, pairs: Iterable[tuple[str, str]]) -> np.ndarray:
        return np.array(
            [fingerprint_similarity(self._fingerprint(a), self._fingerprint(b)) for a, b in pairs], dtype=np.float64
        )


def winnowing_pair_similarities(codes_a: Sequence[str], codes_b: Sequence[str], language: str) -> np.ndarray:
    """Similarity of ``codes_a[i]`` and ``codes_b[i]`` for every ``i``."""
    if len(codes_a) != len(codes_b):
        raise ValueError("codes_a and codes_b must have the same length")
    return WinnowingScorer(language).pair_similarities(zip(codes_a, codes_b, strict=True))
