"""Groups of submissions connected by reported pairs.

Copying is rarely one pair: one solution passed around a group shows up as several
pairs sharing members. A cluster is a connected component of the reported pairs; its
strength is the highest and the mean probability of its pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Cluster:
    members: tuple[str, ...]
    pairs: int
    max_probability: float
    mean_probability: float

    def to_dict(self) -> dict:
        return {
            "members": list(self.members),
            "pairs": self.pairs,
            "max_probability": round(self.max_probability, 6),
            "mean_probability": round(self.mean_probability, 6),
        }


def _root(parents: dict[str, str], name: str) -> str:
    while parents[name] != name:
        parents[name] = parents[parents[name]]  # path halving keeps the trees flat
        name = parents[name]
    return name


def clusters(edges: Sequence[tuple[str, str, float]], order: Sequence[str]) -> list[Cluster]:
    """The connected components of ``edges`` ``(a, b, probability)``; members in the order
    of ``order`` (the submissions' order), clusters strongest first."""
    parents: dict[str, str] = {}
    for a, b, _ in edges:
        parents.setdefault(a, a)
        parents.setdefault(b, b)
        parents[_root(parents, a)] = _root(parents, b)
    probabilities: dict[str, list[float]] = {}
    for a, _, probability in edges:
        probabilities.setdefault(_root(parents, a), []).append(probability)
    members: dict[str, list[str]] = {}
    for name in parents:
        members.setdefault(_root(parents, name), []).append(name)
    position = {name: index for index, name in enumerate(order)}
    found = [
        Cluster(tuple(sorted(members[root], key=position.__getitem__)), len(p), max(p), sum(p) / len(p))
        for root, p in probabilities.items()
    ]
    return sorted(found, key=lambda c: (-c.max_probability, -len(c.members), c.members))
