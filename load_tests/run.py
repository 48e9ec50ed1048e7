"""A bounded, headless Locust run against the clonedetect Triton server.

:func:`run_load` runs ``locust`` headless in a child process (its own process group)
with ``--run-time`` and ``--stop-timeout``, writes Locust's CSV statistics and HTML
report, and ends for sure:

1. Locust stops its users at ``run_time`` and gives in-flight requests ``stop_timeout``;
2. inside the child an OS-thread guard (:mod:`~clonedetect.load_tests.exit_guard`)
   exits the process if it is still there ``hard_exit_grace`` seconds later, and again
   5 s after the reports are written (gRPC under gevent has been seen to hang the exit);
3. the parent waits at most ``startup + run_time + stop_timeout + grace`` and then
   SIGTERMs, and a few seconds later SIGKILLs, the child's process group.

With no server address it starts the bundled Triton on free loopback ports and
stops it (by PID) at the end. Any failed request, a non-zero Locust status, a kill,
or a run without requests raises :class:`LoadTestFailed` (``clonedetect load`` exits 1).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from clonedetect import paths
from clonedetect.load_tests.processes import process_tree_cpu, stop_process_group

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
USER_CLASSES = {"http": "HttpTritonUser", "grpc": "GrpcTritonUser"}
STARTUP_ALLOWANCE_S = 30.0  # importing locust/tritonclient and reading the corpus, on a busy machine
KILL_GRACE_S = 5.0


class LoadTestFailed(RuntimeError):
    """The load run had failures, did not end by itself, or sent nothing."""

    def __init__(self, message: str, summary: LoadSummary | None = None):
        super().__init__(message)
        self.summary = summary


@dataclass
class LoadSummary:
    rows: list[dict]  # per request type and name, plus "Aggregated" (from the CSV)
    total_requests: int
    total_failures: int
    exit_code: int | None
    killed: bool  # the parent had to kill the locust process group
    wall_s: float  # the locust child, start to end
    bound_s: float  # the parent's hard limit for the child
    run_time_s: float
    users: int
    csv_prefix: str
    html_path: str
    log_path: str
    locust_cpu_s: float  # CPU seconds the load generator itself used (user + system)
    server_cpu_s: float | None = None  # CPU of the Triton process tree, when this run started it
    server: dict = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)

    def row(self, request_type: str, name: str) -> dict | None:
        return next((r for r in self.rows if r["type"] == request_type and r["name"] == name), None)

    def to_dict(self) -> dict:
        return asdict(self)


def _number(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def read_stats_csv(path: Path) -> list[dict]:
    """Locust's ``<prefix>_stats.csv`` as rows of numbers."""
    rows = []
    with open(path, newline="") as handle:
        for record in csv.DictReader(handle):
            rows.append(
                {
                    "type": record["Type"],
                    "name": record["Name"],
                    "requests": int(record["Request Count"]),
                    "failures": int(record["Failure Count"]),
                    "median_ms": _number(record["Median Response Time"]),
                    "avg_ms": _number(record["Average Response Time"]),
                    "p95_ms": _number(record.get("95%")),
                    "p99_ms": _number(record.get("99%")),
                    "max_ms": _number(record["Max Response Time"]),
                    "rps": _number(record["Requests/s"]),
                }
            )
    return rows


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def locust_command(
    *,
    host_http: str,
    host_grpc: str,
    users: int,
    spawn_rate: float,
    run_time: float,
    stop_timeout: float,
    csv_prefix: Path,
    html_path: Path,
    summary_json: Path,
    protocols: tuple[str, ...],
    step_count: int,
    embed_batch: int,
    compare_batch: int,
    corpus_size: int,
    hard_exit_grace: float,
    locustfile: Path,
    extra_args: tuple[str, ...] = (),
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{max(1, round(run_time))}s",
        "--stop-timeout",
        f"{math.ceil(stop_timeout)}s",
        "--host",
        host_http,
        "--grpc-host",
        host_grpc,
        "--csv",
        str(csv_prefix),
        "--html",
        str(html_path),
        "--summary-json",
        str(summary_json),
        "--step-count",
        str(step_count),
        "--embed-batch",
        str(embed_batch),
        "--compare-batch",
        str(compare_batch),
        "--corpus-size",
        str(corpus_size),
        "--hard-exit-grace",
        str(hard_exit_grace),
        "--only-summary",
        "--loglevel",
        "INFO",
        *extra_args,
        *[USER_CLASSES[p] for p in protocols],
    ]


