"""`python -m clonedetect.readiness` (the Helm chart's readinessProbe) on the real bundled
server: ready only while every ensemble can answer, and it says which one cannot and why."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from clonedetect import paths
from clonedetect.cli import main
from clonedetect.client import CloneDetectorClient
from clonedetect.ensembles import ready_versions
from tests.conftest import start_server


def readiness(url: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "clonedetect.readiness", "--url", url]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def triton_health_ready(url: str) -> int:
    try:
        with urllib.request.urlopen(f"http://{url}/v2/health/ready", timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_for(client, model: str, version: int, state: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(s.name == model and s.version == str(version) and s.state == state for s in client.model_status()):
            return
        time.sleep(0.2)
    raise AssertionError(f"{model} {version} did not become {state}")


@pytest.mark.integration
def test_readiness_fails_while_an_ensemble_cannot_answer_and_says_which_and_why(tmp_path, capsys):
    repository = tmp_path / "model_repository"
    shutil.copytree(paths.MODEL_REPOSITORY, repository, ignore=shutil.ignore_patterns("__pycache__"))
    triton = start_server(repository, tmp_path / "triton.log")
    try:
        ready = readiness(triton.http_url)
        assert ready.returncode == 0, ready.stderr
        assert ready.stdout.count("ready: ") == 4 and "clone_embed_int8 version 1 calls" in ready.stdout
        with CloneDetectorClient(triton.http_url, retry=None) as client:
            client.load_model(paths.ENCODER_MODEL, version=paths.FP32_VERSION)  # version 2 (INT8) goes
            wait_for(client, paths.ENCODER_MODEL, paths.INT8_VERSION, "UNAVAILABLE")
            not_ready = readiness(triton.http_url)
            health = triton_health_ready(triton.http_url)
            assert main(["status", "--url", triton.http_url]) in (0, 1)
            status = json.loads(capsys.readouterr().out)
            client.load_model(paths.ENCODER_MODEL, version=[paths.FP32_VERSION, paths.INT8_VERSION])
            for ensemble in ("clone_embed_int8", "clone_compare_int8"):
                client.load_model(ensemble)
            live = ready_versions(client.model_status())
            again = readiness(triton.http_url)
    finally:
        triton.stop()
    print(f"\nTriton's /v2/health/ready with code_clone_detector version 2 unloaded: HTTP {health}")
    print(not_ready.stderr)
    # Triton counts only what is loaded: the INT8 ensembles it unloaded do not make it unready.
    assert health == 200
    assert not_ready.returncode == 1
    lines = not_ready.stderr.splitlines()
    for ensemble in ("clone_embed_int8", "clone_compare_int8"):
        [line] = [line for line in lines if line.startswith(f"not ready: {ensemble} ")]
        assert "code_clone_detector 2 (UNAVAILABLE: unloaded)" in line, line
    assert any(line.startswith("ready: clone_embed version 1 calls") for line in lines)
    assert status["ensembles"]["clone_embed_int8"]["can_answer"] is False
    expected_calls = {paths.ADMISSION_MODEL: 1, paths.TOKENIZER_MODEL: 1, paths.ENCODER_MODEL: 1}
    assert status["ensembles"]["clone_embed"]["calls"] == expected_calls
    assert live[paths.ENCODER_MODEL] == [1, 2]
    assert again.returncode == 0, again.stderr


def test_readiness_without_a_server_is_not_ready_and_says_so():
    result = readiness("127.0.0.1:1")
    assert result.returncode == 1
    assert "not ready: model status: no Triton server at 127.0.0.1:1" in result.stderr
