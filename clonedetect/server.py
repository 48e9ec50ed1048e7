"""The bundled Triton Inference Server: the real ``tritonserver`` 2.51 from the
``nvidia-pytriton`` wheel, run directly (not through PyTriton's Python-model API).

The wheel has the server, the Python backend and one backend stub per Python
version, but no ONNX Runtime backend, so the local server selects the models'
``configs/bundled.pbtxt`` (onnxruntime inside the Python backend) with
``--model-config-name``.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from clonedetect import admission
from clonedetect.data import cache_dir
from clonedetect.paths import MODEL_CONFIG_FILE, MODEL_REPOSITORY

BUNDLED_CONFIG_NAME = "bundled"
DEFAULT_PORTS = {"http": 8000, "grpc": 8001, "metrics": 8002}


class ServerError(RuntimeError):
    """The local Triton server could not be started or did not become ready."""


def _pytriton_root() -> Path:
    try:
        import pytriton
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ServerError(
            "the bundled Triton server needs the 'server' extra: pip install 'clonedetect[server]'"
        ) from exc
    return Path(pytriton.__file__).resolve().parent


def tritonserver_binary() -> Path:
    return _pytriton_root() / "tritonserver" / "bin" / "tritonserver"


def backend_directory() -> Path:
    """A backend folder holding the Python backend with the stub for this interpreter.

    The wheel keeps the stubs apart from the backend (one per Python version); Triton
    wants ``<backend dir>/python/triton_python_backend_stub``, so a copy is assembled
    once in the cache.
    """
    tritonserver = _pytriton_root() / "tritonserver"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = tritonserver / "python_backend_stubs" / version / "triton_python_backend_stub"
    if not stub.exists():
        raise ServerError(f"the bundled Triton server has no Python backend stub for Python {version}")
    target = cache_dir() / "triton-backends" / f"py{version}"
    python_backend = target / "python"
    if not (python_backend / "triton_python_backend_stub").exists():
        shutil.copytree(tritonserver / "backends" / "python", python_backend, dirs_exist_ok=True)
        shutil.copy2(stub, python_backend / "triton_python_backend_stub")
    return target


def server_environment() -> dict[str, str]:
    """Environment for ``tritonserver`` and the Python-backend stubs it spawns.

    The stub ignores PYTHONPATH and runs ``python3`` from PATH, so this interpreter's
    ``bin`` folder goes first; the server needs the wheel's shared libraries and the
    stub needs ``libpython`` from the interpreter's prefix.
    """
    env = dict(os.environ)
    libs = _pytriton_root().parent / "nvidia_pytriton.libs"
    python_lib = sysconfig.get_config_var("LIBDIR") or str(Path(sys.base_prefix) / "lib")
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (str(libs), python_lib, env.get("LD_LIBRARY_PATH", "")) if p)
    env["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", "")))
    # Each stub is one process per model instance: keep its numeric libraries to the
    # threads the model config asks for instead of one per core.
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


RESPONSE_CACHE_BYTES = 256 * 2**20  # ~150k cached embeddings (384 floats plus key and bookkeeping)
EXIT_TIMEOUT_S = 10  # in-flight requests finish; idle keep-alive clients do not hold it up long


def server_arguments(
    model_repository: Path | str = MODEL_REPOSITORY,
    *,
    host: str = "127.0.0.1",
    http_port: int = DEFAULT_PORTS["http"],
    grpc_port: int = DEFAULT_PORTS["grpc"],
    metrics_port: int = DEFAULT_PORTS["metrics"],
    model_config_name: str | None = BUNDLED_CONFIG_NAME,
    exit_timeout_s: int = EXIT_TIMEOUT_S,
    extra: tuple[str, ...] = (),
) -> list[str]:
    """The Triton command line (without the binary): the one builder of it.

    ``clonedetect serve`` runs it; the ``Dockerfile``'s default command and the Helm
    chart's ``clonedetect.tritonArgs`` are checked against it by the tests (they cannot
    call Python), so a flag added here and not there fails a test.
    """
    args = [
        f"--model-repository={model_repository}",
        "--model-control-mode=explicit",
        "--load-model=*",
        "--strict-readiness=true",
        f"--http-address={host}",
        f"--http-port={http_port}",
        f"--grpc-address={host}",
        f"--grpc-port={grpc_port}",
        "--allow-metrics=true",
        f"--metrics-address={host}",
        f"--metrics-port={metrics_port}",
        "--metrics-config=summary_latencies=true",
        # clone_embed answers a resubmitted program from this cache (docs/PERFORMANCE.md,
        # Tuning; model_repository/clone_embed/config.pbtxt says why only there).
        f"--cache-config=local,size={RESPONSE_CACHE_BYTES}",
        f"--exit-timeout-secs={exit_timeout_s}",
    ]
    if model_config_name:
        args.append(f"--model-config-name={model_config_name}")
    return args + list(extra)


from clonedetect.client.protocol import ADMIN_KEY_HEADER  # noqa: E402  (one name for server and client)


def restricted_model_control_arguments(admin_key: str) -> list[str]:
    """Triton options that allow model load/unload only with the ``admin-key`` header."""
    return [
        f"--http-restricted-api=model-repository:{ADMIN_KEY_HEADER}={admin_key}",
        f"--grpc-restricted-protocol=model-repository:{ADMIN_KEY_HEADER}={admin_key}",
    ]


def grpc_tls_arguments(certificate: Path | str, key: Path | str, client_ca: Path | str | None = None) -> list[str]:
    """Triton options for gRPC over TLS with this server certificate and key; with
    ``client_ca``, mutual TLS: only clients with a certificate signed by it get in."""
    args = [f"--grpc-server-cert={certificate}", f"--grpc-server-key={key}"]
    if client_ca is None:
        return ["--grpc-use-ssl=true", *args]
    return ["--grpc-use-ssl-mutual=true", *args, f"--grpc-root-cert={client_ca}"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (``localhost``, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def model_control_key(host: str, given: str | None) -> tuple[str | None, bool]:
    """The admin key that restricts model load/unload, and whether it was generated here.

    A server bound beyond loopback never leaves model control open: without a key given,
    one is generated (to be shown once): hexadecimal, so that it never begins with "-" and
    can be passed as `--admin-key KEY` or put in a header as it is. On loopback the given
    key, if any, applies."""
    if given:
        return given, False
    if is_loopback(host):
        return None, False
    return secrets.token_hex(24), True


def local_arguments() -> list[str]:
    """Arguments only the bundled server needs: where its backends and caches are."""
    return [
        f"--backend-directory={backend_directory()}",
        f"--cache-directory={_pytriton_root() / 'tritonserver' / 'caches'}",
    ]


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


REMOTE_SCHEMES = ("s3", "gs", "as")  # object stores Triton reads a repository from itself


def is_remote(location: str | Path) -> bool:
    return isinstance(location, str) and location.split("://", 1)[0] in REMOTE_SCHEMES and "://" in location


def repository_location(location: str | Path) -> str | Path:
    """What ``--model-repository`` gets: a local folder, resolved, or an object-store URL.

    ``s3://bucket/prefix`` with ``AWS_ENDPOINT_URL`` set (an S3-compatible endpoint, the
    standard variable) becomes Triton's own form ``s3://host:port/bucket/prefix``."""
    if not is_remote(location):
        return Path(location).resolve()
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    scheme, rest = location.split("://", 1)
    if scheme != "s3" or not endpoint or ":" in rest.split("/", 1)[0]:
        return location
    host = endpoint.split("://", 1)[-1].rstrip("/")
    return f"s3://{host}/{rest}"