def run_load(
    host_http: str | None = None,
    host_grpc: str | None = None,
    users: int = 16,
    spawn_rate: float | None = None,
    run_time: float = 60.0,
    csv_prefix: str | Path = "reports/load",
    html_path: str | Path | None = None,
    *,
    protocols: tuple[str, ...] = ("http", "grpc"),
    step_count: int = 4,
    stop_timeout: float = 5.0,
    embed_batch: int = 1,
    compare_batch: int = 1,
    corpus_size: int = 512,
    hard_exit_grace: float = 15.0,
    startup_allowance: float = STARTUP_ALLOWANCE_S,
    model_repository: str | Path | None = None,
    locustfile: str | Path = LOCUSTFILE,
    extra_args: tuple[str, ...] = (),
    raise_on_failure: bool = True,
) -> LoadSummary:
    """Run Locust headless for ``run_time`` seconds (users stepping up to ``users``) and
    return its statistics; raise :class:`LoadTestFailed` on any failure (see module doc).

    ``host_http`` / ``host_grpc`` are ``host:port`` of a running server; with neither,
    the bundled Triton is started on free loopback ports over ``model_repository``
    (default: the shipped one) and stopped at the end. With only one given, only that
    protocol's users run.
    """
    if users < 1 or run_time <= 0:
        raise ValueError("users must be >= 1 and run_time > 0")
    protocols = _protocols_to_run(tuple(protocols), host_http, host_grpc)
    files = _ReportFiles.for_prefix(Path(csv_prefix), html_path)
    triton, server_info = None, {"started_here": False}
    if host_http is None and host_grpc is None:
        triton, server_info = _start_triton(model_repository, files.triton_log)
        host_http, host_grpc = triton.http_url, triton.grpc_url
    server_info.update({"http": host_http, "grpc": host_grpc})

    command = locust_command(
        host_http=host_http or "127.0.0.1:8000",
        host_grpc=host_grpc or "127.0.0.1:8001",
        users=users,
        spawn_rate=spawn_rate or max(1.0, users / 2),
        run_time=run_time,
        stop_timeout=stop_timeout,
        csv_prefix=files.csv_prefix,
        html_path=files.html,
        summary_json=files.summary_json,
        protocols=protocols,
        step_count=step_count,
        embed_batch=embed_batch,
        compare_batch=compare_batch,
        corpus_size=corpus_size,
        hard_exit_grace=hard_exit_grace,
        locustfile=Path(locustfile),
        extra_args=tuple(extra_args),
    )
    bound = startup_allowance + max(1, round(run_time)) + stop_timeout + hard_exit_grace + KILL_GRACE_S
    server_cpu_before = process_tree_cpu([triton.process.pid]) if triton else None
    cpu_before = _children_cpu()
    try:
        exit_code, killed, wall = _run_locust(command, files.locust_log, bound)
        locust_cpu = _children_cpu() - cpu_before
        server_cpu = process_tree_cpu([triton.process.pid]) - server_cpu_before if triton else None
    finally:
        if triton is not None:
            triton.stop()

    rows = read_stats_csv(files.stats_csv) if files.stats_csv.exists() else []
    errors = json.loads(files.summary_json.read_text()).get("errors", []) if files.summary_json.exists() else []
    aggregate = next((r for r in rows if r["name"] == "Aggregated"), None)
    summary = LoadSummary(
        rows=rows,
        total_requests=aggregate["requests"] if aggregate else 0,
        total_failures=aggregate["failures"] if aggregate else 0,
        exit_code=exit_code,
        killed=killed,
        wall_s=round(wall, 3),
        bound_s=round(bound, 3),
        run_time_s=run_time,
        users=users,
        csv_prefix=str(files.csv_prefix),
        html_path=str(files.html),
        log_path=str(files.locust_log),
        locust_cpu_s=round(locust_cpu, 3),
        server_cpu_s=None if server_cpu is None else round(server_cpu, 3),
        server=server_info,
        errors=errors,
    )
    problems = _problems(summary, files.stats_csv)
    if problems and raise_on_failure:
        raise LoadTestFailed("; ".join(problems) + f" (log: {files.locust_log})", summary)
    return summary


