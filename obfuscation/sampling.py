"""Seeded choices shared by the passes (always through a given ``random.Random``)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def some_of(rng: random.Random, candidates: Sequence[T], probability: float) -> list[T]:
    """Each candidate with ``probability``, but at least one when there is any (order kept)."""
    if not candidates:
        return []
    chosen = [rng.random() < probability for _ in candidates]
    if not any(chosen):
        chosen[rng.randrange(len(candidates))] = True
    return [c for c, keep in zip(candidates, chosen, strict=True) if keep]
