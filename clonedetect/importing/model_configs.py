"""The Triton configs of an imported model: its tokenizer step, its encoder (ONNX Runtime
backend on CPU and GPU, onnxruntime in the Python backend for the bundled server) and the
``NAME_embed`` ensemble. Each is rewritten by every import of the same name."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from clonedetect import paths

DEFAULT_NAME = "imported_encoder"


@dataclass(frozen=True)
class ModelNames:
    encoder: str

    @property
    def tokenizer(self) -> str:
        return f"{self.encoder}_tokenizer"

    @property
    def embed(self) -> str:
        return f"{self.encoder}_embed"

    @property
    def compare(self) -> str:
        return f"{self.encoder}_compare"


_ENCODER_TENSORS = """input [
  {{
    name: "input_ids"
    data_type: TYPE_INT64
    dims: [ -1 ]   # whole {window}-token windows: the graph encodes each and pools them all{ragged}
  }},
  {{
    name: "attention_mask"
    data_type: TYPE_INT64
    dims: [ -1 ]{ragged}
  }}
]
output [
  {{
    name: "embedding"
    data_type: TYPE_FP32
    dims: [ {dim} ]   # L2-normalised mean of the last hidden states
  }}
]"""
_RAGGED = """
    # Requests of different lengths may share a batch: model.py groups them by window
    # count and pads inside, instead of waiting for equal shapes.
    allow_ragged_batch: true"""
# Only the newest import is loaded (the ensemble pins it); earlier versions stay on disk.
_LATEST = "version_policy: { latest: { num_versions: 1 } }\n"

# Triton answers these requests on each new instance before it calls the version ready, so
# the first real request after a load (an import, a rollout) is not a cold start: ~20-40x a
# steady request without, ~2x with (tests/test_rollout.py, on the project's models). The
# data files go in <model>/warmup/ (warmup_files).
_ENCODER_WARMUP = """model_warmup [
  {{
    name: "one window"
    batch_size: 1
    inputs {{ key: "input_ids" value: {{ data_type: TYPE_INT64, dims: [ {window} ], zero_data: true }} }}
    inputs {{
      key: "attention_mask"
      value: {{ data_type: TYPE_INT64, dims: [ {window} ], input_data_file: "attention_mask" }}
    }}
  }}
]
"""
_TOKENIZER_WARMUP = """model_warmup [
  {
    name: "one program"
    batch_size: 1
    inputs { key: "CODE" value: { data_type: TYPE_STRING, dims: [ 1 ], input_data_file: "program" } }
  }
]
"""
WARMUP_PROGRAM = (
    "int sum(const int *values, int count) {\n    int total = 0;\n"
    "    for (int i = 0; i < count; ++i)\n        total += values[i];\n    return total;\n}\n"
)


def warmup_files(window: int) -> dict[str, dict[str, bytes]]:
    """``{"encoder" | "tokenizer": {path in the model folder: bytes}}``: a mask of one whole
    window (all ones; the ids are Triton's zero data) and one serialised string element
    (4-byte little-endian length, then the UTF-8 program)."""
    program = WARMUP_PROGRAM.encode("utf-8")
    return {
        "encoder": {"warmup/attention_mask": struct.pack(f"<{window}q", *([1] * window))},
        "tokenizer": {"warmup/program": struct.pack("<I", len(program)) + program},
    }


def encoder_config(names: ModelNames, window: int, dim: int) -> str:
    """config.pbtxt: the stock ONNX Runtime backend on CPU nodes (what a cluster runs)."""
    tensors = _ENCODER_TENSORS.format(window=window, dim=dim, ragged="")
    return f"""# An imported encoder (clonedetect import-model) on the stock ONNX Runtime backend, CPU
# nodes. The bundled server selects configs/bundled.pbtxt, a GPU configs/gpu.pbtxt.
name: "{names.encoder}"
backend: "onnxruntime"
default_model_filename: "model.onnx"
max_batch_size: 64
{tensors}
# ORT batches equal shapes only: the tokenizer step pads each request to whole windows, so
# requests of the same window count merge; a token delay lets those arriving together meet.
dynamic_batching {{
  max_queue_delay_microseconds: 100
}}
# One instance whose ORT threads use the node's cores; more would oversubscribe them.
instance_group [ {{ count: 1, kind: KIND_CPU }} ]
optimization {{
  graph: {{ level: 1 }}   # basic + extended fusions
}}
parameters {{ key: "intra_op_thread_count" value: {{ string_value: "2" }} }}
parameters {{ key: "inter_op_thread_count" value: {{ string_value: "1" }} }}   # sequential graph
{_ENCODER_WARMUP.format(window=window)}{_LATEST}"""


def bundled_encoder_config(names: ModelNames, window: int, dim: int) -> str:
    """configs/bundled.pbtxt: the same model.onnx through onnxruntime in the Python backend."""
    tensors = _ENCODER_TENSORS.format(window=window, dim=dim, ragged=_RAGGED)
    return f"""# The same model.onnx run by onnxruntime inside the Python backend (<version>/model.py),
# for the bundled local server, which has no ONNX Runtime backend.
name: "{names.encoder}"
backend: "python"
max_batch_size: 64
{tensors}
# No queue delay: requests still merge while the previous batch runs, and a lone one waits for nothing.
dynamic_batching {{
  max_queue_delay_microseconds: 0
}}
instance_group [ {{ count: 1, kind: KIND_CPU }} ]
parameters {{ key: "intra_op_thread_count" value: {{ string_value: "2" }} }}
parameters {{ key: "inter_op_thread_count" value: {{ string_value: "1" }} }}
# Idle ORT threads sleep instead of spinning: no loss on dedicated cores, faster on shared ones.
parameters {{ key: "allow_spinning" value: {{ string_value: "0" }} }}
{_ENCODER_WARMUP.format(window=window)}{_LATEST}"""


def gpu_encoder_config(names: ModelNames, window: int, dim: int) -> str:
    """configs/gpu.pbtxt: the ONNX Runtime backend on a GPU (CUDA execution provider)."""
    tensors = _ENCODER_TENSORS.format(window=window, dim=dim, ragged="")
    return f"""# The imported encoder on the stock ONNX Runtime backend, on a GPU (CUDA execution
# provider). Selected with --model-config-name=gpu.
name: "{names.encoder}"
backend: "onnxruntime"
default_model_filename: "model.onnx"
max_batch_size: 128
{tensors}
# A GPU is efficient only with large batches: wait up to 2 ms to fill them.
dynamic_batching {{
  preferred_batch_size: [ 32, 64, 128 ]
  max_queue_delay_microseconds: 2000
}}
# Two instances overlap one batch's host-side copies with another's compute.
instance_group [ {{ count: 2, kind: KIND_GPU }} ]
optimization {{
  graph: {{ level: 1 }}
}}
{_ENCODER_WARMUP.format(window=window)}{_LATEST}"""


def tokenizer_config(names: ModelNames, window: int) -> str:
    return f"""# Source text -> whole {window}-token windows of ids, with the imported model's own tokenizer
# (<version>/tokenizer.json). Logic: clonedetect.preprocessing.windowed_tokenization.
name: "{names.tokenizer}"
backend: "python"
max_batch_size: 64
input [
  {{
    name: "CODE"
    data_type: TYPE_STRING   # UTF-8 source, at most 1 MB per program
    dims: [ 1 ]
  }}
]
output [
  {{
    name: "input_ids"
    data_type: TYPE_INT64
    dims: [ -1 ]   # every token: a long program gets more windows, never a cut
  }},
  {{
    name: "attention_mask"
    data_type: TYPE_INT64
    dims: [ -1 ]
  }}
]
# Tokenising is cheap; merging requests lets one call tokenise them all. No delay.
dynamic_batching {{
  max_queue_delay_microseconds: 0
}}
instance_group [ {{ count: 1, kind: KIND_CPU }} ]
{_TOKENIZER_WARMUP}{_LATEST}"""


def embed_config(names: ModelNames, version: int, dim: int) -> str:
    """The ``NAME_embed`` ensemble, pinned to one import's tokenizer and encoder."""
    return f"""# CODE -> EMBEDDING through the imported model: {paths.ADMISSION_MODEL} (sheds the request
# while the server is full), {names.tokenizer}, then {names.encoder}.
name: "{names.embed}"
platform: "ensemble"
max_batch_size: 64
input [
  {{
    name: "CODE"
    data_type: TYPE_STRING
    dims: [ 1 ]
  }}
]
output [
  {{
    name: "EMBEDDING"
    data_type: TYPE_FP32
    dims: [ {dim} ]
  }}
]
# A resubmitted program is answered from Triton's response cache. Each import adds an
# ensemble version pinned to its own step versions, and the cache is keyed by ensemble
# name and version, so no answer of an earlier import is served for a later one.
response_cache {{ enable: true }}
ensemble_scheduling {{
  step [
    {{
      model_name: "{paths.ADMISSION_MODEL}"
      model_version: 1
      input_map {{ key: "CODE" value: "CODE" }}
      output_map {{ key: "ADMITTED" value: "admitted" }}
    }},
    {{
      model_name: "{names.tokenizer}"
      model_version: {version}
      input_map {{ key: "CODE" value: "admitted" }}
      output_map {{ key: "input_ids" value: "input_ids" }}
      output_map {{ key: "attention_mask" value: "attention_mask" }}
    }},
    {{
      model_name: "{names.encoder}"
      model_version: {version}
      input_map {{ key: "input_ids" value: "input_ids" }}
      input_map {{ key: "attention_mask" value: "attention_mask" }}
      output_map {{ key: "embedding" value: "EMBEDDING" }}
    }}
  ]
}}
{_LATEST}"""
