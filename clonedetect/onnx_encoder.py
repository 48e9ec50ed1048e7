"""Run the ONNX encoder in-process with onnxruntime.

Used by the bundled server's Python-backend encoder, the benchmarks and the
evaluation. Programs of different lengths are grouped by their number of encoder
windows, so a batch pads each program only up to the end of its own last window
instead of up to the longest program in the batch.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import onnxruntime as ort

from clonedetect.preprocessing.tokenization import pad_batch

WINDOW_METADATA_KEY = "clonedetect.window"


class OnnxEncoder:
    def __init__(
        self,
        model_path: Path | str,
        *,
        intra_op_threads: int = 0,
        inter_op_threads: int = 1,
        graph_optimization: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        allow_spinning: bool = True,
    ):
        """``allow_spinning=False`` makes idle ORT threads sleep instead of spin-waiting
        for work: no loss on dedicated cores, much faster when other processes share them."""
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = inter_op_threads
        options.graph_optimization_level = graph_optimization
        if not allow_spinning:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        metadata = self.session.get_modelmeta().custom_metadata_map
        if WINDOW_METADATA_KEY not in metadata:
            raise ValueError(f"{model_path} lacks the {WINDOW_METADATA_KEY!r} metadata the export writes")
        self.window = int(metadata[WINDOW_METADATA_KEY])
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def embed(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Embed a padded batch as is: ``[batch, tokens]`` -> ``[batch, dim]``."""
        return self.session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})[0]

    def embed_sequences(self, sequences: list[np.ndarray], max_batch: int = 64) -> np.ndarray:
        """Embed unpadded token-id sequences, batching those with the same window count."""
        groups: dict[int, list[int]] = defaultdict(list)
        for index, ids in enumerate(sequences):
            groups[-(-len(ids) // self.window)].append(index)
        embeddings = np.empty((len(sequences), self.dim), dtype=np.float32)
        for windows, members in groups.items():
            # Bound the tokens per call, so one huge file does not share a call with many.
            step = max(1, max_batch // windows)
            for start in range(0, len(members), step):
                chunk = members[start : start + step]
                ids, mask = pad_batch([sequences[i] for i in chunk], windows * self.window)
                embeddings[chunk] = self.embed(ids, mask)
        return embeddings


class EncoderInputError(ValueError):
    """Encoder inputs that do not describe programs; the message says what is wrong."""


def unpad(input_ids: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]:
    """Rows of a padded batch back to their unpadded token ids."""
    if input_ids.shape != attention_mask.shape:
        raise EncoderInputError(
            f"input_ids {list(input_ids.shape)} and attention_mask {list(attention_mask.shape)} "
            "must have the same shape"
        )
    rows = [row[mask.astype(bool)] for row, mask in zip(input_ids, attention_mask, strict=True)]
    if any(len(row) == 0 for row in rows):
        raise EncoderInputError("every row of attention_mask must mark at least one token")
    return rows
