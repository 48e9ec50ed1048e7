"""What the import benchmark serves: one source model imported three ways into a
repository, and the real programs it sends.

Variants (each its own Triton models ``bench_<variant>``, ``_tokenizer``, ``_embed``):

``fp32_optimised``
    what ``clonedetect import-model SOURCE`` installs: onnxruntime's transformer fusions.
``fp32_plain``
    the plain FP32 export (the import with its optimisation step left out).
``int8``
    ``import-model --int8``: dynamic INT8 quantisation of the export.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from clonedetect import data, paths
from clonedetect.importing.model_configs import ModelNames
from clonedetect.importing.pipeline import import_model
from clonedetect.load_tests.bench_servers import model_fingerprint
from clonedetect.preprocessing.windowed_tokenization import WindowedTokenizer

VARIANTS = {
    "fp32_optimised": {"int8": False, "optimise_graph": True},
    "fp32_plain": {"int8": False, "optimise_graph": False},
    "int8": {"int8": True},
}
BASELINE_VARIANT = "fp32_plain"  # the others' speed-ups are relative to it


def model_names(variant: str) -> ModelNames:
    return ModelNames(f"bench_{variant}")


def import_variants(source: Path, repository: Path, log) -> dict[str, dict]:
    """Import ``source`` as every variant into ``repository``; per variant: its Triton
    models, the import's time and record, and the installed graph's size and hash."""
    imports = {}
    for variant, options in VARIANTS.items():
        names = model_names(variant)
        log(f"importing {source.name} as {names.encoder} ({variant}) ...")
        started = time.perf_counter()
        report = import_model(source, repository, names.encoder, **options)
        seconds = time.perf_counter() - started
        imports[variant] = {
            "encoder_model": names.encoder,
            "tokenizer_model": names.tokenizer,
            "embed_model": names.embed,
            "import_s": round(seconds, 1),
            "record": report.record,
            "graph": model_fingerprint(encoder_file(repository, variant)),
        }
        log(f"  {seconds:.0f} s, optimised: {report.record['optimised']}, precision {report.record['precision']}")
    return imports


def encoder_file(repository: Path, variant: str) -> Path:
    return repository / model_names(variant).encoder / "1" / paths.ENCODER_FILE


def tokenizer_file(repository: Path, variant: str) -> Path:
    return repository / model_names(variant).tokenizer / "1" / paths.TOKENIZER_FILE


def median_length_programs(count: int) -> list[str]:
    """The ``count`` POJ-104 valid programs whose length is closest to the split's median
    (ties in file order): the typical submission, every time the same ones."""
    if count < 1:
        raise ValueError(f"the benchmark needs at least 1 program, not {count}")
    texts = [program.read() for program in data.poj104_programs("valid")]
    lengths = np.array([len(text) for text in texts])
    median = float(np.median(lengths))
    order = sorted(range(len(texts)), key=lambda i: (abs(lengths[i] - median), i))
    return [texts[i] for i in order[:count]]


def describe_programs(programs: list[str], tokenizer_path: Path) -> dict:
    """Lengths of the sent programs in characters, tokens and encoder windows."""
    tokenizer = WindowedTokenizer.from_file(tokenizer_path)
    tokens = np.array([len(ids) for ids in tokenizer.token_ids(programs)])
    chars = np.array([len(text) for text in programs])
    windows = -(-tokens // tokenizer.window)
    return {
        "source": "POJ-104 valid, closest to the median length",
        "programs": len(programs),
        "chars_min": int(chars.min()),
        "chars_max": int(chars.max()),
        "tokens_median": float(np.median(tokens)),
        "tokens_max": int(tokens.max()),
        "window": tokenizer.window,
        "windows_per_program_max": int(windows.max()),
    }
