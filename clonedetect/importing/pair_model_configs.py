"""The Triton configs of an imported cross-encoder: its pair tokenizer step, its pair model
(ONNX Runtime backend on CPU and GPU, onnxruntime in the Python backend for the bundled
server) and the ``NAME_compare`` ensemble, with clone_compare's inputs and outputs. Each is
rewritten by every import of the same name."""

from __future__ import annotations

from clonedetect import paths
from clonedetect.importing.model_configs import _LATEST, ModelNames

# Run on each new instance before Triton calls a version ready (see model_configs): one
# whole window pair for the model (the ids and segments are Triton's zero data, the mask
# all ones), one pair of programs for the pair tokenizer. Data in <model>/warmup/, the
# files model_configs.warmup_files writes for an encoder and its tokenizer.
_PAIR_MODEL_WARMUP = """model_warmup [
  {{
    name: "one window pair"
    batch_size: 1
    inputs {{ key: "input_ids" value: {{ data_type: TYPE_INT64, dims: [ 1, {window} ], zero_data: true }} }}
    inputs {{
      key: "attention_mask"
      value: {{ data_type: TYPE_INT64, dims: [ 1, {window} ], input_data_file: "attention_mask" }}
    }}
    inputs {{ key: "token_type_ids" value: {{ data_type: TYPE_INT64, dims: [ 1, {window} ], zero_data: true }} }}
  }}
]
"""
_PAIR_TOKENIZER_WARMUP = """model_warmup [
  {
    name: "one pair of programs"
    batch_size: 1
    inputs { key: "CODE_A" value: { data_type: TYPE_STRING, dims: [ 1 ], input_data_file: "program" } }
    inputs { key: "CODE_B" value: { data_type: TYPE_STRING, dims: [ 1 ], input_data_file: "program" } }
  }
]
"""

_WINDOW_TENSORS = ("input_ids", "attention_mask", "token_type_ids")


def _tensors(tensors, dims: str = "1") -> str:
    """Config entries for ``(name, data_type)`` pairs, all of shape ``dims``."""
    return ",\n".join(
        f"""  {{
    name: "{name}"
    data_type: {kind}
    dims: [ {dims} ]
  }}"""
        for name, kind in tensors
    )


def _window_tensors(ragged: bool) -> str:
    notes = ["   # [window pairs, tokens] per comparison; empty window pairs are padding", "", ""]
    if ragged:
        notes[0] += """
    # Requests of different shapes may share a batch: model.py pools their window pairs
    # and pads inside, instead of waiting for equal shapes."""
        notes = [note + "\n    allow_ragged_batch: true" for note in notes]
    return ",\n".join(
        f"""  {{
    name: "{name}"
    data_type: TYPE_INT64
    dims: [ -1, -1 ]{note}
  }}"""
        for name, note in zip(_WINDOW_TENSORS, notes, strict=True)
    )


def _model_tensors(ragged: bool) -> str:
    return f"""input [
{_window_tensors(ragged)}
]
output [
  {{
    name: "similarity"
    data_type: TYPE_FP32
    dims: [ 1 ]   # the same score as probability: a cross-encoder has no cosine
  }},
  {{
    name: "probability"
    data_type: TYPE_FP32
    dims: [ 1 ]   # the highest window-pair probability that the two are clones
  }}
]"""


def pair_model_config(names: ModelNames, window: int) -> str:
    """config.pbtxt: the stock ONNX Runtime backend on CPU nodes (what a cluster runs)."""
    return f"""# An imported cross-encoder (clonedetect import-model --cross-encoder) on the stock ONNX
# Runtime backend, CPU nodes. The bundled server selects configs/bundled.pbtxt, a GPU configs/gpu.pbtxt.
name: "{names.encoder}"
backend: "onnxruntime"
default_model_filename: "{paths.ENCODER_FILE}"
max_batch_size: 64
{_model_tensors(ragged=False)}
# ORT batches equal shapes only, and each request is padded to its own pair count and
# longest window, so requests seldom merge: waiting for others would only add latency.
dynamic_batching {{
  max_queue_delay_microseconds: 0
}}
# One instance whose ORT threads use the node's cores; more would oversubscribe them.
instance_group [ {{ count: 1, kind: KIND_CPU }} ]
optimization {{
  graph: {{ level: 1 }}   # basic + extended fusions
}}
parameters {{ key: "intra_op_thread_count" value: {{ string_value: "2" }} }}
parameters {{ key: "inter_op_thread_count" value: {{ string_value: "1" }} }}   # sequential graph
{_PAIR_MODEL_WARMUP.format(window=window)}{_LATEST}"""


def bundled_pair_model_config(names: ModelNames, window: int) -> str:
    """configs/bundled.pbtxt: the same model.onnx through onnxruntime in the Python backend."""
    return f"""# The same model.onnx run by onnxruntime inside the Python backend (<version>/model.py),
# for the bundled local server, which has no ONNX Runtime backend.
name: "{names.encoder}"
backend: "python"
max_batch_size: 64
{_model_tensors(ragged=True)}
# No queue delay: requests still merge while the previous batch runs, and a lone one waits for nothing.
dynamic_batching {{
  max_queue_delay_microseconds: 0
}}
instance_group [ {{ count: 1, kind: KIND_CPU }} ]
parameters {{ key: "intra_op_thread_count" value: {{ string_value: "2" }} }}
parameters {{ key: "inter_op_thread_count" value: {{ string_value: "1" }} }}
# Idle ORT threads sleep instead of spinning: no loss on dedicated cores, faster on shared ones.
parameters {{ key: "allow_spinning" value: {{ string_value: "0" }} }}
{_PAIR_MODEL_WARMUP.format(window=window)}{_LATEST}"""


