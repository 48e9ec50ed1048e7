"""`clonedetect rollout` / `rollback` on the real bundled server under load over HTTP and
gRPC: no request fails, answers (cached ones included) switch to the live version, and a
version that does not load changes nothing."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time

import numpy as np
import onnx
import pytest
import tritonclient.grpc
import tritonclient.http
from onnx import numpy_helper

from clonedetect import paths
from clonedetect import rollout_repository as repo
from clonedetect.cli import main
from clonedetect.client import CloneDetectorClient
from clonedetect.client import protocol as wire
from clonedetect.ensembles import ready_versions
from clonedetect.onnx_encoder import OnnxEncoder
from clonedetect.preprocessing.tokenization import CodeTokenizer
from clonedetect.rollout import RolloutError, plan_rollout
from tests.conftest import start_server

NEW_VERSION = 3
PROGRAMS = [f"int f{i}(int x) {{\n    return x * {i + 2} + {i * i};\n}}\n" for i in range(4)]
RATE_PER_S = 6  # requests per second per protocol


def add_perturbed_encoder(repository, version: int = NEW_VERSION) -> None:
    """A second FP32 encoder: version 1 with its projection weights perturbed (other answers)."""
    source, target = repository / paths.ENCODER_MODEL / "1", repository / paths.ENCODER_MODEL / str(version)
    target.mkdir()
    shutil.copyfile(source / "model.py", target / "model.py")
    model = onnx.load(str(source / paths.ENCODER_FILE))
    for tensor in model.graph.initializer:
        if tensor.name == "projection.weight":
            weights = numpy_helper.to_array(tensor)
            noise = np.random.default_rng(0).normal(0.0, 0.05, weights.shape).astype(weights.dtype)
            tensor.CopyFrom(numpy_helper.from_array(weights + noise, tensor.name))
    onnx.save(model, str(target / paths.ENCODER_FILE))


def expected_embeddings(repository, version: int) -> np.ndarray:
    """What the server's clone_embed answers with encoder ``version``, computed in-process."""
    tokenizer = CodeTokenizer.from_file(paths.tokenizer_file(repository))
    encoder = OnnxEncoder(paths.encoder_file(repository, version))
    return encoder.embed_sequences(tokenizer.token_ids(PROGRAMS))


@pytest.fixture
def repository(tmp_path):
    target = tmp_path / "model_repository"
    shutil.copytree(paths.MODEL_REPOSITORY, target, ignore=shutil.ignore_patterns("__pycache__"))
    add_perturbed_encoder(target)
    return target


