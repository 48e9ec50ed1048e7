"""Training recipe smoke test and checks of the shipped encoder artifacts."""

import random

import numpy as np
import pytest
import torch

from clonedetect import data, paths
from clonedetect.client.protocol import EMBEDDING_DIM
from clonedetect.literals import LiteralRarity
from clonedetect.preprocessing.identifiers import CONTINUATION_PREFIX
from clonedetect.preprocessing.tokenization import CodeTokenizer
from clonedetect.scoring import Calibration
from clonedetect.training import corpus as corpora
from clonedetect.training.augment import augment, rename_and_strip
from clonedetect.training.batches import BatchSampler
from clonedetect.training.calibration import Pairs, calibrate
from clonedetect.training.embedding import embed_programs
from clonedetect.training.export import export_onnx, parity_max_abs_diff
from clonedetect.training.initialisation import document_term, idf, init_pooling_from_idf, zero_residual_branches
from clonedetect.training.losses import combined_loss
from clonedetect.training.model import CodeEncoder, EncoderConfig
from clonedetect.training.skeleton import MAP_AT_R_TOLERANCE, choose_share, fit_skeleton
from clonedetect.training.train import PARITY_TOLERANCE, BagStageView, make_optimizer, training_step
from clonedetect.verification import pair_signals

SHIPPED_MODEL = paths.encoder_file()
SHIPPED_TOKENIZER = paths.tokenizer_file()
SHIPPED_CALIBRATION = paths.calibration_file()
SHIPPED_RARITY = LiteralRarity.load(paths.literal_rarity_file())


@pytest.fixture(scope="module")
def tokenizer() -> CodeTokenizer:
    return CodeTokenizer.from_file(SHIPPED_TOKENIZER)


@pytest.fixture(scope="module")
def programs() -> list[data.Program]:
    return data.poj104_programs("train")


def small_corpus(programs, tokenizer, problems=3, per_problem=4) -> corpora.Corpus:
    by_problem: dict[str, list] = {}
    for p in programs:
        by_problem.setdefault(p.label, []).append(p)
    corpus = corpora.Corpus()
    for label in sorted(by_problem, key=int)[:problems]:
        for p in by_problem[label][:per_problem]:
            corpus.add(p.read(), "cpp", int(label))
    corpus.ids = tokenizer.token_ids(corpus.texts)
    return corpus


def test_tiny_training_run_learns_and_exports_with_parity(tmp_path, programs, tokenizer):
    torch.manual_seed(0)
    poj = small_corpus(programs, tokenizer)
    extra = corpora.Corpus()
    extra.add("def add(a, b):\n    total = a + b\n    return total\n", "python", -1)
    extra.add("public int sum(int[] xs) { int s = 0; for (int x : xs) s += x; return s; }", "java", -1)
    extra.ids = tokenizer.token_ids(extra.texts)
    sampler = BatchSampler(poj, extra, tokenizer, problems=2, per_problem=2, java=1, python=1, crop=64, seed=0)
    batch = sampler.sample()
    assert batch.input_ids.shape[0] == 2 * 6 and batch.input_ids.shape[1] <= 64
    assert batch.labels.tolist()[:6] == batch.labels.tolist()[6:]

    config = EncoderConfig(
        vocab_size=tokenizer.vocab_size,
        dim=32,
        layers=1,
        heads=2,
        ffn_dim=64,
        window=64,
        dropout=0.0,
        ngram_buckets=1024,
        ngram_dim=16,
        sublinear_tf=True,
        skeleton_dim=32,
        skeleton_buckets=4096,
    )
    model = CodeEncoder(config)
    init_pooling_from_idf(model, idf(document_term(poj.ids + extra.ids, config.vocab_size)))
    zero_residual_branches(model)
    # Bag stage (layers skipped) then full stage, as the recipe does.
    optimizer = make_optimizer(model, lr=3e-3, weight_decay=0.01)
    bag = [training_step(model, optimizer, batch, "cpu", 0.05, 0.1, 0.5, use_layers=False)[0] for _ in range(8)]
    optimizer = make_optimizer(model, lr=3e-3, weight_decay=0.01)
    full = [training_step(model, optimizer, batch, "cpu", 0.05, 0.1, 0.5)[0] for _ in range(8)]
    losses = bag + full
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0] * 0.8

    fit_skeleton(model, tokenizer.vocab, poj.ids + extra.ids, seed=0)
    model.skeleton_share.fill_(0.4)
    onnx_path = export_onnx(model, tmp_path / "model.onnx")
    assert parity_max_abs_diff(model.eval(), onnx_path, lengths=(5, 64, 100)) <= PARITY_TOLERANCE
    from clonedetect.onnx_encoder import OnnxEncoder

    assert OnnxEncoder(onnx_path).dim == config.embedding_dim + 32


