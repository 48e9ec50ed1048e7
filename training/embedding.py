"""Embed whole programs with the torch encoder (the early-stopping evaluation)."""

from __future__ import annotations

import numpy as np
import torch

from clonedetect.preprocessing.tokenization import pad_batch
from clonedetect.training.model import CodeEncoder


@torch.no_grad()
def embed_programs(
    model: CodeEncoder, sequences: list[np.ndarray], device: str = "cpu", max_tokens: int = 16384
) -> np.ndarray:
    """``[len(sequences), width of the model's output]`` embeddings of whole programs (all windows),
    batched by window count like the served encoder."""
    was_training = model.training
    model.eval()
    window = model.config.window
    windows = np.array([-(-len(s) // window) for s in sequences], dtype=np.int64)
    out = np.empty((len(sequences), model.config.output_dim), dtype=np.float32)
    for count in np.unique(windows):
        members = np.flatnonzero(windows == count)
        step = max(1, max_tokens // (count * window))
        for start in range(0, len(members), step):
            chunk = members[start : start + step]
            ids, mask = pad_batch([np.asarray(sequences[i], dtype=np.int64) for i in chunk], int(count) * window)
            out[chunk] = (
                model(torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device)).float().cpu().numpy()
            )
    model.train(was_training)
    return out
