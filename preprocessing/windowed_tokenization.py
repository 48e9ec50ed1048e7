"""Source code -> encoder windows, with an imported model's HuggingFace ``tokenizer.json``.

An imported transformer reads at most ``window`` positions at once, so a program is never
cut to fit: it is split into consecutive windows of ``window`` token ids, each framed by the
model's own special tokens (``[CLS] ... [SEP]``, ``<s> ... </s>``), and the encoder graph
pools the tokens of all windows into one embedding. The window is the ``truncation``
length stored in ``tokenizer.json`` (``clonedetect import-model`` sets it to the encoder's
window); what truncation would drop is kept as its overflow windows, in order.

Every window but the last is full, so a program's ids are one run of real tokens and only
the end of the last window is padding: re-padding to a multiple of the window (as
:func:`~clonedetect.preprocessing.tokenization.pad_batch` and the encoder do) restores the
same windows. The program text is tokenised as it is: an imported model was trained on its
own text, without the shipped model's comment removal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tokenizers import Tokenizer


class WindowedTokenizer:
    """Wraps an imported ``tokenizer.json``; encodes programs as whole windows of ids."""

    def __init__(self, tokenizer: Tokenizer):
        truncation = tokenizer.truncation
        if not truncation or truncation["stride"] != 0:
            raise ValueError("tokenizer.json must set truncation (max_length = the encoder window, stride 0)")
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self.window = int(truncation["max_length"])

    @classmethod
    def from_file(cls, path: Path | str) -> WindowedTokenizer:
        return cls(Tokenizer.from_file(str(path)))

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size()

    def token_ids(self, codes: list[str]) -> list[np.ndarray]:
        """Each program's windows one after another, unpadded (what the encoder step pads)."""
        sequences = []
        for encoding in self._tokenizer.encode_batch(codes):
            pieces = [encoding.ids] + [piece.ids for piece in encoding.overflowing]
            if any(len(piece) != self.window for piece in pieces[:-1]):
                raise ValueError("the tokenizer made a window shorter than its truncation length")
            sequences.append(np.asarray([i for piece in pieces for i in piece], dtype=np.int64))
        return sequences
