"""`clonedetect import-model`: small random BERT and RoBERTa models (and an ONNX export of
one) made here, imported into a copy of the model repository, checked, and served by the
real bundled Triton. Nothing is downloaded."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from clonedetect import paths
from clonedetect.cli import main
from clonedetect.importing import parity
from clonedetect.importing.errors import ImportModelError
from clonedetect.importing.pipeline import import_model
from clonedetect.preprocessing.windowed_tokenization import WindowedTokenizer

pytest.importorskip("transformers")

SNIPPETS = [
    "int main(void) { int total = 0; for (int i = 0; i < 10; i++) total += i; return total; }",
    "def mean(values):\n    return sum(values) / len(values)\n",
    "public class Counter { private int count; void add() { count++; } int get() { return count; } }",
    "while (left < right) { swap(a, left, right); left++; right--; }",
]
WINDOW = 64  # positions of the tiny models: a few lines of code already need several windows
LAYERS = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128}


def _train_tokenizer(kind: str):
    """A tokenizer trained on the snippets: WordPiece for BERT, byte-level BPE for RoBERTa."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import BertTokenizerFast, RobertaTokenizerFast

    if kind == "bert":
        tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tokenizer.normalizer = normalizers.BertNormalizer(lowercase=False)
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        tokenizer.train_from_iterator(SNIPPETS, trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials))
        return BertTokenizerFast(tokenizer_object=tokenizer, model_max_length=WINDOW, **_bert_specials())
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(SNIPPETS, trainer)
    names = {"bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>"}
    return RobertaTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", **names
    )


def _bert_specials() -> dict:
    return {
        "unk_token": "[UNK]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "mask_token": "[MASK]",
    }


