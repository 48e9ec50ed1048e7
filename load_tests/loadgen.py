"""Closed-loop load generator for the benchmark, run as its own process.

``concurrency`` gevent greenlets each send one program per request, wait for the
answer and send the next (no think time). Latency: requests that start inside a
measured window; throughput: by Little's law from the clients and the mean cycle
(see :meth:`Target.throughput`; answers counted inside the windows are reported
beside it as ``throughput_completed``). Every
answer is checked (shape, finite unit vectors); an error or a bad answer is a failure.

Several targets (``targets`` in the spec) are measured *interleaved*: each gets
``duration_s`` in slices of ``slice_s``, taking turns in a rotating order, so that
background load drifting over the run (a shared machine) falls on all of them alike.
``inprocess_batched`` is a target too: this process tokenises and runs onnxruntime
itself, ``batch_size`` programs per call (the server modes' hardware limit).

Run in its own process so that its CPU (a real cost on a 2-core machine: it shares
the cores with the server) is measured apart — with ``getrusage`` over the measured
window — beside the server's process tree and the whole machine (psutil).

Modes: ``triton_grpc`` / ``triton_http`` (``tritonclient``, the ``clone_embed``
ensemble, binary tensors unless ``http_binary`` is false), ``per_request``
(geventhttpclient POSTing the program to the baseline service's ``/embed``) and
``inprocess_batched``.

Usage: ``python -m clonedetect.load_tests.loadgen SPEC_JSON OUT_JSON``.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import gevent.threadpool  # noqa: E402
import numpy as np  # noqa: E402

from clonedetect.load_tests.processes import process_tree_cpu  # noqa: E402
from clonedetect.load_tests.triton_locust import check_embeddings  # noqa: E402


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _check(embedding: np.ndarray | None, dim: int | None) -> None:
    """One program's answer: a finite unit vector of the promised width."""
    check_embeddings(None if embedding is None else embedding.reshape(1, -1), 1, dim)


def make_caller(spec: dict):
    """A factory of per-worker ``call(program_index)`` functions for the spec's mode."""
    from clonedetect.client import protocol as wire

    mode, url, timeout = spec["mode"], spec["url"], float(spec.get("timeout_s", 120))
    model = spec.get("triton_model", wire.EMBED_MODEL)
    programs = spec["_programs"]
    dim = spec.get("embedding_dim")  # an imported encoder's width; default the shipped one's
    prebuilt = [wire.encode_codes([p]) for p in programs]
    counter = iter(range(10**12))

    def packed(index: int):
        """The request's [1, 1] BYTES array; with ``unique``, a program never sent before
        (a numbered string literal appended: a comment would not do, the tokenizer drops
        comments and the encoder's cache keys on tokens), so a response cache never hits."""
        if spec.get("unique"):
            return wire.encode_codes([programs[index] + f'\n"submission {next(counter)}"\n'])
        return prebuilt[index]

    if mode == "triton_grpc":
        from grpc.experimental import gevent as grpc_gevent

        grpc_gevent.init_gevent()
        import tritonclient.grpc as module

        def factory():
            client = module.InferenceServerClient(url)

            def call(index: int) -> None:
                inputs, outputs = wire.embed_request(module, packed(index))
                result = client.infer(model, inputs, outputs=outputs, client_timeout=timeout)
                _check(result.as_numpy("EMBEDDING"), dim)

            return call, client.close

        return factory
    if mode == "triton_http":
        import tritonclient.http as module

        binary = bool(spec.get("http_binary", True))

        def factory():
            client = module.InferenceServerClient(
                url, concurrency=1, connection_timeout=timeout, network_timeout=timeout
            )

            def call(index: int) -> None:
                tensor = module.InferInput("CODE", [1, 1], "BYTES")
                tensor.set_data_from_numpy(packed(index), binary_data=binary)
                output = module.InferRequestedOutput("EMBEDDING", binary_data=binary)
                result = client.infer(model, [tensor], outputs=[output])
                _check(result.as_numpy("EMBEDDING"), dim)

            return call, client.close

        return factory
    if mode == "per_request":
        from geventhttpclient import HTTPClient

        host, port = url.rsplit(":", 1)
        bodies = [p.encode("utf-8") for p in programs]

        def factory():
            client = HTTPClient(host, int(port), concurrency=1, connection_timeout=timeout, network_timeout=timeout)

            def call(index: int) -> None:
                response = client.post(
                    "/embed", body=bodies[index], headers={"Content-Type": "text/plain; charset=utf-8"}
                )
                body = response.read()
                if response.status_code != 200:
                    raise RuntimeError(f"HTTP {response.status_code}: {body[:200]!r}")
                _check(np.frombuffer(body, dtype="<f4"), dim)

            return call, client.close

        return factory
    raise ValueError(f"unknown load generator mode {mode!r}")


