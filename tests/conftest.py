"""Shared fixtures: the real bundled Triton server on free loopback ports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clonedetect import server
from clonedetect.paths import MODEL_REPOSITORY, PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "tests" / "samples"


def start_server(repository: Path, log_path: Path, extra: tuple[str, ...] = ()) -> server.TritonProcess:
    try:
        return server.start_on_free_ports(repository, log_path=log_path, extra=extra, timeout=180)
    except server.ServerError:
        print(log_path.read_text()[-5000:] if log_path.exists() else "no Triton log")
        raise


@pytest.fixture(scope="session")
def model_repository_copy(tmp_path_factory) -> Path:
    """A private copy of the shipped repository (tests load its other versions)."""
    target = tmp_path_factory.mktemp("repository") / "model_repository"
    shutil.copytree(MODEL_REPOSITORY, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(scope="session")
def triton(model_repository_copy, tmp_path_factory) -> server.TritonProcess:
    """The bundled Triton server with the shipped models, stopped by PID at the end."""
    log_path = tmp_path_factory.mktemp("triton-log") / "triton.log"
    process = start_server(model_repository_copy, log_path)
    yield process
    process.stop()


@pytest.fixture(params=["http", "grpc"])
def client(request, triton):
    from clonedetect.client import CloneDetectorClient

    url = triton.http_url if request.param == "http" else triton.grpc_url
    with CloneDetectorClient(url, protocol=request.param, timeout=60) as c:
        yield c