def _save_model(kind: str, folder: Path) -> Path:
    import torch
    from transformers import BertConfig, BertModel, RobertaConfig, RobertaModel

    torch.manual_seed(0)
    tokenizer = _train_tokenizer(kind)
    if kind == "bert":
        model = BertModel(BertConfig(vocab_size=len(tokenizer), max_position_embeddings=WINDOW, **LAYERS))
    else:  # RoBERTa positions start after the padding id: 2 more for the same window
        config = RobertaConfig(vocab_size=len(tokenizer), max_position_embeddings=WINDOW + 2, pad_token_id=1, **LAYERS)
        model = RobertaModel(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _export_plain_onnx(model_dir: Path, output: Path) -> Path:
    """What a user may already have: the bare encoder, outputs last_hidden_state and pooler_output."""
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(model_dir, local_files_only=True, attn_implementation="eager").eval()

    class Bare(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state, out.pooler_output

    ids = torch.full((2, 16), 7)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in names + ["last_hidden_state"]}
    torch.onnx.export(
        Bare(),
        (ids, torch.ones_like(ids), torch.zeros_like(ids)),
        str(output),
        input_names=names,
        output_names=["last_hidden_state", "pooler_output"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    return output


def _pooled_only(onnx_file: Path, output: Path) -> Path:
    """The same graph with only its pooled [batch, dim] output (one vector per window)."""
    import onnx

    model = onnx.load(str(onnx_file))
    kept = [o for o in model.graph.output if o.name == "pooler_output"]
    del model.graph.output[:]
    model.graph.output.extend(kept)
    onnx.save(model, str(output))
    return output


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("sources")
    bert = _save_model("bert", root / "bert")
    roberta = _save_model("roberta", root / "roberta")
    onnx_file = _export_plain_onnx(bert, root / "encoder.onnx")
    pooled = _pooled_only(onnx_file, root / "pooled.onnx")
    return SimpleNamespace(root=root, bert=bert, roberta=roberta, onnx=onnx_file, pooled=pooled)


@pytest.fixture(scope="module")
def repository(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("import-repository") / "model_repository"
    shutil.copytree(paths.MODEL_REPOSITORY, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(scope="module")
def imported(sources, repository) -> dict:
    return {
        "tiny_bert": import_model(sources.bert, repository, "tiny_bert"),
        "tiny_roberta": import_model(sources.roberta, repository, "tiny_roberta", int8=True),
        "tiny_onnx": import_model(sources.onnx, repository, "tiny_onnx", tokenizer_dir=sources.bert),
        "tiny_pooled": import_model(sources.pooled, repository, "tiny_pooled", tokenizer_dir=sources.bert),
    }


def parse(path: Path) -> model_config_pb2.ModelConfig:
    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def test_an_import_installs_encoder_tokenizer_and_ensemble(imported, repository):
    for name, report in imported.items():
        encoder = repository / name
        assert (encoder / "1" / "model.onnx").is_file() and (encoder / "1" / "model.py").is_file()
        assert (repository / f"{name}_tokenizer" / "1" / "tokenizer.json").is_file()
        steps = json.loads((repository / f"{name}_embed" / "1" / "steps.json").read_text())
        assert steps == {paths.ADMISSION_MODEL: 1, f"{name}_tokenizer": 1, name: 1}, "what it calls; no empty folder"
        configs = [encoder / "config.pbtxt", encoder / "configs/bundled.pbtxt", encoder / "configs/gpu.pbtxt"]
        backends = [parse(path).backend for path in configs]
        assert backends == ["onnxruntime", "python", "onnxruntime"]
        for path in configs:
            assert [(o.name, list(o.dims)) for o in parse(path).output] == [("embedding", [report.record["dim"]])]
        steps = parse(repository / f"{name}_embed" / "config.pbtxt").ensemble_scheduling.step
        assert [(s.model_name, s.model_version) for s in steps] == [
            (paths.ADMISSION_MODEL, 1),
            (f"{name}_tokenizer", 1),
            (name, 1),
        ]
        assert parse(repository / f"{name}_tokenizer" / "config.pbtxt").name == f"{name}_tokenizer"
        assert "parity" in (encoder / "MODEL_CARD.md").read_text()
    assert not (paths.MODEL_REPOSITORY / "tiny_bert").exists()


def test_the_installed_graphs_agree_with_their_sources(imported):
    for name in ("tiny_bert", "tiny_onnx", "tiny_pooled"):
        figures = imported[name].record["parity"]
        assert figures["export_max_abs_diff"] <= parity.MAX_ABS_DIFF, name
        assert figures["optimised_max_abs_diff"] <= parity.MAX_ABS_DIFF, name
        assert imported[name].record["optimised"]
    int8 = imported["tiny_roberta"].record
    assert int8["precision"] == "int8" and int8["parity"]["int8_min_cosine"] >= parity.INT8_MIN_COSINE
    assert imported["tiny_roberta"].record["window"] == WINDOW


def test_the_windows_keep_every_token_of_a_long_program(repository, imported):
    from tokenizers import Tokenizer

    path = repository / "tiny_bert_tokenizer" / "1" / "tokenizer.json"
    program = "\n".join(SNIPPETS * 6)
    (ids,) = WindowedTokenizer.from_file(path).token_ids([program])
    windows = [ids[start : start + WINDOW] for start in range(0, len(ids), WINDOW)]
    assert len(windows) > 3 and all(len(w) == WINDOW for w in windows[:-1])
    untruncated = Tokenizer.from_file(str(path))
    untruncated.no_truncation()
    plain = untruncated.encode(program, add_special_tokens=False).ids
    assert [i for w in windows for i in w[1:-1]] == plain  # each window: [CLS] tokens [SEP]


def test_importing_the_same_name_again_adds_a_version(sources, repository, imported, capsys):
    assert main(["import-model", str(sources.bert), "--model-repository", str(repository), "--name", "tiny_bert"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["version"] == 2 and (repository / "tiny_bert" / "2" / "model.onnx").is_file()
    assert report["parity"]["optimised_max_abs_diff"] <= parity.MAX_ABS_DIFF
    steps = parse(repository / "tiny_bert_embed" / "config.pbtxt").ensemble_scheduling.step
    assert {s.model_version for s in steps if s.model_name != paths.ADMISSION_MODEL} == {2}
    records = json.loads((repository / "tiny_bert" / "imports.json").read_text())["imports"]
    assert [r["version"] for r in records] == [1, 2]


def _without_weights(sources) -> list[str]:
    folder = sources.root / "no-weights"
    if not folder.exists():
        shutil.copytree(sources.bert, folder, ignore=shutil.ignore_patterns("*.safetensors"))
    return [str(folder)]


def _decoder(sources) -> list[str]:
    from transformers import GPT2Config

    folder = sources.root / "gpt2"
    GPT2Config(n_layer=1, n_embd=32, n_head=2).save_pretrained(folder)
    return [str(folder)]


def _bad_onnx(sources) -> list[str]:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity", [x], [y])
    path = sources.root / "identity.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return [str(path), "--tokenizer", str(sources.bert)]


FAILURES = {
    "no weights": (_without_weights, "has no weights"),
    "not an encoder": (_decoder, "not an encoder family"),
    "other model's tokenizer": (lambda s: [str(s.roberta), "--tokenizer", str(s.bert)], "it is not this model's"),
    "ONNX with another model's tokenizer": (
        lambda s: [str(s.onnx), "--tokenizer", str(s.roberta)],
        "it is not this model's",
    ),
    "ONNX without encoder inputs": (_bad_onnx, "an encoder needs input_ids and attention_mask"),
    "ONNX without a tokenizer": (lambda s: [str(s.onnx)], "pass --tokenizer"),
    "a shipped model's name": (lambda s: [str(s.bert), "--name", "code_clone_detector"], "is not an import"),
}


@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
def test_a_failed_import_exits_2_and_leaves_the_repository_unchanged(failure, sources, repository, imported, capsys):
    arguments, message = FAILURES[failure]
    before = snapshot(repository)
    assert main(["import-model", *arguments(sources), "--model-repository", str(repository)]) == 2
    assert message in capsys.readouterr().err
    assert snapshot(repository) == before


def test_an_export_that_misses_parity_is_not_installed(sources, repository, imported, monkeypatch):
    monkeypatch.setattr(parity, "MAX_ABS_DIFF", -1.0)
    before = snapshot(repository)
    with pytest.raises(ImportModelError, match="differs from the source model"):
        import_model(sources.roberta, repository, "tiny_roberta")
    assert snapshot(repository) == before


def test_an_encoder_is_not_imported_as_a_cross_encoder(sources, repository, capsys):
    assert main(["import-model", str(sources.bert), "--model-repository", str(repository), "--cross-encoder"]) == 2
    assert "has no sequence-classification head" in capsys.readouterr().err


def test_the_library_raises_one_error_type(sources, tmp_path):
    with pytest.raises(ImportModelError, match="does not exist"):
        import_model(sources.bert, tmp_path / "missing", "x")


def test_an_import_needs_the_shipped_admission_step_its_ensemble_calls(sources, tmp_path):
    empty = tmp_path / "model_repository"
    empty.mkdir()
    with pytest.raises(ImportModelError, match="has no clone_admission model, which x_embed calls"):
        import_model(sources.bert, empty, "x")
    assert list(empty.iterdir()) == []


def test_the_encoder_adapter_is_the_shipped_one_and_serving_imports_no_torch():
    adapters = Path(__file__).resolve().parent.parent / "clonedetect" / "importing" / "adapters"
    shipped = paths.MODEL_REPOSITORY / paths.ENCODER_MODEL / "1" / "model.py"
    assert (adapters / "encoder_model.py").read_text() == shipped.read_text()
    check = (
        "import sys\nimport clonedetect.preprocessing.windowed_tokenization, clonedetect.preprocessing.batching\n"
        "import clonedetect.onnx_encoder\n"
        "print([m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers')])"
    )
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.strip() == "[]"


@pytest.mark.integration
def test_the_bundled_triton_serves_the_imports(repository, imported, tmp_path):
    import tritonclient.http as httpclient

    from tests.conftest import start_server

    programs = SNIPPETS + ["\n".join(SNIPPETS * 5)]  # the last one needs many windows
    triton = start_server(repository, tmp_path / "triton.log")
    try:
        client = httpclient.InferenceServerClient(triton.http_url)
        for name in ("tiny_bert", "tiny_onnx", "tiny_roberta"):
            served = _embed(client, f"{name}_embed", programs)
            version = max(int(p.name) for p in (repository / name).iterdir() if p.name.isdigit())
            tokenizer = WindowedTokenizer.from_file(repository / f"{name}_tokenizer" / str(version) / "tokenizer.json")
            model = repository / name / str(version) / "model.onnx"
            expected = parity.graph_embeddings(model, tokenizer.token_ids(programs), tokenizer.window)
            assert np.abs(served - expected).max() <= 1e-4, name
            np.testing.assert_allclose(np.linalg.norm(served, axis=1), 1.0, atol=1e-5)
        with pytest.raises(httpclient.InferenceServerException, match="empty"):
            _embed(client, "tiny_bert_embed", ["   "])
    finally:
        triton.stop()


def _embed(client, model: str, programs: list[str]) -> np.ndarray:
    import tritonclient.http as httpclient

    code = httpclient.InferInput("CODE", [len(programs), 1], "BYTES")
    code.set_data_from_numpy(np.array([[p.encode()] for p in programs], dtype=object))
    return client.infer(model, [code]).as_numpy("EMBEDDING")


def _expected(repository: Path, name: str, version: int, programs: list[str]) -> np.ndarray:
    tokenizer = WindowedTokenizer.from_file(repository / f"{name}_tokenizer" / str(version) / "tokenizer.json")
    model = repository / name / str(version) / "model.onnx"
    return parity.graph_embeddings(model, tokenizer.token_ids(programs), tokenizer.window)


@pytest.mark.integration
def test_a_new_import_rolls_out_with_its_tokenizer_and_back_with_no_failed_request(sources, tmp_path, capsys):
    import time

    import tritonclient.http as httpclient

    from tests.background_calls import BackgroundCalls
    from tests.conftest import start_server

    repository = tmp_path / "model_repository"
    shutil.copytree(paths.MODEL_REPOSITORY, repository, ignore=shutil.ignore_patterns("__pycache__"))
    import_model(sources.bert, repository, "rolled")
    triton = start_server(repository, tmp_path / "triton.log")

    def timed(args: list[str]) -> tuple[float, float]:
        start = time.monotonic()
        assert main(args) == 0, capsys.readouterr().err
        return start, time.monotonic()

    client = httpclient.InferenceServerClient(triton.http_url, concurrency=2)
    try:
        import_model(sources.roberta, repository, "rolled")  # version 2: another tokenizer too
        with BackgroundCalls(lambda: _embed(client, "rolled_embed", SNIPPETS[:2])) as load:
            server = ["--url", triton.http_url, "--model-repository", str(repository)]
            rollout = timed(["rollout", "rolled", "--version", "2", *server])
            report = json.loads(capsys.readouterr().out)
            deadline = time.monotonic() + 20  # until the replaced versions have finished unloading
            while main(["status", "--url", triton.http_url]) != 0 and time.monotonic() < deadline:
                capsys.readouterr()
                time.sleep(0.5)
            status = json.loads(capsys.readouterr().out)
            served_v2 = load.last()
            rollback = timed(["rollback", "rolled", *server])
            time.sleep(0.5)
    finally:
        client.close()
        triton.stop()
    print(f"\n{len(load.records)} requests, {len(load.failures())} failed")
    assert report["moved"] == {"rolled": [2, 1], "rolled_tokenizer": [2, 1]}
    assert report["ensembles"] == {"rolled_embed": [1, 2]}
    calls = {paths.ADMISSION_MODEL: 1, "rolled_tokenizer": 2, "rolled": 2}
    assert status["ensembles"]["rolled_embed"]["calls"] == calls
    assert load.failures() == [], load.failures()[:3]
    for start, end in (rollout, rollback):
        assert load.between(start, end) >= 3, "requests were answered while it switched"
    assert np.abs(served_v2 - _expected(repository, "rolled", 2, SNIPPETS[:2])).max() <= 1e-4
    assert np.abs(load.last() - _expected(repository, "rolled", 1, SNIPPETS[:2])).max() <= 1e-4