class Target:
    """One mode under measurement: its clients, and what its measured slices collected."""

    def __init__(self, spec: dict, target: dict, programs: tuple[str, ...], concurrency: int):
        self.spec = {**spec, **target, "_programs": programs}
        self.mode = target["mode"]
        self.name = target.get("name", self.mode)
        self.concurrency = concurrency
        self.count = len(programs)
        self.server_pids = list(target.get("server_pids", []))
        self.starts: list[float] = []  # measured requests (started inside a window): start, end
        self.ends: list[float] = []
        self.completed = 0  # answers completed inside the windows (whenever they started)
        self.window = 0.0
        self.gap_sum, self.gap_count = 0.0, 0  # client time between an answer and the next request
        self.cpu = {"seconds": 0.0, "client": 0.0, "server": 0.0, "busy": 0.0, "total": 0.0}
        self.failures: list[str] = []
        self.parallel, self.per_call = concurrency, 1  # calls in flight, programs per call
        if self.mode == "inprocess_batched":
            self._setup_inprocess(target)
        else:
            factory = make_caller(self.spec)
            self.callers = [factory() for _ in range(concurrency)]
        self.position = [(w * self.count) // self.parallel for w in range(self.parallel)]

    def _setup_inprocess(self, target: dict) -> None:
        from clonedetect.load_tests.encoders import make_encoder
        from clonedetect.preprocessing.tokenization import CodeTokenizer

        self.tokenizer = CodeTokenizer.from_file(target["tokenizer"])
        self.encoder = make_encoder(
            target["model"],
            int(target.get("intra_op_threads", 2)),
            int(target.get("inter_op_threads", 1)),
            spinning=bool(int(target.get("allow_spinning", 1))),
        )
        self.batch_size = int(target.get("batch_size") or self.concurrency)
        self.programs = self.spec["_programs"]
        # ``workers`` calls at once (like the encoder's instance count), each on a real OS
        # thread of a gevent thread pool: onnxruntime releases the GIL.
        self.parallel = max(1, int(target.get("workers", 1)))
        self.per_call = self.batch_size
        self.pool = gevent.threadpool.ThreadPool(self.parallel)

        def factory():
            def call(index: int) -> None:
                batch = [self.programs[(index + i) % self.count] for i in range(self.per_call)]
                self.pool.apply(self._embed, (batch,))

            return call, lambda: None

        self.callers = [factory() for _ in range(self.parallel)]

    def _embed(self, batch: list[str]) -> None:
        # windows per ORT call: embed_sequences' default, as the served encoder (model.py) calls it
        self.encoder.embed_sequences(self.tokenizer.token_ids(batch))

    def close(self) -> None:
        if hasattr(self, "pool"):
            self.pool.kill()
        for _, close in getattr(self, "callers", []):
            try:
                close()
            except Exception:
                pass

    def run_slice(self, seconds: float, settle: float, measure: bool) -> None:
        """A closed-loop stretch of ``seconds``; requests that start after ``settle`` are measured."""
        start = time.perf_counter()
        measure_from, stop_at = start + settle, start + seconds
        marks: dict = {}

        def mark() -> None:  # CPU counters over the measured part (the workers are I/O-bound: this runs on time)
            gevent.sleep(max(0.0, measure_from - time.perf_counter()))
            marks["begin"] = self._cpu_mark()
            gevent.sleep(max(0.0, stop_at - time.perf_counter()))
            marks["end"] = self._cpu_mark()

        def worker(index: int) -> None:
            call = self.callers[index][0]
            per_call = self.per_call
            previous_end = None
            while True:
                began = time.perf_counter()
                if began >= stop_at:
                    return
                try:
                    call(self.position[index] % self.count)
                    ended = time.perf_counter()
                    if measure and began >= measure_from:
                        self.starts.extend([began] * per_call)  # every program of a call waits for all of it
                        self.ends.extend([ended] * per_call)
                        if previous_end is not None:  # the client's own time between two requests
                            self.gap_sum += began - previous_end
                            self.gap_count += 1
                    if measure and measure_from <= ended <= stop_at:
                        self.completed += per_call
                    previous_end = ended
                except Exception as error:  # counted and reported, never hidden
                    self.failures.append(f"{self.name}: {type(error).__name__}: {error}"[:300])
                    previous_end = None
                self.position[index] += per_call

        marker = gevent.spawn(mark)
        greenlets = [gevent.spawn(worker, w) for w in range(self.parallel)]
        gevent.joinall(greenlets + [marker], timeout=seconds + float(self.spec.get("timeout_s", 120)) + 30)
        hung = sum(1 for g in greenlets if not g.ready())
        if hung:
            self.failures.append(f"{self.name}: {hung} workers still waiting for an answer at the end of a slice")
            gevent.killall(greenlets, block=False)
        if measure:
            self.window += stop_at - measure_from
        if measure and "begin" in marks and "end" in marks:
            begin, end = marks["begin"], marks["end"]
            self.cpu["seconds"] += end[0] - begin[0]
            self.cpu["client"] += end[1] - begin[1]
            self.cpu["server"] += end[2] - begin[2]
            self.cpu["busy"] += end[3][0] - begin[3][0]
            self.cpu["total"] += end[3][1] - begin[3][1]

    def _cpu_mark(self):
        return (time.perf_counter(), _cpu_self(), process_tree_cpu(self.server_pids), _system_cpu())

    def throughput(self) -> float:
        """Programs per second. Closed loop, so by Little's law X = N / (R + Z): N calls in
        flight (clients; in-process: workers x programs per call), R the mean latency of
        the measured calls, Z the clients' own time between an answer and the next call.
        Unlike counting answers inside short windows, this has no edge error when answers
        come in bursts (a server batch, an in-process batch)."""
        if not self.starts:
            return 0.0
        mean_latency = float(np.mean(np.array(self.ends) - np.array(self.starts)))
        gap = self.gap_sum / self.gap_count if self.gap_count else 0.0
        return self.parallel * self.per_call / (mean_latency + gap)

    def summary(self) -> dict:
        import psutil

        latencies = (np.array(self.ends) - np.array(self.starts)) * 1000.0 if self.starts else np.array([float("nan")])
        seconds = max(self.cpu["seconds"], 1e-9)
        client, server = self.cpu["client"] / seconds, self.cpu["server"] / seconds
        if self.mode == "inprocess_batched":  # the "server" is this process
            client, server = 0.0, client
        busy_share = self.cpu["busy"] / max(self.cpu["total"], 1e-9)
        return {
            "mode": self.mode,
            "name": self.name,
            "concurrency": self.concurrency,
            "batch_size": getattr(self, "batch_size", 1),
            "requests": int(len(self.starts)),
            "failures": len(self.failures),
            "failure_samples": self.failures[:5],
            "throughput": self.throughput(),
            "throughput_completed": self.completed
            / max(self.window, 1e-9),  # answers inside the windows / their length
            "p50_ms": float(np.percentile(latencies, 50)),
            "p90_ms": float(np.percentile(latencies, 90)),
            "p99_ms": float(np.percentile(latencies, 99)),
            "mean_ms": float(latencies.mean()),
            "client_gap_ms": round(1000.0 * self.gap_sum / self.gap_count, 3) if self.gap_count else None,
            "window_s": self.window,
            "cpu": {
                "client_cores": round(client, 3),
                "server_cores": round(server, 3),
                "system_util_pct": round(100.0 * busy_share, 1),
                "system_cores_busy": round(psutil.cpu_count() * busy_share, 3),
            },
        }


def run(spec: dict) -> dict:
    """Measure one target (``mode``/``url`` in the spec) or several (``targets``),
    interleaved: ``duration_s`` per target is cut into slices of about ``slice_s``,
    and the targets take turns (rotating the order each round), so that background
    load drifting over the run falls on every target alike."""
    from clonedetect.load_tests.payloads import load_corpus

    if spec.get("programs"):  # the caller chose the programs (e.g. median-length ones)
        corpus = tuple(spec["programs"])
    else:
        corpus = load_corpus(int(spec["corpus_size"]), int(spec.get("corpus_seed", 0))).programs

    def programs(target: dict) -> tuple[str, ...]:  # distinct_programs < corpus: repeated submissions
        return corpus[: int(target.get("distinct_programs") or spec.get("distinct_programs") or len(corpus))]

    concurrency = int(spec["concurrency"])
    single = "targets" not in spec
    targets_spec = (
        [{"mode": spec["mode"], "url": spec.get("url"), "server_pids": spec.get("server_pids", [])}]
        if single
        else spec["targets"]
    )
    targets = [Target(spec, t, programs(t), concurrency) for t in targets_spec]
    duration = float(spec["duration_s"])
    slices = max(1, math.ceil(duration / float(spec.get("slice_s") or duration)))
    settle = float(spec.get("settle_s", 0.0 if single else 1.0))
    warmup = float(spec.get("warmup_s", 1.0))

    for target in targets:  # connections open, models warm: one request per client first
        gevent.joinall([gevent.spawn(_first, target, w) for w in range(target.parallel)], timeout=300)
    if single:  # one long stretch: the warm-up flows straight into the measured window
        targets[0].run_slice(warmup + duration, warmup, measure=True)
    else:
        for target in targets:
            target.run_slice(warmup, 0.0, measure=False)
        for round_index in range(slices):
            shift = round_index % len(targets)
            for target in targets[shift:] + targets[:shift]:
                target.run_slice(duration / slices + settle, settle, measure=True)
    for target in targets:
        target.close()
    summaries = [t.summary() for t in targets]
    return summaries[0] if single else {"results": summaries, "slices": slices, "settle_s": settle}


def _first(target: Target, worker: int) -> None:
    try:
        target.callers[worker][0]((worker * 7919) % target.count)
    except Exception as error:
        target.failures.append(f"{target.name}: {type(error).__name__}: {error}"[:300])


def _system_cpu() -> tuple[float, float]:
    import psutil

    times = psutil.cpu_times()
    busy = times.user + times.system + times.nice + getattr(times, "irq", 0) + getattr(times, "softirq", 0)
    return busy, busy + times.idle + getattr(times, "iowait", 0)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(open(argv[0]).read())
    result = run(spec)
    with open(argv[1], "w") as handle:
        json.dump(result, handle)
    # Every client is closed by now; still, a gRPC channel left to the garbage collector
    # blocks forever in Channel.close under gevent at interpreter exit (seen with py-spy:
    # tritonclient InferenceServerClient.__del__ -> grpc Channel._close, futex wait).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
