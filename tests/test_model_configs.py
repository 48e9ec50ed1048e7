"""Every Triton model config parses into Triton's ModelConfig protobuf and agrees with the others."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from clonedetect import paths
from clonedetect.client.protocol import EMBEDDING_DIM

REPOSITORY = paths.MODEL_REPOSITORY
CONFIG_FILES = sorted(REPOSITORY.glob("*/config.pbtxt")) + sorted(REPOSITORY.glob("*/configs/*.pbtxt"))


def parse(path: Path) -> model_config_pb2.ModelConfig:
    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


def test_the_repository_has_the_interface_models_and_configs():
    names = {path.relative_to(REPOSITORY).as_posix() for path in CONFIG_FILES}
    assert {
        "code_tokenizer/config.pbtxt",
        "code_clone_detector/config.pbtxt",
        "code_clone_detector/configs/gpu.pbtxt",
        "code_clone_detector/configs/bundled.pbtxt",
        "clone_scorer/config.pbtxt",
        "clone_verifier/config.pbtxt",
        "clone_pair_check/config.pbtxt",
        "clone_embed/config.pbtxt",
        "clone_compare/config.pbtxt",
        "clone_embed_int8/config.pbtxt",
        "clone_compare_int8/config.pbtxt",
    } <= names


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.relative_to(REPOSITORY).as_posix())
def test_config_parses_and_names_its_folder(path):
    config = parse(path)
    model_folder = path.parent if path.name == "config.pbtxt" else path.parent.parent
    assert config.name == model_folder.name
    if config.platform != "ensemble":
        assert config.HasField("dynamic_batching"), "every model that can batch batches dynamically"
        assert config.max_batch_size > 0


def test_encoder_configs_target_the_right_backends_and_devices():
    encoder = REPOSITORY / "code_clone_detector"
    cpu, gpu, bundled = (
        parse(encoder / "config.pbtxt"),
        parse(encoder / "configs/gpu.pbtxt"),
        parse(encoder / "configs/bundled.pbtxt"),
    )
    assert cpu.backend == gpu.backend == "onnxruntime"
    assert bundled.backend == "python"
    assert [g.kind for g in cpu.instance_group] == [model_config_pb2.ModelInstanceGroup.KIND_CPU]
    assert {g.kind for g in gpu.instance_group} == {model_config_pb2.ModelInstanceGroup.KIND_GPU}
    assert {"intra_op_thread_count", "inter_op_thread_count"} <= set(cpu.parameters)
    assert all(i.allow_ragged_batch for i in bundled.input)
    for config in (cpu, gpu, bundled):
        assert [i.name for i in config.input] == ["input_ids", "attention_mask"]
        assert [(o.name, list(o.dims)) for o in config.output] == [("embedding", [EMBEDDING_DIM])]


def test_ensembles_wire_existing_models_and_tensors():
    models = {parse(p).name: parse(p) for p in sorted(REPOSITORY.glob("*/config.pbtxt"))}
    for name in ("clone_embed", "clone_compare", "clone_embed_int8", "clone_compare_int8"):
        ensemble = models[name]
        available = {i.name for i in ensemble.input}
        for step in ensemble.ensemble_scheduling.step:
            target = models[step.model_name]
            assert set(step.input_map) == {i.name for i in target.input}
            assert set(step.input_map.values()) <= available, f"{name}: {step.model_name} reads an unknown tensor"
            assert set(step.output_map) <= {o.name for o in target.output}
            available |= set(step.output_map.values())
        assert {o.name for o in ensemble.output} <= available


@pytest.mark.parametrize("name", ["clone_compare", "clone_compare_int8"])
def test_only_the_pair_check_reads_the_submitted_programs(name):
    """Every other step waits for the check, so a bad pair is rejected before any of them runs
    (parallel steps rejecting the same pair stalled tritonserver 2.51: docs/RELIABILITY.md)."""
    steps = parse(REPOSITORY / name / "config.pbtxt").ensemble_scheduling.step
    readers = [s.model_name for s in steps if {"CODE_A", "CODE_B"} & set(s.input_map.values())]
    assert readers == ["clone_pair_check"] == [steps[0].model_name]


def test_both_encoder_versions_are_served_and_each_ensemble_pins_one():
    encoder = REPOSITORY / "code_clone_detector"
    for path in (encoder / "config.pbtxt", *sorted((encoder / "configs").glob("*.pbtxt"))):
        assert list(parse(path).version_policy.specific.versions) == [1, 2], path.name
    for name, version in (("clone_embed", 1), ("clone_compare", 1), ("clone_embed_int8", 2), ("clone_compare_int8", 2)):
        steps = parse(REPOSITORY / name / "config.pbtxt").ensemble_scheduling.step
        assert {s.model_version for s in steps if s.model_name == "code_clone_detector"} == {version}, name


@pytest.mark.parametrize("name", ["clone_embed", "clone_compare"])
def test_an_int8_ensemble_differs_from_its_fp32_twin_only_in_name_and_encoder_version(name):
    fp32, int8 = parse(REPOSITORY / name / "config.pbtxt"), parse(REPOSITORY / f"{name}_int8" / "config.pbtxt")
    assert int8.name == f"{name}_int8"
    int8.name = name
    for step in int8.ensemble_scheduling.step:
        if step.model_name == "code_clone_detector":
            step.model_version = 1
    assert int8 == fp32


def test_the_served_int8_encoder_is_the_quantisation_of_the_fp32_one(tmp_path):
    from clonedetect.training.quantization import quantize_encoder

    fp32, int8 = paths.encoder_file(), paths.encoder_file(version=paths.INT8_VERSION)
    fresh = quantize_encoder(fp32, tmp_path / paths.ENCODER_FILE)
    assert fresh.read_bytes() == int8.read_bytes(), "re-install with `make train` (or quantize v1)"
    assert (int8.parent / "model.py").read_text() == (fp32.parent / "model.py").read_text()


def test_serving_artifacts_are_in_the_version_folders():
    assert paths.tokenizer_file().is_file()
    assert paths.encoder_file().is_file()
    assert paths.encoder_file(version=paths.INT8_VERSION).is_file()
    assert paths.calibration_file().is_file()
    size = sum(p.stat().st_size for p in (paths.tokenizer_file(), paths.encoder_file()))
    assert size <= 25 * 1024 * 1024


ENSEMBLES = ("clone_embed", "clone_compare", "clone_embed_int8", "clone_compare_int8")


@pytest.mark.parametrize("name", ENSEMBLES)
def test_an_ensemble_serves_one_version_and_a_cached_one_pins_every_step(name):
    """The response cache is keyed by ensemble name and version: an answer stays right only
    while that ensemble version calls exactly the step versions that computed it."""
    config = parse(REPOSITORY / name / "config.pbtxt")
    [version] = config.version_policy.specific.versions
    assert (REPOSITORY / name / str(version)).is_dir()
    pinned = {step.model_name: step.model_version for step in config.ensemble_scheduling.step}
    assert pinned["code_tokenizer"] == 1 and pinned["code_clone_detector"] in (1, 2)
    if config.response_cache.enable:
        assert -1 not in pinned.values(), f"{name} caches answers, so every step it calls is pinned"


WARMED_UP = [
    "code_clone_detector/config.pbtxt",
    "code_clone_detector/configs/bundled.pbtxt",
    "code_clone_detector/configs/gpu.pbtxt",
    "code_tokenizer/config.pbtxt",
    "clone_verifier/config.pbtxt",
    "clone_pair_check/config.pbtxt",
]


@pytest.mark.parametrize("relative", WARMED_UP)
def test_a_warmed_up_model_warms_every_input_with_data_it_accepts(relative):
    config = parse(REPOSITORY / relative)
    warmup_folder = REPOSITORY / relative.split("/")[0] / "warmup"
    [sample] = config.model_warmup
    assert set(sample.inputs) == {i.name for i in config.input}
    for name, tensor in sample.inputs.items():
        if tensor.WhichOneof("input_data_type") != "input_data_file":
            assert tensor.zero_data and name == "input_ids", "token id 0 is valid, an all-zero mask is not"
            continue
        data = (warmup_folder / tensor.input_data_file).read_bytes()
        if tensor.data_type == model_config_pb2.TYPE_STRING:
            (length,) = struct.unpack("<I", data[:4])
            assert length == len(data) - 4 and data[4:].decode("utf-8").strip(), "one serialised UTF-8 program"
        else:
            assert np.array_equal(np.frombuffer(data, dtype=np.int64), np.ones(list(tensor.dims), dtype=np.int64))


def test_the_shipped_warmup_data_is_what_an_import_writes():
    from clonedetect.importing.model_configs import warmup_files

    written = warmup_files(window=256)
    assert (REPOSITORY / "code_clone_detector/warmup/attention_mask").read_bytes() == written["encoder"][
        "warmup/attention_mask"
    ]
    for model in ("code_tokenizer", "clone_verifier", "clone_pair_check"):
        assert (REPOSITORY / model / "warmup/program").read_bytes() == written["tokenizer"]["warmup/program"]


def test_an_imported_encoder_and_tokenizer_warm_up_on_their_own_window():
    from clonedetect.importing import model_configs as imported

    names, window = imported.ModelNames("tiny"), 128
    encoders = [
        imported.encoder_config(names, window, 64),
        imported.bundled_encoder_config(names, window, 64),
        imported.gpu_encoder_config(names, window, 64),
    ]
    for text in encoders:
        [sample] = text_format.Parse(text, model_config_pb2.ModelConfig()).model_warmup
        assert [list(sample.inputs[name].dims) for name in ("input_ids", "attention_mask")] == [[window], [window]]
    files = imported.warmup_files(window)
    assert len(files["encoder"]["warmup/attention_mask"]) == window * 8
    [sample] = text_format.Parse(imported.tokenizer_config(names, window), model_config_pb2.ModelConfig()).model_warmup
    assert sample.inputs["CODE"].input_data_file == "program" and "warmup/program" in files["tokenizer"]
