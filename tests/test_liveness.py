"""`python -m clonedetect.liveness` (the Helm chart's livenessProbe) on the real bundled
server: alive while every READY Python-backend model has its process, not alive once one
was killed, though Triton's own health endpoints still answer 200."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from clonedetect import paths
from clonedetect.supervisor import python_stubs
from tests.conftest import start_server


def liveness(url: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "clonedetect.liveness", "--url", url]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def health(url: str, what: str) -> int:
    with urllib.request.urlopen(f"http://{url}/v2/health/{what}", timeout=5) as reply:
        return reply.status


@pytest.mark.integration
def test_liveness_fails_once_a_python_backend_process_is_killed_and_names_its_model(tmp_path):
    repository = tmp_path / "model_repository"
    shutil.copytree(paths.MODEL_REPOSITORY, repository, ignore=shutil.ignore_patterns("__pycache__"))
    triton = start_server(repository, tmp_path / "triton.log")
    try:
        alive = liveness(triton.http_url)
        assert alive.returncode == 0, alive.stderr
        stubs = python_stubs(triton.process.pid)
        tokenizer = [stub for stub in stubs.values() if stub.model == paths.TOKENIZER_MODEL]
        assert len(tokenizer) == 1, stubs
        os.kill(tokenizer[0].pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while tokenizer[0].pid in python_stubs(triton.process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        dead = liveness(triton.http_url)
        assert dead.returncode == 1
        assert f"not alive: {paths.TOKENIZER_MODEL} 1: READY, but its Python-backend process is gone" in dead.stderr
        assert dead.stderr.count("not alive:") == 1, dead.stderr  # only the model whose process died
        assert health(triton.http_url, "live") == 200 and health(triton.http_url, "ready") == 200
    finally:
        triton.stop()


def test_liveness_says_which_server_it_could_not_find(capsys):
    from clonedetect.liveness import main

    assert main(["--url", "127.0.0.1:9", "--timeout", "2"]) == 1
    assert "not alive: tritonserver at 127.0.0.1:9 is not live" in capsys.readouterr().err