def gpu_pair_model_config(names: ModelNames, window: int) -> str:
    """configs/gpu.pbtxt: the ONNX Runtime backend on a GPU (CUDA execution provider)."""
    return f"""# The imported cross-encoder on the stock ONNX Runtime backend, on a GPU (CUDA execution
# provider). Selected with --model-config-name=gpu.
name: "{names.encoder}"
backend: "onnxruntime"
default_model_filename: "{paths.ENCODER_FILE}"
max_batch_size: 64
{_model_tensors(ragged=False)}
# One request already holds all window pairs of its comparisons (one large GPU batch);
# requests of equal shape that arrive within 1 ms share a call.
dynamic_batching {{
  max_queue_delay_microseconds: 1000
}}
# Two instances overlap one batch's host-side copies with another's compute.
instance_group [ {{ count: 2, kind: KIND_GPU }} ]
optimization {{
  graph: {{ level: 1 }}
}}
{_PAIR_MODEL_WARMUP.format(window=window)}{_LATEST}"""


def pair_tokenizer_config(names: ModelNames, window: int) -> str:
    outputs = _tensors(((name, "TYPE_INT64") for name in _WINDOW_TENSORS), "-1, -1")
    return f"""# CODE_A, CODE_B -> window pairs of at most {window} positions in the imported model's own
# pair layout, every chunk of A against every chunk of B (clonedetect.importing.pair_windows:
# nothing is cut; a pair needing too many window pairs is refused). Tokenizer: <version>/tokenizer.json.
name: "{names.tokenizer}"
backend: "python"
max_batch_size: 64
input [
  {{
    name: "CODE_A"
    data_type: TYPE_STRING   # UTF-8 source, at most 1 MB per program
    dims: [ 1 ]
  }},
  {{
    name: "CODE_B"
    data_type: TYPE_STRING
    dims: [ 1 ]
  }}
]
output [
{outputs}
]
# Tokenising is cheap (milliseconds a pair) and done request by request: no queue delay.
dynamic_batching {{
  max_queue_delay_microseconds: 0
}}
instance_group [ {{ count: 1, kind: KIND_CPU }} ]
{_PAIR_TOKENIZER_WARMUP}{_LATEST}"""


# clone_compare's interface (model_repository/clone_compare/config.pbtxt), tensor by tensor.
_COMPARE_INPUTS = _tensors((("CODE_A", "TYPE_STRING"), ("CODE_B", "TYPE_STRING")))
_COMPARE_OUTPUTS = _tensors(
    (("SIMILARITY", "TYPE_FP32"), ("PROBABILITY", "TYPE_FP32"), ("VERIFICATION", "TYPE_FP32"))
    + (("EVIDENCE", "TYPE_STRING"),)
)


def compare_config(names: ModelNames, version: int) -> str:
    """The ``NAME_compare`` ensemble, pinned to one import's pair tokenizer and model, with
    clone_compare's inputs and outputs and the shipped verifier's evidence."""
    return f"""# CODE_A, CODE_B -> the imported cross-encoder's score of the pair as PROBABILITY (and, the
# same score, SIMILARITY), with {paths.VERIFIER_MODEL}'s VERIFICATION and EVIDENCE: the interface
# of {paths.COMPARE_MODEL}, so clients and scans call either.
name: "{names.compare}"
platform: "ensemble"
max_batch_size: 64
input [
{_COMPARE_INPUTS}
]
output [
{_COMPARE_OUTPUTS}
]
ensemble_scheduling {{
  step [
    {{
      # The only step that reads the submitted text: a bad pair is rejected before the
      # others start (see {paths.PAIR_CHECK_MODEL}'s config).
      model_name: "{paths.PAIR_CHECK_MODEL}"
      model_version: -1
      input_map {{ key: "CODE_A" value: "CODE_A" }}
      input_map {{ key: "CODE_B" value: "CODE_B" }}
      output_map {{ key: "CHECKED_A" value: "checked_a" }}
      output_map {{ key: "CHECKED_B" value: "checked_b" }}
    }},
    {{
      model_name: "{names.tokenizer}"
      model_version: {version}
      input_map {{ key: "CODE_A" value: "checked_a" }}
      input_map {{ key: "CODE_B" value: "checked_b" }}
      output_map {{ key: "input_ids" value: "input_ids" }}
      output_map {{ key: "attention_mask" value: "attention_mask" }}
      output_map {{ key: "token_type_ids" value: "token_type_ids" }}
    }},
    {{
      model_name: "{names.encoder}"
      model_version: {version}
      input_map {{ key: "input_ids" value: "input_ids" }}
      input_map {{ key: "attention_mask" value: "attention_mask" }}
      input_map {{ key: "token_type_ids" value: "token_type_ids" }}
      output_map {{ key: "similarity" value: "SIMILARITY" }}
      output_map {{ key: "probability" value: "PROBABILITY" }}
    }},
    {{
      # Runs in parallel with the two steps above.
      model_name: "{paths.VERIFIER_MODEL}"
      model_version: -1
      input_map {{ key: "CODE_A" value: "checked_a" }}
      input_map {{ key: "CODE_B" value: "checked_b" }}
      output_map {{ key: "VERIFICATION" value: "VERIFICATION" }}
      output_map {{ key: "EVIDENCE" value: "EVIDENCE" }}
    }}
  ]
}}
{_LATEST}"""
