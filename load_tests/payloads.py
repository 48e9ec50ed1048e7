"""Realistic request payloads for the load tests and the benchmark: real source files
of varied length, never one repeated string.

The corpus mixes the three real sources of :mod:`clonedetect.data`:

* POJ-104 ``valid`` (C/C++ student programs, ~450 characters median),
* BigCloneBench functions (Java, ~800 characters median, a long tail to ~50 kB),
* this interpreter's standard library (Python modules, a few kB to tens of kB),

in fixed proportions, sampled with a seeded RNG so that every mode of a benchmark
(and every rerun) sends the same programs in the same order. Where the shared data
archives are missing (a bare checkout) the corpus falls back to standard-library
files alone, so the load tests still run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from clonedetect import data

DEFAULT_MIX = (("poj104", 0.55), ("bigclonebench", 0.30), ("stdlib", 0.15))
DEFAULT_MAX_CHARS = 32_000  # a long real file (~8-10 encoder windows), far below the 1 MB limit


@dataclass(frozen=True)
class Corpus:
    """Programs (text) and, for POJ-104, their problem labels (pairs of a label are clones)."""

    programs: tuple[str, ...]
    labels: tuple[str, ...]
    sources: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.programs)

    def describe(self) -> dict:
        lengths = sorted(len(p) for p in self.programs)
        counts: dict[str, int] = {}
        for source in self.sources:
            counts[source] = counts.get(source, 0) + 1
        return {
            "programs": len(lengths),
            "sources": counts,
            "chars_median": lengths[len(lengths) // 2] if lengths else 0,
            "chars_p90": lengths[int(len(lengths) * 0.9)] if lengths else 0,
            "chars_max": lengths[-1] if lengths else 0,
            "chars_total": sum(lengths),
        }


def _readable(text: str, max_chars: int) -> bool:
    return bool(text.strip()) and len(text) <= max_chars


def _first_readable(candidates, read, label, count: int, max_chars: int) -> list[tuple[str, str]]:
    """``(text, label)`` of the first ``count`` candidates whose text is readable
    (``read`` returns None for a file that cannot be read)."""
    out = []
    for item in candidates:
        text = read(item)
        if text is not None and _readable(text, max_chars):
            out.append((text, label(item)))
        if len(out) == count:
            break
    return out


def _poj104(rng: random.Random, count: int, max_chars: int) -> list[tuple[str, str]]:
    programs = data.poj104_programs("valid")
    chosen = rng.sample(programs, min(count * 2, len(programs)))
    return _first_readable(chosen, lambda p: p.read(), lambda p: f"poj104:{p.label}", count, max_chars)


def _bigclonebench(rng: random.Random, count: int, max_chars: int) -> list[tuple[str, str]]:
    paths = list(data.bigclonebench_functions().values())
    chosen = rng.sample(paths, min(count * 2, len(paths)))
    return _first_readable(
        chosen,
        lambda path: path.read_text(encoding="utf-8", errors="replace"),
        lambda path: f"bcb:{path.stem}",
        count,
        max_chars,
    )


def _read_utf8(path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _stdlib(rng: random.Random, count: int, max_chars: int) -> list[tuple[str, str]]:
    paths = data.python_stdlib_files()
    return _first_readable(
        rng.sample(paths, len(paths)), _read_utf8, lambda path: f"stdlib:{path.stem}", count, max_chars
    )


_SOURCES = {"poj104": _poj104, "bigclonebench": _bigclonebench, "stdlib": _stdlib}


@lru_cache(maxsize=8)
def load_corpus(count: int = 512, seed: int = 0, max_chars: int = DEFAULT_MAX_CHARS, mix=DEFAULT_MIX) -> Corpus:
    """``count`` real programs, mixed from the sources in ``mix`` and shuffled (deterministic)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    rng = random.Random(seed)
    rows: list[tuple[str, str, str]] = []
    for source, share in mix:
        wanted = max(1, round(count * share))
        try:
            picked = _SOURCES[source](rng, wanted, max_chars)
        except FileNotFoundError:  # the shared archives are not there: use what is
            picked = []
        rows.extend((text, label, source) for text, label in picked)
    if len(rows) < count:  # top up from the standard library (always present)
        have = {text for text, _, _ in rows}
        extra = [r for r in _stdlib(random.Random(seed + 1), count, max_chars) if r[0] not in have]
        rows.extend((text, label, "stdlib") for text, label in extra[: count - len(rows)])
    rng.shuffle(rows)
    rows = rows[:count]
    return Corpus(tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] for r in rows))


def comparison_pairs(
    corpus: Corpus, count: int = 256, seed: int = 0, clone_share: float = 0.3
) -> list[tuple[str, str]]:
    """Pairs of programs to compare: a share are same-problem POJ-104 pairs (clones),
    the rest random pairs (mostly unrelated), as a plagiarism scan would submit."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(corpus.labels):
        if label.startswith("poj104:"):
            by_label.setdefault(label, []).append(index)
    groups = [members for members in by_label.values() if len(members) > 1]
    pairs = []
    for _ in range(count):
        if groups and rng.random() < clone_share:
            a, b = rng.sample(rng.choice(groups), 2)
        else:
            a, b = rng.sample(range(len(corpus)), 2) if len(corpus) > 1 else (0, 0)
        pairs.append((corpus.programs[a], corpus.programs[b]))
    return pairs
