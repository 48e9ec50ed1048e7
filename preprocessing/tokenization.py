"""Source code -> encoder inputs, with the project's trained ``tokenizers`` tokenizer.

No truncation: a program of any length (up to the input limit) becomes all of its
tokens; the encoder graph cuts them into windows and pools them. Comments and Python
docstrings are removed first (:mod:`.comments`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from clonedetect.preprocessing.comments import strip_comments
from clonedetect.preprocessing.declaration_lists import with_single_declarations

PAD_TOKEN = "[PAD]"
UNK_TOKEN = "[UNK]"
PAD_ID = 0
# Bumped whenever the text -> ids mapping changes outside tokenizer.json (cache keys use it).
PREPROCESSING_VERSION = "strip-comments-docstrings-single-declarations-4"


def tokenized_text(code: str) -> str:
    """What the tokenizer reads of a program: no comments, declaration lists read both ways."""
    return with_single_declarations(strip_comments(code))


class CodeTokenizer:
    """Wraps the trained ``tokenizer.json``; encodes batches into padded int64 arrays."""

    def __init__(self, tokenizer: Tokenizer):
        if tokenizer.token_to_id(PAD_TOKEN) != PAD_ID:
            raise ValueError(f"tokenizer must map {PAD_TOKEN} to id {PAD_ID}")
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer = tokenizer

    @classmethod
    def from_file(cls, path: Path | str) -> CodeTokenizer:
        return cls(Tokenizer.from_file(str(path)))

    @property
    def vocab(self) -> dict[str, int]:
        return self._tokenizer.get_vocab()

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size()

    def token_ids(self, codes: list[str]) -> list[np.ndarray]:
        """Token ids of each program's :func:`tokenized_text`, unpadded (at least one token each)."""
        encodings = self._tokenizer.encode_batch([tokenized_text(c) for c in codes], add_special_tokens=False)
        return [np.asarray(e.ids or [self._tokenizer.token_to_id(UNK_TOKEN)], dtype=np.int64) for e in encodings]

    def encode(self, codes: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """``input_ids`` and ``attention_mask``, ``[len(codes), longest]`` int64, padded with 0."""
        return pad_batch(self.token_ids(codes))


def pad_batch(sequences: list[np.ndarray], length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad id sequences to ``length`` (default: the longest) with :data:`PAD_ID`."""
    longest = max(len(s) for s in sequences)
    length = longest if length is None else max(length, longest)
    input_ids = np.full((len(sequences), length), PAD_ID, dtype=np.int64)
    attention_mask = np.zeros((len(sequences), length), dtype=np.int64)
    for row, ids in enumerate(sequences):
        input_ids[row, : len(ids)] = ids
        attention_mask[row, : len(ids)] = 1
    return input_ids, attention_mask
