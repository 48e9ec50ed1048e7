"""Export a HuggingFace cross-encoder with window-pair scoring and the maximum in the graph."""

from __future__ import annotations

import warnings
from pathlib import Path

from clonedetect.importing.cross_encoder_source import CrossEncoderSource

INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]
OUTPUT_NAMES = ["similarity", "probability"]


def probability_of(logits, num_labels: int):
    """The clone probability from the head's logits (``[..., num_labels]``, torch)."""
    import torch

    if num_labels == 1:
        return torch.sigmoid(logits[..., 0])
    return torch.softmax(logits, dim=-1)[..., 1]


def max_over_window_pairs(model, num_labels: int, pad_id: int):
    """``model`` as a ``torch.nn.Module`` from ``[comparisons, pairs, tokens]`` ids, mask
    and token types to each comparison's highest window-pair probability ``[comparisons, 1]``
    (twice: as SIMILARITY and PROBABILITY). Window pairs without tokens count as 0."""
    import torch

    class MaxOverWindowPairs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.classifier = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            tokens = input_ids.shape[-1]
            ids, mask = input_ids.reshape(-1, tokens), attention_mask.reshape(-1, tokens)
            types = token_type_ids.reshape(-1, tokens)
            # Padding may hold any id (the serving path pads with 0): give the model its own.
            ids = torch.where(mask > 0, ids, torch.full_like(ids, pad_id))
            types = torch.where(mask > 0, types, torch.zeros_like(types))
            logits = self.classifier(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
            scores = probability_of(logits, num_labels).reshape(input_ids.shape[0], -1)
            present = attention_mask.amax(dim=-1) > 0
            best = torch.where(present, scores, torch.zeros_like(scores)).amax(dim=1, keepdim=True)
            return best, best.clone()

    return MaxOverWindowPairs().eval()


def export_cross_encoder(source: CrossEncoderSource, pad_id: int, output: Path) -> Path:
    """Write the scoring graph as ONNX with dynamic comparison, pair and token axes."""
    import torch

    from clonedetect.training.export import OPSET

    module = max_over_window_pairs(source.model, source.num_labels, pad_id)
    ids = torch.full((2, 3, 11), pad_id + 1)
    mask = torch.ones_like(ids)
    mask[1, 2:] = 0
    axes = {name: {0: "comparisons", 1: "pairs", 2: "tokens"} for name in INPUT_NAMES}
    axes |= {name: {0: "comparisons"} for name in OUTPUT_NAMES}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shape arithmetic
        torch.onnx.export(
            module,
            (ids, mask, torch.zeros_like(ids)),
            str(output),
            input_names=INPUT_NAMES,
            output_names=OUTPUT_NAMES,
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    return output


def torch_pair_probability(source: CrossEncoderSource):
    """The HuggingFace model itself on one window pair, unpadded: the parity reference."""
    import torch

    def probability(ids: list[int], types: list[int]) -> float:
        with torch.no_grad():
            logits = source.model(input_ids=torch.tensor([ids]), token_type_ids=torch.tensor([types])).logits
            return float(probability_of(logits, source.num_labels)[0])

    return probability
