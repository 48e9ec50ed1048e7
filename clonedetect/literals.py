"""Shared rare literals: the numbers and strings two programs both hold, weighted by rarity.

People who disguise a copy rename, move, extract and rewrite code, but they seldom change
its constants and messages: a literal survives every restructuring. Independent solutions
of one task share the literals the task dictates (``0``, ``"%d"``, a limit from the
statement), which are common in any corpus, so each literal is weighted by its inverse
document frequency in a background corpus (:class:`LiteralRarity`, fitted on the training
corpora and shipped with the verifier). The score is the weighted cosine of the two
programs' literal sets: ``sum(w²) over shared / sqrt(sum(w²) of A · sum(w²) of B)``.
No I/O beyond :meth:`LiteralRarity.load` and :meth:`LiteralRarity.save`.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

SHOWN_LITERALS = 10  # the rarest shared literals the evidence lists
SHOWN_CHARS = 80  # a longer literal is shown cut, with "…"
MIN_BACKGROUND_COUNT = 2
"""Literals held by fewer background programs are not stored: they weigh as unseen ones
(within log 2 of it), and the file stays small."""


@dataclass(frozen=True)
class LiteralRarity:
    """How many of ``documents`` background programs hold each literal (``counts``)."""

    documents: int
    counts: Mapping[str, int]

    def weight(self, literal: str) -> float:
        """Inverse document frequency, ``log((documents + 1) / (count + 1))``: 0 for a literal
        every program holds, largest for one no background program holds."""
        return math.log((self.documents + 1) / (self.counts.get(literal, 0) + 1))

    @classmethod
    def fit(cls, programs: Iterable[frozenset[str]]) -> LiteralRarity:
        """The rarity of each literal over ``programs`` (each one's
        :attr:`clonedetect.token_sequence.TokenSequence.literals`)."""
        counts: Counter[str] = Counter()
        documents = 0
        for held in programs:
            counts.update(held)
            documents += 1
        kept = {literal: n for literal, n in sorted(counts.items()) if n >= MIN_BACKGROUND_COUNT}
        return cls(documents, kept)

    def save(self, path: Path) -> None:
        path.write_text(
            json.dumps({"documents": self.documents, "counts": dict(self.counts)}, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, path: Path | str) -> LiteralRarity:
        fields = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(int(fields["documents"]), {str(k): int(v) for k, v in fields["counts"].items()})


@dataclass(frozen=True)
class SharedLiterals:
    """``score`` in [0, 1] (module doc) and the rarest shared literals with their weights."""

    score: float
    shared: tuple[tuple[str, float], ...]

    def as_dict(self) -> dict:
        shown = [{"text": _shown(text), "weight": weight} for text, weight in self.shared]
        return {"score": self.score, "shared": shown}


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def shared_literals(a: frozenset[str], b: frozenset[str], rarity: LiteralRarity) -> SharedLiterals:
    """What the literal sets ``a`` and ``b`` share, weighted by ``rarity``."""
    weights = {literal: rarity.weight(literal) for literal in a | b}
    norm_a = sum(weights[t] ** 2 for t in a)
    norm_b = sum(weights[t] ** 2 for t in b)
    both = a & b
    if not both or norm_a == 0 or norm_b == 0:
        return SharedLiterals(0.0, ())
    score = sum(weights[t] ** 2 for t in both) / math.sqrt(norm_a * norm_b)
    rarest = sorted(both, key=lambda t: (-weights[t], t))[:SHOWN_LITERALS]
    return SharedLiterals(min(1.0, score), tuple((t, round(weights[t], 3)) for t in rarest))
