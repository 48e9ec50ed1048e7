"""The scorer's maths and the in-process encoder runtime (window grouping, input checks)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clonedetect import paths
from clonedetect.onnx_encoder import EncoderInputError, OnnxEncoder, unpad
from clonedetect.preprocessing.tokenization import pad_batch
from clonedetect.scoring import Calibration, CalibrationFileError, cosine_similarity, score

MODEL = paths.encoder_file()
CALIBRATION = paths.calibration_file()


def test_cosine_similarity_is_rowwise_and_scale_free():
    a = np.array([[1.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    b = np.array([[3.0, 0.0], [2.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(cosine_similarity(a, b), [1.0, 0.0], atol=1e-6)


def test_calibration_rises_with_every_signal_and_round_trips(tmp_path):
    calibration = Calibration(weights=(10.0, 5.0, 1.0), intercept=-9.5, threshold=0.5)
    rising, zeros, fixed = np.array([0.0, 0.5, 0.6, 1.0]), np.zeros(4), np.full(4, 0.6)
    assert np.all(np.diff(calibration.probability(rising, zeros, zeros)) > 0)
    assert np.all(np.diff(calibration.probability(fixed, rising, zeros)) > 0)
    assert np.all(np.diff(calibration.probability(fixed, fixed, rising)) > 0)
    assert calibration.probability(np.array([0.6]), np.array([0.6]), np.array([0.5]))[0] == pytest.approx(0.5)
    calibration.save(tmp_path / "c.json")
    assert Calibration.load(tmp_path / "c.json") == calibration
    pair = np.eye(2, dtype=np.float32)
    verification = np.array([[0.2], [0.9]], dtype=np.float32)
    literals = np.array([[0.7], [0.0]], dtype=np.float32)
    similarity, probability = score(pair, pair, verification, literals, calibration)
    np.testing.assert_allclose(similarity, [1.0, 1.0], atol=1e-6)
    expected = calibration.probability(np.ones(2), np.array([0.2, 0.9]), np.array([0.7, 0.0]))
    np.testing.assert_allclose(probability, expected, rtol=1e-6)


def test_a_two_signal_calibration_still_loads_and_weighs_literals_zero(tmp_path):
    fields = {"weights": [10.0, 5.0], "intercept": -9.0, "threshold": 0.4, "features": ["similarity", "verification"]}
    (tmp_path / "recalibrated.json").write_text(json.dumps(fields))
    calibration = Calibration.load(tmp_path / "recalibrated.json")
    assert calibration.weights == (10.0, 5.0, 0.0) and calibration.threshold == 0.4
    one = np.array([0.6])
    assert calibration.probability(one, one, np.array([1.0]))[0] == calibration.probability(one, one, np.zeros(1))[0]


def test_a_calibration_file_for_other_features_is_refused_with_the_fix(tmp_path):
    (tmp_path / "old.json").write_text(json.dumps({"slope": 27.6, "intercept": -19.0, "threshold": 0.5}))
    with pytest.raises(CalibrationFileError, match="scorer_fit --install"):
        Calibration.load(tmp_path / "old.json")


def test_shipped_calibration_weighs_every_signal():
    calibration = Calibration.load(CALIBRATION)
    assert all(w > 0 for w in calibration.weights) and 0 < calibration.threshold < 1


@pytest.fixture(scope="module")
def encoder() -> OnnxEncoder:
    return OnnxEncoder(MODEL, intra_op_threads=1)


def test_grouped_embedding_equals_one_padded_batch(encoder):
    rng = np.random.default_rng(0)
    sequences = [rng.integers(2, 8000, size=n).astype(np.int64) for n in (3, 250, 256, 257, 600, 40)]
    grouped = encoder.embed_sequences(sequences, max_batch=2)
    padded = encoder.embed(*pad_batch(sequences))
    np.testing.assert_allclose(grouped, padded, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(grouped, axis=1), 1.0, atol=1e-5)


def test_every_window_counts(encoder):
    rng = np.random.default_rng(1)
    base = rng.integers(2, 8000, size=4 * encoder.window).astype(np.int64)
    changed = base.copy()
    changed[-encoder.window // 2 :] = rng.integers(2, 8000, size=encoder.window // 2)
    a, b = encoder.embed_sequences([base, changed])
    assert float(a @ b) < 0.9999


def test_unpad_checks_its_inputs():
    ids, mask = pad_batch([np.array([4, 5]), np.array([6])])
    assert [row.tolist() for row in unpad(ids, mask)] == [[4, 5], [6]]
    with pytest.raises(EncoderInputError, match="same shape"):
        unpad(ids, mask[:, :1])
    with pytest.raises(EncoderInputError, match="at least one token"):
        unpad(ids, np.zeros_like(mask))
