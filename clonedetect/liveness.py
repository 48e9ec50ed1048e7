"""Liveness that sees a dead Python-backend process: exit 0 only when tritonserver is live
and every READY model version that runs on the Python backend still has its stub process.

Triton 2.51 does not replace a stub that died (killed, out of memory): the model stays
READY and ``/v2/health/live`` and ``/v2/health/ready`` answer 200 while every request to it
fails with "Stub process ... is not healthy". Locally ``clonedetect serve`` reloads such a
model itself; in a container this check, run as the liveness probe inside the container
(where tritonserver's processes are visible), makes the kubelet restart it.

Usage (the Helm chart's livenessProbe): ``python -m clonedetect.liveness --url 127.0.0.1:8000``.
A server that restricts model control needs its admin key (``--admin-key`` or
``$CLONEDETECT_ADMIN_KEY``) to read the repository index.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from clonedetect.client import errors
from clonedetect.client.protocol import DEFAULT_URLS
from clonedetect.supervisor import python_stubs

SERVER_BINARY = "tritonserver"


def _argv(pid: str) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def serving_process(http_port: int) -> int:
    """The PID of the tritonserver whose command line names ``--http-port=http_port``, or
    the only tritonserver there is (a container's, on the default port)."""
    servers = {}
    for entry in Path("/proc").iterdir():
        argv = _argv(entry.name) if entry.name.isdigit() else []
        if argv and Path(argv[0]).name == SERVER_BINARY:
            servers[int(entry.name)] = argv
    named = [pid for pid, argv in servers.items() if f"--http-port={http_port}" in argv]
    if len(named) == 1:
        return named[0]
    if not named and len(servers) == 1:
        return next(iter(servers))
    raise errors.ServerUnavailableError(
        f"found {len(servers)} tritonserver process(es), {len(named)} with --http-port={http_port}: "
        "run this check where exactly one serves that port (inside its container)"
    )


def models_without_stub(client, server_pid: int) -> list[str]:
    """``model version`` of each READY Python-backend model version with no live stub."""
    alive = {(stub.model, Path(stub.model_file).parent.name) for stub in python_stubs(server_pid).values()}
    missing = []
    for state in client.model_status():
        if state.state != "READY" or (state.name, state.version) in alive:
            continue
        if client.model_config(state.name).get("backend") == "python":
            missing.append(f"{state.name} {state.version}")
    return missing


def check(url: str, timeout: float = 5.0, admin_key: str | None = None) -> list[str]:
    """Why the server at ``url`` is not alive (empty: it is)."""
    from clonedetect.client import CloneDetectorClient

    with CloneDetectorClient(url, timeout=timeout, admin_key=admin_key, retry=None) as client:
        if not client.is_live():
            return [f"tritonserver at {url} is not live"]
        missing = models_without_stub(client, serving_process(int(url.rsplit(":", 1)[1])))
    return [f"{model}: READY, but its Python-backend process is gone (its requests fail)" for model in missing]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clonedetect.liveness", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default=DEFAULT_URLS["http"], help="the server's HTTP address (default 127.0.0.1:8000)"
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per call to the server (default 5)")
    parser.add_argument(
        "--admin-key",
        default=os.environ.get("CLONEDETECT_ADMIN_KEY"),
        help="key of a server that restricts model control (default: $CLONEDETECT_ADMIN_KEY)",
    )
    args = parser.parse_args(argv)
    try:
        problems = check(args.url, args.timeout, args.admin_key)
    except errors.ClonedetectError as error:
        problems = [str(error)]
    for problem in problems:
        print(f"not alive: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
