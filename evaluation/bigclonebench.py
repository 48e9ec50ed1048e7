"""BigCloneBench subset pairs for the per-clone-type evaluation.

Each clone type 0..4 is scored against the same type-5 non-clone pairs (ROC AUC of
"type t" vs "not a clone"). Types 3 and 4 (moderately / weakly similar T3/T4) are noisy
labels: they are reported, never tuned for.

``scope="held_out"`` (default) keeps only pairs whose two functions are both in the
held-out slice (:func:`clonedetect.data.held_out`), so a model trained
on the other functions (or on BigCloneBench pairs among them) is not scored on what it
saw; ``scope="all"`` samples from every labelled pair.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from clonedetect import data
from clonedetect.data import held_out
from clonedetect.evaluation.plagiarism import derived_seed

TYPE_NAMES = {0: "T1", 1: "T2", 2: "ST3", 3: "MT3", 4: "WT3_T4", 5: "non_clone"}
TYPE_DESCRIPTIONS = {
    0: "type-1 (identical but layout/comments)",
    1: "type-2 (renamed identifiers/literals)",
    2: "strongly similar type-3",
    3: "moderately similar type-3 (noisy labels)",
    4: "weakly similar type-3/type-4 (noisy labels)",
    5: "not a clone",
}
CLONE_TYPES = (0, 1, 2, 3, 4)
NOISY_TYPES = (3, 4)
NON_CLONE_TYPE = 5


@dataclass(frozen=True)
class BcbPair:
    id_a: str
    id_b: str
    clone_type: int
    code_a: str
    code_b: str

    @property
    def label(self) -> int:
        return int(self.clone_type != NON_CLONE_TYPE)


def bcb_pairs(per_type: int | None = 300, seed: int = 0, scope: str = "held_out") -> list[BcbPair]:
    """Up to ``per_type`` pairs of every type 0..5 (deterministic sample), with their code."""
    if scope not in ("held_out", "all"):
        raise ValueError(f"unknown scope {scope!r}: expected 'held_out' or 'all'")
    functions = data.bigclonebench_functions()
    by_type: dict[int, list] = {t: [] for t in TYPE_NAMES}
    for pair in data.bigclonebench_pairs():
        if pair.id_a not in functions or pair.id_b not in functions or pair.id_a == pair.id_b:
            continue
        if scope == "held_out" and not (held_out(pair.id_a) and held_out(pair.id_b)):
            continue
        if pair.clone_type in by_type:
            by_type[pair.clone_type].append(pair)
    chosen = []
    for clone_type, pairs in by_type.items():
        pairs = sorted(set(pairs), key=lambda p: (p.id_a, p.id_b))
        rng = random.Random(derived_seed(seed, "bcb", clone_type))
        if per_type is not None and len(pairs) > per_type:
            pairs = rng.sample(pairs, per_type)
        chosen.extend(pairs)
    cache: dict[str, str] = {}

    def code(fid: str) -> str:
        if fid not in cache:
            cache[fid] = functions[fid].read_text(encoding="utf-8", errors="replace")
        return cache[fid]

    return [BcbPair(p.id_a, p.id_b, p.clone_type, code(p.id_a), code(p.id_b)) for p in chosen]
