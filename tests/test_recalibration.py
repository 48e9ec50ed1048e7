"""Recalibration on a user's labels: the refit, the CSV, and a new scorer version made live
(and rolled back) on the real server."""

from __future__ import annotations

import json
import random
import shutil

import numpy as np
import pytest

from clonedetect import data, paths
from clonedetect.cli import main
from clonedetect.client import CloneDetectorClient, InvalidInputError
from clonedetect.recalibration import NotEnoughLabelsError, refit
from clonedetect.recalibration_command import read_labelled_pairs
from clonedetect.scoring import Calibration
from clonedetect.training.augment import rename_and_strip
from tests.conftest import start_server

SHIPPED = Calibration.load(paths.calibration_file())


def _overlapping_signals(n: int, seed: int = 0):
    """A service whose independent pairs look more alike than the project's: 25 % copies."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.25).astype(int)
    similarity = np.clip(np.where(labels, 0.92, 0.8) + rng.normal(0, 0.05, n), 0, 1)
    verification = np.clip(np.where(labels, 0.7, 0.45) + rng.normal(0, 0.12, n), 0, 1)
    literals = np.clip(np.where(labels, 0.8, 0.5) + rng.normal(0, 0.12, n), 0, 1)
    return np.column_stack([similarity, verification, literals]), labels


def _signals(comparison) -> list[np.ndarray]:
    return [np.array([x]) for x in (comparison.similarity, comparison.verification, comparison.literals)]


def test_refit_on_the_users_labels_is_better_calibrated_than_the_shipped_probability():
    signals, labels = _overlapping_signals(400)
    result = refit(signals, labels, SHIPPED)
    assert result.fitted_pairs + result.held_back_pairs == 400
    assert result.after["ece"] < result.before["ece"] / 2
    assert result.after["false_positives"] < result.before["false_positives"]
    assert 0.05 <= result.calibration.threshold <= 0.95 and all(w > 0 for w in result.calibration.weights)
    assert set(result.to_dict()["before"]) >= {"ece", "threshold", "precision", "recall", "f1_5"}


def test_too_few_labels_of_one_verdict_are_refused():
    signals, labels = _overlapping_signals(40)
    labels[:] = 0
    labels[:5] = 1
    with pytest.raises(NotEnoughLabelsError, match="at least 10 pairs of each"):
        refit(signals, labels, SHIPPED)


def test_signals_in_the_wrong_shape_are_refused():
    signals, labels = _overlapping_signals(40)
    with pytest.raises(ValueError, match="one row of"):
        refit(signals.T, labels, SHIPPED)


def test_the_csv_is_checked_row_by_row(tmp_path):
    (tmp_path / "a.c").write_text("int a;")
    (tmp_path / "pairs.csv").write_text("file_a,file_b,label\na.c,a.c,1\na.c,missing.c,0\n")
    with pytest.raises(InvalidInputError, match=r"pairs.csv:3: cannot read .*missing.c"):
        read_labelled_pairs(tmp_path / "pairs.csv")
    (tmp_path / "pairs.csv").write_text("file_a,file_b,label\na.c,a.c,yes\n")
    with pytest.raises(InvalidInputError, match="label must be 0 or 1"):
        read_labelled_pairs(tmp_path / "pairs.csv")
    (tmp_path / "pairs.csv").write_text("a,b\n")
    with pytest.raises(InvalidInputError, match="file_a,file_b,label"):
        read_labelled_pairs(tmp_path / "pairs.csv")


def _labelled_folder(folder, copies: int = 14, independent: int = 14):
    """Real POJ-104 programs: renamed copies (1) and solutions of the same problem (0)."""
    valid = data.poj104_programs("valid")
    programs = [p for p in valid if p.label == valid[0].label]
    rng = random.Random(0)
    rows = ["file_a,file_b,label"]
    for k in range(copies + independent):
        original = programs[k].read()
        other = rename_and_strip(original, "cpp", rng, 1.0, True) if k < copies else programs[-1 - k].read()
        (folder / f"{k}a.cpp").write_text(original)
        (folder / f"{k}b.cpp").write_text(other)
        rows.append(f"{k}a.cpp,{k}b.cpp,{int(k < copies)}")
    (folder / "pairs.csv").write_text("\n".join(rows) + "\n")
    return folder / "pairs.csv"


@pytest.mark.integration
def test_calibrate_installs_a_scorer_version_that_a_reload_makes_live_and_one_undoes(tmp_path, capsys):
    repository = tmp_path / "model_repository"
    shutil.copytree(paths.MODEL_REPOSITORY, repository, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "labels").mkdir()
    pairs = _labelled_folder(tmp_path / "labels")
    triton = start_server(repository, tmp_path / "triton.log")
    try:
        url = ["--url", triton.http_url]
        assert main(["calibrate", "--pairs", str(pairs), "--model-repository", str(repository), *url, "--reload"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["installed_version"] == 2 and report["refitted_from_version"] == 1
        assert report["pairs"] == 28 and set(report["after"]) == set(report["before"])
        refitted = Calibration.load(repository / paths.SCORER_MODEL / "2" / paths.CALIBRATION_FILE)
        assert list(refitted.weights) == report["weights"]
        code_a, code_b = (pairs.parent / "0a.cpp").read_text(), (pairs.parent / "15b.cpp").read_text()
        with CloneDetectorClient(triton.http_url) as client:
            live = client.compare(code_a, code_b)
            expected = refitted.probability(*_signals(live))[0]
            assert live.probability == pytest.approx(float(expected), abs=1e-5)
            assert main(["reload", paths.SCORER_MODEL, "--version", "1", *url]) == 0  # roll back
            back = client.compare(code_a, code_b)
            shipped = SHIPPED.probability(*_signals(back))[0]
            assert back.probability == pytest.approx(float(shipped), abs=1e-5)
    finally:
        triton.stop()
