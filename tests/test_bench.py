"""A tiny run of the side-by-side benchmark against the real server: the JSON schema,
the plot and zero failures. It measures nothing as a test (no timing assertions)."""

from __future__ import annotations

import json
import math

import pytest

from clonedetect.load_tests import bench

pytestmark = pytest.mark.integration


@pytest.mark.timeout(300)
def test_tiny_bench_writes_the_schema_with_zero_failures(triton, model_repository_copy, tmp_path):
    json_path = tmp_path / "bench.json"
    report = bench.run_bench(
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
        quiet=True,
    )
    written = json.loads(json_path.read_text())
    assert written["failures"] == report["failures"] == 0
    assert set(written["results"]) == set(bench.MODES)
    for mode in bench.MODES:
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
    rows = bench.ratios(report)
    assert rows["grpc_over_inprocess_best"]["value"] == 0.9 and rows["grpc_over_inprocess_best"]["met"]
    assert rows["grpc_over_per_request"]["value"] == 3.6 and rows["grpc_over_per_request"]["met"]
    assert rows["grpc_p50_c1_minus_per_request_ms"]["value"] == 2.0 and rows["grpc_p50_c1_minus_per_request_ms"]["met"]
