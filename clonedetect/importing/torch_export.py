"""Export a HuggingFace encoder with windowing, mean pooling and L2 normalisation in the graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clonedetect.importing.exported import ExportedEncoder
from clonedetect.importing.huggingface_source import HuggingFaceSource


def pooled_windows(model, window: int, pad_id: int):
    """``model`` as a ``torch.nn.Module`` from ``[batch, windows * window]`` ids and mask
    to one unit-length vector per program: every window is encoded on its own, then the
    token vectors of all of a program's windows are averaged (the mask's tokens only)."""
    import torch
    from torch.nn import functional as F

    class PooledWindows(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = model

        def forward(self, input_ids, attention_mask):
            ids, mask = input_ids.reshape(-1, window), attention_mask.reshape(-1, window)
            # Padding may hold any id (the serving path pads with 0): give the model its own.
            ids = torch.where(mask > 0, ids, torch.full_like(ids, pad_id))
            hidden = self.encoder(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids))
            tokens = hidden.last_hidden_state.reshape(input_ids.shape[0], -1, hidden.last_hidden_state.shape[-1])
            weights = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return F.normalize(pooled, dim=-1)

    return PooledWindows().eval()


def export_huggingface(source: HuggingFaceSource, pad_id: int, output: Path) -> ExportedEncoder:
    """Write the pooled encoder as ONNX with dynamic batch and token axes."""
    import torch

    from clonedetect.training.export import export_graph

    module = pooled_windows(source.model, source.window, pad_id)
    example_ids = torch.full((2, 2 * source.window), pad_id + 1)
    example_mask = torch.ones_like(example_ids)
    example_mask[1, source.window + 3 :] = 0
    export_graph(module, example_ids, example_mask, output)
    return ExportedEncoder(
        onnx_path=output,
        window=source.window,
        dim=source.hidden_size,
        source_vectors=_torch_window_vectors(source.model),
        num_heads=source.num_heads,
        hidden_size=source.hidden_size,
        description={"format": "huggingface", "architecture": source.model_type},
    )


def _torch_window_vectors(model):
    """The HuggingFace model itself on one window, unpadded: the parity reference."""
    import torch

    def vectors(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            hidden = model(input_ids=torch.from_numpy(ids)[None]).last_hidden_state[0].numpy()
        return hidden, np.ones(len(ids), dtype=np.float32)

    return vectors
