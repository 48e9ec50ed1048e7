"""An existing ONNX encoder as an import source: check its interface, then wrap it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto

from clonedetect.importing.errors import ImportModelError
from clonedetect.importing.exported import ExportedEncoder
from clonedetect.importing.onnx_wrapping import wrap_with_pooling
from clonedetect.importing.tokenizer_source import SourceTokenizer, check_vocabulary

REQUIRED_INPUTS = ("input_ids", "attention_mask")
OPTIONAL_INPUTS = ("token_type_ids",)
# Reduction axes as inputs (what the wrapping writes) exist from opset 13 on.
MIN_OPSET = 13


def import_onnx(path: Path, tokenizer: SourceTokenizer, output: Path) -> ExportedEncoder:
    """Check ``path`` and write it, wrapped with windowing and pooling, to ``output``."""
    try:
        model = onnx.load(str(path))
    except Exception as error:  # onnx raises protobuf's DecodeError or OSError, among others
        raise ImportModelError(f"{path} is not a readable ONNX model: {error}") from None
    inputs = _graph_inputs(model, path)
    rows = _embedding_rows(model)
    if rows is not None:
        check_vocabulary(tokenizer, rows)
    window = _window(inputs, tokenizer, path)
    hidden, token_level, dim = _pooled_output(model, path)
    source_bytes = model.SerializeToString()
    wrap_with_pooling(model, window=window, pad_id=tokenizer.pad_id, hidden=hidden, token_level=token_level, dim=dim)
    onnx.save(model, str(output))
    return ExportedEncoder(
        onnx_path=output,
        window=window,
        dim=dim,
        source_vectors=_onnx_window_vectors(source_bytes, hidden, token_level, window, tokenizer.pad_id),
        description={"format": "onnx", "architecture": "onnx"},
    )


def _graph_inputs(model, path: Path) -> dict:
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < MIN_OPSET:
        raise ImportModelError(f"{path} uses ONNX opset {opset}; re-export it with opset {MIN_OPSET} or newer")
    initializers = {i.name for i in model.graph.initializer}
    inputs = {i.name: i for i in model.graph.input if i.name not in initializers}
    missing = [name for name in REQUIRED_INPUTS if name not in inputs]
    unknown = sorted(set(inputs) - set(REQUIRED_INPUTS) - set(OPTIONAL_INPUTS))
    if missing or unknown:
        raise ImportModelError(
            f"{path} has inputs {sorted(inputs)}; an encoder needs input_ids and attention_mask "
            "(token_type_ids optional) and nothing else"
        )
    for name, value in inputs.items():
        tensor = value.type.tensor_type
        if (
            tensor.elem_type != TensorProto.INT64
            or len(tensor.shape.dim) != 2
            or tensor.shape.dim[0].HasField("dim_value")
        ):
            raise ImportModelError(f"{path}: input {name} must be int64 [batch, sequence] with a dynamic batch axis")
    return inputs


def _window(inputs: dict, tokenizer: SourceTokenizer, path: Path) -> int:
    """The graph's fixed sequence length, else the tokenizer's model_max_length."""
    sequence = inputs["input_ids"].type.tensor_type.shape.dim[1]
    window = sequence.dim_value if sequence.HasField("dim_value") else tokenizer.max_length
    if not window:
        raise ImportModelError(
            f"{path} has a dynamic sequence axis and the tokenizer states no model_max_length: "
            "cannot tell how many tokens one window may hold"
        )
    return window


def _pooled_output(model, path: Path) -> tuple[str, bool, int]:
    """The output to pool: ``last_hidden_state`` (or the first ``[batch, seq, dim]``), else
    the first ``[batch, dim]``; whether it is per token; its width."""
    outputs = {o.name: o.type.tensor_type for o in model.graph.output}
    by_rank = {}
    for name, tensor in outputs.items():
        by_rank.setdefault(len(tensor.shape.dim), name)
    name = "last_hidden_state" if "last_hidden_state" in outputs else by_rank.get(3, by_rank.get(2))
    tensor = outputs.get(name)
    if tensor is None or tensor.elem_type != TensorProto.FLOAT or not tensor.shape.dim[-1].HasField("dim_value"):
        raise ImportModelError(
            f"{path} has outputs {sorted(outputs)}; an encoder needs a float32 last_hidden_state "
            "[batch, sequence, dim] or a pooled embedding [batch, dim] with a fixed dim"
        )
    return name, len(tensor.shape.dim) == 3, tensor.shape.dim[-1].dim_value


def _embedding_rows(model) -> int | None:
    """Rows of the token-embedding table, when a Gather reads it with ``input_ids``."""
    tables = {i.name: i for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Gather" and node.input[1] == "input_ids" and node.input[0] in tables:
            return tables[node.input[0]].dims[0]
    return None


def _onnx_window_vectors(source_bytes: bytes, hidden: str, token_level: bool, window: int, pad_id: int):
    """The source graph on one window, padded to ``window``: the parity reference."""
    import onnxruntime as ort

    session = ort.InferenceSession(source_bytes, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}

    def vectors(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        padded = np.full((1, window), pad_id, dtype=np.int64)
        padded[0, : len(ids)] = ids
        mask = (np.arange(window) < len(ids)).astype(np.int64)[None]
        feed = {"input_ids": padded, "attention_mask": mask, "token_type_ids": np.zeros_like(padded)}
        out = session.run([hidden], {k: v for k, v in feed.items() if k in names})[0]
        if token_level:
            return out[0, : len(ids)], np.ones(len(ids), dtype=np.float32)
        return out[:1], np.array([len(ids)], dtype=np.float32)

    return vectors
