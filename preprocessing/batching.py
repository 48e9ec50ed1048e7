"""Tokenise the CODE tensors of several Triton requests in one tokenizer call."""

from __future__ import annotations

import numpy as np

from clonedetect.preprocessing.tokenization import CodeTokenizer, pad_batch
from clonedetect.preprocessing.validation import CodeInputError, decode_code


def tokenize_requests(
    tokenizer: CodeTokenizer, requests: list[np.ndarray], multiple: int = 1
) -> list[tuple[np.ndarray, np.ndarray] | CodeInputError]:
    """For each request (an array of raw code items) its padded ``(input_ids, attention_mask)``,
    or the :class:`CodeInputError` that rejects it. A bad request fails alone: the others
    of the batch are still tokenised."""
    texts: list[str] = []
    spans: list[tuple[int, int] | CodeInputError] = []
    for request in requests:
        try:
            decoded = [decode_code(item, what=f"CODE[{i}]") for i, item in enumerate(request)]
        except CodeInputError as error:
            spans.append(error)
            continue
        spans.append((len(texts), len(texts) + len(decoded)))
        texts.extend(decoded)
    token_ids = tokenizer.token_ids(texts) if texts else []
    results: list[tuple[np.ndarray, np.ndarray] | CodeInputError] = []
    for span in spans:
        if isinstance(span, CodeInputError):
            results.append(span)
            continue
        sequences = token_ids[span[0] : span[1]]
        longest = max(len(s) for s in sequences)
        results.append(pad_batch(sequences, -(-longest // multiple) * multiple))
    return results