def check_repository(model_repository: Path) -> None:
    """Fail early, with a clear message, on a repository Triton would not load."""
    if not model_repository.is_dir():
        raise ServerError(f"model repository {model_repository} does not exist or is not a folder")
    models = [p for p in model_repository.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if not models:
        raise ServerError(f"model repository {model_repository} holds no model folders")
    for model in models:
        if not (model / MODEL_CONFIG_FILE).exists():
            raise ServerError(f"model {model.name!r} in {model_repository} has no {MODEL_CONFIG_FILE}")


@dataclass
class TritonProcess:
    """A running ``tritonserver``; stop it with :meth:`stop` (by PID, process group)."""

    args: list[str]
    host: str = "127.0.0.1"
    http_port: int = DEFAULT_PORTS["http"]
    grpc_port: int = DEFAULT_PORTS["grpc"]
    metrics_port: int = DEFAULT_PORTS["metrics"]
    log_path: Path | None = None
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def http_url(self) -> str:
        return f"{self.host}:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"{self.host}:{self.grpc_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://{self.host}:{self.metrics_port}/metrics"

    @property
    def local_metrics_url(self) -> str:
        """The metrics endpoint as reached from the server's own machine."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else "[::1]" if self.host == "::" else self.host
        return f"http://{host}:{self.metrics_port}/metrics"

    def start(self) -> TritonProcess:
        for name, port in (("HTTP", self.http_port), ("gRPC", self.grpc_port), ("metrics", self.metrics_port)):
            if not port_is_free(self.host, port):
                raise ServerError(
                    f"{name} port {port} on {self.host} is already in use: stop what holds it "
                    f"or pick another port (--{name.lower()}-port)"
                )
        mode = "wb" if self.process is None else "ab"  # a restart keeps the log of the run that ended
        output = open(self.log_path, mode) if self.log_path else None
        self.process = subprocess.Popen(
            [str(tritonserver_binary()), *self.args],
            # The ensembles' first steps read the pending-request gauge here (clonedetect.admission).
            env={**server_environment(), admission.METRICS_URL_ENV: self.local_metrics_url},
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,  # own process group: stopping it stops its stubs too
        )
        return self

    def is_ready(self) -> bool:
        """Models ready *and* the metrics endpoint up: tritonserver opens its metrics port
        a moment after the HTTP endpoint reports ready."""
        try:
            with urllib.request.urlopen(f"http://{self.http_url}/v2/health/ready", timeout=2) as reply:
                if reply.status != 200:
                    return False
            with urllib.request.urlopen(self.metrics_url, timeout=2) as reply:
                return reply.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait_until_ready(self, timeout: float = 180.0, while_waiting: Callable[[], None] | None = None) -> None:
        """Poll until ready; ``while_waiting`` is called at each poll (the supervisor
        records the backend processes as they start)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if while_waiting is not None:
                while_waiting()
            if self.process is not None and self.process.poll() is not None:
                raise ServerError(
                    f"tritonserver exited with status {self.process.returncode} before it was ready"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            if self.is_ready():
                return
            time.sleep(0.25)
        raise ServerError(f"tritonserver was not ready after {timeout:.0f} s")

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM the server (it unloads models and ends its stubs), then SIGKILL the group."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        try:  # any stub left behind in the group
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return self.process.returncode

    def __enter__(self) -> TritonProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def local_server(
    model_repository: Path | str = MODEL_REPOSITORY,
    *,
    host: str = "127.0.0.1",
    http_port: int = DEFAULT_PORTS["http"],
    grpc_port: int = DEFAULT_PORTS["grpc"],
    metrics_port: int = DEFAULT_PORTS["metrics"],
    model_config_name: str | None = BUNDLED_CONFIG_NAME,
    extra: tuple[str, ...] = (),
    log_path: Path | None = None,
) -> TritonProcess:
    """A :class:`TritonProcess` (not yet started) for the bundled server on ``model_repository``
    (a folder, or an object-store URL that Triton reads itself: :func:`repository_location`)."""
    if not is_remote(model_repository):
        check_repository(Path(model_repository))
    args = (
        server_arguments(
            model_repository,
            host=host,
            http_port=http_port,
            grpc_port=grpc_port,
            metrics_port=metrics_port,
            model_config_name=model_config_name,
            extra=extra,
        )
        + local_arguments()
    )
    return TritonProcess(args, host, http_port, grpc_port, metrics_port, log_path)


def start_on_free_ports(
    model_repository: Path | str = MODEL_REPOSITORY,
    *,
    log_path: Path,
    extra: tuple[str, ...] = (),
    timeout: float = 300.0,
) -> TritonProcess:
    """Start the bundled server on free loopback ports and wait until it is ready
    (stopping it again if it is not)."""
    triton = local_server(
        model_repository,
        http_port=free_port(),
        grpc_port=free_port(),
        metrics_port=free_port(),
        extra=extra,
        log_path=log_path,
    )
    triton.start()
    try:
        triton.wait_until_ready(timeout=timeout)
    except ServerError:
        triton.stop()
        raise
    return triton


def unwind_on_sigterm() -> None:
    """SIGTERM (from make, a CI timeout, Kubernetes) unwinds like Ctrl-C, so the servers a
    command started are stopped by PID on the way out."""

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