def test_identity_layers_are_left_out_of_the_export(tmp_path, tokenizer):
    import onnx

    config = EncoderConfig(
        vocab_size=tokenizer.vocab_size,
        dim=32,
        layers=2,
        heads=2,
        ffn_dim=64,
        window=64,
        ngram_buckets=1024,
        ngram_dim=16,
        sublinear_tf=True,
    )
    torch.manual_seed(0)
    model = CodeEncoder(config).eval()
    with_layers = export_onnx(model, tmp_path / "layers.onnx")
    zero_residual_branches(model)
    without_layers = export_onnx(model, tmp_path / "identity.onnx")
    softmax_count = lambda path: sum(n.op_type == "Softmax" for n in onnx.load(str(path)).graph.node)  # noqa: E731
    assert softmax_count(with_layers) >= 2 and softmax_count(without_layers) == 0
    assert parity_max_abs_diff(model, without_layers, lengths=(5, 64, 100)) <= PARITY_TOLERANCE


def skeleton_model(tokenizer, programs) -> CodeEncoder:
    config = EncoderConfig(vocab_size=tokenizer.vocab_size, dim=16, layers=0, window=64, skeleton_dim=64)
    model = CodeEncoder(config).eval()
    fit_skeleton(model, tokenizer.vocab, tokenizer.token_ids([p.read() for p in programs[:300]]), seed=0)
    return model


def skeleton_cosines(model, tokenizer, codes) -> np.ndarray:
    ids, mask = tokenizer.encode(codes)
    with torch.no_grad():
        sketch = torch.nn.functional.normalize(
            model.skeleton_sketch(torch.from_numpy(ids), torch.from_numpy(mask)), dim=-1
        )
    return (sketch[0] @ sketch[1:].T).numpy()


def test_skeleton_ignores_renaming_and_comments_but_not_structure(tokenizer, programs):
    model = skeleton_model(tokenizer, programs)
    original = (
        'int main(){int n,i,s=0,max=0,a1; double std; scanf("%d",&n); for(i=0;i<n;i++){s+=i*i; if(i>max) max=i;}'
        ' a1=s; std=s/n; printf("%d %d %f",a1,max,std); return 0;}'
    )
    renamed = (
        "int main(){ /* total of squares */ int countOfItems,idx,accumulator=0,largestSeen=0,x_2;\n"
        " double deviation;\n"
        ' scanf("%d",&countOfItems);\n'
        "  for(idx=0;idx<countOfItems;idx++){accumulator+=idx*idx; if(idx>largestSeen) largestSeen=idx;} // done\n"
        ' x_2=accumulator; deviation=accumulator/countOfItems; printf("%d %d %f",x_2,largestSeen,deviation);'
        " return 0;}"
    )
    restructured = (
        'int main(){int n,s=0,max=0,a1; scanf("%d",&n); while(n>0){s=s+n*n; max=max<n?n:max; n--;}'
        ' if(s>0) printf("%d %d",s,max); return 0;}'
    )
    same_renamed, other = skeleton_cosines(model, tokenizer, [original, renamed, restructured])
    assert same_renamed == pytest.approx(1.0, abs=1e-5)
    assert other < 0.8


