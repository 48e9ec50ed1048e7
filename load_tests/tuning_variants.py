"""The tuning runs' server variants: each a name, what it changes (edits of a
repository copy, Triton arguments), the modes it is measured in and the load
generator's options. The first, ``baseline``, is the shipped configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from clonedetect import paths
from clonedetect.load_tests.tuning_edits import (
    NO_CACHE,
    TOKENIZER,
    remove_dynamic_batching,
    set_dynamic_batching,
    set_instance_count,
    set_ort_spinning,
    set_parameter,
    tuned_edits,
)


@dataclass
class Variant:
    name: str
    description: str
    edits: list[Callable[[Path], None]] = field(default_factory=list)
    triton_args: tuple[str, ...] = ()
    modes: tuple[str, ...] = ("triton_grpc",)
    loadgen: dict = field(default_factory=dict)  # extra load generator options
    cache_models: tuple[str, ...] = ()


VARIANTS = [  # in groups of 3 after the baseline (see run_tuning): related variants share a run
    Variant(
        "baseline",
        "shipped bundled config: 1 tokenizer, 1 encoder (2 ORT threads, spin-waiting off), no queue delay, "
        f"response cache on {paths.EMBED_MODEL}",
        modes=("triton_grpc", "triton_http"),
        loadgen={"unique": True},
    ),
    Variant(
        "http_json",
        "HTTP with JSON tensors instead of the binary extension",
        modes=("triton_http",),
        loadgen={"http_binary": False, "unique": True},
    ),
    Variant("tokenizer_x2", "2 tokenizer instances", [set_instance_count(2, TOKENIZER)], loadgen={"unique": True}),
    Variant(
        "tokenizer_pad_1",
        "tokenizer pads to the request's longest program only (pad_to_multiple_of 1)",
        [set_parameter("pad_to_multiple_of", 1, TOKENIZER)],
        loadgen={"unique": True},
    ),
    Variant(
        "intra1",
        "1 encoder instance, 1 ORT intra-op thread",
        [set_parameter("intra_op_thread_count", 1)],
        loadgen={"unique": True},
    ),
    Variant(
        "intra0",
        "1 encoder instance, ORT default intra-op threads (one per core)",
        [set_parameter("intra_op_thread_count", 0)],
        loadgen={"unique": True},
    ),
    Variant(
        "inter2",
        "ORT inter-op threads 2 (parallel graph branches)",
        [set_parameter("inter_op_thread_count", 2)],
        loadgen={"unique": True},
    ),
    Variant(
        "encoder_x2_intra1",
        "2 encoder instances, 1 ORT thread each",
        [set_instance_count(2), set_parameter("intra_op_thread_count", 1)],
        loadgen={"unique": True},
    ),
    Variant(
        "encoder_x2_intra2",
        "2 encoder instances, 2 ORT threads each (4 threads on 2 cores)",
        [set_instance_count(2)],
        loadgen={"unique": True},
    ),
    Variant(
        "spin", "ORT spin-waiting on (the ORT default), 2 threads", [set_ort_spinning(True)], loadgen={"unique": True}
    ),
    Variant(
        "spin_intra1",
        "ORT spin-waiting on, 1 thread",
        [set_ort_spinning(True), set_parameter("intra_op_thread_count", 1)],
        loadgen={"unique": True},
    ),
    Variant(
        "tuned_no_batching",
        "shared cores: 2 encoder instances x 1 thread, no dynamic batching",
        tuned_edits(),
        loadgen={"unique": True},
    ),
    Variant(
        "no_dynamic_batching",
        "shipped threads (1 instance x 2), no dynamic batching on the encoder",
        [remove_dynamic_batching()],
        loadgen={"unique": True},
    ),
    Variant(
        "encoder_delay_500", "encoder max_queue_delay 500 us", [set_dynamic_batching(500)], loadgen={"unique": True}
    ),
    Variant(
        "encoder_delay_2000", "encoder max_queue_delay 2000 us", [set_dynamic_batching(2000)], loadgen={"unique": True}
    ),
    Variant(
        "encoder_preferred_8_16_delay_1000",
        "encoder preferred batch [8, 16], delay 1000 us",
        [set_dynamic_batching(1000, (8, 16))],
        loadgen={"unique": True},
    ),
    Variant(
        "encoder_preferred_16_32_delay_1000",
        "encoder preferred batch [16, 32], delay 1000 us",
        [set_dynamic_batching(1000, (16, 32))],
        loadgen={"unique": True},
    ),
    Variant(
        "cache_repeated",
        "shipped caches, the same 32 distinct programs resubmitted",
        loadgen={"distinct_programs": 32},
        cache_models=(paths.EMBED_MODEL,),
    ),
    Variant(
        "no_cache_repeated",
        "no response cache, the same 32 distinct programs resubmitted",
        NO_CACHE,
        loadgen={"distinct_programs": 32},
    ),
    Variant("no_cache_unique", "no response cache, every request a new program", NO_CACHE, loadgen={"unique": True}),
]
