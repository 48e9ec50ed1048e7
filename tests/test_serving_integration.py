"""End to end on the real bundled Triton server: embeddings, comparison, batching, reload."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from clonedetect import paths
from clonedetect.client import AsyncCloneDetectorClient, CloneDetectorClient, InvalidInputError
from clonedetect.client.protocol import EMBEDDING_DIM
from clonedetect.load_tests.serving_figures import encoder_counts
from clonedetect.load_tests.tuning_served import model_statistics
from clonedetect.onnx_encoder import OnnxEncoder
from clonedetect.preprocessing.tokenization import CodeTokenizer
from tests.conftest import SAMPLES

pytestmark = pytest.mark.integration


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def in_process_embeddings(repository, codes: list[str], version: int = 1) -> np.ndarray:
    tokenizer = CodeTokenizer.from_file(paths.tokenizer_file(repository))
    encoder = OnnxEncoder(paths.encoder_file(repository, version))
    return encoder.embed(*tokenizer.encode(codes))


def test_http_and_grpc_give_the_embeddings_of_onnxruntime_in_process(triton, model_repository_copy):
    codes = [sample("bubble_sort.c"), sample("word_count.py"), sample("bubble_sort_renamed.c")]
    expected = in_process_embeddings(model_repository_copy, codes)
    for protocol, url in (("http", triton.http_url), ("grpc", triton.grpc_url)):
        with CloneDetectorClient(url, protocol=protocol) as client:
            served = client.embed(codes)
        assert served.shape == expected.shape == (3, EMBEDDING_DIM)
        np.testing.assert_allclose(served, expected, atol=1e-5, err_msg=protocol)
        np.testing.assert_allclose(np.linalg.norm(served, axis=1), 1.0, atol=1e-5)


def test_renamed_copy_scores_higher_than_an_unrelated_program(client):
    original = sample("bubble_sort.c")
    copy = client.compare(original, sample("bubble_sort_renamed.c"))
    unrelated = client.compare(original, sample("word_count.py"))
    assert copy.similarity > unrelated.similarity
    assert copy.probability > unrelated.probability
    assert 0.0 <= unrelated.probability <= copy.probability <= 1.0


def test_compare_returns_the_matched_fragments_as_evidence(client):
    original, renamed = sample("bubble_sort.c"), sample("bubble_sort_renamed.c")
    copy = client.compare(original, renamed)
    unrelated = client.compare(original, sample("word_count.py"))
    assert copy.verification > 0.8 > unrelated.verification
    assert copy.evidence["average"] == pytest.approx(copy.verification, abs=1e-6)
    fragments = copy.evidence["fragments"]
    assert fragments and all(f["tokens"] >= 12 for f in fragments)
    lines_a, lines_b = len(original.splitlines()), len(renamed.splitlines())
    assert all(1 <= f["lines_a"][0] <= f["lines_a"][1] <= lines_a for f in fragments)
    assert all(1 <= f["lines_b"][0] <= f["lines_b"][1] <= lines_b for f in fragments)


def test_compare_many_keeps_the_order_of_the_pairs(client):
    original, renamed, unrelated = sample("bubble_sort.c"), sample("bubble_sort_renamed.c"), sample("word_count.py")
    results = client.compare_many([(original, renamed), (original, unrelated), (original, original)])
    assert results[0].similarity == pytest.approx(client.compare(original, renamed).similarity, abs=1e-5)
    assert results[1].similarity == pytest.approx(client.compare(original, unrelated).similarity, abs=1e-5)
    assert results[2].similarity == pytest.approx(1.0, abs=1e-5)


def test_async_client_matches_the_blocking_client(triton):
    import asyncio

    codes = [sample("bubble_sort.c"), sample("word_count.py")]
    with CloneDetectorClient(triton.http_url) as client:
        expected = client.embed(codes)

    async def run(protocol, url):
        async with AsyncCloneDetectorClient(url, protocol=protocol) as client:
            await client.wait_until_ready(timeout=10)
            return await client.embed(codes), await client.compare(codes[0], codes[1])

    for protocol, url in (("http", triton.http_url), ("grpc", triton.grpc_url)):
        embeddings, comparison = asyncio.run(run(protocol, url))
        np.testing.assert_allclose(embeddings, expected, atol=1e-6)
        assert comparison.similarity == pytest.approx(float(expected[0] @ expected[1]), abs=1e-5)


def test_a_long_file_is_embedded_whole_not_cut_at_the_window(client, model_repository_copy):
    from clonedetect import data

    tokenizer = CodeTokenizer.from_file(paths.tokenizer_file(model_repository_copy))
    programs = [p.read() for p in data.poj104_programs("valid")[:40]]
    long_file = "\n".join(programs[:12])
    tokens = len(tokenizer.token_ids([long_file])[0])
    assert tokens > 4 * 256, "the test needs a file several windows long"
    # Same first three quarters, a different last quarter.
    cut = int(len(long_file) * 0.75)
    changed = long_file[:cut] + "\n" + "\n".join(programs[20:23])[: len(long_file) - cut]
    same = client.compare(long_file, long_file)
    different = client.compare(long_file, changed)
    assert same.similarity == pytest.approx(1.0, abs=1e-5)
    assert different.similarity < 0.999, "a change in the last quarter must change the embedding"


def test_dynamic_batching_merges_concurrent_requests(triton):
    from clonedetect import data

    # Programs no other test sent (a string literal appended), so the response cache cannot answer them.
    codes = [p.read() + '\n"dynamic batching test"\n' for p in data.poj104_programs("valid")[:64]]
    inferences_before, executions_before = encoder_counts(triton.metrics_url)
    with CloneDetectorClient(triton.http_url, batch_size=1, concurrency=64) as client:
        embeddings = client.embed(codes)  # 64 single-program requests, 64 at a time
    assert embeddings.shape == (64, EMBEDDING_DIM)
    # Statistics are recorded just after each response is sent: wait for all 64.
    deadline = time.monotonic() + 10
    while True:
        inferences, executions = encoder_counts(triton.metrics_url)
        inferences, executions = inferences - inferences_before, executions - executions_before
        if inferences >= 64 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert inferences == 64
    assert executions < inferences, f"{executions} executions for {inferences} inferences: nothing was merged"
    print(f"average encoder batch under 64 concurrent requests: {inferences / executions:.2f}")


def _cache_hits(triton) -> int:
    return model_statistics(triton.http_url, "clone_embed")["cache_hit"]


def test_a_resubmitted_program_is_answered_from_the_response_cache(triton):
    code = (SAMPLES / "bubble_sort.c").read_text() + '\n"response cache test"\n'
    with CloneDetectorClient(triton.http_url) as client:
        hits = _cache_hits(triton)
        first = client.embed([code])
        assert _cache_hits(triton) == hits  # new program: computed
        second = client.embed([code])
        assert _cache_hits(triton) == hits + 1
        np.testing.assert_array_equal(first, second)
        # Errors are never cached: the same bad program is rejected every time.
        for _ in range(2):
            with pytest.raises(InvalidInputError, match="empty or only whitespace"):
                client.embed(["   "])


def test_the_int8_ensembles_serve_the_int8_encoder_version(triton, model_repository_copy):
    codes = [sample("bubble_sort.c"), sample("word_count.py"), sample("bubble_sort_renamed.c")]
    with CloneDetectorClient(triton.grpc_url, protocol="grpc", precision="int8") as int8_client:
        int8 = int8_client.embed(codes)
        int8_copy = int8_client.compare(codes[0], codes[2])
    with CloneDetectorClient(triton.grpc_url, protocol="grpc") as fp32_client:
        fp32 = fp32_client.embed(codes)
        fp32_copy = fp32_client.compare(codes[0], codes[2])
    np.testing.assert_allclose(int8, in_process_embeddings(model_repository_copy, codes, version=2), atol=1e-5)
    np.testing.assert_allclose(fp32, in_process_embeddings(model_repository_copy, codes, version=1), atol=1e-5)
    assert not np.allclose(int8, fp32, atol=1e-4)  # really the other version
    assert np.all(np.sum(int8 * fp32, axis=1) > 0.99)
    assert int8_copy.probability > 0.5  # still called a copy
    assert abs(int8_copy.similarity - fp32_copy.similarity) < 0.01


def test_reloading_the_encoder_under_load_loses_no_request(triton):
    codes = [sample("bubble_sort.c"), sample("word_count.py")]
    stop = threading.Event()
    failures: list[Exception] = []
    done = [0] * 8

    def send(worker: int) -> None:
        protocol = "grpc" if worker % 2 else "http"
        url = triton.grpc_url if worker % 2 else triton.http_url
        with CloneDetectorClient(url, protocol=protocol, timeout=60) as client:
            while not stop.is_set():
                try:
                    client.embed(codes)
                    done[worker] += 1
                except Exception as error:  # every failure is a lost request
                    failures.append(error)

    with ThreadPoolExecutor(8) as pool, CloneDetectorClient(triton.http_url) as admin:
        workers = [pool.submit(send, i) for i in range(8)]
        time.sleep(1.0)
        admin.reload("code_clone_detector", version=1)  # FP32 only: version 2 is unloaded
        only_fp32 = {(s.name, s.version): s.state for s in admin.model_status()}
        admin.reload("code_clone_detector", version=[1, 2])  # both again, as the repository says
        both = {(s.name, s.version): s.state for s in admin.model_status()}
        time.sleep(1.0)
        stop.set()
        for worker in workers:
            worker.result()
    assert failures == []
    assert all(count > 0 for count in done)
    assert only_fp32[("code_clone_detector", "1")] == "READY"
    assert only_fp32.get(("code_clone_detector", "2")) != "READY"
    assert both[("code_clone_detector", "1")] == both[("code_clone_detector", "2")] == "READY"


def test_one_client_can_be_used_from_many_threads_repeatedly(triton):
    codes = [sample("bubble_sort.c"), sample("word_count.py"), sample("bubble_sort_renamed.c")] * 4
    with CloneDetectorClient(triton.http_url, batch_size=1, concurrency=4) as client:
        first = client.embed(codes)
        with ThreadPoolExecutor(3) as callers:
            again = list(callers.map(lambda _: client.embed(codes), range(3)))
    for embeddings in again:
        np.testing.assert_allclose(embeddings, first, atol=1e-5)
