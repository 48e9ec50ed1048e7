"""The ONNX encoder as the benchmark and the tuning runs build it: the project's
:class:`~clonedetect.onnx_encoder.OnnxEncoder` with explicit thread counts and
onnxruntime's spin-waiting switch (``session.intra_op.allow_spinning``).

By default ORT's idle intra-op threads spin for a while after each parallel section,
burning CPU that, on a 2-core machine, the other processes of the pipeline (Triton,
the tokenizer, the client) need; the served encoder turns it off
(``allow_spinning`` in ``configs/bundled.pbtxt``).
"""

from __future__ import annotations

from pathlib import Path

from clonedetect.onnx_encoder import OnnxEncoder


def make_encoder(
    model_path: Path | str, intra_op_threads: int = 2, inter_op_threads: int = 1, spinning: bool = True
) -> OnnxEncoder:
    return OnnxEncoder(
        model_path, intra_op_threads=intra_op_threads, inter_op_threads=inter_op_threads, allow_spinning=spinning
    )
