"""`clonedetect import-model --cross-encoder`: small random BERT and RoBERTa sequence-
classification models made here, imported into a copy of the model repository, served as
NAME_compare by the real bundled Triton and checked against transformers in-process.
Nothing is downloaded."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from clonedetect import paths
from clonedetect.cli import main
from clonedetect.importing import pair_parity, parity
from clonedetect.importing.pair_pipeline import import_cross_encoder
from clonedetect.importing.pair_windows import MAX_WINDOW_PAIRS, PairInputError, PairWindowTokenizer
from tests.test_import_model import LAYERS, SNIPPETS, WINDOW, _train_tokenizer, parse, snapshot

pytest.importorskip("transformers")

# A long program (several windows of the tiny models) and one too long for MAX_WINDOW_PAIRS.
LONG = "\n".join(SNIPPETS * 3)
TOO_LONG = "\n".join(SNIPPETS * 12)
PAIRS = [(SNIPPETS[0], SNIPPETS[1]), (SNIPPETS[1], SNIPPETS[0]), (SNIPPETS[2], SNIPPETS[2] + " // copy")]


def _save_classifier(kind: str, folder: Path, num_labels: int, initializer_range: float = 0.5) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, RobertaConfig, RobertaForSequenceClassification

    torch.manual_seed(1)
    tokenizer = _train_tokenizer(kind)
    # By default weights 25x the usual spread: probabilities far apart from pair to pair and
    # window pair to window pair (at 0.02 they all sit within 1e-4 of each other).
    spread = {"initializer_range": initializer_range}
    if kind == "bert":
        config = BertConfig(
            vocab_size=len(tokenizer), max_position_embeddings=WINDOW, num_labels=num_labels, **spread, **LAYERS
        )
        model = BertForSequenceClassification(config)
    else:
        sizes = {"max_position_embeddings": WINDOW + 2, "pad_token_id": 1}  # positions start after padding
        config = RobertaConfig(vocab_size=len(tokenizer), num_labels=num_labels, **sizes, **spread, **LAYERS)
        model = RobertaForSequenceClassification(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _save_plain_bert(folder: Path) -> Path:
    from transformers import BertConfig, BertModel

    tokenizer = _train_tokenizer("bert")
    BertModel(BertConfig(vocab_size=len(tokenizer), max_position_embeddings=WINDOW, **LAYERS)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("cross-sources")
    return SimpleNamespace(
        root=root,
        bert=_save_classifier("bert", root / "bert", num_labels=2),
        roberta=_save_classifier("roberta", root / "roberta", num_labels=1),
        three_labels=_save_classifier("bert", root / "three", num_labels=3),
        # The usual spread: an INT8 quantisation stays within its limit (of the others it does not).
        gentle=_save_classifier("bert", root / "gentle", num_labels=2, initializer_range=0.02),
        plain=_save_plain_bert(root / "plain"),
    )


@pytest.fixture(scope="module")
def repository(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("cross-repository") / "model_repository"
    shutil.copytree(paths.MODEL_REPOSITORY, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(scope="module")
def imported(sources, repository) -> dict:
    return {
        "cross_bert": import_cross_encoder(sources.bert, repository, "cross_bert"),
        "cross_roberta": import_cross_encoder(sources.roberta, repository, "cross_roberta"),
        "cross_int8": import_cross_encoder(sources.gentle, repository, "cross_int8", int8=True),
    }


def _reference(source: Path):
    """transformers in-process: the tokenizer's own pair encoding and the model's probability."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForSequenceClassification.from_pretrained(source).eval()

    def probability(ids: list[int], types: list[int]) -> float:
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids]), token_type_ids=torch.tensor([types])).logits[0]
        return float(torch.sigmoid(logits[0]) if len(logits) == 1 else torch.softmax(logits, -1)[1])

    def pair(code_a: str, code_b: str) -> float:
        encoded = tokenizer(code_a, code_b)
        return probability(encoded["input_ids"], encoded.get("token_type_ids") or [0] * len(encoded["input_ids"]))

    return SimpleNamespace(tokenizer=tokenizer, probability=probability, pair=pair)


def _layout(tokenizer, kind: str, chunk_a: list[int], chunk_b: list[int]) -> tuple[list[int], list[int]]:
    """The documented pair layouts, written out: BERT [CLS] A [SEP] B [SEP] (B typed 1),
    RoBERTa <s> A </s></s> B </s> (all typed 0)."""
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    if kind == "bert":
        return [cls, *chunk_a, sep, *chunk_b, sep], [0] * (len(chunk_a) + 2) + [1] * (len(chunk_b) + 1)
    ids = [cls, *chunk_a, sep, sep, *chunk_b, sep]
    return ids, [0] * len(ids)


