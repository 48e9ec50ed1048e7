"""``import_model``: a HuggingFace directory or an ONNX file in, three served models out.

Every check runs before the repository is touched: the source loads and is an encoder,
its tokenizer fits it, the export and the optimised graph agree with it (and, with INT8,
the quantised graph stays close), and only then are the staged models moved in.
"""

from __future__ import annotations

import datetime
import tempfile
from dataclasses import dataclass
from pathlib import Path

from clonedetect import paths
from clonedetect.importing import parity
from clonedetect.importing.errors import ImportModelError
from clonedetect.importing.exported import ExportedEncoder
from clonedetect.importing.model_configs import DEFAULT_NAME
from clonedetect.importing.optimisation import add_serving_metadata, optimise, quantise
from clonedetect.importing.repository import install, plan_install
from clonedetect.importing.staging import stage_models
from clonedetect.importing.tokenizer_source import SourceTokenizer, load_tokenizer
from clonedetect.preprocessing.windowed_tokenization import WindowedTokenizer


@dataclass
class ImportReport:
    name: str
    version: int
    models: list[str]
    record: dict

    def to_dict(self) -> dict:
        return {"name": self.name, "models": self.models, **self.record}  # the record holds the version


def import_model(
    source: Path,
    repository: Path = paths.MODEL_REPOSITORY,
    name: str = DEFAULT_NAME,
    *,
    int8: bool = False,
    tokenizer_dir: Path | None = None,
    optimise_graph: bool = True,
) -> ImportReport:
    """Import ``source`` as the next version of ``name`` in ``repository``; raises
    :class:`ImportModelError` (repository unchanged) when any check fails.

    ``optimise_graph=False`` installs the plain FP32 export (the benchmark's baseline,
    ``clonedetect.load_tests.bench_import``); not a command-line option."""
    source, repository = Path(source), Path(repository)
    plan = plan_install(repository, name)
    is_onnx = source.suffix == ".onnx"
    if is_onnx and tokenizer_dir is None:
        raise ImportModelError("an ONNX source needs its HuggingFace tokenizer directory: pass --tokenizer DIR")
    if not source.exists():
        raise ImportModelError(f"{source} does not exist")
    tokenizer = load_tokenizer(Path(tokenizer_dir) if tokenizer_dir else source)
    with tempfile.TemporaryDirectory(prefix="clonedetect-import-") as work:
        work = Path(work)
        exported = _export(source, tokenizer, work / "export.onnx", is_onnx)
        windowed = _windowed(tokenizer, exported.window)
        model, checks = _checked_graph(exported, windowed, work, int8, optimise_graph)
        record = {
            "version": plan.version,
            "imported": datetime.date.today().isoformat(),
            "source": source.name,
            **exported.description,
            "window": exported.window,
            "dim": exported.dim,
            "precision": "int8" if int8 else "fp32",
            **checks,
        }
        stage_models(plan, work / "staged", model, tokenizer.tokenizer, record)
        install(plan, work / "staged")
    return ImportReport(name, plan.version, plan.model_folders(), record)


def _export(source: Path, tokenizer: SourceTokenizer, output: Path, is_onnx: bool) -> ExportedEncoder:
    if is_onnx:
        from clonedetect.importing.onnx_source import import_onnx

        return import_onnx(source, tokenizer, output)
    from clonedetect.importing.huggingface_source import load_source
    from clonedetect.importing.torch_export import export_huggingface

    return export_huggingface(load_source(source, tokenizer), tokenizer.pad_id, output)


def _windowed(tokenizer: SourceTokenizer, window: int) -> WindowedTokenizer:
    """The tokenizer with its truncation length set to the window (what the tokenizer step
    loads: each overflow is one more window)."""
    tokenizer.tokenizer.enable_truncation(max_length=window, stride=0)
    return WindowedTokenizer(tokenizer.tokenizer)


def _checked_graph(
    exported: ExportedEncoder, tokenizer: WindowedTokenizer, work: Path, int8: bool, optimise_graph: bool
):
    """The graph to install and its parity figures; raises if the export itself (or, with
    ``int8``, its quantisation) disagrees with the source model."""
    sequences = parity.sample_sequences(tokenizer)
    reference = parity.reference_embeddings(exported.source_vectors, sequences, exported.window)

    def embeddings(path: Path):
        return parity.graph_embeddings(path, sequences, exported.window)

    export_diff = parity.max_abs_diff(reference, embeddings(exported.onnx_path))
    if export_diff > parity.MAX_ABS_DIFF:
        raise ImportModelError(
            f"the ONNX export differs from the source model by up to {export_diff:.2e} "
            f"(limit {parity.MAX_ABS_DIFF:.0e}); nothing was installed"
        )
    add_serving_metadata(exported.onnx_path, exported.window, exported.dim)
    checks = {"export_max_abs_diff": export_diff}
    if int8:
        # The export, not a fused graph: the quantiser cannot type onnxruntime's fused ops.
        model = quantise(exported.onnx_path, work / paths.INT8_ENCODER_FILE)
        checks["int8_min_cosine"] = parity.min_cosine(reference, embeddings(model))
        if checks["int8_min_cosine"] < parity.INT8_MIN_COSINE:
            raise ImportModelError(
                f"the INT8 encoder's embeddings fall to cosine {checks['int8_min_cosine']:.4f} of the FP32 "
                f"ones (limit {parity.INT8_MIN_COSINE}); nothing was installed: import without --int8"
            )
        return model, {"optimised": False, "parity": checks}
    if not optimise_graph:
        return exported.onnx_path, {"optimised": False, "parity": checks}
    optimised = optimise(exported, work / "optimised.onnx")
    checks["optimised_max_abs_diff"] = parity.max_abs_diff(reference, embeddings(optimised))
    # An optimisation that changes the answers is dropped: the plain export is installed.
    if checks["optimised_max_abs_diff"] > parity.MAX_ABS_DIFF:
        return exported.onnx_path, {"optimised": False, "parity": checks}
    add_serving_metadata(optimised, exported.window, exported.dim)
    return optimised, {"optimised": True, "parity": checks}
