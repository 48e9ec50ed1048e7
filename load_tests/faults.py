"""Fault run: a steady load over HTTP and gRPC while tritonserver, and then one of its
Python-backend stub processes, is killed with SIGKILL.

``python -m clonedetect.load_tests.faults`` starts ``clonedetect serve`` (which supervises
its tritonserver) on free loopback ports and sends ``clone_embed`` and ``clone_compare``
requests at ``--rate`` per second from one paced thread per protocol (the soak's
:class:`~clonedetect.load_tests.soak.PacedSender`; clients with the default retry policy).
At ``--kill-server-at`` seconds it kills tritonserver, at ``--kill-stub-at`` the stub of
``--stub-model``. It prints, as JSON: requests sent and failed after retries (the run
fails unless 0), requests retried, and for each fault the seconds from the kill to the
first answer to a fresh request (one the response cache cannot answer). Bounded: it ends
after ``--seconds``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from clonedetect import server
from clonedetect.client import CloneDetectorClient, errors
from clonedetect.load_tests.payloads import comparison_pairs, load_corpus
from clonedetect.load_tests.soak import PacedSender
from clonedetect.paths import MODEL_REPOSITORY
from clonedetect.supervisor import SUPERVISING, python_stubs

PROBE_S = 0.05  # how often recovery is probed after a kill


class SupervisedServe:
    """``clonedetect serve`` as a child process on free loopback ports; :meth:`stop` by PID."""

    def __init__(
        self, repository: Path | str, folder: Path, ready_timeout: float = 180, max_restarts: int | None = None
    ):
        folder.mkdir(parents=True, exist_ok=True)
        ports = [server.free_port() for _ in range(3)]
        self.urls = {"http": f"127.0.0.1:{ports[0]}", "grpc": f"127.0.0.1:{ports[1]}"}
        self.stderr = folder / "serve.err"
        command = [sys.executable, "-m", "clonedetect.cli", "serve", "--model-repository", str(repository)]
        command += ["--log-file", str(folder / "triton.log")]
        command += ["--http-port", str(ports[0]), "--grpc-port", str(ports[1]), "--metrics-port", str(ports[2])]
        command += [] if max_restarts is None else ["--max-restarts", str(max_restarts)]
        stdout = folder / "serve.out"
        with open(self.stderr, "wb") as errors_out, open(stdout, "wb") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=errors_out, start_new_session=True)
        deadline = time.monotonic() + ready_timeout
        while SUPERVISING not in stdout.read_text():  # serve's banner: ready, and supervising from now on
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"clonedetect serve did not become ready: {self.stderr.read_text()[-2000:]}")
            time.sleep(0.1)

    def tritonserver_pid(self) -> int:
        import psutil

        children = [c.pid for c in psutil.Process(self.process.pid).children() if c.name() == "tritonserver"]
        if len(children) != 1:
            raise RuntimeError(f"clonedetect serve (pid {self.process.pid}) runs {len(children)} tritonservers")
        return children[0]

    def stub_pid(self, model: str) -> int:
        stubs = [s.pid for s in python_stubs(self.tritonserver_pid()).values() if s.model == model]
        if not stubs:
            raise RuntimeError(f"model {model!r} has no Python-backend stub (it is not a Python-backend model)")
        return stubs[0]

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM: serve stops its tritonserver on the way out."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=timeout)

    def __enter__(self) -> SupervisedServe:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def seconds_to_recover(url: str, killed_at: float, limit_s: float = 120) -> float:
    """From ``killed_at`` to the first answer to a fresh comparison (never cached), no retries."""
    with CloneDetectorClient(url, retry=None, timeout=10) as probe:
        number = 0
        while time.monotonic() - killed_at < limit_s:
            number += 1
            try:
                probe.compare(f"int probe{number}(void) {{ return {number}; }}", "int f(void) { return 1; }")
                return round(time.monotonic() - killed_at, 2)
            except errors.ClonedetectError:
                time.sleep(PROBE_S)
    raise RuntimeError(f"the server at {url} did not answer within {limit_s:.0f} s of the kill")


def _kill(pid: int) -> float:
    os.kill(pid, signal.SIGKILL)
    return time.monotonic()


def _sleep_until(started: float, at_s: float) -> None:
    time.sleep(max(0.0, started + at_s - time.monotonic()))


def run_faults(
    serve: SupervisedServe, seconds: float, rate: float, kill_server_at: float, kill_stub_at: float, stub_model: str
) -> dict:
    """The load on ``serve`` with both faults; the figures (see the module doc)."""
    corpus = load_corpus(128, seed=0)
    pairs = comparison_pairs(corpus, 64, 0)
    clients = [CloneDetectorClient(serve.urls[p], protocol=p, timeout=30) for p in ("http", "grpc")]
    senders = [PacedSender(c, rate / 2, corpus.programs, pairs, seed) for seed, c in enumerate(clients)]
    recovery = {}
    started = time.monotonic()
    try:
        for sender in senders:
            sender.thread.start()
        _sleep_until(started, kill_server_at)
        recovery["tritonserver"] = seconds_to_recover(serve.urls["http"], _kill(serve.tritonserver_pid()))
        _sleep_until(started, kill_stub_at)
        recovery[f"stub:{stub_model}"] = seconds_to_recover(serve.urls["http"], _kill(serve.stub_pid(stub_model)))
        _sleep_until(started, seconds)
    finally:
        for sender in senders:
            sender.stop.set()
            sender.thread.join(timeout=90)
        for client in clients:
            client.close()
    answered = sum(len(s.latencies) for s in senders)
    failed = sum(len(s.failures) for s in senders)
    return {
        "seconds": round(time.monotonic() - started, 1),
        "target_rate": rate,
        "requests_sent": answered + failed,
        "failed_after_retries": failed,
        "failure_examples": [f for s in senders for f in s.failures[:3]],
        "retried": sum(c.retried for c in clients),
        "seconds_from_kill_to_fresh_answer": recovery,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clonedetect.load_tests.faults", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=40.0, help="length of the run (default 40)")
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second, both protocols together")
    parser.add_argument("--kill-server-at", type=float, default=8.0, help="second of the run to kill tritonserver")
    parser.add_argument("--kill-stub-at", type=float, default=24.0, help="second of the run to kill the stub")
    parser.add_argument("--stub-model", default="code_tokenizer", help="whose stub to kill (a Python-backend model)")
    parser.add_argument("--model-repository", default=str(MODEL_REPOSITORY))
    parser.add_argument("--log-dir", default="reports/faults", help="serve's and Triton's logs")
    args = parser.parse_args(argv)
    if not 0 < args.kill_server_at < args.kill_stub_at < args.seconds:
        parser.error("use 0 < --kill-server-at < --kill-stub-at < --seconds")
    server.unwind_on_sigterm()
    with SupervisedServe(args.model_repository, Path(args.log_dir)) as serve:
        figures = run_faults(serve, args.seconds, args.rate, args.kill_server_at, args.kill_stub_at, args.stub_model)
    print(json.dumps(figures, indent=2))
    return 1 if figures["failed_after_retries"] else 0


if __name__ == "__main__":
    sys.exit(main())
