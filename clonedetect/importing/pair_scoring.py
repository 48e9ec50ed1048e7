"""Run an imported cross-encoder graph in-process with onnxruntime (the bundled server's
Python-backend pair model; no torch).

The graph takes ``[comparisons, pairs, tokens]`` window pairs and returns each
comparison's highest window-pair probability. Requests of different shapes reach the
Python backend together (ragged batching), so their non-empty window pairs are pooled,
sorted by length and scored in batches padded only to the longest of each batch; the
maximum per comparison is taken here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clonedetect.onnx_encoder import EncoderInputError, OnnxEncoder

WINDOWS_PER_CALL = 64


class PairScorer:
    def __init__(self, model_path: Path | str, **session_options):
        # OnnxEncoder holds the session (threads, spinning) and reads the window metadata.
        self.session = OnnxEncoder(model_path, **session_options).session

    def probabilities(self, windows: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Each window pair's probability (ids and token types, unpadded), in order."""
        order = sorted(range(len(windows)), key=lambda i: len(windows[i][0]))
        scores = np.empty(len(windows), dtype=np.float32)
        for start in range(0, len(order), WINDOWS_PER_CALL):
            chunk = order[start : start + WINDOWS_PER_CALL]
            longest = max(len(windows[i][0]) for i in chunk)
            ids, mask, types = (np.zeros((len(chunk), 1, longest), dtype=np.int64) for _ in range(3))
            for row, index in enumerate(chunk):
                window_ids, window_types = windows[index]
                ids[row, 0, : len(window_ids)] = window_ids
                mask[row, 0, : len(window_ids)] = 1
                types[row, 0, : len(window_types)] = window_types
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            scores[chunk] = self.session.run(["probability"], feed)[0].reshape(-1)
        return scores

    def score_requests(self, requests: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> list:
        """Per request (``input_ids``, ``attention_mask``, ``token_type_ids``): its
        comparisons' probabilities ``[n, 1]``, or the :class:`EncoderInputError` rejecting it."""
        windows, owners, results = [], [], []
        for index, request in enumerate(requests):
            try:
                split = split_windows(*request)
            except EncoderInputError as error:
                results.append(error)
                continue
            results.append(np.zeros((len(split), 1), dtype=np.float32))
            for row, row_windows in enumerate(split):
                windows.extend(row_windows)
                owners.extend([(index, row)] * len(row_windows))
        scores = self.probabilities(windows) if windows else []
        for (index, row), score in zip(owners, scores, strict=True):
            results[index][row, 0] = max(results[index][row, 0], score)
        return results


def split_windows(
    input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray
) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Each comparison's non-empty window pairs, unpadded."""
    if not (input_ids.ndim == 3 and input_ids.shape == attention_mask.shape == token_type_ids.shape):
        raise EncoderInputError(
            f"input_ids {list(input_ids.shape)}, attention_mask {list(attention_mask.shape)} and token_type_ids "
            f"{list(token_type_ids.shape)} must share one [comparisons, pairs, tokens] shape"
        )
    comparisons = []
    for ids, mask, types in zip(input_ids, attention_mask, token_type_ids, strict=True):
        kept = [(i[m > 0], t[m > 0]) for i, m, t in zip(ids, mask, types, strict=True) if m.any()]
        if not kept:
            raise EncoderInputError("every comparison needs at least one window pair with tokens in attention_mask")
        comparisons.append(kept)
    return comparisons
