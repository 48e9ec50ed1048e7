"""Two programs -> the window pairs an imported cross-encoder scores (no torch: runs in Triton).

A cross-encoder reads both programs at once, as the model's own pair layout
(``[CLS] A [SEP] B [SEP]`` for BERT, ``<s> A </s></s> B </s>`` for RoBERTa), in at most
``window`` positions. Nothing is cut to fit. The rule:

* ``budget`` = the window less the pair's special tokens.
* A pair that fits (``len(A) + len(B) <= budget``) is one window pair, as the model's
  tokenizer would make it.
* Otherwise each program is split into consecutive chunks: A's chunks take
  ``min(len(A), max(budget // 2, budget - len(B)))`` tokens, B's the rest of the budget (a
  short program stays whole beside chunks of a long one). Every chunk of A is scored
  against every chunk of B, and the comparison's score is the highest of them: a copied
  part scores high in the window pair that holds it, wherever it is in either program.
* At most :data:`MAX_WINDOW_PAIRS` window pairs per comparison: a larger grid is refused
  with an error that says how many it needs, never scored on a part of it.

The window is the ``truncation`` length stored in ``tokenizer.json`` (``clonedetect
import-model --cross-encoder`` sets it to the model's window).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from clonedetect.preprocessing.validation import CodeInputError, decode_code

# 8 x 8 chunks: two programs of about 2,000 tokens each on a 512-position model, 64 model
# calls per comparison. Beyond it a comparison costs more than a scan can afford.
MAX_WINDOW_PAIRS = 64


class PairInputError(CodeInputError):
    """A pair of programs the cross-encoder cannot score; the message says why."""


@dataclass(frozen=True)
class PairTemplate:
    """Where the model's special tokens go around the two programs, and their token types."""

    prefix: tuple[int, ...]
    middle: tuple[int, ...]
    suffix: tuple[int, ...]
    special_types: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
    type_a: int
    type_b: int

    @classmethod
    def of(cls, tokenizer: Tokenizer) -> PairTemplate:
        """Read the layout off the tokenizer's own post-processor, on a pair of markers."""
        encoding = tokenizer.encode("x", "y", add_special_tokens=True)
        sequence = [-1 if s is None else s for s in encoding.sequence_ids]
        if 0 not in sequence or 1 not in sequence:
            raise ValueError("the tokenizer does not encode a pair of texts")
        a_end = max(i for i, s in enumerate(sequence) if s == 0) + 1
        b_start = sequence.index(1)
        b_end = max(i for i, s in enumerate(sequence) if s == 1) + 1
        spans = ((0, sequence.index(0)), (a_end, b_start), (b_end, len(sequence)))
        ids, types = encoding.ids, encoding.type_ids
        return cls(
            prefix=tuple(ids[slice(*spans[0])]),
            middle=tuple(ids[slice(*spans[1])]),
            suffix=tuple(ids[slice(*spans[2])]),
            special_types=tuple(tuple(types[slice(*span)]) for span in spans),
            type_a=types[a_end - 1],
            type_b=types[b_end - 1],
        )

    @property
    def special_count(self) -> int:
        return len(self.prefix) + len(self.middle) + len(self.suffix)

    def window(self, chunk_a: list[int], chunk_b: list[int]) -> tuple[list[int], list[int]]:
        """Ids and token types of one window pair."""
        ids = [*self.prefix, *chunk_a, *self.middle, *chunk_b, *self.suffix]
        before, between, after = self.special_types
        types = [*before, *[self.type_a] * len(chunk_a), *between, *[self.type_b] * len(chunk_b), *after]
        return ids, types


def chunk_sizes(length_a: int, length_b: int, budget: int) -> tuple[int, int]:
    """Tokens per chunk of A and of B (the rule in the module docstring)."""
    share_a = min(length_a, max(budget // 2, budget - length_b))
    return share_a, budget - share_a


class PairWindowTokenizer:
    """Wraps an imported cross-encoder's ``tokenizer.json``; makes the window pairs."""

    def __init__(self, tokenizer: Tokenizer):
        truncation = tokenizer.truncation
        if not truncation:
            raise ValueError("tokenizer.json must set truncation (max_length = the cross-encoder's window)")
        self.window = int(truncation["max_length"])
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self.template = PairTemplate.of(tokenizer)
        self.budget = self.window - self.template.special_count
        if self.budget < 2:
            raise ValueError(f"a {self.window}-position window leaves no room for two programs")

    @classmethod
    def from_file(cls, path: Path | str) -> PairWindowTokenizer:
        return cls(Tokenizer.from_file(str(path)))

    def window_pairs(self, code_a: str, code_b: str, what: str = "pair") -> list[tuple[list[int], list[int]]]:
        """Every window pair of two programs (ids, token types), A's chunks outermost."""
        encoded = self._tokenizer.encode_batch([code_a, code_b], add_special_tokens=False)
        tokens_a, tokens_b = (e.ids for e in encoded)
        if not tokens_a or not tokens_b:
            side = "CODE_A" if not tokens_a else "CODE_B"
            raise PairInputError(f"{what}: {side} has no tokens for this model's tokenizer; send program text")
        share_a, share_b = chunk_sizes(len(tokens_a), len(tokens_b), self.budget)
        chunks_a = [tokens_a[i : i + share_a] for i in range(0, len(tokens_a), share_a)]
        chunks_b = [tokens_b[i : i + share_b] for i in range(0, len(tokens_b), share_b)]
        if len(chunks_a) * len(chunks_b) > MAX_WINDOW_PAIRS:
            raise PairInputError(
                f"{what}: CODE_A and CODE_B ({len(tokens_a)} and {len(tokens_b)} tokens) need "
                f"{len(chunks_a)} x {len(chunks_b)} window pairs of {self.window} positions; a comparison may "
                f"use at most {MAX_WINDOW_PAIRS}: compare shorter programs (a file or a function at a time)"
            )
        return [self.template.window(a, b) for a in chunks_a for b in chunks_b]


def pad_pairs(comparisons: list[list[tuple[list[int], list[int]]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``input_ids``, ``attention_mask``, ``token_type_ids`` ``[comparisons, pairs, tokens]``
    int64: each comparison's window pairs, padded to the most pairs and the longest window."""
    pairs = max(len(windows) for windows in comparisons)
    tokens = max(len(ids) for windows in comparisons for ids, _ in windows)
    shape = (len(comparisons), pairs, tokens)
    input_ids, attention_mask, token_types = (np.zeros(shape, dtype=np.int64) for _ in range(3))
    for row, windows in enumerate(comparisons):
        for column, (ids, types) in enumerate(windows):
            input_ids[row, column, : len(ids)] = ids
            attention_mask[row, column, : len(ids)] = 1
            token_types[row, column, : len(types)] = types
    return input_ids, attention_mask, token_types


def tokenize_pair_request(
    tokenizer: PairWindowTokenizer, codes_a: np.ndarray, codes_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | CodeInputError:
    """One Triton request's pairs as padded window pairs, or the error that rejects it."""
    if len(codes_a) != len(codes_b):
        return PairInputError(f"CODE_A has {len(codes_a)} programs and CODE_B {len(codes_b)}; send them in pairs")
    try:
        comparisons = [
            tokenizer.window_pairs(
                decode_code(a, what=f"CODE_A[{i}]"), decode_code(b, what=f"CODE_B[{i}]"), what=f"pair {i}"
            )
            for i, (a, b) in enumerate(zip(codes_a, codes_b, strict=True))
        ]
    except CodeInputError as error:
        return error
    return pad_pairs(comparisons)
