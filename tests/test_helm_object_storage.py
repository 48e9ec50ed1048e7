"""The chart's `sync` and `remote` model-repository sources against a real local S3
endpoint (moto_server, stopped by PID): the repository is published to it with
`clonedetect publish`; the rendered sync init container's command runs here as Kubernetes
would run it (the AWS CLI from PyPI stands in for the amazon/aws-cli image) and the
bundled Triton serves the folder it filled; the bundled Triton started with the rendered
Deployment's command line and environment (credentials from the Secret passed to the
chart) reads the repository straight from S3 and exports OpenTelemetry spans to a local
OTLP/HTTP collector."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import helm_python
import pytest

from clonedetect import paths
from clonedetect.cli import main as cli_main
from clonedetect.client import CloneDetectorClient
from clonedetect.publishing import repository_files
from clonedetect.server import ServerError, TritonProcess
from tests.helm_rendering import (
    CHART_DIR,
    arg_values,
    container_env,
    expand_kubernetes_vars,
    free_ports,
    local_command_line,
    pod_spec,
    render,
    rendered_secrets,
    triton,
)
from tests.test_object_storage import s3_endpoint  # noqa: F401  (module fixture: moto_server)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

BUCKET = "models"
PREFIX = "clonedetect"
SECRET = "s3-creds"
# The data of the Secret named in the chart's values, as `kubectl create secret` would hold it.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "chart-test",
    "AWS_SECRET_ACCESS_KEY": "chart-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# Variables of the rendered Triton environment that name folders of the pod; here they stay
# this machine's, as the addresses and ports do.
LOCAL_ENVIRONMENT = {"HOME", "CLONEDETECT_CACHE_DIR"}
CODE = "int sum(int *v, int n) { int s = 0; for (int i = 0; i < n; i++) s += v[i]; return s; }\n"
# The bundled server has no ONNX Runtime backend: the models' configs/bundled.pbtxt.
BUNDLED = {"cpu": {"modelConfigName": "bundled"}}


@pytest.fixture(scope="module")
def chart():
    with helm_python.Chart.load(CHART_DIR) as loaded:
        yield loaded


@pytest.fixture(scope="module")
def published(s3_endpoint, tmp_path_factory) -> Path:  # noqa: F811
    """A snapshot of the shipped repository, published to s3://models/clonedetect."""
    import boto3

    repository = tmp_path_factory.mktemp("published") / "model_repository"
    shutil.copytree(paths.MODEL_REPOSITORY, repository, ignore=shutil.ignore_patterns("__pycache__"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", s3_endpoint)
        for name, value in CREDENTIALS.items():
            env.setenv(name, value)
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        assert cli_main(["publish", "--model-repository", str(repository), "--to", f"s3://{BUCKET}/{PREFIX}"]) == 0
    return repository


class OtlpCollector(http.server.ThreadingHTTPServer):
    """A local OTLP/HTTP receiver: keeps the JSON body of every export it is sent."""

    def __init__(self):
        self.exports: list[dict] = []
        super().__init__(("127.0.0.1", 0), _OtlpHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/traces"

    def spans(self) -> list[tuple[dict, dict]]:
        """(resource attributes, span) of every span received."""
        found = []
        for export in list(self.exports):
            for resource_spans in export.get("resourceSpans", []):
                attributes = {a["key"]: a["value"] for a in resource_spans["resource"].get("attributes", [])}
                for scope in resource_spans.get("scopeSpans", []):
                    found.extend((attributes, span) for span in scope.get("spans", []))
        return found


class _OtlpHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/v1/traces":
            self.server.exports.append(json.loads(body))
        self.send_response(200 if self.path == "/v1/traces" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def collector():
    receiver = OtlpCollector()
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.shutdown()
    receiver.server_close()


def digests(root: Path, names: list[str]) -> dict[str, str]:
    return {name: hashlib.sha256((root / name).read_bytes()).hexdigest() for name in names}


def run_init_container(container: dict, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The container's command and args, $(VAR) expanded as Kubernetes does, run here."""
    command = [expand_kubernetes_vars(arg, env) for arg in container["command"] + container["args"]]
    executable = shutil.which(command[0], path=str(Path(sys.executable).parent))
    assert executable, f"{command[0]} is not installed here (pip install 'clonedetect[dev]')"
    return subprocess.run(
        [executable, *command[1:]], env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, timeout=120
    )


def run_readiness_probe(container: dict, env: dict[str, str], http_port: int) -> subprocess.CompletedProcess:
    """The container's exec readinessProbe, with this interpreter for ``python3`` and the
    local server's HTTP port for the container's."""
    command = container["readinessProbe"]["exec"]["command"]
    assert command[0] == "python3" and command[-2] == "--url"
    host, _, _ = command[-1].rpartition(":")
    local_env = {name: value for name, value in env.items() if name not in LOCAL_ENVIRONMENT}
    here = {name: value for name, value in os.environ.items() if name != "CLONEDETECT_ADMIN_KEY"}
    return subprocess.run(
        [sys.executable, *command[1:-1], f"{host}:{http_port}"],
        env={**here, **local_env},
        capture_output=True,
        text=True,
        timeout=container["readinessProbe"]["timeoutSeconds"] * 4,  # a shared, busy machine
    )


def start_rendered_triton(docs: list[dict], env: dict[str, str], log_path: Path, repository=None) -> TritonProcess:
    """The bundled Triton with the Deployment's command line and environment (no AWS
    variable of this machine leaks in), ready; stop it by PID with ``stop()``."""
    host = "127.0.0.1"
    ports = free_ports(host)
    args = local_command_line(docs, host, ports, env, repository)
    process = TritonProcess(args, host, ports["http"], ports["grpc"], ports["metrics"], log_path=log_path)
    with pytest.MonkeyPatch.context() as environment:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            environment.delenv(name)
        for name, value in env.items():
            if name not in LOCAL_ENVIRONMENT:
                environment.setenv(name, value)
        process.start()  # the server's environment is read here
    try:
        process.wait_until_ready(timeout=180)
    except ServerError as exc:
        process.stop()
        pytest.fail(f"{exc}\n--- tritonserver log (tail) ---\n{log_path.read_text(errors='replace')[-4000:]}")
    return process


def test_sync_init_container_fills_the_volume_triton_serves(chart, published, s3_endpoint, tmp_path):  # noqa: F811
    volume = tmp_path / "models"  # the emptyDir, rendered as the mount path
    volume.mkdir()
    sync = {
        "uri": f"s3://{BUCKET}/{PREFIX}",
        "existingSecret": SECRET,
        "extraEnv": [{"name": "AWS_ENDPOINT_URL", "value": s3_endpoint}],
    }
    # Triton's own trace files, one per trace, checked on the same server.
    trace_file = tmp_path / "traces" / "trace.json"
    trace_file.parent.mkdir()
    tracing = {"enabled": True, "mode": "triton", "rate": 1, "triton": {"file": str(trace_file), "logFrequency": 1}}
    values = {**BUNDLED, "modelRepository": {"source": "sync", "mountPath": str(volume), "sync": sync}}
    docs = render(chart, {**values, "tracing": tracing})
    [init] = pod_spec(docs)["initContainers"]
    env = container_env(init, {SECRET: CREDENTIALS})
    assert env["AWS_SECRET_ACCESS_KEY"] == CREDENTIALS["AWS_SECRET_ACCESS_KEY"]  # from the Secret (envFrom)

    result = run_init_container(init, env)
    assert result.returncode == 0, result.stderr
    synced = sorted(p.relative_to(volume).as_posix() for p in volume.rglob("*") if p.is_file())
    expected = repository_files(published)
    assert synced == sorted(expected)
    assert digests(volume, synced) == digests(published, expected)

    # A re-sync over the same volume (the init container runs again when the pod restarts)
    # removes what the bucket no longer holds. (An emptied model folder itself stays: the
    # AWS CLI syncs files, not folders.)
    stale = volume / paths.SCORER_MODEL / "1" / "old_calibration.json"
    stale.write_text("{}")
    result = run_init_container(init, env)
    assert result.returncode == 0, result.stderr
    assert not stale.exists()

    assert arg_values(triton(docs)["args"], "--model-repository") == [str(volume)]
    triton_env = container_env(triton(docs), rendered_secrets(docs))
    server = start_rendered_triton(docs, triton_env, tmp_path / "triton.log")
    try:
        with CloneDetectorClient(server.http_url) as client:
            assert client.embed([CODE]).shape == (1, 384)
        # The readiness probe, run as the kubelet runs it: in the container's environment
        # (the admin key of the restricted model-repository API included).
        probe = run_readiness_probe(triton(docs), triton_env, server.http_port)
        assert probe.returncode == 0, probe.stdout + probe.stderr
        # Without the key (the repository index is restricted) it cannot tell, and says no.
        keyless = {k: v for k, v in triton_env.items() if k != "CLONEDETECT_ADMIN_KEY"}
        assert run_readiness_probe(triton(docs), keyless, server.http_port).returncode != 0
    finally:
        server.stop()
    traces = [record for path in trace_file.parent.glob("trace.json*") for record in json.loads(path.read_text())]
    assert {paths.EMBED_MODEL, paths.ENCODER_MODEL} <= {record.get("model_name") for record in traces}


def test_remote_source_reads_s3_with_the_secret_and_exports_traces(
    chart,
    published,
    s3_endpoint,  # noqa: F811
    collector,
    tmp_path,
):
    host_port = s3_endpoint.split("://", 1)[1]
    uri = f"s3://{host_port}/{BUCKET}/{PREFIX}"  # Triton's form for an S3-compatible endpoint
    tracing = {"enabled": True, "rate": 1, "opentelemetry": {"url": collector.url, "serviceName": "clonedetect-test"}}
    values = {**BUNDLED, "modelRepository": {"source": "remote", "remote": {"uri": uri, "existingSecret": SECRET}}}
    docs = render(chart, {**values, "tracing": tracing})
    container = triton(docs)
    assert container["envFrom"] == [{"secretRef": {"name": SECRET}}]
    env = container_env(container, {SECRET: CREDENTIALS, **rendered_secrets(docs)})
    assert {name: env[name] for name in CREDENTIALS} == CREDENTIALS

    server = start_rendered_triton(docs, env, tmp_path / "triton.log")
    try:
        with CloneDetectorClient(server.http_url) as client:
            assert client.embed([CODE]).shape == (1, 384)
        deadline = time.monotonic() + 30  # the batch span processor exports every few seconds
        while time.monotonic() < deadline and paths.ENCODER_MODEL not in {s["name"] for _, s in collector.spans()}:
            time.sleep(0.5)
    finally:
        server.stop()
    assert uri in (tmp_path / "triton.log").read_text(errors="replace")  # served from S3, not a folder
    spans = collector.spans()
    # One span per model the ensemble request went through, under the configured service name.
    assert {paths.EMBED_MODEL, paths.TOKENIZER_MODEL, paths.ENCODER_MODEL} <= {span["name"] for _, span in spans}
    assert {attributes["service.name"]["stringValue"] for attributes, _ in spans} == {"clonedetect-test"}
