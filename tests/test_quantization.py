"""INT8 quantisation of the shipped encoder: file, metadata, outputs close to FP32."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from clonedetect import data, paths
from clonedetect.onnx_encoder import WINDOW_METADATA_KEY, OnnxEncoder
from clonedetect.paths import PROJECT_ROOT
from clonedetect.preprocessing.tokenization import CodeTokenizer
from clonedetect.training.quantization import quantization_summary, quantize_encoder

MODEL = paths.encoder_file()
TOKENIZER = paths.tokenizer_file()
SAMPLES = PROJECT_ROOT / "tests" / "samples"


@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    return quantize_encoder(MODEL, tmp_path_factory.mktemp("int8") / paths.INT8_ENCODER_FILE)


def _real_programs() -> list[str]:
    programs = [p.read_text() for p in sorted(SAMPLES.iterdir()) if p.is_file()]
    try:
        poj = data.poj104_programs("valid")
        programs += [p.read() for p in poj[::1000]]
        functions = data.bigclonebench_functions()
        programs += [functions[k].read_text() for k in sorted(functions)[::5000]]
    except FileNotFoundError:
        pass  # no shared data: the samples alone
    programs += [p.read_text() for p in data.python_stdlib_files()[::150]]  # includes multi-window files
    return programs


def test_quantized_model_exists_and_is_int8(quantized):
    assert quantized.exists()
    summary = quantization_summary(quantized)
    assert summary["integer_ops"].get("MatMulInteger", 0) > 0
    assert summary["initializer_bytes_by_dtype"].get("int8", 0) > 0
    assert summary["file_bytes"] < MODEL.stat().st_size / 2


def test_quantized_model_keeps_metadata(quantized):
    source = {p.key: p.value for p in onnx.load(str(MODEL)).metadata_props}
    target = {p.key: p.value for p in onnx.load(str(quantized)).metadata_props}
    assert WINDOW_METADATA_KEY in source
    for key, value in source.items():
        assert target.get(key) == value, key
    assert OnnxEncoder(quantized).window == OnnxEncoder(MODEL).window


def test_quantized_output_close_to_fp32(quantized):
    tokenizer = CodeTokenizer.from_file(TOKENIZER)
    ids = tokenizer.token_ids(_real_programs())
    fp32 = OnnxEncoder(MODEL, intra_op_threads=1).embed_sequences(ids)
    int8 = OnnxEncoder(quantized, intra_op_threads=1).embed_sequences(ids)
    assert fp32.shape == int8.shape
    cosine = (fp32 * int8).sum(1) / (np.linalg.norm(fp32, axis=1) * np.linalg.norm(int8, axis=1))
    assert cosine.min() >= 0.98, cosine
    assert any(len(i) > OnnxEncoder(MODEL).window for i in ids)  # a program spanning several windows


def test_refuses_to_overwrite_the_source(tmp_path):
    with pytest.raises(ValueError):
        quantize_encoder(MODEL, MODEL)
