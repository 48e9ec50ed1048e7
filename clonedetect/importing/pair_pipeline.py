"""``import_cross_encoder``: a HuggingFace sequence-classification directory in, a pair
tokenizer, a pair model and ``NAME_compare`` (clone_compare's interface) out.

Every check runs before the repository is touched: the source loads and has a one- or
two-label classification head, its tokenizer fits it and lays out pairs, the export and
the optimised graph agree with it (and, with INT8, the quantised graph stays close), and
only then are the staged models moved in.
"""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from tokenizers import Tokenizer

from clonedetect import paths
from clonedetect.importing import pair_parity
from clonedetect.importing.cross_encoder_source import SCORE_RULES, CrossEncoderSource, load_cross_encoder
from clonedetect.importing.errors import ImportModelError
from clonedetect.importing.model_card import CROSS_ENCODER_KIND
from clonedetect.importing.model_configs import DEFAULT_NAME
from clonedetect.importing.optimisation import add_serving_metadata, optimise_graph, quantise
from clonedetect.importing.pair_windows import PairInputError, PairWindowTokenizer
from clonedetect.importing.parity import MAX_ABS_DIFF
from clonedetect.importing.pipeline import ImportReport
from clonedetect.importing.repository import install, plan_install
from clonedetect.importing.staging import stage_pair_models
from clonedetect.importing.tokenizer_source import load_tokenizer


def import_cross_encoder(
    source: Path,
    repository: Path = paths.MODEL_REPOSITORY,
    name: str = DEFAULT_NAME,
    *,
    int8: bool = False,
    tokenizer_dir: Path | None = None,
) -> ImportReport:
    """Import the cross-encoder in ``source`` as the next version of ``name`` in
    ``repository``; raises :class:`ImportModelError` (repository unchanged) when any check fails."""
    source, repository = Path(source), Path(repository)
    plan = plan_install(repository, name, CROSS_ENCODER_KIND)
    if source.suffix == ".onnx":
        raise ImportModelError(
            "--cross-encoder takes a HuggingFace directory (a ...ForSequenceClassification model), not an ONNX file"
        )
    if not source.exists():
        raise ImportModelError(f"{source} does not exist")
    tokenizer = load_tokenizer(Path(tokenizer_dir) if tokenizer_dir else source)
    model = load_cross_encoder(source, tokenizer)
    tokenizer.tokenizer.enable_truncation(max_length=model.window, stride=0)  # what the served step reads
    windows = _pair_tokenizer(tokenizer.tokenizer)
    with tempfile.TemporaryDirectory(prefix="clonedetect-import-") as work:
        work = Path(work)
        graph, checks = _checked_graph(model, windows, tokenizer.pad_id, work, int8)
        record = {
            "version": plan.version,
            "imported": datetime.date.today().isoformat(),
            "kind": CROSS_ENCODER_KIND,
            "source": source.name,
            "format": "huggingface",
            "architecture": model.architecture,
            "window": model.window,
            "score": SCORE_RULES[model.num_labels],
            "precision": "int8" if int8 else "fp32",
            **checks,
        }
        stage_pair_models(plan, work / "staged", graph, tokenizer.tokenizer, record)
        install(plan, work / "staged")
    return ImportReport(name, plan.version, plan.model_folders(), record)


def _pair_tokenizer(tokenizer: Tokenizer) -> PairWindowTokenizer:
    try:
        return PairWindowTokenizer(Tokenizer.from_str(tokenizer.to_str()))  # a copy: it drops the truncation
    except ValueError as error:
        raise ImportModelError(f"the tokenizer cannot lay out a pair of programs: {error}") from None


def _checked_graph(model: CrossEncoderSource, windows: PairWindowTokenizer, pad_id: int, work: Path, int8: bool):
    """The graph to install and its parity figures; raises if the export itself (or, with
    ``int8``, its quantisation) disagrees with the source model."""
    from clonedetect.importing.pair_export import export_cross_encoder, torch_pair_probability

    try:
        comparisons = pair_parity.sample_windows(windows)
    except PairInputError as error:
        raise ImportModelError(f"the model's {windows.window}-position window is too small: {error}") from None
    reference = pair_parity.reference_probabilities(torch_pair_probability(model), comparisons)

    def difference(path: Path) -> float:
        similarity, probability = pair_parity.graph_scores(path, comparisons)
        return float(max(abs(reference - probability).max(), abs(reference - similarity).max()))

    exported = export_cross_encoder(model, pad_id, work / "export.onnx")
    checks = {"export_max_abs_diff": difference(exported), "window_pairs": pair_parity.window_pair_count(comparisons)}
    if checks["export_max_abs_diff"] > MAX_ABS_DIFF:
        raise ImportModelError(
            f"the ONNX export differs from the source model by up to {checks['export_max_abs_diff']:.2e} "
            f"(limit {MAX_ABS_DIFF:.0e}); nothing was installed"
        )
    add_serving_metadata(exported, windows.window, 1)
    if int8:
        # The export, not a fused graph: the quantiser cannot type onnxruntime's fused ops.
        quantised = quantise(exported, work / paths.INT8_ENCODER_FILE)
        checks["int8_max_abs_diff"] = difference(quantised)
        if checks["int8_max_abs_diff"] > pair_parity.INT8_MAX_ABS_DIFF:
            raise ImportModelError(
                f"the INT8 graph's probabilities move by up to {checks['int8_max_abs_diff']:.3f} "
                f"(limit {pair_parity.INT8_MAX_ABS_DIFF}); nothing was installed: import without --int8"
            )
        return quantised, {"optimised": False, "parity": checks}
    sizes = {"num_heads": model.num_heads, "hidden_size": model.hidden_size}
    optimised = optimise_graph(exported, work / "optimised.onnx", **sizes)
    checks["optimised_max_abs_diff"] = difference(optimised)
    # An optimisation that changes the answers is dropped: the plain export is installed.
    if checks["optimised_max_abs_diff"] > MAX_ABS_DIFF:
        return exported, {"optimised": False, "parity": checks}
    add_serving_metadata(optimised, windows.window, 1)
    return optimised, {"optimised": True, "parity": checks}
