"""A call repeated on a thread at a fixed interval while a test does something else,
recording each answer or error with its time (nothing retried)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class BackgroundCalls:
    def __init__(self, call: Callable[[], object], interval_s: float = 0.01):
        self.records: list[tuple[float, object]] = []  # (time, answer or the exception)
        self._call, self._interval = call, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.records.append((time.monotonic(), self._call()))
            except Exception as error:  # every failure is recorded, none retried
                self.records.append((time.monotonic(), error))

    def __enter__(self) -> BackgroundCalls:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def failures(self) -> list[Exception]:
        return [answer for _, answer in self.records if isinstance(answer, Exception)]

    def between(self, start: float, end: float) -> int:
        return sum(start <= t <= end for t, _ in self.records)

    def last(self) -> object:
        return self.records[-1][1]