class FixedRateLoad:
    """One thread per protocol sending clone_embed and clone_embed_int8 requests at a fixed
    rate (raw tritonclient, no retries), recording every answer or error."""

    def __init__(self, triton):
        self.urls = {"http": triton.http_url, "grpc": triton.grpc_url}
        self.records: list[tuple] = []  # (protocol, model, program, time, embedding | None, error | None)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._send, args=(p,)) for p in self.urls]

    def _send(self, protocol: str) -> None:
        module = tritonclient.http if protocol == "http" else tritonclient.grpc
        client = module.InferenceServerClient(self.urls[protocol])
        start, sent = time.monotonic(), 0
        while not self._stop.is_set():
            model = ("clone_embed", "clone_embed_int8")[sent % 2]
            program = (sent // 2) % len(PROGRAMS)
            inputs, outputs = wire.embed_request(module, np.array([[PROGRAMS[program].encode()]], dtype=np.object_))
            try:
                answer = client.infer(model, inputs, outputs=outputs).as_numpy("EMBEDDING")[0]
                self.records.append((protocol, model, program, time.monotonic(), answer, None))
            except Exception as error:  # every failure is counted, none retried
                self.records.append((protocol, model, program, time.monotonic(), None, str(error)))
            sent += 1
            self._stop.wait(max(0.0, start + sent / RATE_PER_S - time.monotonic()))
        client.close()

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def failures(self) -> list[tuple]:
        return [r for r in self.records if r[5] is not None]

    def during(self, start: float, end: float, protocol: str) -> int:
        return sum(1 for r in self.records if r[0] == protocol and start <= r[3] <= end)

    def answers(self, protocol: str, model: str, program: int) -> list[np.ndarray]:
        return [r[4] for r in self.records if r[:3] == (protocol, model, program) and r[4] is not None]


def which_version(answer: np.ndarray, by_version: dict[int, np.ndarray], program: int) -> int:
    [version] = [v for v, expected in by_version.items() if np.allclose(answer, expected[program], atol=1e-4)]
    return version


def cache_hits(triton, ensemble_version: int) -> int:
    """Answers clone_embed ``ensemble_version`` served from Triton's response cache."""
    with tritonclient.http.InferenceServerClient(triton.http_url) as client:
        stats = client.get_inference_statistics("clone_embed", str(ensemble_version))
    return int(stats["model_stats"][0]["inference_stats"]["cache_hit"]["count"])


def _cli(args: list[str], capsys) -> dict:
    assert main(args) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _timed_cli(args: list[str], capsys) -> tuple[dict, float, float]:
    start = time.monotonic()
    report = _cli(args, capsys)
    return report, start, time.monotonic()


@pytest.mark.integration
def test_rollout_and_rollback_under_load_fail_no_request_and_switch_every_answer(repository, tmp_path, capsys):
    by_version = {v: expected_embeddings(repository, v) for v in (1, NEW_VERSION)}
    assert not np.allclose(by_version[1], by_version[NEW_VERSION], atol=1e-3), "the new version must answer otherwise"
    triton = start_server(repository, tmp_path / "triton.log")
    server = ["--url", triton.http_url, "--model-repository", str(repository)]
    try:
        with FixedRateLoad(triton) as load:
            time.sleep(2)  # answered, and cached, by version 1 first
            rollout = ["rollout", paths.ENCODER_MODEL, "--version", str(NEW_VERSION), "--replace", "1", *server]
            report, rollout_start, rollout_end = _timed_cli(rollout, capsys)
            time.sleep(2)
            status = _cli(["status", "--url", triton.http_url], capsys)
            hits = {2: cache_hits(triton, 2)}
            back, rollback_start, rollback_end = _timed_cli(["rollback", paths.ENCODER_MODEL, *server], capsys)
            time.sleep(2)
            hits[1] = cache_hits(triton, 1)
    finally:
        triton.stop()
    print(f"\nrollout {rollout_end - rollout_start:.1f} s, rollback {rollback_end - rollback_start:.1f} s")
    for protocol in ("http", "grpc"):
        sent = sum(1 for r in load.records if r[0] == protocol)
        print(f"{protocol}: {sent} requests, {len(load.failures())} failed overall")
        assert load.during(rollout_start, rollout_end, protocol) >= 3
        assert load.during(rollback_start, rollback_end, protocol) >= 3
    assert load.failures() == []
    assert hits[2] > 0 and hits[1] > 0, f"the answers checked below came from the cache too: {hits}"
    assert report["ensembles"] == {"clone_embed": [1, 2], "clone_compare": [1, 2]} and report["served"] == [2, 3]
    assert status["ensembles"]["clone_embed"]["version"] == 2
    calls = {paths.ADMISSION_MODEL: 1, paths.TOKENIZER_MODEL: 1, paths.ENCODER_MODEL: 3}
    assert status["ensembles"]["clone_embed"]["calls"] == calls
    assert status["ensembles"]["clone_embed_int8"]["calls"][paths.ENCODER_MODEL] == paths.INT8_VERSION
    compare = status["ensembles"]["clone_compare"]
    assert compare["pinned"][paths.SCORER_MODEL] == -1 and compare["calls"][paths.SCORER_MODEL] == 1
    assert back["version"] == 1 and back["rolled_back"] == NEW_VERSION
    assert repo.served_versions(repository, paths.ENCODER_MODEL) == [1, 2]
    assert repo.served_versions(repository, "clone_embed") == [1]
    for protocol in ("http", "grpc"):
        for program in range(len(PROGRAMS)):
            seen = [which_version(a, by_version, program) for a in load.answers(protocol, "clone_embed", program)]
            # The same program, cached before the rollout: version 1, then 3 only, then 1 only.
            switches = [v for i, v in enumerate(seen) if i == 0 or v != seen[i - 1]]
            assert switches == [1, NEW_VERSION, 1], (protocol, program, seen)
            int8 = load.answers(protocol, "clone_embed_int8", program)
            assert all(np.allclose(a, int8[0], atol=1e-5) for a in int8), "the INT8 ensembles were not touched"


@pytest.mark.integration
def test_a_version_that_does_not_load_switches_nothing_and_leaves_the_repository_as_it_was(
    repository, tmp_path, capsys
):
    broken = repository / paths.ENCODER_MODEL / "4"
    shutil.copytree(repository / paths.ENCODER_MODEL / "1", broken, ignore=shutil.ignore_patterns("*.onnx"))
    (broken / paths.ENCODER_FILE).write_bytes(b"not an ONNX graph")
    before = {p: p.read_text() for p in repository.glob("**/*.pbtxt")}
    triton = start_server(repository, tmp_path / "triton.log")
    try:
        args = ["rollout", paths.ENCODER_MODEL, "--version", "4", "--replace", "1", "--url", triton.http_url]
        assert main([*args, "--model-repository", str(repository)]) == 2
        error = capsys.readouterr().err
        with CloneDetectorClient(triton.http_url, retry=None) as client:
            answer = client.embed([PROGRAMS[0]])
            live = ready_versions(client.model_status())
    finally:
        triton.stop()
    assert "code_clone_detector version 4 did not load, so nothing was switched" in error
    assert "serves 1, 2 as before" in error
    assert np.allclose(answer[0], expected_embeddings(repository, 1)[0], atol=1e-4)
    assert live[paths.ENCODER_MODEL] == [1, 2] and live["clone_embed"] == [1]
    assert before == {p: p.read_text() for p in repository.glob("**/*.pbtxt")}
    assert not (repository / "clone_embed" / "2").exists()


LIVE = {  # what the shipped repository's server has ready
    paths.TOKENIZER_MODEL: [1],
    paths.ENCODER_MODEL: [1, 2],
    paths.SCORER_MODEL: [1],
    paths.VERIFIER_MODEL: [1],
    **{name: [1] for name in ("clone_embed", "clone_compare", "clone_embed_int8", "clone_compare_int8")},
}


def test_a_rollout_that_cannot_be_done_is_refused_before_anything_changes(repository, capsys):
    before = {p: p.read_text() for p in repository.glob("*/config.pbtxt")}
    server = ["--url", "127.0.0.1:1", "--model-repository", str(repository)]
    cases = [
        (["rollout", paths.ENCODER_MODEL, "--version", "4", "--replace", "1"], "has no version folder 4"),
        (["rollout", "no_such_model", "--version", "1"], "no_such_model has no version folder 1"),
        (["rollback", paths.ENCODER_MODEL], "has no rollout to roll back"),
    ]
    for args, message in cases:
        assert main([*args, *server]) == 2
        assert message in capsys.readouterr().err
    for replace, message in [
        (None, "serves versions 1, 2: say which one version 3 replaces with --replace"),
        (7, "--replace 7: code_clone_detector serves versions 1, 2"),
    ]:
        with pytest.raises(RolloutError, match=re.escape(message)):
            plan_rollout(repository, paths.ENCODER_MODEL, NEW_VERSION, replace, LIVE)
    with pytest.raises(RolloutError, match="not loaded on the server"):
        plan_rollout(repository, paths.ENCODER_MODEL, NEW_VERSION, 1, {**LIVE, paths.ENCODER_MODEL: []})
    assert before == {p: p.read_text() for p in repository.glob("*/config.pbtxt")}


def test_a_rollout_plans_new_ensemble_versions_pinned_to_every_step(repository):
    moves, switches = plan_rollout(repository, paths.ENCODER_MODEL, NEW_VERSION, paths.INT8_VERSION, LIVE)
    assert [(m.model, m.add, m.remove) for m in moves] == [(paths.ENCODER_MODEL, NEW_VERSION, paths.INT8_VERSION)]
    expected = {"clone_embed_int8": (1, 2), "clone_compare_int8": (1, 2)}
    assert {s.ensemble: (s.before, s.after) for s in switches} == expected
    embed = next(s for s in switches if s.ensemble == "clone_embed_int8")
    assert embed.pins == {paths.ADMISSION_MODEL: 1, paths.TOKENIZER_MODEL: 1, paths.ENCODER_MODEL: NEW_VERSION}
    shutil.copytree(repository / paths.SCORER_MODEL / "1", repository / paths.SCORER_MODEL / "2")
    moves, switches = plan_rollout(repository, paths.SCORER_MODEL, 2, None, LIVE)
    assert moves[0].remove == 1 and {s.ensemble for s in switches} == {"clone_compare", "clone_compare_int8"}
    assert all(s.pins[paths.SCORER_MODEL] == 2 for s in switches), "a step that followed the newest gets pinned"
