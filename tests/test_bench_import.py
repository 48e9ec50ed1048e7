"""The import benchmark end to end with a tiny random BERT: built here, imported three ways,
served by the real bundled Triton and per-request workers, measured for a second per
target. Checks the report's structure and sanity, never its speed."""

from __future__ import annotations

import json
import math

import pytest

from clonedetect.load_tests.bench_import import SERVERS, ImportBenchSettings, main, run_import_bench
from clonedetect.load_tests.bench_import_model import TINY
from clonedetect.load_tests.bench_import_report import import_ratios
from clonedetect.load_tests.bench_import_variants import VARIANTS, median_length_programs


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    json_path = tmp_path_factory.mktemp("bench-import") / "import.json"
    settings = ImportBenchSettings(
        json_path,
        TINY,
        concurrency=2,
        duration_s=1.0,
        warmup_s=0.3,
        slice_s=0.5,
        programs=6,
        tokenizer_programs=200,
    )
    returned = run_import_bench(settings, quiet=True)
    written = json.loads(json_path.read_text())
    assert written["failures"] == returned["failures"] == 0
    assert settings.plot_path.stat().st_size > 0
    return written


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_every_variant_is_measured_on_both_servers_without_failures(report):
    assert set(report["results"]) == set(VARIANTS)
    for variant, rows in report["results"].items():
        assert set(rows) == set(SERVERS), variant
        for server, row in rows.items():
            # zero failures: every answer was a unit vector of the imported model's width
            assert row["failures"] == 0, (variant, server, row.get("failure_samples"))
            assert row["requests"] > 0
            for key in ("throughput", "p50_ms", "p99_ms"):
                assert math.isfinite(row[key]) and row[key] > 0, (variant, server, key)
            assert row["p99_ms"] >= row["p50_ms"]
            assert row["cpu"]["server_cores"] > 0


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_the_imports_are_what_their_variants_name(report):
    imports = report["imports"]
    assert imports["fp32_optimised"]["record"]["optimised"] is True
    assert imports["fp32_plain"]["record"]["optimised"] is False
    assert [imports[v]["record"]["precision"] for v in VARIANTS] == ["fp32", "fp32", "int8"]
    hashes = {imports[v]["graph"]["sha256_16"] for v in VARIANTS}
    assert len(hashes) == 3  # three different graphs were served
    assert all(imports[v]["record"]["dim"] == TINY.hidden for v in VARIANTS)
    assert report["model"] == TINY.describe()
    programs = report["programs"]
    assert programs["programs"] == 6 and programs["window"] == TINY.window


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_memory_and_ratios_are_reported_per_variant(report):
    memory = report["memory_per_worker"]
    assert 0 < memory["tritonserver"]["idle_mb"] < memory["triton_total"]["idle_mb"]
    for variant in VARIANTS:
        row = memory[variant]
        assert 0 < row["triton_encoder_stub_peak_mb"] < row["triton_stubs_peak_mb"], variant
        assert row["triton_stubs_idle_mb"] > 0 and row["per_request_idle_mb"] > 0, variant
        assert row["per_request_peak_mb"] >= row["per_request_idle_mb"] * 0.9, variant
    ratios = report["ratios"]
    assert set(ratios["triton_over_per_request"]) == set(VARIANTS)
    assert all(value > 0 for value in ratios["triton_over_per_request"].values())
    assert ratios["over_fp32_plain"]["triton_grpc"]["fp32_plain"] == 1.0
    assert set(ratios["over_fp32_plain"]["per_request"]) == set(VARIANTS)


def test_ratios_are_taken_from_the_same_run():
    rows = {
        "fp32_plain": {"triton_grpc": {"throughput": 2.0}, "per_request": {"throughput": 1.0}},
        "int8": {"triton_grpc": {"throughput": 5.0}, "per_request": {"throughput": 4.0}},
    }
    ratios = import_ratios(rows)
    assert ratios["triton_over_per_request"] == {"fp32_plain": 2.0, "int8": 1.25}
    assert ratios["over_fp32_plain"]["triton_grpc"] == {"fp32_plain": 1.0, "int8": 2.5}
    assert ratios["over_fp32_plain"]["per_request"] == {"fp32_plain": 1.0, "int8": 4.0}


def test_the_programs_sent_are_the_median_length_ones():
    from clonedetect import data

    lengths = sorted(len(p.read()) for p in data.poj104_programs("valid"))
    median = (lengths[(len(lengths) - 1) // 2] + lengths[len(lengths) // 2]) / 2
    chosen = median_length_programs(20)
    assert len(set(chosen)) == 20
    spread = max(abs(len(text) - median) for text in chosen)
    closer = sum(1 for length in lengths if abs(length - median) < spread)
    assert closer < 20  # no program left out is nearer the median than the farthest one sent


def test_bad_settings_are_refused_with_the_option_named(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--json", str(tmp_path / "x.json"), "--shape", "tiny", "--concurrency", "0"])
    assert exit_info.value.code == 2
    assert "--concurrency" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