def _long_reference(reference, kind: str, code_a: str, code_b: str) -> tuple[float, int]:
    """The long-input rule done independently: chunks of each program, every chunk of A
    against every chunk of B, the highest probability (and how many window pairs)."""
    tokens_a, tokens_b = (reference.tokenizer(c, add_special_tokens=False)["input_ids"] for c in (code_a, code_b))
    budget = WINDOW - reference.tokenizer.num_special_tokens_to_add(pair=True)
    share_a = min(len(tokens_a), max(budget // 2, budget - len(tokens_b)))
    chunks_a = [tokens_a[i : i + share_a] for i in range(0, len(tokens_a), share_a)]
    chunks_b = [tokens_b[i : i + budget - share_a] for i in range(0, len(tokens_b), budget - share_a)]
    windows = [_layout(reference.tokenizer, kind, a, b) for a in chunks_a for b in chunks_b]
    assert all(len(ids) <= WINDOW for ids, _ in windows)
    return max(reference.probability(ids, types) for ids, types in windows), len(windows)


def test_an_import_installs_pair_tokenizer_pair_model_and_compare_ensemble(imported, repository):
    shipped = parse(repository / paths.COMPARE_MODEL / paths.MODEL_CONFIG_FILE)
    interface = [(t.name, t.data_type, list(t.dims)) for t in [*shipped.input, *shipped.output]]
    for name, report in imported.items():
        assert report.models == [name, f"{name}_tokenizer", f"{name}_compare"]
        model = repository / name
        assert (model / "1" / "model.onnx").is_file() and (model / "1" / "model.py").is_file()
        assert (repository / f"{name}_tokenizer" / "1" / "tokenizer.json").is_file()
        configs = [model / "config.pbtxt", model / "configs/bundled.pbtxt", model / "configs/gpu.pbtxt"]
        assert [parse(path).backend for path in configs] == ["onnxruntime", "python", "onnxruntime"]
        tokenizer_config = repository / f"{name}_tokenizer" / "config.pbtxt"
        for config in [*configs, tokenizer_config]:  # warmed up on every input, with data that is there
            [warmup] = parse(config).model_warmup
            assert set(warmup.inputs) == {i.name for i in parse(config).input}
            files = {t.input_data_file for t in warmup.inputs.values() if t.input_data_file}
            assert all(
                (config.parent / "warmup" / f).is_file() or (config.parent.parent / "warmup" / f).is_file()
                for f in files
            )
        compare = parse(repository / f"{name}_compare" / "config.pbtxt")
        assert [(t.name, t.data_type, list(t.dims)) for t in [*compare.input, *compare.output]] == interface
        steps = [(s.model_name, s.model_version) for s in compare.ensemble_scheduling.step]
        assert steps == [(paths.PAIR_CHECK_MODEL, -1), (f"{name}_tokenizer", 1), (name, 1), (paths.VERIFIER_MODEL, -1)]
        card = (model / "MODEL_CARD.md").read_text()
        assert "Parity" in card and report.record["architecture"] in card
    for name in ("cross_bert", "cross_roberta"):
        figures = imported[name].record["parity"]
        assert figures["export_max_abs_diff"] <= parity.MAX_ABS_DIFF
        assert figures["optimised_max_abs_diff"] <= parity.MAX_ABS_DIFF and imported[name].record["optimised"]
        assert figures["window_pairs"] > len(pair_parity.PARITY_PAIRS)  # the parity pairs span several windows
    assert imported["cross_bert"].record["score"] == "softmax, class 1"
    assert imported["cross_roberta"].record["score"] == "sigmoid of the logit"
    assert imported["cross_int8"].record["parity"]["int8_max_abs_diff"] <= pair_parity.INT8_MAX_ABS_DIFF
    assert not (paths.MODEL_REPOSITORY / "cross_bert").exists()


@pytest.mark.parametrize("kind", ["bert", "roberta"])
def test_window_pairs_are_the_models_own_layout_and_cut_nothing(kind, sources, repository, imported):
    name = f"cross_{kind}"
    windows = PairWindowTokenizer.from_file(repository / f"{name}_tokenizer" / "1" / "tokenizer.json")
    reference = _reference(getattr(sources, kind))
    for code_a, code_b in PAIRS:  # one window: exactly what transformers' tokenizer makes of the pair
        encoded = reference.tokenizer(code_a, code_b)
        types = encoded.get("token_type_ids") or [0] * len(encoded["input_ids"])
        assert windows.window_pairs(code_a, code_b) == [(encoded["input_ids"], types)]
    tokens_a = reference.tokenizer(LONG, add_special_tokens=False)["input_ids"]
    tokens_b = reference.tokenizer(SNIPPETS[3], add_special_tokens=False)["input_ids"]
    grid = windows.window_pairs(LONG, SNIPPETS[3])
    assert len(grid) > 1 and all(len(ids) <= WINDOW for ids, _ in grid)
    special = reference.tokenizer.num_special_tokens_to_add(pair=True)
    # B is short: it stays whole in every window pair, and A's chunks together are all of A.
    prefix = 1
    chunks = [ids[prefix : len(ids) - (special - prefix) - len(tokens_b)] for ids, _ in grid]
    assert [t for chunk in chunks for t in chunk] == tokens_a
    with pytest.raises(PairInputError, match=f"at most {MAX_WINDOW_PAIRS}: compare shorter programs"):
        windows.window_pairs(TOO_LONG, TOO_LONG)


def _cross_bert_args(sources) -> list[str]:
    return [str(sources.plain), "--name", "cross_bert"]  # an encoder under a cross-encoder's name


FAILURES = {
    "no classification head": (lambda s: [str(s.plain), "--cross-encoder"], "has no sequence-classification head"),
    "classifier without --cross-encoder": (lambda s: [str(s.bert)], "import it with --cross-encoder"),
    "three labels": (lambda s: [str(s.three_labels), "--cross-encoder"], "has 3 labels"),
    "another model's tokenizer": (
        lambda s: [str(s.roberta), "--cross-encoder", "--tokenizer", str(s.bert)],
        "it is not this model's",
    ),
    "INT8 too far from FP32": (
        lambda s: [str(s.bert), "--cross-encoder", "--int8", "--name", "cross_bad_int8"],
        "the INT8 graph's probabilities move",
    ),
    "an ONNX file": (lambda s: [str(s.root / "x.onnx"), "--cross-encoder"], "not an ONNX file"),
    "another kind under the same name": (_cross_bert_args, "was imported as a cross-encoder"),
    # NAME_compare would overwrite the shipped clone_compare.
    "a shipped model's name": (lambda s: [str(s.bert), "--cross-encoder", "--name", "clone"], "is not an import"),
}


@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
def test_a_refused_import_exits_2_and_leaves_the_repository_unchanged(
    failure, sources, repository, imported, capsys, monkeypatch
):
    arguments, message = FAILURES[failure]
    if failure == "INT8 too far from FP32":
        # How far INT8 moves this random model's probabilities varied from 0.009 to 0.35
        # between identical runs: a limit no quantisation meets makes the refusal certain.
        monkeypatch.setattr(pair_parity, "INT8_MAX_ABS_DIFF", 1e-9)
    before = snapshot(repository)
    assert main(["import-model", *arguments(sources), "--model-repository", str(repository)]) == 2
    assert message in capsys.readouterr().err
    assert snapshot(repository) == before


def test_the_serving_modules_import_no_torch():
    check = (
        "import sys\nimport clonedetect.importing.pair_windows, clonedetect.importing.pair_scoring\n"
        "print([m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers')])"
    )
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.strip() == "[]"


@pytest.mark.integration
def test_the_bundled_triton_serves_the_cross_encoders_as_compare_models(
    sources, repository, imported, tmp_path, capsys
):
    from clonedetect.client import CloneDetectorClient, errors
    from tests.conftest import start_server

    triton = start_server(repository, tmp_path / "triton.log")
    try:
        with CloneDetectorClient(triton.http_url, timeout=60) as shipped:
            expected_evidence = shipped.compare_many(PAIRS + [(LONG, SNIPPETS[3])])
        for kind in ("bert", "roberta"):
            reference = _reference(getattr(sources, kind))
            long_probability, long_windows = _long_reference(reference, kind, LONG, SNIPPETS[3])
            assert long_windows > 1
            with CloneDetectorClient(triton.grpc_url, protocol="grpc", compare_model=f"cross_{kind}_compare") as c:
                served = c.compare_many(PAIRS + [(LONG, SNIPPETS[3])])
                expected = [reference.pair(a, b) for a, b in PAIRS] + [long_probability]
                assert max(abs(s.probability - e) for s, e in zip(served, expected, strict=True)) <= 1e-4, kind
                assert all(s.similarity == s.probability for s in served)
                for comparison, shipped_comparison in zip(served, expected_evidence, strict=True):
                    assert comparison.verification == shipped_comparison.verification
                    assert comparison.evidence == shipped_comparison.evidence and "fragments" in comparison.evidence
                with pytest.raises(errors.InvalidInputError, match="window pairs"):
                    c.compare(TOO_LONG, TOO_LONG)
            # One pair a request, sent together: requests of different shapes share the model's batches.
            with CloneDetectorClient(triton.http_url, batch_size=1, compare_model=f"cross_{kind}_compare") as single:
                apart = single.compare_many(PAIRS + [(LONG, SNIPPETS[3])])
            assert max(abs(a.probability - s.probability) for a, s in zip(apart, served, strict=True)) <= 1e-6
        reference = _reference(sources.gentle)
        with CloneDetectorClient(triton.http_url, compare_model="cross_int8_compare") as int8:
            served = int8.compare_many(PAIRS)
        expected = [reference.pair(a, b) for a, b in PAIRS]
        moved = max(abs(s.probability - e) for s, e in zip(served, expected, strict=True))
        assert moved <= pair_parity.INT8_MAX_ABS_DIFF
        _check_the_compare_command(sources, triton.http_url, tmp_path, capsys)
    finally:
        triton.stop()


def _check_the_compare_command(sources, url: str, folder: Path, capsys) -> None:
    files = [folder / "a.c", folder / "b.c"]
    for path, code in zip(files, PAIRS[0], strict=True):
        path.write_text(code)
    capsys.readouterr()
    assert main(["compare", *map(str, files), "--url", url, "--model", "cross_bert_compare"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert abs(printed["probability"] - _reference(sources.bert).pair(*PAIRS[0])) <= 1e-4
    assert printed["similarity"] == printed["probability"] and "fragments" in printed["evidence"]
    assert 0.0 <= printed["verification"] <= 1.0
