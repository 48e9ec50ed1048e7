"""Fresh identifiers that read like a student's own names and clash with nothing."""

from __future__ import annotations

import random

from .bindings import WORD
from .source import Source

WORDS = (
    "tmp",
    "val",
    "num",
    "cur",
    "idx",
    "cnt",
    "sum",
    "res",
    "acc",
    "buf",
    "pos",
    "len",
    "item",
    "elem",
    "total",
    "count",
    "value",
    "data",
    "flag",
    "key",
    "node",
    "step",
    "temp",
    "size",
    "left",
    "right",
    "first",
    "last",
    "next",
    "prev",
    "out",
    "part",
    "piece",
    "store",
    "mark",
    "seen",
    "limit",
    "base",
    "offset",
    "delta",
    "score",
    "ans",
    "arr",
    "table",
    "head",
    "tail",
    "low",
    "high",
    "mid",
    "row",
    "col",
    "width",
    "depth",
    "level",
    "shift",
    "input",
    "result",
)


class NameFactory:
    """Two-word names: camelCase for C, C++ and Java (an upper-case letter keeps them clear
    of the all-lower-case standard library), snake_case for Python (clear of keywords)."""

    def __init__(self, source: Source, rng: random.Random):
        self.rng = rng
        self.snake = source.language == "python"
        self.taken = {w.decode() for w in WORD.findall(source.data)}

    def fresh(self) -> str:
        for attempt in range(1000):
            first, second = self.rng.sample(WORDS, 2)
            name = f"{first}_{second}" if self.snake else first + second.capitalize()
            if attempt > 100:
                name += str(attempt)
            if name not in self.taken:
                self.taken.add(name)
                return name
        raise RuntimeError("no fresh identifier left")  # unreachable with suffixed names


VERBS = ("compute", "process", "handle", "update", "check", "show", "build", "run", "calc", "apply", "emit", "scan")


def fresh_function_name(factory: NameFactory) -> str:
    """A verb-noun name such as ``computeTotal`` / ``compute_total``, fresh in the program."""
    for attempt in range(1000):
        verb, noun = factory.rng.choice(VERBS), factory.rng.choice(WORDS)
        name = f"{verb}_{noun}" if factory.snake else verb + noun.capitalize()
        if attempt > 100:
            name += str(attempt)
        if name not in factory.taken:
            factory.taken.add(name)
            return name
    raise RuntimeError("no fresh function name left")  # unreachable with suffixed names
