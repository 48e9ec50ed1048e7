"""Readiness that tells the truth: exit 0 only when every ensemble can answer.

Triton's ``/v2/health/ready`` looks at the models it has loaded; an ensemble whose pinned
step version was unloaded can still be listed READY there while every request to it
fails. This check reads the repository index and each ensemble's config (no inference):
an ensemble can answer when a version of it is ready and so is the exact version of
every model it calls.

Usage (the Helm chart's readinessProbe): ``python -m clonedetect.readiness --url 127.0.0.1:8000``.
Exit status 0: ready; 1: not ready, with one line per ensemble that cannot answer and why.
A server that restricts model control needs its admin key (``--admin-key`` or
``$CLONEDETECT_ADMIN_KEY``) to read the repository index.
"""

from __future__ import annotations

import argparse
import os
import sys

from clonedetect.client import errors
from clonedetect.client.protocol import DEFAULT_URLS, PROTOCOLS
from clonedetect.ensembles import EnsembleState, ensemble_states


def check(url: str, protocol: str = "http", timeout: float = 5.0, admin_key: str | None = None) -> list[EnsembleState]:
    """The state of every ensemble of the server at ``url`` (no retries: a probe answers now)."""
    from clonedetect.client import CloneDetectorClient

    with CloneDetectorClient(url, protocol=protocol, timeout=timeout, admin_key=admin_key, retry=None) as client:
        return ensemble_states(client)


def report(states: list[EnsembleState]) -> tuple[bool, list[str]]:
    """Whether all can answer, and a line for each ensemble."""
    lines = []
    for state in states:
        if state.can_answer:
            calls = ", ".join(f"{model} {version}" for model, version in sorted(state.calls.items()))
            lines.append(f"ready: {state.name} version {state.version} calls {calls}")
        else:
            lines.extend(f"not ready: {problem}" for problem in state.problems)
    return all(state.can_answer for state in states), lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clonedetect.readiness", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="server address host:port (default: 127.0.0.1:8000 for http, :8001 for grpc)")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="http")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per call to the server (default 5)")
    parser.add_argument(
        "--admin-key",
        default=os.environ.get("CLONEDETECT_ADMIN_KEY"),
        help="key of a server that restricts model control (default: $CLONEDETECT_ADMIN_KEY)",
    )
    args = parser.parse_args(argv)
    url = args.url or DEFAULT_URLS[args.protocol]
    try:
        ready, lines = report(check(url, args.protocol, args.timeout, args.admin_key))
    except errors.ClonedetectError as error:
        print(f"not ready: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines), file=sys.stdout if ready else sys.stderr)
    return 0 if ready else 1


if __name__ == "__main__":
    sys.exit(main())
