"""The verification stage: align two programs and report what they share.

:func:`verify` tiles the programs' normalised token sequences
(:mod:`clonedetect.token_sequence`, :mod:`clonedetect.tiling`) and returns the matched
fragments as line ranges of each program with their length in tokens, and two scores in
[0, 1] as JPlag defines them: ``average`` = covered tokens of both over all tokens of both,
``maximum`` = covered tokens over the shorter program's tokens (a copy padded with new code
keeps a high maximum). :func:`verify_pair` also scores the rare literals the two programs
share (:mod:`clonedetect.literals`), from the same token sequences; :func:`pair_signals`
and :func:`verify_request` serve both. No I/O: the Triton model and the scan call it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from clonedetect.literals import LiteralRarity, SharedLiterals, shared_literals
from clonedetect.preprocessing.validation import CodeInputError, decode_pairs
from clonedetect.tiling import greedy_string_tiling
from clonedetect.token_sequence import TokenSequence, token_sequence

MIN_MATCH_TOKENS = 12  # shorter runs (a for-loop header, a print call) are shared by independent code
MAX_VERIFIED_TOKENS = 20_000
"""Tokens of each program that are aligned (a 1 MB file has ~200 k). Longer programs are
aligned on their first tokens and the evidence says so (``verified_a``, ``verified_b``)."""


@dataclass(frozen=True)
class Fragment:
    """A matched run: lines ``lines_a`` of program A equal, token for token after
    normalisation, lines ``lines_b`` of program B (first and last line, 1-based)."""

    lines_a: tuple[int, int]
    lines_b: tuple[int, int]
    tokens: int


@dataclass(frozen=True)
class Verification:
    average: float
    maximum: float
    tokens_a: int
    tokens_b: int
    verified_a: int  # tokens aligned: all of them, or the first MAX_VERIFIED_TOKENS
    verified_b: int
    fragments: tuple[Fragment, ...]

    def as_dict(self) -> dict:
        return asdict(self)


def _fragment(seq_a: TokenSequence, seq_b: TokenSequence, start_a: int, start_b: int, length: int) -> Fragment:
    last_a, last_b = start_a + length - 1, start_b + length - 1
    return Fragment((seq_a.lines[start_a], seq_a.lines[last_a]), (seq_b.lines[start_b], seq_b.lines[last_b]), length)


def _first_tokens(sequence: TokenSequence, limit: int) -> TokenSequence:
    if len(sequence) <= limit:
        return sequence
    return replace(
        sequence, symbols=sequence.symbols[:limit], lines=sequence.lines[:limit], texts=sequence.texts[:limit]
    )


def verify(code_a: str, code_b: str, min_match: int = MIN_MATCH_TOKENS) -> Verification:
    """Matched fragments and tiling scores of two programs (see the module doc)."""
    return verify_sequences(token_sequence(code_a), token_sequence(code_b), min_match)


def verify_sequences(full_a: TokenSequence, full_b: TokenSequence, min_match: int = MIN_MATCH_TOKENS) -> Verification:
    """:func:`verify` on token sequences made once (a program compared with many others)."""
    seq_a, seq_b = _first_tokens(full_a, MAX_VERIFIED_TOKENS), _first_tokens(full_b, MAX_VERIFIED_TOKENS)
    tiles = greedy_string_tiling(seq_a.symbols, seq_b.symbols, min_match)
    covered = sum(tile.length for tile in tiles)
    total, shorter = len(seq_a) + len(seq_b), min(len(seq_a), len(seq_b))
    fragments = sorted(
        (_fragment(seq_a, seq_b, t.start_a, t.start_b, t.length) for t in tiles), key=lambda f: f.lines_a
    )
    return Verification(
        average=2 * covered / total if total else 0.0,
        maximum=covered / shorter if shorter else 0.0,
        tokens_a=len(full_a),
        tokens_b=len(full_b),
        verified_a=len(seq_a),
        verified_b=len(seq_b),
        fragments=tuple(fragments),
    )


def verify_pair(
    sequence_a: TokenSequence, sequence_b: TokenSequence, rarity: LiteralRarity
) -> tuple[Verification, SharedLiterals]:
    """Everything the verification stage serves of one pair: the tiling and the shared literals."""
    return verify_sequences(sequence_a, sequence_b), shared_literals(sequence_a.literals, sequence_b.literals, rarity)


def pair_signals(
    codes_a: Sequence[str], codes_b: Sequence[str], rarity: LiteralRarity
) -> tuple[np.ndarray, np.ndarray]:
    """The tiling similarity (``average``) and the shared-literal score of each pair
    ``(codes_a[k], codes_b[k])``, as ``clone_compare`` serves them; each distinct program is
    tokenised once."""
    sequences: dict[str, TokenSequence] = {}
    for code in (*codes_a, *codes_b):
        if code not in sequences:
            sequences[code] = token_sequence(code)
    results = [verify_pair(sequences[a], sequences[b], rarity) for a, b in zip(codes_a, codes_b, strict=True)]
    tiling = [tiles.average for tiles, _ in results]
    shared = [common.score for _, common in results]
    return np.array(tiling, dtype=np.float64), np.array(shared, dtype=np.float64)


def verify_request(
    codes_a: np.ndarray, codes_b: np.ndarray, rarity: LiteralRarity
) -> tuple[np.ndarray, np.ndarray, list[str]] | CodeInputError:
    """One Triton request's pairs (``CODE_A[i]``, ``CODE_B[i]``): the tiling similarity
    (``average``), the shared-literal score and the evidence of each as JSON (the
    verification's fields and ``literals``), or the :class:`CodeInputError` that rejects
    the request."""
    try:
        pairs = decode_pairs(codes_a, codes_b)
    except CodeInputError as error:
        return error
    results = [verify_pair(token_sequence(a), token_sequence(b), rarity) for a, b in pairs]
    tiling = np.array([tiles.average for tiles, _ in results], dtype=np.float32)
    shared = np.array([common.score for _, common in results], dtype=np.float32)
    evidence = [json.dumps({**tiles.as_dict(), "literals": common.as_dict()}) for tiles, common in results]
    return tiling, shared, evidence