def _protocols_to_run(protocols: tuple[str, ...], host_http: str | None, host_grpc: str | None) -> tuple[str, ...]:
    """The protocols asked for, less those without a server address when only one is given."""
    unknown = set(protocols) - set(USER_CLASSES)
    if unknown or not protocols:
        raise ValueError(f"protocols must be among {sorted(USER_CLASSES)}, got {protocols}")
    if (host_http is None) != (host_grpc is None):
        protocols = tuple(p for p in protocols if (p == "http" and host_http) or (p == "grpc" and host_grpc))
        if not protocols:
            raise ValueError("the protocols asked for have no server address")
    return protocols


@dataclass(frozen=True)
class _ReportFiles:
    """Where one run writes: Locust's CSV and HTML, its summary and log, Triton's log."""

    csv_prefix: Path
    html: Path

    @classmethod
    def for_prefix(cls, csv_prefix: Path, html_path: str | Path | None) -> _ReportFiles:
        csv_prefix.parent.mkdir(parents=True, exist_ok=True)
        files = cls(csv_prefix, Path(html_path) if html_path else cls._beside(csv_prefix, "_report.html"))
        for stale in (files.summary_json, files.stats_csv, files.html):
            stale.unlink(missing_ok=True)
        return files

    @staticmethod
    def _beside(csv_prefix: Path, suffix: str) -> Path:
        return csv_prefix.with_name(csv_prefix.name + suffix)

    @property
    def stats_csv(self) -> Path:
        return Path(f"{self.csv_prefix}_stats.csv")

    @property
    def summary_json(self) -> Path:
        return self._beside(self.csv_prefix, "_summary.json")

    @property
    def locust_log(self) -> Path:
        return self._beside(self.csv_prefix, "_locust.log")

    @property
    def triton_log(self) -> Path:
        return self._beside(self.csv_prefix, "_triton.log")


def _start_triton(model_repository: str | Path | None, log_path: Path):
    """The bundled Triton on free loopback ports, and what the summary says about it."""
    from clonedetect import server as triton_server

    repository = Path(model_repository) if model_repository else paths.MODEL_REPOSITORY
    triton = triton_server.start_on_free_ports(repository, log_path=log_path)
    return triton, {"started_here": True, "pid": triton.process.pid, "repository": str(repository)}


def _run_locust(command: list[str], log_path: Path, bound: float) -> tuple[int | None, bool, float]:
    """Run Locust in its own process group, killed after ``bound`` seconds:
    (exit code, whether it was killed, wall seconds)."""
    killed = False
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        try:
            exit_code = process.wait(timeout=bound)
        except subprocess.TimeoutExpired:
            killed = True
            stop_process_group(process, KILL_GRACE_S)
            exit_code = process.returncode
        except BaseException:  # Ctrl-C in the parent: never leave locust behind
            stop_process_group(process, KILL_GRACE_S)
            raise
    return exit_code, killed, time.monotonic() - started


