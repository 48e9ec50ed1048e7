"""Faults, on the real bundled Triton: a scan process killed with SIGKILL and resumed from
its checkpoint; tritonserver killed with SIGKILL under a supervised ``clonedetect serve``
mid-scan; one Python-backend stub process killed mid-scan. In every case the scan ends
with exactly the result of an undisturbed one, and no finished work is asked for again."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from clonedetect import server
from clonedetect.client import CloneDetectorClient, RetryPolicy, errors
from clonedetect.load_tests.faults import SupervisedServe, run_faults
from clonedetect.load_tests.payloads import load_corpus
from clonedetect.scanning import checkpoint as journal
from clonedetect.supervisor import python_stubs

SUFFIXES = {"poj104": ".c", "bigclonebench": ".java", "stdlib": ".py"}
CLI = [sys.executable, "-m", "clonedetect.cli"]


@pytest.fixture(scope="module")
def assignment(tmp_path_factory) -> Path:
    """96 real programs (C, Java, Python), one submission folder each: ~2 checkpoint
    writes of embeddings and several of verified pairs."""
    root = tmp_path_factory.mktemp("assignment")
    corpus = load_corpus(96, seed=3, max_chars=3000)
    for index, (code, source) in enumerate(zip(corpus.programs, corpus.sources, strict=True)):
        folder = root / f"s{index:03d}"
        folder.mkdir()
        (folder / f"main{SUFFIXES[source]}").write_text(code, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def supervised(model_repository_copy, tmp_path_factory):
    """``clonedetect serve`` on free loopback ports (it supervises its tritonserver)."""
    serve = SupervisedServe(model_repository_copy, tmp_path_factory.mktemp("supervised"))
    yield serve
    serve.stop()
    assert serve.process.returncode == 0  # a clean stop on SIGTERM


def _served(http_url: str, model: str) -> tuple[int, int]:
    """(requests answered, inferences computed) of ``model`` since the server started:
    a response-cache hit is a request answered and no inference."""
    with urllib.request.urlopen(f"http://{http_url}/v2/models/{model}/stats", timeout=10) as reply:
        stats = json.load(reply)["model_stats"][0]
    return stats["inference_stats"]["success"]["count"], stats["inference_count"]


def _settled(http_url: str, model: str, quiet_s: float = 2.0) -> None:
    """Wait until ``model`` has answered nothing new for ``quiet_s``."""
    last, since = _served(http_url, model), time.monotonic()
    while time.monotonic() - since < quiet_s:
        time.sleep(0.2)
        if (now := _served(http_url, model)) != last:
            last, since = now, time.monotonic()


def _scan_command(assignment: Path, url: str, out: Path, *extra: str) -> list[str]:
    submissions = sorted(str(p) for p in assignment.iterdir())
    return [*CLI, "scan", *submissions, "--url", url, "--json", str(out), *extra]


def _records(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_a_scan_killed_with_sigkill_resumes_from_its_checkpoint_with_the_same_result(supervised, assignment, tmp_path):
    http = supervised.urls["http"]
    clean = tmp_path / "clean.json"
    before = _served(http, "clone_compare")
    subprocess.run(_scan_command(assignment, http, clean), check=True, capture_output=True, timeout=300)
    pairs_total = _served(http, "clone_compare")[1] - before[1]

    folder = tmp_path / "checkpoint"
    killed = subprocess.Popen(_scan_command(assignment, http, tmp_path / "never.json", "--checkpoint", str(folder)))
    comparisons = folder / journal.COMPARISONS_FILE
    deadline = time.monotonic() + 240
    while _records(comparisons) == 0 and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL, "the scan ended before it could be killed mid-way"
    embedded, compared = _records(folder / journal.EMBEDDINGS_FILE), _records(comparisons)
    assert embedded == 96 and 0 < compared < pairs_total

    _settled(http, "clone_compare")  # requests the killed scan had in flight are still served
    before = _served(http, "clone_embed"), _served(http, "clone_compare")
    resumed = tmp_path / "resumed.json"
    subprocess.run(
        _scan_command(assignment, http, resumed, "--checkpoint", str(folder)),
        check=True,
        capture_output=True,
        timeout=300,
    )
    embed_requests = _served(http, "clone_embed")[0] - before[0][0]
    compare_inferences = _served(http, "clone_compare")[1] - before[1][1]
    assert embed_requests == 0  # every embedding came from the checkpoint (not even a cache hit)
    assert compare_inferences == pairs_total - compared  # each missing pair once, no finished one again
    assert json.loads(resumed.read_text()) == json.loads(clean.read_text())
    assert _records(comparisons) == pairs_total  # one record per pair: none lost, none twice


def test_a_record_cut_short_by_a_kill_is_dropped_and_its_work_redone(tmp_path):
    class Counting:
        embed_model, compare_model = "clone_embed", "clone_compare"

        def __init__(self):
            self.calls: list[list[str]] = []

        def embed(self, codes):
            self.calls.append(list(codes))
            return [[float(len(code)), 1.0] for code in codes]

    backend = journal.CheckpointBackend(Counting(), tmp_path)
    first = backend.embed(["a", "bb"])
    path = tmp_path / journal.EMBEDDINGS_FILE
    path.write_bytes(path.read_bytes() + b'{"key": "cut sho')  # a write torn by kill -9
    counting = Counting()
    again = journal.CheckpointBackend(counting, tmp_path).embed(["bb", "ccc", "a"])
    assert counting.calls == [["ccc"]]
    assert again.tolist() == [first[1].tolist(), [3.0, 1.0], first[0].tolist()]
    assert path.read_bytes().endswith(b"\n") and _records(path) == 3


def test_a_checkpoint_of_other_models_or_a_damaged_one_is_refused(tmp_path):
    class Int8:
        embed_model, compare_model = "clone_embed_int8", "clone_compare_int8"

    journal.CheckpointBackend(Int8(), tmp_path)
    fp32 = type("Fp32", (), {"embed_model": "clone_embed", "compare_model": "clone_compare"})()
    with pytest.raises(errors.InvalidInputError, match="answers of other models"):
        journal.CheckpointBackend(fp32, tmp_path)
    with pytest.raises(errors.InvalidInputError, match="is a file: name a folder"):
        journal.CheckpointBackend(Int8(), tmp_path / journal.IDENTITY_FILE)
    (tmp_path / journal.COMPARISONS_FILE).write_text("not json\n{}\n")
    with pytest.raises(errors.InvalidInputError, match="damaged at line 1"):
        journal.CheckpointBackend(Int8(), tmp_path)


class ScanInThread:
    """``client.scan`` in a thread, so that the test can kill things while it runs."""

    def __init__(self, client: CloneDetectorClient, assignment: Path):
        self.result, self.error = None, None
        submissions = sorted(assignment.iterdir())
        self.thread = threading.Thread(target=self._run, args=(client, submissions), daemon=True)
        self.thread.start()

    def _run(self, client, submissions):
        try:
            self.result = client.scan(submissions).to_dict()
        except Exception as error:  # reported by the test
            self.error = error

    def join(self, timeout: float) -> dict:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the scan did not finish"
        assert self.error is None, self.error
        return self.result


def _clean_scan(url: str, protocol: str, assignment: Path) -> dict:
    with CloneDetectorClient(url, protocol=protocol) as client:
        return client.scan(sorted(assignment.iterdir())).to_dict()


def _verifying(http_url: str, before: int, timeout: float = 120) -> None:
    """Wait until the server has verified its first pairs of this scan (not all of them:
    the scan sends them 16 a request, 4 requests at a time)."""
    deadline = time.monotonic() + timeout
    while _served(http_url, "clone_compare")[1] == before:
        assert time.monotonic() < deadline, "the scan verified nothing"
        time.sleep(0.01)


def _logged(path: Path, offset: int, pattern: str, timeout: float = 10) -> float:
    """The seconds figure of the first line matching ``pattern`` that ``clonedetect serve``
    writes after ``offset`` (it reports at its next poll)."""
    deadline = time.monotonic() + timeout
    while not (found := re.search(pattern, path.read_bytes()[offset:].decode(errors="replace"))):
        assert time.monotonic() < deadline, path.read_bytes()[offset:].decode(errors="replace")
        time.sleep(0.1)
    return float(found.group(1))


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_tritonserver_killed_mid_scan_is_restarted_and_the_scan_completes_the_same(
    supervised, assignment, protocol, record_property
):
    url = supervised.urls[protocol]
    expected = _clean_scan(url, protocol, assignment)
    offset = supervised.stderr.stat().st_size
    with CloneDetectorClient(url, protocol=protocol, timeout=30) as client:
        before = _served(supervised.urls["http"], "clone_compare")[1]
        scan = ScanInThread(client, assignment)
        _verifying(supervised.urls["http"], before)
        os.kill(supervised.tritonserver_pid(), signal.SIGKILL)
        assert scan.join(180) == expected
        assert client.retried > 0
    back = _logged(supervised.stderr, offset, r"ready again, ([0-9.]+) s after it exited")
    record_property("seconds_back_to_ready", back)
    print(f"{protocol}: tritonserver back to ready {back} s after kill -9; {client.retried} requests retried")


def test_the_async_client_rides_over_a_tritonserver_restart(supervised):
    import asyncio

    import numpy as np

    from clonedetect.client import AsyncCloneDetectorClient

    programs = [f"int unique{n}(int x) {{ return x * {n} + {n * 7}; }}\n" for n in range(400)]
    with CloneDetectorClient(supervised.urls["grpc"], protocol="grpc", retry=None) as reference:
        expected = reference.embed(programs[:16])

    async def embed_while_killed():
        async with AsyncCloneDetectorClient(supervised.urls["grpc"], protocol="grpc", timeout=30) as client:
            before = _served(supervised.urls["http"], "clone_embed")[0]
            task = asyncio.create_task(client.embed(programs))
            while _served(supervised.urls["http"], "clone_embed")[0] == before:
                await asyncio.sleep(0.01)
            os.kill(supervised.tritonserver_pid(), signal.SIGKILL)
            return await task, client.retried

    embeddings, retried = asyncio.run(embed_while_killed())
    assert embeddings.shape == (400, 384) and retried > 0
    assert np.allclose(embeddings[:16], expected, atol=1e-5)


@pytest.mark.parametrize("model", ["code_tokenizer", "clone_verifier"])
def test_a_killed_backend_stub_is_replaced_and_the_scan_completes_the_same(
    supervised, assignment, model, record_property
):
    url = supervised.urls["http"]
    expected = _clean_scan(url, "http", assignment)
    offset = supervised.stderr.stat().st_size
    tritonserver = supervised.tritonserver_pid()
    stub = next(s for s in python_stubs(tritonserver).values() if s.model == model)
    with CloneDetectorClient(url, timeout=30) as client:
        before = _served(supervised.urls["http"], "clone_compare")[1]
        scan = ScanInThread(client, assignment)
        _verifying(supervised.urls["http"], before)
        os.kill(stub.pid, signal.SIGKILL)
        assert scan.join(180) == expected
        retried = client.retried
    assert retried > 0
    replaced = [s for s in python_stubs(tritonserver).values() if s.model == model]
    assert len(replaced) == 1 and replaced[0].pid != stub.pid
    assert not (Path("/dev/shm") / stub.shm_region).exists()
    back = _logged(supervised.stderr, offset, rf"model '{model}' serves again, ([0-9.]+) s")
    record_property("seconds_to_serve_again", back)
    print(f"{model}: stub replaced {back} s after it was found dead; {retried} requests retried")


def test_without_retries_a_dead_server_fails_at_once_and_with_them_the_deadline_error_says_so():
    url = f"127.0.0.1:{server.free_port()}"  # nothing listens there
    started = time.monotonic()
    with CloneDetectorClient(url, retry=None) as client, pytest.raises(errors.ServerUnavailableError):
        client.embed(["int x;"])
    assert time.monotonic() - started < 5
    policy = RetryPolicy(first_wait_s=0.1, max_wait_s=0.4, deadline_s=2)
    with CloneDetectorClient(url, retry=policy) as client, pytest.raises(errors.ServerUnavailableError) as raised:
        client.embed(["int x;"])
    assert re.search(r"embed: gave up after \d+ attempt\(s\) over [0-9.]+ s", str(raised.value))
    assert "clonedetect serve" in str(raised.value) and client.retried >= 3


def test_the_fault_run_loses_no_request_when_the_server_and_then_a_stub_are_killed(model_repository_copy, tmp_path):
    # A server of its own: the restarts of the tests above would lengthen its backoff.
    # 20 s: a sender waits out its retry schedule (up to ~11 s after the kill, when an attempt
    # falls just before the server is back) and then catches up on the requests it owes.
    with SupervisedServe(model_repository_copy, tmp_path) as serve:
        figures = run_faults(serve, seconds=20, rate=6, kill_server_at=3, kill_stub_at=9, stub_model="clone_scorer")
    assert figures["failed_after_retries"] == 0, figures["failure_examples"]
    assert figures["requests_sent"] >= 6 * 20 * 0.8 and figures["retried"] > 0
    recovery = figures["seconds_from_kill_to_fresh_answer"]
    assert set(recovery) == {"tritonserver", "stub:clone_scorer"} and all(0 < s < 60 for s in recovery.values())


def test_restarts_are_bounded_and_serve_gives_up_saying_so(model_repository_copy, tmp_path):
    with SupervisedServe(model_repository_copy, tmp_path, max_restarts=1) as serve:
        offset = serve.stderr.stat().st_size
        os.kill(serve.tritonserver_pid(), signal.SIGKILL)
        _logged(serve.stderr, offset, r"ready again, ([0-9.]+) s", timeout=60)
        os.kill(serve.tritonserver_pid(), signal.SIGKILL)
        assert serve.process.wait(timeout=30) == 1
    assert "after 1 restart(s) in 10 minutes; not restarting again" in serve.stderr.read_text()