def test_skeleton_placeholders_are_whole_identifier_words(tokenizer, programs):
    """A name is one identifier however the tokenizer cuts it; keywords and reserved library
    names standing alone are not identifiers, a longer name that starts like one is."""
    model = skeleton_model(tokenizer, programs)
    ids = tokenizer.token_ids(['int maxlen = max(a1, x_1); printf("%d", maxlen); for(;;) formula++;'])[0]
    identifier, continuation = model.identifier_tokens(
        torch.from_numpy(ids[None]), torch.ones(1, len(ids), dtype=torch.int64)
    )
    token_text = {index: text for text, index in tokenizer.vocab.items()}
    words: list[tuple[str, bool]] = []  # (word, identifier)
    for index, is_identifier, continues in zip(ids, identifier[0].tolist(), continuation[0].tolist(), strict=True):
        if continues:
            words[-1] = (words[-1][0] + token_text[index].removeprefix(CONTINUATION_PREFIX), words[-1][1])
        else:
            words.append((token_text[index], bool(is_identifier)))
    words = dict(words)
    assert {w for w, f in words.items() if f} == {"maxlen", "max", "a1", "x_1", "d", "formula"}
    assert not any(words[w] for w in ("int", "printf", "for", "(", "=", "+"))


def test_skeleton_ngrams_stay_inside_statements(tokenizer, programs):
    """Swapping two independent statements keeps every n-gram (none spans a `;`, `{`, `}`)."""
    model = skeleton_model(tokenizer, programs)
    original = 'int main(){int a=0,b=0; a=a+1; b=b*2; printf("%d %d",a,b); return 0;}'
    swapped = 'int main(){int a=0,b=0; b=b*2; a=a+1; printf("%d %d",a,b); return 0;}'
    changed = 'int main(){int a=0,b=0; a=a+1; b=b*a; printf("%d %d",a,b); return 0;}'
    same, other = skeleton_cosines(model, tokenizer, [original, swapped, changed])
    assert same == pytest.approx(1.0, abs=1e-5)
    assert other < 0.99


def test_skeleton_set_counts_each_ngram_once(tokenizer, programs):
    """Repeating a statement 3 or 5 times gives the same set of 3- to 6-grams, so the same
    sketch (a count-based sketch would differ)."""
    model = skeleton_model(tokenizer, programs)
    ids, mask = tokenizer.encode(["x = 1; " * 3, "x = 1; " * 5])
    with torch.no_grad():
        sketch = model.skeleton_sketch(torch.from_numpy(ids), torch.from_numpy(mask))
    assert sketch.abs().sum() > 0
    torch.testing.assert_close(sketch[0], sketch[1])


def test_choose_share_prefers_copy_detection_within_the_map_at_r_tolerance():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 10)
    centres = rng.normal(size=(4, 8))
    semantic = centres[labels] + 0.3 * rng.normal(size=(40, 8))  # finds the task
    skeleton = rng.normal(size=(40, 8))  # knows nothing about the task
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    copy = np.r_[np.ones(50, bool), np.zeros(50, bool)]
    semantic_cos = np.r_[rng.uniform(0.6, 0.9, 50), rng.uniform(0.6, 0.9, 50)]  # blind to copying
    skeleton_cos = np.r_[rng.uniform(0.5, 1.0, 50), rng.uniform(0.0, 0.6, 50)]  # sees copying
    share, table = choose_share(
        (unit(semantic), unit(skeleton)), list(labels), (semantic_cos, skeleton_cos), copy, ~copy
    )
    assert 0.0 < share < 1.0
    by_share = {row["share"]: row for row in table}
    assert by_share[0.0]["map_at_r"] > by_share[1.0]["map_at_r"]
    assert by_share[1.0]["auc_copy_vs_same_task"] > by_share[0.0]["auc_copy_vs_same_task"]
    # The chosen share gives up at most the tolerance of MAP@R, and no share that also
    # stays within it detects copies better.
    best_map = max(row["map_at_r"] for row in table)
    assert by_share[share]["map_at_r"] >= best_map - MAP_AT_R_TOLERANCE
    within = [row for row in table if row["map_at_r"] >= best_map - MAP_AT_R_TOLERANCE]
    assert by_share[share]["auc_copy_vs_same_task"] == max(row["auc_copy_vs_same_task"] for row in within)
    # With no MAP@R to spare, the share is the one that retrieves best.
    strict, _ = choose_share(
        (unit(semantic), unit(skeleton)),
        list(labels),
        (semantic_cos, skeleton_cos),
        copy,
        ~copy,
        map_at_r_tolerance=0.0,
    )
    assert by_share[strict]["map_at_r"] == best_map


