"""The ONNX encoder as the benchmark and the tuning runs build it: the project's
:class:`~clonedetect.onnx_encoder.OnnxEncoder`, optionally with onnxruntime's
spin-waiting turned off (``session.intra_op.allow_spinning = 0``).

By default ORT's idle intra-op threads spin for a while after each parallel section,
burning CPU that, on a 2-core machine, the other processes of the pipeline (Triton,
the tokenizer, the client) need. ``OnnxEncoder`` does not expose the switch, so this
rebuilds its session with the same options plus the switch; the tuning runs patch a
copy of the encoder's ``model.py`` to do the same from its config parameters
(``allow_spinning``, ``max_windows_per_call``).
"""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort

from clonedetect.onnx_encoder import OnnxEncoder


def make_encoder(model_path: Path | str, intra_op_threads: int = 2, inter_op_threads: int = 1, spinning: bool = True) -> OnnxEncoder:
    encoder = OnnxEncoder(model_path, intra_op_threads=intra_op_threads, inter_op_threads=inter_op_threads)
    if not spinning:
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = inter_op_threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        encoder.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    return encoder
