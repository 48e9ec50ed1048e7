"""Admission control (clonedetect.admission): the pending-request gauge read from a real
metrics endpoint on loopback, the decision and its "retry" answer; and on the real server,
bulk embeddings shed at once while comparisons still get in."""

from __future__ import annotations

import http.server
import json
import logging
import re
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from tritonclient.utils import InferenceServerException

from clonedetect import admission
from clonedetect.client import CloneDetectorClient, ServerUnavailableError
from clonedetect.client import protocol as wire
from tests.conftest import SAMPLES, start_server

EXPOSITION = """\
# HELP nv_inference_pending_request_count Instantaneous number of pending requests awaiting execution per-model.
# TYPE nv_inference_pending_request_count gauge
nv_inference_pending_request_count{{model="clone_embed",version="1"}} 0
nv_inference_pending_request_count{{model="code_tokenizer",version="1"}} {tokenizer}
nv_inference_pending_request_count{{model="code_clone_detector",version="1"}} {encoder}
nv_inference_pending_request_count{{model="code_clone_detector",version="2"}} 1
nv_inference_pending_request_count{{model="clone_admission",version="1"}} 40
nv_inference_pending_request_count{{model="clone_pair_check",version="1"}} 9
nv_inference_queue_duration_us{{model="code_tokenizer",version="1"}} 977
"""


class MetricsEndpoint:
    """A loopback HTTP server answering GET with whatever ``text`` is now."""

    def __init__(self):
        self.text = EXPOSITION.format(tokenizer=0, encoder=0)
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = endpoint.text.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metrics"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    served = MetricsEndpoint()
    yield served
    served.close()


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_pending_requests_sum_the_gauge_over_every_model_and_version_behind_the_first_steps():
    assert admission.pending_requests(EXPOSITION.format(tokenizer=3, encoder=7)) == 11
    assert admission.pending_requests('nv_inference_queue_duration_us{model="a"} 5\n') == 0


def test_admission_follows_the_gauge_and_its_refusal_says_retry(endpoint):
    gate = admission.Admission(limit=10, url=endpoint.url, interval_s=0.01)
    try:
        wait_for(lambda: gate.pending == 1)
        assert gate.admit()
        endpoint.text = EXPOSITION.format(tokenizer=4, encoder=5)  # 10 pending: at the limit
        wait_for(lambda: gate.pending == 10)
        assert not gate.admit()
        message = gate.refusal()
        assert "10 requests are waiting" in message and "below 10" in message
        for status in ("503", "StatusCode.UNAVAILABLE"):
            mapped = wire.translate(InferenceServerException(message, status=status), "127.0.0.1:8000", "embed")
            assert isinstance(mapped, ServerUnavailableError) and "retry" in str(mapped)
        endpoint.text = EXPOSITION.format(tokenizer=0, encoder=2)
        wait_for(gate.admit)
    finally:
        gate.close()


def test_the_gauge_is_read_more_often_near_the_limit(endpoint):
    endpoint.text = EXPOSITION.format(tokenizer=3, encoder=0)  # 4 pending, under half of 10
    gate = admission.Admission(limit=10, url=endpoint.url, interval_s=0.01)
    try:
        wait_for(lambda: gate.pending == 4)
        assert gate.next_wait_s() == pytest.approx(0.01 * admission.CALM_SLOWDOWN)
        endpoint.text = EXPOSITION.format(tokenizer=4, encoder=0)
        wait_for(lambda: gate.pending == 5)
        assert gate.next_wait_s() == pytest.approx(0.01)
    finally:
        gate.close()


def test_an_unreadable_metrics_endpoint_admits_everything_and_says_so_once(caplog):
    closed = MetricsEndpoint()
    closed.close()  # nothing listens on its port any more
    with caplog.at_level(logging.WARNING, logger="clonedetect.admission"):
        gate = admission.Admission(limit=1, url=closed.url, interval_s=0.01, grace_s=0.05)
        try:
            time.sleep(0.2)
            assert gate.admit()
        finally:
            gate.close()
    warnings = [r for r in caplog.records if "admitting every request" in r.getMessage()]
    assert len(warnings) == 1


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        admission.Admission(limit=0, url="http://127.0.0.1:9/metrics")


def set_limit(repository, model: str, limit: int) -> None:
    config = repository / model / "config.pbtxt"
    text, count = re.subn(
        r'(key: "admit_while_pending_below"\s*value: \{ string_value: ")\d+', rf"\g<1>{limit}", config.read_text()
    )
    assert count == 1
    config.write_text(text)


@pytest.fixture(scope="module")
def crowded_server(model_repository_copy, tmp_path_factory):
    """The shipped models with embeddings shed at the first waiting request."""
    repository = tmp_path_factory.mktemp("admission") / "model_repository"
    shutil.copytree(model_repository_copy, repository)
    set_limit(repository, "clone_admission", 1)
    process = start_server(repository, tmp_path_factory.mktemp("admission-log") / "triton.log")
    yield process
    process.stop()


@pytest.mark.integration
@pytest.mark.timeout(300)
@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_beyond_the_limit_embeddings_are_shed_at_once_and_comparisons_still_answered(crowded_server, protocol):
    url = crowded_server.http_url if protocol == "http" else crowded_server.grpc_url
    texts = (p.read_text(errors="replace") for p in sorted(SAMPLES.rglob("*.c")))
    programs = [text for text in texts if text.strip()][:8]
    shed_seconds, shed, answered, compared = [], [], [], []

    def batch(n: int) -> list[str]:
        return [f"{programs[i % len(programs)]}\n# request {protocol} {n} program {i}\n" for i in range(64)]

    def embed(n: int) -> None:
        started = time.monotonic()
        try:
            client.embed(batch(n))
            answered.append(n)
        except ServerUnavailableError as error:
            assert "over capacity" in str(error) and "retry" in str(error)
            shed_seconds.append(time.monotonic() - started)
            shed.append(n)

    def compare(n: int) -> None:
        result = client.compare(programs[n % len(programs)], programs[(n + 1) % len(programs)] + f"\n# {n}\n")
        compared.append(result.probability)

    with CloneDetectorClient(url, protocol=protocol, retry=None, timeout=120, concurrency=16) as client:
        with ThreadPoolExecutor(max_workers=16) as pool:
            calls = [pool.submit(embed, n) for n in range(48)]
            calls += [pool.submit(compare, n) for n in range(8)]
            for call in calls:
                call.result()  # anything but an answer or a shed embedding fails the test
        assert shed_seconds and answered, (len(shed_seconds), len(answered))
        assert sorted(shed_seconds)[len(shed_seconds) // 2] < 0.5  # shed in well under a second
        assert len(compared) == 8
    # A shed answer is not cached: the same programs are answered once the server has room
    # (the default retry policy waits out the gauge's last reading).
    with CloneDetectorClient(url, protocol=protocol) as patient:
        assert len(patient.embed(batch(shed[0]))) == 64
    assert crowded_server.is_ready()


def test_a_first_step_reads_its_limit_from_its_model_config():
    args = {"model_config": json.dumps({"parameters": {admission.LIMIT_PARAMETER: {"string_value": "7"}}})}
    gate = admission.Admission.for_model(args)
    try:
        assert gate.limit == 7
    finally:
        gate.close()
    with pytest.raises(ValueError, match="admit_while_pending_below"):
        admission.Admission.for_model({"model_config": json.dumps({"parameters": {}})})