def test_bag_form_equals_the_encoder_while_layers_are_identity():
    torch.manual_seed(0)
    config = EncoderConfig(
        vocab_size=500,
        dim=32,
        layers=2,
        heads=2,
        ffn_dim=64,
        window=64,
        ngram_buckets=256,
        ngram_dim=8,
        sublinear_tf=True,
    )
    model = CodeEncoder(config).eval()
    zero_residual_branches(model)
    ids = torch.randint(1, 500, (3, 150))
    mask = torch.ones_like(ids)
    mask[1, 70:] = 0
    full = model(ids, mask)
    torch.testing.assert_close(model.encode(ids, mask, use_layers=False), full)
    assert not torch.allclose(full[0], full[2])


def test_pair_sides_embed_each_distinct_program_once():
    anchor, copy, other = np.array([1, 2, 3]), np.array([1, 2, 4]), np.array([7, 8])
    pairs = Pairs(
        [anchor, anchor, anchor, other],
        [copy, other, anchor, copy],
        np.array([1, 0, 0, 0], bool),
        ["copy", "random", "random", "random"],
        np.arange(4),
        ["anchor"] * 3 + ["other"],
        ["copy", "other", "anchor", "copy"],
    )
    calls = []

    def embed(sequences):
        calls.append(len(sequences))
        return np.stack([[float(s.sum()), float(len(s))] for s in sequences])

    side_a, side_b = pairs.embed_sides(embed)
    assert calls == [3]  # anchor, other, copy: once each
    np.testing.assert_array_equal(side_a, [[6, 3], [6, 3], [6, 3], [15, 2]])
    np.testing.assert_array_equal(side_b, [[7, 3], [15, 2], [6, 3], [7, 3]])


def test_losses_prefer_copies_and_same_task():
    labels = torch.tensor([0, 0, 1, 1] * 2)
    anchors = torch.nn.functional.normalize(torch.randn(4, 16), dim=1)
    good = torch.cat([anchors, anchors])  # copies identical to their anchors
    bad = torch.cat([anchors, anchors.roll(1, dims=0)])  # copies identical to another anchor
    assert combined_loss(good, labels)[1] < combined_loss(bad, labels)[1]


def test_augmentation_renames_consistently_and_keeps_keywords():
    code = 'int main() {\n  int count = 0; // tally\n  for (count = 0; count < 10; count++) printf("%d", count);\n}\n'
    renamed = rename_and_strip(code, "cpp", random.Random(0), rename_p=1.0, drop_comments=True)
    assert "count" not in renamed and "tally" not in renamed
    for kept in ("int", "main", "for", "printf", '"%d"'):
        assert kept in renamed
    assert augment(code, "cpp", random.Random(1)) != code


