"""What the benchmark and the tuning runs measure on: the machine, repository copies,
the encoder's settings, and the servers (the bundled Triton and the per-request
baseline service), each started on free loopback ports and stopped by PID."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

from clonedetect import paths
from clonedetect.load_tests.processes import stop_process_group
from clonedetect.server import BUNDLED_CONFIG_NAME


# -- machine, processes --------------------------------------------------------------
def machine_info() -> dict:
    import onnxruntime
    import psutil

    model_name = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": model_name or platform.processor(),
        "logical_cpus": psutil.cpu_count(),
        "physical_cpus": psutil.cpu_count(logical=False),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def pid_listening_on(port: int) -> int | None:
    """The process listening on a loopback TCP port (for a server given by URL)."""
    import psutil

    try:
        for connection in psutil.net_connections(kind="tcp"):
            if connection.status == psutil.CONN_LISTEN and connection.laddr and connection.laddr.port == port:
                return connection.pid
    except (psutil.AccessDenied, PermissionError):
        return None
    return None


# -- the encoder's settings and weights ------------------------------------------------
def _read_parameter(config: Path, key: str, default: int) -> int:
    match = re.search(rf'key:\s*"{re.escape(key)}"\s*value:\s*{{\s*string_value:\s*"(\d+)"', config.read_text())
    return int(match.group(1)) if match else default


def _instance_count(config: Path) -> int:
    match = re.search(r"instance_group\s*\[\s*{\s*count:\s*(\d+)", config.read_text())
    return int(match.group(1)) if match else 1


def bundled_encoder_config(repository: Path, model: str = paths.ENCODER_MODEL) -> Path:
    """The encoder config the bundled server loads: ``configs/bundled.pbtxt``, else ``config.pbtxt``."""
    config = paths.model_config(model, repository, BUNDLED_CONFIG_NAME)
    return config if config.exists() else paths.model_config(model, repository)


def encoder_settings(repository: Path, model: str = paths.ENCODER_MODEL) -> dict:
    """Instance count and ORT threads of the bundled encoder config (what the baselines copy)."""
    config = bundled_encoder_config(repository, model)
    return {
        "workers": _instance_count(config),
        "intra_op_threads": _read_parameter(config, "intra_op_thread_count", 2),
        "inter_op_threads": _read_parameter(config, "inter_op_thread_count", 1),
        "allow_spinning": _read_parameter(config, "allow_spinning", 1),
    }


def model_fingerprint(model_path: Path) -> dict:
    """Which encoder a measurement used (the shipped weights are retrained from time to time)."""
    import hashlib

    digest = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()[:16]
    try:
        import onnx  # the 'train' extra; optional here
    except ImportError:
        parameters = None
    else:
        graph = onnx.load(str(model_path), load_external_data=False).graph
        parameters = sum(int(np.prod(t.dims)) for t in graph.initializer)
    return {
        "path": str(model_path),
        "bytes": Path(model_path).stat().st_size,
        "sha256_16": digest,
        "parameters": parameters,
    }


# -- repository copies ---------------------------------------------------------------------
def copy_repository(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def install_model(repository: Path, model_path: Path) -> None:
    target = paths.encoder_file(repository)
    if Path(model_path).resolve() != target.resolve():
        shutil.copy2(model_path, target)


def with_parameter(config_text: str, key: str, value: int | str) -> str:
    """A ``config.pbtxt`` text with its string parameter ``key`` set to ``value``."""
    pattern = rf'(key:\s*"{re.escape(key)}"\s*value:\s*{{\s*string_value:\s*")[^"]*(")'
    return re.sub(pattern, rf"\g<1>{value}\g<2>", config_text)


def set_pad_multiple(repository: Path, window: int) -> None:
    config = paths.model_config(paths.TOKENIZER_MODEL, repository)
    config.write_text(with_parameter(config.read_text(), "pad_to_multiple_of", window))


def build_bert_base_repository(target: Path, base_repository: Path, window: int = 256, seed: int = 0) -> Path:
    """A copy of ``base_repository`` whose encoder is BERT-base sized (random weights):
    12 layers, hidden 768, 12 heads, FFN 3072, built and exported with the project's code."""
    import torch  # the 'train' extra; only this option needs it

    from clonedetect.client.protocol import EMBEDDING_DIM
    from clonedetect.preprocessing.tokenization import CodeTokenizer
    from clonedetect.training.export import export_onnx
    from clonedetect.training.model import CodeEncoder, EncoderConfig

    repository = copy_repository(base_repository, target)
    vocab = CodeTokenizer.from_file(paths.tokenizer_file(repository)).vocab_size
    torch.manual_seed(seed)
    config = EncoderConfig(
        vocab_size=vocab, dim=768, layers=12, heads=12, ffn_dim=3072, window=window, embedding_dim=EMBEDDING_DIM
    )
    model = CodeEncoder(config).eval()
    export_onnx(model, paths.encoder_file(repository))
    set_pad_multiple(repository, window)
    return repository


# -- servers ---------------------------------------------------------------------------------
def start_triton(repository: Path, log_dir: Path, extra: tuple[str, ...] = ()):
    from clonedetect import server

    return server.start_on_free_ports(repository, log_path=log_dir / "triton.log", extra=extra, timeout=600)


class PerRequestService:
    """The baseline service in its own process group, stopped by PID."""

    def __init__(
        self,
        tokenizer: Path,
        model: Path,
        workers: int,
        intra: int,
        inter: int,
        log_path: Path,
        spinning: bool = True,
        windowed_tokenizer: bool = False,
    ):
        """``windowed_tokenizer``: ``tokenizer`` is an imported model's (``import-model``)."""
        from clonedetect import server

        self.port = server.free_port()
        self.url = f"127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "clonedetect.load_tests.per_request_server",
            "--port",
            str(self.port),
            "--tokenizer",
            str(tokenizer),
            "--model",
            str(model),
            "--workers",
            str(workers),
            "--intra-op-threads",
            str(intra),
            "--inter-op-threads",
            str(inter),
            *([] if spinning else ["--no-spinning"]),
            *(["--windowed-tokenizer"] if windowed_tokenizer else []),
        ]
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_ready(self, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"per-request service exited with status {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"http://{self.url}/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.25)
        raise RuntimeError("per-request service not ready in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            stop_process_group(self.process, grace_s=10)
        self._log.close()
