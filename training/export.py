"""Export a trained :class:`CodeEncoder` to ONNX and check parity with onnxruntime."""

from __future__ import annotations

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


def export_onnx(model: CodeEncoder, output: Path) -> Path:
    """Write ``model`` as ONNX with dynamic batch and token axes (the graph windows inside)."""
    model = model.eval()
    example_ids = torch.randint(1, model.config.vocab_size, (2, model.config.window + 7))
    example_mask = torch.ones_like(example_ids)
    output.parent.mkdir(parents=True, exist_ok=True)
    dynamic = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The TorchScript exporter: the dynamo exporter names an internal value
        # "embedding", which clashes with the output name this interface fixes.
        torch.onnx.export(
            model,
            (example_ids, example_mask),
            str(output),
            input_names=INPUT_NAMES,
            output_names=[OUTPUT_NAME],
            dynamic_axes={**dynamic, OUTPUT_NAME: {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    _add_metadata(output, {WINDOW_METADATA_KEY: str(model.config.window)})
    return output


def _add_metadata(path: Path, metadata: dict[str, str]) -> None:
    import onnx

    model = onnx.load(str(path))
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
