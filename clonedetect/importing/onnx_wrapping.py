"""Graph editing: give an existing ONNX encoder the serving interface.

The source graph encodes one window per row. In front of it, the program's
``[batch, windows * window]`` ids and mask are reshaped into one row per window (padding
given the model's pad id, token types all 0); after it, its vectors (every token's, or one
pooled vector per window weighing the window's token count) are averaged per program and
L2-normalised into ``embedding``.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PREFIX = "clonedetect_"
OUTPUT_NAME = "embedding"
EPSILON = 1e-9  # as torch.nn.functional.normalize and the export's pooling clamp


def wrap_with_pooling(
    model: onnx.ModelProto, *, window: int, pad_id: int, hidden: str, token_level: bool, dim: int
) -> onnx.ModelProto:
    """``model`` (inputs ``input_ids``, ``attention_mask`` and maybe ``token_type_ids``;
    output ``hidden``) with windowing in front and pooling behind. Changes ``model``."""
    graph = model.graph
    sources = [i.name for i in graph.input]
    rename_values(graph, {name: f"{PREFIX}window_{name}" for name in sources} | {OUTPUT_NAME: f"{PREFIX}source_out"})
    hidden = f"{PREFIX}source_out" if hidden == OUTPUT_NAME else hidden
    windowing = _windowing_nodes(window, pad_id, token_types="token_type_ids" in sources)
    nodes = windowing + list(graph.node) + _pooling_nodes(hidden, token_level, dim)
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.input[:]
    graph.input.extend(
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
        for name in ("input_ids", "attention_mask")
    )
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", dim]))
    return model


def rename_values(graph: onnx.GraphProto, mapping: dict[str, str]) -> None:
    """Rename values wherever ``graph`` (and any subgraph) reads or writes them."""
    for node in graph.node:
        node.input[:] = [mapping.get(name, name) for name in node.input]
        node.output[:] = [mapping.get(name, name) for name in node.output]
        for attribute in node.attribute:
            for subgraph in [attribute.g, *attribute.graphs]:
                rename_values(subgraph, mapping)
    for value in [*graph.output, *graph.value_info]:
        value.name = mapping.get(value.name, value.name)


def _constant(name: str, value) -> onnx.NodeProto:
    return helper.make_node(
        "Constant", [], [PREFIX + name], value=numpy_helper.from_array(np.asarray(value), PREFIX + name)
    )


def _node(op: str, inputs: list[str], output: str, **attributes) -> onnx.NodeProto:
    names = [name if name in ("input_ids", "attention_mask") else PREFIX + name for name in inputs]
    return helper.make_node(op, names, [PREFIX + output], **attributes)


def _windowing_nodes(window: int, pad_id: int, token_types: bool) -> list[onnx.NodeProto]:
    nodes = [
        _constant("window_shape", np.array([-1, window], dtype=np.int64)),
        _constant("zero", np.array(0, dtype=np.int64)),
        _constant("pad_id", np.array(pad_id, dtype=np.int64)),
        _node("Reshape", ["input_ids", "window_shape"], "window_ids_raw"),
        _node("Reshape", ["attention_mask", "window_shape"], "window_attention_mask"),
        _node("Greater", ["window_attention_mask", "zero"], "window_has_token"),
        _node("Where", ["window_has_token", "window_ids_raw", "pad_id"], "window_input_ids"),
    ]
    if token_types:  # one segment: all 0
        nodes.append(_node("Mul", ["window_ids_raw", "zero"], "window_token_type_ids"))
    return nodes


def _pooling_nodes(hidden: str, token_level: bool, dim: int) -> list[onnx.NodeProto]:
    """Weighted mean of each program's vectors, then L2 normalisation."""
    shape = [
        _constant("first", np.array([0], dtype=np.int64)),
        _constant("second", np.array([1], dtype=np.int64)),
        _constant("vector_tail", np.array([-1, dim], dtype=np.int64)),
        _constant("weight_tail", np.array([-1, 1], dtype=np.int64)),
        _constant("last_axis", np.array([-1], dtype=np.int64)),
        _constant("epsilon", np.array(EPSILON, dtype=np.float32)),
        _node("Shape", ["input_ids"], "input_shape"),
        _node("Slice", ["input_shape", "first", "second"], "batch"),
        _node("Concat", ["batch", "vector_tail"], "vector_shape", axis=0),
        _node("Concat", ["batch", "weight_tail"], "weight_shape", axis=0),
    ]
    hidden_node = helper.make_node("Reshape", [hidden, PREFIX + "vector_shape"], [PREFIX + "vectors"])
    if token_level:  # every token weighs 1
        weights = [_node("Cast", ["attention_mask"], "mask_float", to=TensorProto.FLOAT)]
        weights.append(_node("Unsqueeze", ["mask_float", "last_axis"], "weights"))
    else:  # a window's pooled vector weighs its token count
        weights = [_node("Cast", ["window_attention_mask"], "window_mask_float", to=TensorProto.FLOAT)]
        weights.append(_node("ReduceSum", ["window_mask_float", "second"], "window_tokens", keepdims=1))
        weights.append(_node("Reshape", ["window_tokens", "weight_shape"], "weights"))
    pooling = [
        _node("Mul", ["vectors", "weights"], "weighted"),
        _node("ReduceSum", ["weighted", "second"], "summed", keepdims=0),
        _node("ReduceSum", ["weights", "second"], "total_weight", keepdims=0),
        _node("Max", ["total_weight", "epsilon"], "safe_weight"),
        _node("Div", ["summed", "safe_weight"], "pooled"),
        _node("Mul", ["pooled", "pooled"], "squares"),
        _node("ReduceSum", ["squares", "second"], "square_norm", keepdims=1),
        _node("Sqrt", ["square_norm"], "norm"),
        _node("Max", ["norm", "epsilon"], "safe_norm"),
        helper.make_node("Div", [PREFIX + "pooled", PREFIX + "safe_norm"], [OUTPUT_NAME]),
    ]
    return shape + [hidden_node] + weights + pooling
