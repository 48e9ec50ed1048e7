"""Object storage on real parts: a local S3-compatible server (moto, stopped by PID), the
repository published to it, Triton serving straight from it, a new scorer version
published and made live by a reload."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from clonedetect import paths, server
from clonedetect.cli import main
from clonedetect.client import CloneDetectorClient
from clonedetect.publishing import PublishError, parse_target, repository_files
from clonedetect.scoring import Calibration

BUCKET = "models"
CODE_A = "int sum(int *v, int n) { int s = 0; for (int i = 0; i < n; i++) s += v[i]; return s; }\n"
CODE_B = "int total(int *w, int m) { int t = 0; for (int k = 0; k < m; k++) t += w[k]; return t; }\n"


@pytest.fixture(scope="module")
def s3_endpoint():
    """``moto_server`` on a free loopback port; its URL. Stopped by PID."""
    port = server.free_port()
    moto = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def s3_environment(s3_endpoint, monkeypatch):
    import boto3

    for name, value in {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def test_targets_and_the_files_of_one_version(tmp_path):
    assert parse_target("s3://models/clonedetect/prod").prefix == "clonedetect/prod"
    assert parse_target("as://account/container/p").bucket == "account/container"
    with pytest.raises(PublishError, match="use s3://bucket/prefix"):
        parse_target("ftp://models")
    files = repository_files(paths.MODEL_REPOSITORY, paths.SCORER_MODEL, 1)
    assert f"{paths.SCORER_MODEL}/config.pbtxt" in files and f"{paths.SCORER_MODEL}/1/calibration.json" in files
    assert not any("__pycache__" in f for f in files) and all(f.startswith(paths.SCORER_MODEL) for f in files)
    with pytest.raises(PublishError, match="does not exist"):
        repository_files(paths.MODEL_REPOSITORY, paths.SCORER_MODEL, 9)


def test_rollout_locations_in_s3_in_either_form_and_a_clear_refusal_otherwise():
    from clonedetect.publishing import Target
    from clonedetect.remote_rollout import parse_s3_url
    from clonedetect.rollout_repository import RolloutError

    assert parse_s3_url("s3://models/clonedetect/prod") == (None, Target("s3", "models", "clonedetect/prod"))
    assert parse_s3_url("s3://127.0.0.1:9000/models") == ("http://127.0.0.1:9000", Target("s3", "models", ""))
    for url in ("gs://models/prod", "s3://127.0.0.1:9000/"):
        with pytest.raises(RolloutError, match="s3://"):
            parse_s3_url(url)


@pytest.mark.integration
def test_publish_serve_from_s3_publish_a_version_and_reload(tmp_path, s3_environment, capsys):
    repository = tmp_path / "model_repository"
    shutil.copytree(paths.MODEL_REPOSITORY, repository, ignore=shutil.ignore_patterns("__pycache__"))
    url = f"s3://{BUCKET}/clonedetect"
    assert main(["publish", "--model-repository", str(repository), "--to", url]) == 0
    assert json.loads(capsys.readouterr().out)["files"] > 20
    location = server.repository_location(url)
    assert location.startswith("s3://127.0.0.1:")  # Triton's host:port form, from AWS_ENDPOINT_URL
    triton = server.start_on_free_ports(location, log_path=tmp_path / "triton.log", timeout=300)
    try:
        with CloneDetectorClient(triton.http_url) as client:
            before = client.compare(CODE_A, CODE_B)
            assert client.embed([CODE_A]).shape == (1, 384)
            # A new scorer version, published alone, becomes live with a reload.
            version = repository / paths.SCORER_MODEL / "2"
            shutil.copytree(repository / paths.SCORER_MODEL / "1", version)
            stricter = Calibration((5.0, 5.0, 1.0), -9.0)
            stricter.save(version / paths.CALIBRATION_FILE)
            publish = ["publish", "--model-repository", str(repository), "--to", url]
            assert main([*publish, "--model", paths.SCORER_MODEL, "--version", "2"]) == 0
            client.load_model(paths.SCORER_MODEL)
            after = client.compare(CODE_A, CODE_B)
            signals = (after.similarity, after.verification, after.literals)
            expected = stricter.probability(*[np.array([x]) for x in signals])[0]
            assert after.probability == pytest.approx(float(expected), abs=1e-5)
            assert after.probability != pytest.approx(before.probability, abs=1e-3)
    finally:
        triton.stop()


@pytest.mark.integration
def test_roll_out_and_back_a_version_published_to_the_s3_repository_being_served(tmp_path, s3_environment, capsys):
    from tests.background_calls import BackgroundCalls
    from tests.test_rollout import NEW_VERSION, PROGRAMS, add_perturbed_encoder, expected_embeddings

    repository = tmp_path / "model_repository"
    shutil.copytree(paths.MODEL_REPOSITORY, repository, ignore=shutil.ignore_patterns("__pycache__"))
    url = f"s3://{BUCKET}/rollout"
    assert main(["publish", "--model-repository", str(repository), "--to", url]) == 0
    triton = server.start_on_free_ports(server.repository_location(url), log_path=tmp_path / "triton.log", timeout=300)
    try:
        with CloneDetectorClient(triton.http_url, timeout=60, retry=None) as client:
            add_perturbed_encoder(repository)
            publish = ["--model-repository", str(repository), "--to", url, "--model", paths.ENCODER_MODEL]
            assert main(["publish", *publish, "--version", str(NEW_VERSION)]) == 0
            capsys.readouterr()
            with BackgroundCalls(lambda: client.embed(PROGRAMS), interval_s=0.05) as load:
                # Both URL forms: boto3's endpoint from AWS_ENDPOINT_URL, and Triton's host:port.
                rollout = ["rollout", paths.ENCODER_MODEL, "--version", str(NEW_VERSION), "--replace", "1"]
                assert main([*rollout, "--url", triton.http_url, "--model-repository", url]) == 0
                report = json.loads(capsys.readouterr().out)
                time.sleep(1)
                served_new = load.last()
                back = ["rollback", paths.ENCODER_MODEL, "--model-repository", server.repository_location(url)]
                assert main([*back, "--url", triton.http_url]) == 0
                assert json.loads(capsys.readouterr().out)["rolled_back"] == NEW_VERSION
                time.sleep(1)
            policy = s3_environment.get_object(Bucket=BUCKET, Key="rollout/clone_embed/config.pbtxt")["Body"].read()
    finally:
        triton.stop()
    print(f"\n{len(load.records)} requests, {len(load.failures())} failed")
    assert report["served"] == [2, NEW_VERSION] and report["ensembles"]["clone_embed"] == [1, 2]
    assert load.failures() == [] and len(load.records) >= 20, load.failures()[:3]
    assert np.allclose(served_new, expected_embeddings(repository, NEW_VERSION), atol=1e-4)
    assert np.allclose(load.last(), expected_embeddings(repository, 1), atol=1e-4)
    # The bucket holds what is live (a restarted server serves it): version 1 again.
    assert b"versions: [ 1 ]" in policy and b"clonedetect rollback" in policy


@pytest.mark.integration
def test_import_publish_serve_from_s3_roll_out_a_new_import_and_back(tmp_path, s3_environment, capsys):
    """The whole path of an encoder of one's own: import, publish, serve from S3, import again,
    publish, roll out from S3 under load and back."""
    import tritonclient.http as httpclient

    from tests.background_calls import BackgroundCalls
    from tests.test_import_model import SNIPPETS, _embed, _expected, _save_model

    repository = tmp_path / "model_repository"
    shutil.copytree(paths.MODEL_REPOSITORY, repository, ignore=shutil.ignore_patterns("__pycache__"))
    local = ["--model-repository", str(repository)]
    url = f"s3://{BUCKET}/own-encoder"
    assert main(["import-model", str(_save_model("bert", tmp_path / "bert")), *local, "--name", "own"]) == 0
    assert main(["publish", *local, "--to", url]) == 0
    triton = server.start_on_free_ports(server.repository_location(url), log_path=tmp_path / "triton.log", timeout=300)
    client = httpclient.InferenceServerClient(triton.http_url)
    try:
        assert main(["import-model", str(_save_model("roberta", tmp_path / "roberta")), *local, "--name", "own"]) == 0
        assert main(["publish", *local, "--to", url]) == 0  # the new version; what is live stays live
        capsys.readouterr()
        with BackgroundCalls(lambda: _embed(client, "own_embed", SNIPPETS[:2]), interval_s=0.05) as load:
            remote = ["--url", triton.http_url, "--model-repository", url]
            assert main(["rollout", "own", "--version", "2", *remote]) == 0, capsys.readouterr().err
            report = json.loads(capsys.readouterr().out)
            time.sleep(1)
            served_new = load.last()
            assert main(["rollback", "own", *remote]) == 0, capsys.readouterr().err
            time.sleep(1)
    finally:
        client.close()
        triton.stop()
    print(f"\n{len(load.records)} requests, {len(load.failures())} failed")
    assert report["moved"] == {"own": [2, 1], "own_tokenizer": [2, 1]}
    assert load.failures() == [] and len(load.records) >= 20, load.failures()[:3]
    assert np.abs(served_new - _expected(repository, "own", 2, SNIPPETS[:2])).max() <= 1e-4
    assert np.abs(load.last() - _expected(repository, "own", 1, SNIPPETS[:2])).max() <= 1e-4
