"""The scan benchmark's code path on 20 real programs: what it measures and writes, not how fast."""

from __future__ import annotations

import argparse
import json

import pytest

from clonedetect import data
from clonedetect.evaluation import dolos
from clonedetect.load_tests import scan_bench
from clonedetect.load_tests.scan_bench_dolos import measure_dolos

needs_data = pytest.mark.skipif(
    not (data.data_dir() / data.POJ104_ARCHIVE).exists() and not (data.cache_dir() / "data").exists(),
    reason="shared data archives not available",
)
FILES = 20


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench") / "submissions"
    folder.mkdir()
    return folder, scan_bench.write_submissions(scan_bench.pick_programs(FILES, seed=0), folder)


@needs_data
def test_programs_are_a_seeded_sample_across_problems_written_as_numbered_files(submissions):
    folder, paths = submissions
    picked = scan_bench.pick_programs(FILES, seed=0)
    assert [p.path for p in picked] == [p.path for p in scan_bench.pick_programs(FILES, seed=0)]
    assert len({p.label for p in picked}) > 5
    assert [p.name for p in paths] == [f"{number:04d}.cpp" for number in range(FILES)]
    assert paths[0].read_text() == picked[0].read()


@needs_data
@pytest.mark.integration
def test_scan_figures_hold_the_phases_memory_counts_and_report(submissions, triton):
    folder, _ = submissions
    args = argparse.Namespace(protocol="http", max_verified=10)
    figures = scan_bench.measure_scan(folder, triton, args)
    assert set(figures["phases"]) == {
        "read_and_prepare_s",
        "embed_s",
        "pair_matrix_s",
        "verify_s",
        "rank_and_cluster_s",
        "report_s",
    }
    assert all(value >= 0 for value in figures["phases"].values())
    assert figures["wall_s"] >= figures["phases"]["embed_s"]
    assert figures["client_peak_rss_mb"] >= figures["client_rss_before_mb"] > 0
    assert figures["tritonserver_peak_rss_mb"] > 0
    assert figures["verified_pairs"] == 10 and figures["unverified_candidates"] > 0  # the cap applies
    assert figures["report_mb"] > 0 and 0 < figures["report_files_with_text"] <= FILES
    document = json.loads((folder.parent / "scan.json").read_text())
    assert document["summary"]["candidate_pairs"] == 10
    assert document["summary"]["unverified_candidates"] == figures["unverified_candidates"]
    assert "<html" in (folder.parent / "report.html").read_text()[:200].lower()


@needs_data
@pytest.mark.skipif(not dolos.is_installed(), reason="Dolos is not installed (make dolos)")
def test_dolos_figures_say_how_it_ended(submissions):
    _, paths = submissions
    finished = measure_dolos(paths, "cpp", heap_mb=1024, timeout_s=120)
    assert finished["finished"] and finished["outcome"] == "finished"
    assert finished["pairs"] == FILES * (FILES - 1) // 2 and finished["peak_rss_mb"] > 0
    assert finished["wall_s"] > 0 and finished["heap_limit_mb"] == 1024
    stopped = measure_dolos(paths, "cpp", heap_mb=1024, timeout_s=0.01)
    assert not stopped["finished"] and stopped["outcome"] == "did not finish in 0 s"
