"""A tiny run of the side-by-side benchmark against the real server: the JSON schema,
the plot and zero failures. It measures nothing as a test (no timing assertions)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re

import pytest

from clonedetect import paths
from clonedetect.load_tests import bench
from clonedetect.load_tests.bench_compare import MODES
from clonedetect.load_tests.bench_measure import ratios
from clonedetect.load_tests.bench_servers import encoder_settings
from clonedetect.load_tests.tuning_edits import tuned_repository


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_tiny_bench_writes_the_schema_with_zero_failures(triton, model_repository_copy, tmp_path):
    json_path = tmp_path / "bench.json"
    settings = bench.BenchSettings(
        json_path,
        concurrencies=(1, 2),
        duration_s=1.0,
        warmup_s=0.3,
        batch_sizes=(1, 2),
        corpus_size=24,
        model_repository=model_repository_copy,
        triton_http_url=triton.http_url,
        triton_grpc_url=triton.grpc_url,
        scan_n=20,
    )
    report = bench.run_bench(settings, quiet=True)
    written = json.loads(json_path.read_text())
    assert written["failures"] == report["failures"] == 0
    assert set(written["results"]) == set(MODES)
    for mode in MODES:
        assert set(written["results"][mode]) == {"1", "2"}, mode
        for row in written["results"][mode].values():
            assert row["failures"] == 0, (mode, row.get("failure_samples"))
            assert row["requests"] > 0
            for key in ("throughput", "p50_ms", "p99_ms"):
                assert isinstance(row[key], (int, float)) and math.isfinite(row[key]) and row[key] >= 0, (mode, key)
            assert "server_cores" in row["cpu"]
    for key in ("cpu_model", "logical_cpus", "memory_gb", "onnxruntime", "python"):
        assert key in written["machine"]
    sweep = written["inprocess_batch_sweep"]
    assert len(sweep) >= 2 and all(row["failures"] == 0 and row["throughput"] > 0 for row in sweep.values())
    assert written["hardware_limit"]["setting"] in sweep
    assert written["hardware_limit"]["batch_size"] in (1, 2)
    assert set(written["ratios"]) == {
        "grpc_over_inprocess_best",
        "grpc_over_per_request",
        "grpc_p50_c1_minus_per_request_ms",
    }
    memory = written["memory"]
    assert memory["per_request_after_load"]["total_rss_mb"] > 0
    assert memory["triton_after_load"]["total_rss_mb"] > 0  # found the server given by URL
    assert any(p["process"].startswith("python_backend_stub:") for p in memory["triton_after_load"]["processes"])
    assert written["scan"]["pairs"] == 20 * 19 // 2 and written["scan"]["per_request_design"]["total_s_sequential"] > 0
    assert (tmp_path / "bench.png").stat().st_size > 0


def test_ratios_follow_the_targets():
    report = {
        "hardware_limit": {"throughput": 100.0},
        "results": {
            "triton_grpc": {"1": {"throughput": 20.0, "p50_ms": 6.0}, "32": {"throughput": 90.0, "p50_ms": 50.0}},
            "per_request": {"1": {"throughput": 25.0, "p50_ms": 4.0}, "32": {"throughput": 25.0, "p50_ms": 900.0}},
        },
    }
    rows = ratios(report)
    assert rows["grpc_over_inprocess_best"]["value"] == 0.9 and rows["grpc_over_inprocess_best"]["met"]
    assert rows["grpc_over_per_request"]["value"] == 3.6 and rows["grpc_over_per_request"]["met"]
    assert rows["grpc_p50_c1_minus_per_request_ms"]["value"] == 2.0 and rows["grpc_p50_c1_minus_per_request_ms"]["met"]


def test_settings_from_the_command_line_are_normalised(tmp_path):
    parser = argparse.ArgumentParser()
    bench.add_bench_arguments(parser)
    json_path = tmp_path / "b" / "bench.json"
    args = parser.parse_args(
        ["--json", str(json_path), "--concurrency", "8,1,8", "--modes", "triton_grpc, per_request", "--scan", "1000"]
    )
    settings = bench.BenchSettings.from_args(args)
    assert settings.json_path == json_path and settings.plot_path == json_path.with_suffix(".png")
    assert settings.concurrencies == (1, 8)
    assert settings.modes == ("per_request", "triton_grpc")  # in MODES order
    assert settings.model_repository == paths.MODEL_REPOSITORY and settings.model is None
    assert settings.scan_n == 1000 and settings.batch_sizes == bench.DEFAULT_BATCH_SIZES
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.duration_s = 1.0  # type: ignore[misc]
    report_settings = settings.report_settings()
    assert report_settings["model_repository"] == str(paths.MODEL_REPOSITORY)
    assert report_settings["concurrencies"] == [1, 8] and report_settings["interleaved"]


def test_the_bert_base_run_keeps_small_concurrencies_and_long_slices(tmp_path):
    settings = bench.BenchSettings(tmp_path / "bench.json", concurrencies=(1, 8, 32), corpus_size=256, scan_n=50)
    bert = settings.bert_base_run()
    assert bert.concurrencies == (1, 8) and bert.batch_sizes == (1,) and bert.corpus_size == 128
    assert bert.slice_s == 15.0 and bert.scan_n == 0 and bert.triton_grpc_url is None
    given = dataclasses.replace(settings, bert_concurrencies=(4,), bert_duration_s=30.0).bert_base_run()
    assert given.concurrencies == (4,) and given.duration_s == 30.0


def test_the_tuned_repository_changes_only_the_encoder_settings(tmp_path):
    shipped = encoder_settings(paths.MODEL_REPOSITORY)
    tuned = tuned_repository(paths.MODEL_REPOSITORY, tmp_path / "tuned")
    assert encoder_settings(tuned) == {**shipped, "workers": 2, "intra_op_threads": 1, "allow_spinning": 0}
    bundled = paths.model_config(paths.ENCODER_MODEL, tuned, "bundled").read_text()
    assert re.search(
        r"^dynamic_batching\s*{", paths.model_config(paths.ENCODER_MODEL, name="bundled").read_text(), re.M
    )
    assert not re.search(r"^dynamic_batching\s*{", bundled, re.M)
    model_py = paths.encoder_file(tuned).parent / "model.py"
    assert model_py.read_text() == (paths.encoder_file(paths.MODEL_REPOSITORY).parent / "model.py").read_text()
