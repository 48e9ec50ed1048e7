"""What every source becomes before it is checked and installed: one ONNX encoder graph."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

WindowVectors = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""The source model on one window of ids: the vectors it pools and each one's weight
(every token weighing 1, or one pooled vector weighing the window's token count)."""


@dataclass
class ExportedEncoder:
    """An ONNX graph with the serving interface (``input_ids``, ``attention_mask``
    ``[batch, windows * window]`` -> ``embedding`` ``[batch, dim]``), and the source model
    it must agree with."""

    onnx_path: Path
    window: int
    dim: int
    source_vectors: WindowVectors
    # onnxruntime.transformers optimizer arguments (0: let the optimizer read them from the graph).
    num_heads: int = 0
    hidden_size: int = 0
    description: dict = field(default_factory=dict)
