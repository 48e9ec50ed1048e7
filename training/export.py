"""Export a trained :class:`CodeEncoder` to ONNX and check parity with onnxruntime."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import torch

from clonedetect.onnx_encoder import WINDOW_METADATA_KEY
from clonedetect.training.model import CodeEncoder, EncoderConfig

INPUT_NAMES = ["input_ids", "attention_mask"]
OUTPUT_NAME = "embedding"
OPSET = 17


def layers_are_identity(model: CodeEncoder) -> bool:
    """Whether every layer's residual branches are still exactly zero (the state
    :func:`~clonedetect.training.initialisation.zero_residual_branches` leaves and the bag
    stage never changes), i.e. the layers compute ``x -> x``."""
    return all(
        not linear.weight.any() and not linear.bias.any()
        for layer in model.layers
        for linear in (layer.attention.out, layer.ffn[-1])
    )


def serving_form(model: CodeEncoder) -> CodeEncoder:
    """``model`` without its transformer layers when they are the identity: the same output
    without the cost of attention and FFN over every window."""
    if not model.config.layers or not layers_are_identity(model):
        return model
    slim = CodeEncoder(dataclasses.replace(model.config, layers=0))
    slim.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("layers.")})
    return slim


def export_graph(module: torch.nn.Module, example_ids: torch.Tensor, example_mask: torch.Tensor, output: Path) -> None:
    """``module`` (ids, mask -> one embedding per program) as ONNX with the serving
    interface's names (:data:`INPUT_NAMES`, :data:`OUTPUT_NAME`) and dynamic batch and
    token axes; the project's encoder and imported encoders are exported alike."""
    dynamic = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The TorchScript exporter: the dynamo exporter names an internal value
        # "embedding", which clashes with the output name this interface fixes.
        torch.onnx.export(
            module,
            (example_ids, example_mask),
            str(output),
            input_names=INPUT_NAMES,
            output_names=[OUTPUT_NAME],
            dynamic_axes={**dynamic, OUTPUT_NAME: {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )


def export_onnx(model: CodeEncoder, output: Path) -> Path:
    """Write ``model`` (its :func:`serving_form`) as ONNX with dynamic batch and token axes
    (the graph windows inside)."""
    model = serving_form(model.eval()).eval()
    example_ids = torch.randint(1, model.config.vocab_size, (2, model.config.window + 7))
    example_mask = torch.ones_like(example_ids)
    output.parent.mkdir(parents=True, exist_ok=True)
    export_graph(model, example_ids, example_mask, output)
    _finish(output, {WINDOW_METADATA_KEY: str(model.config.window)}, model.config.output_dim)
    return output


def _finish(path: Path, metadata: dict[str, str], output_dim: int) -> None:
    """Add ``metadata`` and state the output's width (the exporter leaves it symbolic when
    the embedding is a concatenation)."""
    import onnx

    model = onnx.load(str(path))
    width = model.graph.output[0].type.tensor_type.shape.dim[1]
    width.Clear()
    width.dim_value = output_dim
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))


def parity_max_abs_diff(model: CodeEncoder, onnx_path: Path, lengths=(5, 256, 300, 777), seed: int = 0) -> float:
    """Largest |torch - onnxruntime| over random batches of several lengths."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    generator = torch.Generator().manual_seed(seed)
    worst = 0.0
    model = model.eval()
    for length in lengths:
        ids = torch.randint(1, model.config.vocab_size, (3, length), generator=generator)
        mask = torch.ones_like(ids)
        mask[1, length // 2 :] = 0
        ids[1, length // 2 :] = model.config.pad_id
        with torch.no_grad():
            expected = model(ids, mask).numpy()
        actual = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
        worst = max(worst, float(np.abs(expected - actual).max()))
    return worst


def save_checkpoint(model: CodeEncoder, path: Path, extra: dict | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": model.config.to_dict(), "state_dict": model.state_dict(), **(extra or {})}, path)


def load_checkpoint(path: Path) -> CodeEncoder:
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    model = CodeEncoder(EncoderConfig(**checkpoint["config"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()


def write_model_metadata(path: Path, config: EncoderConfig, **fields) -> None:
    path.write_text(json.dumps({"encoder": config.to_dict(), **fields}, indent=2) + "\n")
