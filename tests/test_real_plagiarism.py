"""Real plagiarism data (SOCO 2014), its ranking metrics, and the Dolos baseline.

The Dolos tests use the same cached installer as ``make dolos`` / ``clonedetect evaluate``:
on a fresh machine the first of them installs dolos-lib (npm, native builds: a few
minutes, once); afterwards the install is found by its marker file.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from clonedetect import paths
from clonedetect.evaluation import dolos, report, soco
from clonedetect.evaluation.served_scoring import ServedScoring
from clonedetect.paths import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "tests" / "samples"


# --------------------------------------------------------------------------- SOCO loading


@pytest.fixture(scope="module")
def sets() -> dict[str, soco.SocoSet]:
    return {language: soco.load_soco(language) for language in soco.LANGUAGES}


def test_soco_has_the_documented_files_and_reuse_pairs(sets):
    assert (len(sets["java"]), len(sets["java"].positives)) == (259, 84)
    assert (len(sets["c"]), len(sets["c"].positives)) == (79, 26)
    root = soco.soco_root()
    assert not root.resolve().is_relative_to(PROJECT_ROOT), "SOCO must be unpacked outside the repository"
    for language, suffix in soco.SUFFIXES.items():
        qrel = soco.read_qrel(root / soco.QREL_FILES[language])
        assert len(qrel) == len(sets[language].positives)
        for a, b in qrel:
            assert (root / language / a).is_file() and (root / language / b).is_file(), (a, b)
            assert a.endswith(suffix) and b.endswith(suffix) and a != b
        assert all(code.strip() for code in sets[language].codes)


def test_every_unordered_pair_once_with_the_qrel_pairs_positive(sets):
    c = sets["c"]
    rows, cols, labels = c.pairs()
    n = len(c)
    assert len(rows) == n * (n - 1) // 2 == 3081
    assert (rows < cols).all() and len(set(zip(rows.tolist(), cols.tolist(), strict=True))) == len(rows)
    assert labels.sum() == 26
    positives = {(c.names[i], c.names[j]) for i, j, y in zip(rows, cols, labels, strict=True) if y}
    # The qrel lists each pair in one order; the labels hold whichever order it uses.
    for a, b in soco.read_qrel(soco.soco_root() / soco.QREL_FILES["c"]):
        assert (min(a, b), max(a, b)) in positives


def test_quick_subset_keeps_its_reuse_pairs(sets):
    quick = soco.quick_subset(sets["java"])
    assert len(quick) == 2 * soco.QUICK_POSITIVE_PAIRS + soco.QUICK_OTHER_FILES
    assert len(quick.positives) >= soco.QUICK_POSITIVE_PAIRS
    full_positives = {(sets["java"].names[i], sets["java"].names[j]) for i, j in sets["java"].positives}
    quick_positives = {(quick.names[i], quick.names[j]) for i, j in quick.positives}
    assert quick_positives <= full_positives
    names = set(quick.names)
    # Every reuse pair of the full set whose two files are both in the subset is kept.
    assert quick_positives == {(a, b) for a, b in full_positives if a in names and b in names}


# --------------------------------------------------------------------------- metrics


def test_metrics_are_one_when_every_positive_outranks_every_negative():
    labels = [0, 1, 0, 1, 0, 0]
    scores = [0.1, 0.9, 0.3, 0.8, 0.2, 0.0]
    assert soco.ranking_metrics(labels, scores) == {"roc_auc": 1.0, "pr_auc": 1.0, "precision_at_r": 1.0}


def test_metrics_known_answers():
    # Ranked: + - + - - ; R = 2, the top 2 hold one positive.
    labels = [1, 0, 1, 0, 0]
    scores = [0.9, 0.8, 0.7, 0.2, 0.1]
    metrics = soco.ranking_metrics(labels, scores)
    assert metrics["precision_at_r"] == pytest.approx(0.5)
    assert metrics["pr_auc"] == pytest.approx((1 / 1 + 2 / 3) / 2)  # precision at each positive, averaged
    assert metrics["roc_auc"] == pytest.approx(5 / 6)  # 1 of the 6 (positive, negative) orderings is wrong


def test_precision_at_r_shares_tied_places():
    # R = 2: one pair clearly first (a positive), then three tied at 0.5 holding one positive:
    # the second place goes to a positive with probability 1/3.
    assert soco.precision_at_r([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.5]) == pytest.approx((1 + 1 / 3) / 2)
    assert np.isnan(soco.precision_at_r([0, 0], [0.1, 0.2]))


# --------------------------------------------------------------------------- Dolos


def test_runner_pins_dolos_lib_exactly():
    package = json.loads((dolos.RUNNER_DIR / "package.json").read_text())
    lock = json.loads((dolos.RUNNER_DIR / "package-lock.json").read_text())
    assert package["dependencies"] == {"@dodona/dolos-lib": "3.5.1"} == {"@dodona/dolos-lib": dolos.DOLOS_VERSION}
    assert lock["packages"]["node_modules/@dodona/dolos-lib"]["version"] == "3.5.1"
    assert lock["packages"][""]["dependencies"] == package["dependencies"]


@pytest.fixture(scope="module")
def dolos_install():
    start = time.perf_counter()
    folder = dolos.ensure_installed()
    return folder, time.perf_counter() - start


@pytest.mark.timeout(1800)  # the first run on a fresh machine installs dolos-lib
def test_dolos_install_is_cached_outside_the_repository(dolos_install):
    folder, _ = dolos_install
    assert dolos.is_installed()
    assert not folder.resolve().is_relative_to(PROJECT_ROOT)
    assert (folder / "node_modules" / "@dodona" / "dolos-lib" / "package.json").is_file()
    start = time.perf_counter()
    assert dolos.ensure_installed() == folder  # the marker is found: nothing is installed again
    assert time.perf_counter() - start < 5
    assert dolos.check(folder) == {"ok": True, "dolos_lib": "3.5.1", "languages": ["java", "c"]}


@pytest.mark.timeout(1800)
def test_dolos_ranks_an_exact_copy_above_unrelated_programs(dolos_install, sets):
    original = (SAMPLES / "bubble_sort.c").read_text()
    renamed = (SAMPLES / "bubble_sort_renamed.c").read_text()
    unrelated = sets["c"].codes[0]
    codes = [original, unrelated, original, renamed]
    pairs = dolos.dolos_pairs(codes, "c")
    similarity = pairs["similarity"]
    assert similarity.shape == (4, 4)
    for matrix in pairs.values():
        np.testing.assert_array_equal(matrix, matrix.T)
    np.testing.assert_array_equal(np.diag(similarity), np.ones(4))
    assert ((similarity >= 0) & (similarity <= 1)).all()
    assert similarity[0, 2] == pytest.approx(1.0)  # exact copy
    assert pairs["longest"][0, 2] > 0 and pairs["overlap"][0, 2] > 0
    # Dolos reads the syntax tree, not the names: the renamed copy is still far above unrelated code.
    assert similarity[0, 2] >= similarity[0, 3] > similarity[0, 1]
    assert similarity[0, 3] > similarity[3, 1]
    np.testing.assert_array_equal(dolos.dolos_pair_similarities(codes, "c"), similarity)


@pytest.mark.timeout(1800)
def test_dolos_without_node_says_what_to_install(dolos_install, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no node, no npm
    with pytest.raises(dolos.DolosUnavailable, match="Node.js"):
        dolos.dolos_pair_similarities(["int a;", "int b;"], "c")
    with pytest.raises(dolos.DolosUnavailable, match="make dolos"):
        dolos.ensure_installed()


def test_dolos_rejects_unknown_language_and_single_program():
    with pytest.raises(ValueError, match="no Dolos language"):
        dolos.dolos_pair_similarities(["x", "y"], "cobol")
    with pytest.raises(ValueError, match="at least two"):
        dolos.dolos_pair_similarities(["int a;"], "c")


# --------------------------------------------------------------------------- the harness section


@pytest.mark.timeout(1800)
def test_real_plagiarism_section_and_its_table(dolos_install):
    from clonedetect.evaluation.harness import ModelScorer
    from clonedetect.preprocessing.tokenization import CodeTokenizer

    model = ModelScorer(paths.encoder_file(), CodeTokenizer.from_file(paths.tokenizer_file()), threads=2)
    served = ServedScoring.load(paths.calibration_file(), paths.literal_rarity_file())
    section = soco.evaluate_real_plagiarism(model, served, quick=True)
    assert set(section) == {"java", "c", "meta"}
    assert section["meta"]["methods"] == [
        "probability",
        "scan",
        "model",
        "verification",
        "literals",
        "winnowing",
        "dolos",
        "tfidf",
    ]
    for language in ("java", "c"):
        part = section[language]
        assert part["pairs"] == part["files"] * (part["files"] - 1) // 2
        assert 0 < part["positives"] < part["pairs"]
        for method in soco.METHODS:
            assert set(part[method]) == set(soco.METRICS)
            assert all(0.0 <= v <= 1.0 for v in part[method].values()), (language, method, part[method])
        # On the files of real reuse pairs, the shipped model is far better than chance, and
        # the served probability at its threshold finds most reuse pairs.
        assert part["model"]["roc_auc"] > 0.8 and part["probability"]["roc_auc"] > 0.8
        decision = part["at_threshold"]
        assert decision["true_positives"] + decision["false_negatives"] == part["positives"]
        assert decision["recall"] >= 0.5, decision
    lines = report._real_plagiarism(report.to_jsonable(section))
    assert lines[0].startswith("## Real plagiarism (SOCO 2014 training set")
    table = [line for line in lines if line.startswith("|")]
    header = ["language", "metric", "**probability (served)**", "probability in a scan (common code removed)"]
    header += ["model (cosine)", "verification (tiling)", "shared rare literals"]
    header += ["winnowing (copydetect)", "Dolos", "TF-IDF 1-3-gram cosine"]
    assert table[0] == "| " + " | ".join(header) + " |"
    assert len(table) == 2 + 2 * len(soco.METRICS) + 2 + 2  # the ranking table, then the decisions
