"""A last-resort exit for a bounded run: an OS thread (not a greenlet, so a blocked
gevent loop cannot hold it up) that ends the process with ``os._exit`` at a deadline.

Locust under gevent runs greenlets on one OS thread: a gRPC call that blocks in C, or
an interpreter exit that waits on gRPC's threads, stops every greenlet, including
Locust's own run-time timer. A real thread still runs then (the blocked C call has
released the GIL), so the bounded run ends whatever the gevent loop is doing.

It cannot act once the interpreter has begun finalising (no other thread runs
then): the locustfile leaves with ``os._exit`` from an ``atexit`` hook for that
case, and :func:`clonedetect.load_tests.run.run_load` kills the process group as
the last resort.
"""

from __future__ import annotations

import os
import sys


def _original(module: str, name: str):
    try:
        from gevent import monkey

        return monkey.get_original(module, name)
    except ImportError:  # pragma: no cover - gevent is installed with locust
        return getattr(__import__(module), name)


def arm(seconds: float, exit_code: int, reason: str) -> None:
    """Exit the process with ``exit_code`` after ``seconds`` unless it has exited by then."""
    start_new_thread = _original("_thread", "start_new_thread")
    sleep = _original("time", "sleep")

    def guard() -> None:
        sleep(seconds)
        try:
            sys.stderr.write(f"clonedetect load: hard exit (status {exit_code}): {reason}\n")
            sys.stderr.flush()
            sys.stdout.flush()
        finally:
            os._exit(int(exit_code))

    start_new_thread(guard, ())
