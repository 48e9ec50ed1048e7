"""onnxruntime's transformer fusions, the serving metadata, and INT8 quantisation of an import."""

from __future__ import annotations

from pathlib import Path

from clonedetect.importing.exported import ExportedEncoder
from clonedetect.onnx_encoder import WINDOW_METADATA_KEY

# The "bert" fusions (attention, layer norms, GELU) also match RoBERTa-style graphs.
OPTIMIZER_MODEL_TYPE = "bert"


def optimise(exported: ExportedEncoder, output: Path) -> Path:
    """Fuse the encoder's attention and normalisation ops."""
    return optimise_graph(exported.onnx_path, output, num_heads=exported.num_heads, hidden_size=exported.hidden_size)


def optimise_graph(source: Path, output: Path, *, num_heads: int, hidden_size: int) -> Path:
    """Fuse a transformer graph's attention and normalisation ops (0: read the sizes from
    the graph). Level 1 (basic rewrites) keeps the graph free of CPU-only kernels, so the
    GPU config runs the same file."""
    from onnxruntime.transformers import optimizer

    optimised = optimizer.optimize_model(
        str(source), model_type=OPTIMIZER_MODEL_TYPE, num_heads=num_heads, hidden_size=hidden_size, opt_level=1
    )
    optimised.save_model_to_file(str(output))
    return output


def add_serving_metadata(path: Path, window: int, dim: int) -> None:
    """What :class:`~clonedetect.onnx_encoder.OnnxEncoder` reads: the window in the
    metadata and a fixed embedding width (the exporter leaves it symbolic)."""
    import onnx

    model = onnx.load(str(path))
    width = model.graph.output[0].type.tensor_type.shape.dim[1]
    width.Clear()
    width.dim_value = dim
    del model.metadata_props[:]
    entry = model.metadata_props.add()
    entry.key, entry.value = WINDOW_METADATA_KEY, str(window)
    onnx.save(model, str(path))


def quantise(src: Path, dst: Path) -> Path:
    """INT8 dynamic quantisation, as the shipped encoder's version 2 is made."""
    from clonedetect.training.quantization import quantize_encoder

    return quantize_encoder(src, dst)
