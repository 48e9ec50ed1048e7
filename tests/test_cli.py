"""The `clonedetect` command line against the real server, and `clonedetect serve` itself."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from clonedetect import paths, server
from clonedetect.cli import build_parser
from clonedetect.client.protocol import EMBEDDING_DIM
from tests.conftest import SAMPLES

CLI = [sys.executable, "-m", "clonedetect.cli"]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.integration
@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_compare_and_embed_print_json(triton, protocol):
    url = triton.http_url if protocol == "http" else triton.grpc_url
    compared = run_cli(
        "compare",
        str(SAMPLES / "bubble_sort.c"),
        str(SAMPLES / "bubble_sort_renamed.c"),
        "--url",
        url,
        "--protocol",
        protocol,
    )
    assert compared.returncode == 0, compared.stderr
    result = json.loads(compared.stdout)
    assert set(result) == {"file_a", "file_b", "similarity", "probability", "verification", "evidence"}
    assert result["evidence"]["tokens_a"] > 0 and isinstance(result["evidence"]["fragments"], list)
    assert 0.0 <= result["probability"] <= 1.0
    embedded = run_cli(
        "embed", str(SAMPLES / "bubble_sort.c"), str(SAMPLES / "word_count.py"), "--url", url, "--protocol", protocol
    )
    assert embedded.returncode == 0, embedded.stderr
    rows = json.loads(embedded.stdout)
    assert [len(r["embedding"]) for r in rows] == [EMBEDDING_DIM, EMBEDDING_DIM]


@pytest.mark.integration
def test_status_lists_every_model_ready(triton):
    status = run_cli("status", "--url", triton.http_url)
    assert status.returncode == 0, status.stderr
    payload = json.loads(status.stdout)
    assert payload["live"] and payload["ready"]
    ready = {m["name"] for m in payload["models"] if m["state"] == "READY"}
    assert {"code_tokenizer", "code_clone_detector", "clone_scorer", "clone_embed", "clone_compare"} <= ready


def test_cli_errors_say_what_was_wrong(tmp_path):
    missing = run_cli("compare", str(tmp_path / "nope.c"), str(SAMPLES / "bubble_sort.c"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    empty = tmp_path / "empty.c"
    empty.write_text("  \n")
    rejected = run_cli("embed", str(empty), "--url", f"127.0.0.1:{server.free_port()}")
    assert rejected.returncode == 2 and "empty or only whitespace" in rejected.stderr
    nobody = run_cli("status", "--url", f"127.0.0.1:{server.free_port()}", "--timeout", "5")
    assert nobody.returncode == 1 and "no Triton server" in nobody.stderr


def test_serve_refuses_a_port_in_use():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli("serve", "--http-port", str(port), "--grpc-port", str(server.free_port()))
    assert result.returncode == 2
    assert f"HTTP port {port} on 127.0.0.1 is already in use" in result.stderr


def test_serve_refuses_a_repository_without_configs(tmp_path):
    (tmp_path / "some_model" / "1").mkdir(parents=True)
    result = run_cli("serve", "--model-repository", str(tmp_path))
    assert result.returncode == 2
    assert "'some_model'" in result.stderr and "no config.pbtxt" in result.stderr


@pytest.mark.integration
def test_serve_reports_a_model_that_fails_to_load(tmp_path):
    repository = tmp_path / "model_repository"
    shutil.copytree(paths.MODEL_REPOSITORY, repository, ignore=shutil.ignore_patterns("__pycache__"))
    (repository / "clone_scorer" / "config.pbtxt").write_text('name: "clone_scorer"\nbackend: "python"\ninput [ { oops')
    result = run_cli(
        "serve", "--model-repository", str(repository), *free_port_options(), "--log-file", str(tmp_path / "log")
    )
    assert result.returncode == 1
    assert "exited with status" in result.stderr
    assert "clone_scorer" in (tmp_path / "log").read_text()


def free_port_options() -> list[str]:
    return [
        "--http-port",
        str(server.free_port()),
        "--grpc-port",
        str(server.free_port()),
        "--metrics-port",
        str(server.free_port()),
    ]


@pytest.mark.integration
def test_serve_beyond_loopback_generates_an_admin_key_then_sigterm_leaves_nothing_running(tmp_path):
    options = free_port_options()
    http_url = f"127.0.0.1:{options[1]}"
    env = {k: v for k, v in os.environ.items() if k != "CLONEDETECT_ADMIN_KEY"}
    serve = subprocess.Popen(
        [*CLI, "serve", *options, "--host", "0.0.0.0", "--log-file", str(tmp_path / "triton.log")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        banner = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not any("Ctrl-C" in line for line in banner):
            banner.append(serve.stdout.readline())
        assert f"HTTP    http://0.0.0.0:{options[1]}" in "".join(banner)
        key_line = banner.index(next(line for line in banner if "needs this admin key" in line)) + 1
        admin_key = banner[key_line].strip()
        assert len(admin_key) >= 24
        processes = psutil.Process(serve.pid).children(recursive=True)
        assert any("triton_python_backend_stub" in " ".join(p.cmdline()) for p in processes)

        denied = run_cli("reload", "code_clone_detector", "--url", http_url)
        assert denied.returncode == 1 and "admin key" in denied.stderr
        allowed = run_cli("reload", "code_clone_detector", "--url", http_url, "--admin-key", admin_key)
        assert allowed.returncode == 0, allowed.stderr
        assert run_cli("status", "--url", http_url, "--admin-key", admin_key).returncode == 0
    finally:
        serve.send_signal(signal.SIGTERM)
        returncode = serve.wait(timeout=60)
    assert returncode == 0
    time.sleep(0.5)
    left = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert left == [], f"processes left running: {[p.cmdline() for p in left]}"
    if os.path.exists(f"/proc/{serve.pid}"):
        pytest.fail("clonedetect serve still running")


def test_model_control_is_never_open_beyond_loopback():
    assert server.model_control_key("127.0.0.1", None) == (None, False)
    assert server.model_control_key("::1", None) == (None, False)
    assert server.model_control_key("localhost", "mine") == ("mine", False)
    assert server.model_control_key("0.0.0.0", "mine") == ("mine", False)
    first, generated = server.model_control_key("0.0.0.0", None)
    assert generated and len(first) >= 24
    assert server.model_control_key("10.1.2.3", None)[0] != first  # a new key each time
    assert server.model_control_key("triton.example.org", None)[1]


def test_a_generated_admin_key_can_follow_the_admin_key_option():
    # a key that began with "-" would be read by argparse as an option, not as the key
    for _ in range(2000):
        key, _generated = server.model_control_key("0.0.0.0", None)
        assert re.fullmatch(r"[0-9a-f]{48}", key), key
    parsed = build_parser().parse_args(["reload", "m", "--admin-key", key])
    assert parsed.admin_key == key
