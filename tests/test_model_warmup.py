"""The configs' model_warmup on the real bundled server: the first request after a load is
about as fast as later ones. Measured side by side, alternating loads of each model with its
config as shipped and without its model_warmup; the figures are printed (pytest -s)."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest
import tritonclient.http

from clonedetect import paths
from tests.conftest import start_server

PROGRAM = "int f(int x) {\n    return x * 2 + 1;\n}\n"


def _request(model: str) -> list:
    """One typical request to ``model`` (HTTP inputs)."""
    if model == paths.ENCODER_MODEL:
        ids = np.random.default_rng(0).integers(5, 8000, (1, 256)).astype(np.int64)
        tensors = [("input_ids", ids), ("attention_mask", np.ones_like(ids))]
    else:
        code = np.array([[PROGRAM.encode()]], dtype=np.object_)
        names = ("CODE",) if model == paths.TOKENIZER_MODEL else ("CODE_A", "CODE_B")
        tensors = [(name, code) for name in names]
    inputs = []
    for name, values in tensors:
        tensor = tritonclient.http.InferInput(
            name, list(values.shape), tritonclient.http.np_to_triton_dtype(values.dtype)
        )
        tensor.set_data_from_numpy(values)
        inputs.append(tensor)
    return inputs


def _first_and_steady_ms(client, model: str, config: dict) -> tuple[float, float]:
    """Load ``model`` with ``config``; the first request's latency and the median of the next 15."""
    client.load_model(model, config=json.dumps(config))
    latencies = []
    for _ in range(16):
        start = time.perf_counter()
        client.infer(model, _request(model), model_version="1")
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies[0], float(np.median(latencies[1:]))


@pytest.fixture(scope="module")
def warmup_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("warmup")
    shutil.copytree(paths.MODEL_REPOSITORY, folder / "repository", ignore=shutil.ignore_patterns("__pycache__"))
    triton = start_server(folder / "repository", folder / "triton.log")
    yield triton
    triton.stop()


@pytest.mark.integration
@pytest.mark.parametrize("model", [paths.ENCODER_MODEL, paths.TOKENIZER_MODEL, paths.VERIFIER_MODEL])
def test_model_warmup_makes_the_first_request_after_a_load_about_as_fast_as_later_ones(model, warmup_server):
    """Side by side, alternating: the config as shipped (with model_warmup) and without it."""
    with tritonclient.http.InferenceServerClient(warmup_server.http_url, network_timeout=120) as client:
        shipped = client.get_model_config(model)
        assert shipped["model_warmup"], f"{model} warms up"
        cold = {key: value for key, value in shipped.items() if key != "model_warmup"}
        runs = {"without": [], "with": []}
        for _ in range(3):  # alternating, so load on the shared machine falls on both alike
            runs["without"].append(_first_and_steady_ms(client, model, cold))
            runs["with"].append(_first_and_steady_ms(client, model, shipped))
    first = {label: float(np.median([f for f, _ in rows])) for label, rows in runs.items()}
    steady = float(np.median([s for rows in runs.values() for _, s in rows]))
    print(
        f"\n{model}: first request after a load {first['without']:.1f} ms without warm-up, "
        f"{first['with']:.1f} ms with ({first['without'] / first['with']:.1f}x); steady {steady:.1f} ms; "
        f"first/steady {first['without'] / steady:.1f}x without, {first['with'] / steady:.1f}x with"
    )
    assert first["without"] > 2 * first["with"], runs