def _problems(summary: LoadSummary, stats_csv: Path) -> list[str]:
    """Why the run counts as failed; empty when it passed."""
    problems = []
    if summary.killed:
        problems.append(f"locust did not end within {summary.bound_s:.0f} s and was killed")
    if summary.exit_code not in (0, None) and not summary.killed:
        problems.append(f"locust exited with status {summary.exit_code}")
    if summary.total_failures:
        failed = f"{summary.total_failures} of {summary.total_requests} requests failed"
        problems.append(f"{failed}: {summary.errors[:3]}")
    if not summary.rows:
        problems.append(f"no statistics were written ({stats_csv} missing)")
    elif summary.total_requests == 0:
        problems.append("no request was sent")
    return problems


def format_summary(summary: LoadSummary) -> str:
    lines = [
        f"{'type':<6} {'name':<16} {'requests':>9} {'fails':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    ]
    for r in summary.rows:
        lines.append(
            f"{r['type']:<6} {r['name']:<16} {r['requests']:>9} {r['failures']:>6} {r['rps']:>8.1f} "
            f"{r['median_ms']:>8.0f} {r['p95_ms']:>8.0f} {r['p99_ms']:>8.0f}"
        )
    lines.append(
        f"locust ran {summary.wall_s:.1f} s (bound {summary.bound_s:.0f} s, exit {summary.exit_code}"
        f"{', KILLED' if summary.killed else ''}); load-generator CPU {summary.locust_cpu_s:.1f} s"
        + (f", server CPU {summary.server_cpu_s:.1f} s" if summary.server_cpu_s is not None else "")
    )
    lines.append(f"CSV {summary.csv_prefix}_stats.csv  HTML {summary.html_path}")
    return "\n".join(lines)


# -- command line (wired into `clonedetect load`) -----------------------------------
def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http-url", help="Triton HTTP host:port (default: start the bundled server on free ports)")
    parser.add_argument("--grpc-url", help="Triton gRPC host:port (default: start the bundled server on free ports)")
    parser.add_argument("--users", type=int, default=32, help="users at the last step (default 32)")
    parser.add_argument("--spawn-rate", type=float, help="users started per second (default users/2)")
    parser.add_argument("--run-time", type=float, default=120.0, help="seconds of load (default 120)")
    parser.add_argument("--step-count", type=int, default=4, help="steps to reach --users (default 4)")
    parser.add_argument("--stop-timeout", type=float, default=5.0, help="seconds in-flight requests get at the end")
    parser.add_argument("--protocol", choices=("http", "grpc", "both"), default="both")
    parser.add_argument("--embed-batch", type=int, default=1, help="programs per clone_embed request")
    parser.add_argument("--compare-batch", type=int, default=1, help="pairs per clone_compare request")
    parser.add_argument("--corpus-size", type=int, default=512, help="distinct real programs sent")
    parser.add_argument("--csv", default="reports/load", help="CSV prefix (default reports/load)")
    parser.add_argument("--html", help="HTML report (default <csv>_report.html)")
    parser.add_argument("--model-repository", help="repository for the server started here")
    parser.add_argument("--json", help="also write the summary as JSON here")


def command_load(args: argparse.Namespace) -> int:
    from clonedetect import server

    server.unwind_on_sigterm()
    protocols = ("http", "grpc") if args.protocol == "both" else (args.protocol,)
    try:
        summary = run_load(
            args.http_url,
            args.grpc_url,
            users=args.users,
            spawn_rate=args.spawn_rate,
            run_time=args.run_time,
            csv_prefix=args.csv,
            html_path=args.html,
            protocols=protocols,
            step_count=args.step_count,
            stop_timeout=args.stop_timeout,
            embed_batch=args.embed_batch,
            compare_batch=args.compare_batch,
            corpus_size=args.corpus_size,
            model_repository=args.model_repository,
        )
    except LoadTestFailed as failure:
        if failure.summary is not None:
            print(format_summary(failure.summary))
        print(f"clonedetect load: FAILED: {failure}", file=sys.stderr)
        return 1
    print(format_summary(summary))
    if args.json:
        Path(args.json).write_text(json.dumps(summary.to_dict(), indent=2, default=float) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clonedetect load", description="Bounded headless Locust load test.")
    add_load_arguments(parser)
    return command_load(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