def test_shipped_encoder_embeddings(programs, tokenizer):
    from clonedetect.onnx_encoder import OnnxEncoder

    encoder = OnnxEncoder(SHIPPED_MODEL)
    original = next(p for p in programs if p.label == "1").read()
    unrelated = next(p for p in programs if p.label == "40").read()
    copy = rename_and_strip(original, "cpp", random.Random(0), rename_p=1.0, drop_comments=True)
    embeddings = encoder.embed_sequences(tokenizer.token_ids([original, copy, unrelated]))
    assert embeddings.shape == (3, EMBEDDING_DIM)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-4)
    copy_similarity = float(embeddings[0] @ embeddings[1])
    unrelated_similarity = float(embeddings[0] @ embeddings[2])
    assert copy_similarity > unrelated_similarity + 0.3
    # The shipped calibration calls the copy derived and the unrelated program not.
    calibration = Calibration.load(SHIPPED_CALIBRATION)
    verification, literals = pair_signals([original, original], [copy, unrelated], SHIPPED_RARITY)
    copy_probability, unrelated_probability = calibration.probability(
        np.array([copy_similarity, unrelated_similarity]), verification, literals
    )
    assert copy_probability >= calibration.threshold > unrelated_probability


def test_embed_programs_embeds_each_program_whole_in_input_order_and_accepts_none():
    torch.manual_seed(0)
    model = CodeEncoder(EncoderConfig(vocab_size=500, dim=32, layers=1, heads=2, ffn_dim=64, window=64)).eval()
    rng = np.random.default_rng(0)
    sequences = [rng.integers(5, 500, size=n) for n in (150, 20, 64, 200)]  # 3, 1, 1 and 4 windows
    embeddings = embed_programs(model, sequences, max_tokens=128)
    assert embeddings.shape == (4, model.config.output_dim)
    with torch.no_grad():
        for row, sequence in zip(embeddings, sequences, strict=True):
            ids = torch.from_numpy(np.asarray(sequence, dtype=np.int64))[None]
            np.testing.assert_allclose(row, model(ids, torch.ones_like(ids))[0].numpy(), atol=1e-5)
    assert embed_programs(model, []).shape == (0, model.config.output_dim)


def test_the_bag_stage_view_embeds_the_semantic_part_only():
    """Training's early stopping embeds through the layer-less view of a model with a
    skeleton: its rows are the semantic part."""
    model = CodeEncoder(
        EncoderConfig(vocab_size=500, dim=16, layers=1, heads=2, ffn_dim=32, window=64, skeleton_dim=32)
    ).eval()
    sequences = [np.arange(5, 70), np.arange(7, 30)]
    semantic = embed_programs(BagStageView(model), sequences)
    assert semantic.shape == (2, model.config.embedding_dim)
    with torch.no_grad():
        ids = torch.from_numpy(np.asarray(sequences[1], dtype=np.int64))[None]
        np.testing.assert_allclose(
            semantic[1], model.encode(ids, torch.ones_like(ids), use_layers=False)[0].numpy(), atol=1e-6
        )


def test_calibration_is_fitted_on_copies_against_same_task_solutions_only():
    rng = np.random.default_rng(0)
    n = 400
    kinds = np.array(["copy", "same-task", "random"] * n)
    anchor = np.repeat(np.arange(n), 3)
    centre = {"copy": (0.9, 0.8, 0.9), "same-task": (0.5, 0.3, 0.4), "random": (0.05, 0.02, 0.02)}
    signals = np.array([centre[k] for k in kinds]) + rng.normal(0, 0.08, (len(kinds), 3))
    signals[:, 1:] = np.clip(signals[:, 1:], 0, 1)
    empty = [np.zeros(1)] * len(kinds)
    pairs = Pairs(empty, empty, kinds == "copy", list(kinds), anchor, [""] * len(kinds), [""] * len(kinds))
    calibration, report = calibrate(pairs, signals)
    assert report["pairs"] == 2 * n  # the random pairs are not fitted on
    assert all(w > 0 for w in calibration.weights)
    assert set(report["weights"]) == {"similarity", "verification", "literals"}
    # The boundary lies between the copies and the same-task solutions, not near the random pairs.
    midway = [np.array([value]) for value in (0.7, 0.55, 0.65)]
    assert calibration.probability(*midway)[0] == pytest.approx(0.5, abs=0.2)
    assert report["same_task_above_threshold"] < 0.05 and report["check_recall"] > 0.95
