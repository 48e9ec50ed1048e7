"""Retrying idempotent calls on transient failures: exponential backoff with full jitter
within an overall deadline.

Transient: no server answering (connection refused or reset, a restarting server), a
model not ready (being loaded, or its backend process being restarted), a request the
server shed as over capacity, a request that timed out. Everything else (invalid input,
permission denied, any other server error) is raised at once. Only idempotent calls go
through here (inference and reads); model load and unload never do.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from clonedetect.client import errors

TRANSIENT = (errors.ServerUnavailableError, errors.ModelNotReadyError, errors.RequestTimeoutError)
Result = TypeVar("Result")


@dataclass(frozen=True)
class RetryPolicy:
    """Wait ``uniform(0, min(max_wait_s, first_wait_s * 2**n))`` before retry ``n + 1``
    ("full jitter": clients that failed together do not come back together), and give up
    once the next attempt would start after ``deadline_s`` from the first.

    ``rng`` (a seeded ``random.Random``) makes the waits reproducible, for tests."""

    first_wait_s: float = 0.2
    max_wait_s: float = 5.0
    deadline_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self):
        if not 0 < self.first_wait_s <= self.max_wait_s:
            raise ValueError(
                f"first_wait_s {self.first_wait_s} and max_wait_s {self.max_wait_s}: use 0 < first_wait_s <= max_wait_s"
            )
        if self.deadline_s <= 0:
            raise ValueError(f"deadline_s {self.deadline_s} is not positive: use the seconds a call may take in all")

    def wait_s(self, retry: int) -> float:
        """The (random) wait before retry number ``retry`` (0 for the first retry)."""
        return self.rng.uniform(0.0, min(self.max_wait_s, self.first_wait_s * 2.0**retry))


class Attempts:
    """The attempts of one call: decides, after each transient failure, how long to wait,
    or raises the give-up error when the deadline would pass."""

    def __init__(self, policy: RetryPolicy, action: str, clock: Callable[[], float] = time.monotonic):
        self.policy, self.action, self.clock = policy, action, clock
        self.started = clock()
        self.count = 0

    def after_failure(self, error: errors.ClonedetectError) -> float:
        """Seconds to wait before the next attempt; raises ``error`` (not transient) or a
        copy of its class saying what was given up, when and why (deadline passed)."""
        self.count += 1
        if not isinstance(error, TRANSIENT):
            raise error
        wait = self.policy.wait_s(self.count - 1)
        elapsed = self.clock() - self.started
        if elapsed + wait > self.policy.deadline_s:
            raise type(error)(
                f"{self.action}: gave up after {self.count} attempt(s) over {elapsed:.1f} s "
                f"(retry deadline {self.policy.deadline_s:g} s); last error: {error}"
            ) from error
        return wait


def call(
    policy: RetryPolicy | None,
    action: str,
    attempt: Callable[[], Result],
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_retry: Callable[[errors.ClonedetectError], None] | None = None,
) -> Result:
    """``attempt()`` (which raises :mod:`errors` classes), retried under ``policy``
    (``None``: one attempt). ``on_retry`` hears of each failure that is retried."""
    if policy is None:
        return attempt()
    attempts = Attempts(policy, action, clock)
    while True:
        try:
            return attempt()
        except errors.ClonedetectError as error:
            wait = attempts.after_failure(error)
            if on_retry is not None:
                on_retry(error)
        sleep(wait)


async def call_async(
    policy: RetryPolicy | None,
    action: str,
    attempt: Callable[[], Awaitable[Result]],
    *,
    on_retry: Callable[[errors.ClonedetectError], None] | None = None,
) -> Result:
    """The asyncio twin of :func:`call` (``attempt`` returns a new awaitable each time)."""
    if policy is None:
        return await attempt()
    attempts = Attempts(policy, action)
    while True:
        try:
            return await attempt()
        except errors.ClonedetectError as error:
            wait = attempts.after_failure(error)
            if on_retry is not None:
                on_retry(error)
        await asyncio.sleep(wait)
