"""Plagiarism pairs for the evaluation: originals, their obfuscated variants, negatives.

Per language, a deterministic sample of *original* programs that training never sees:

* ``cpp``: POJ-104 **valid** programs (problems 65-80; training uses the train split).
* ``java``: BigCloneBench functions in the held-out slice, 300 to 20,000 characters
  (one-line getters/setters are structurally identical to each other, not plagiarism).
* ``python``: standard-library files in the held-out slice, 200 to 20,000 characters
  (bounds the embedding time of the longest files).

The held-out slice is the training split's own rule, :func:`clonedetect.data.held_out`
(keys: the BigCloneBench function id and the stdlib path relative to the stdlib folder,
``json/decoder.py``); training and evaluation both call it.
(The training fits the Platt calibration on pairs drawn from the same held-out items;
POJ-104 valid is never trained on, a fixed subset of it drives early stopping.)

Pairs (label 1 = derived, 0 = independent):

* positive, level ``k`` (1..6): ``(original, obfuscate(original, language, k, s))`` with
  the cumulative levels of :mod:`clonedetect.obfuscation` and one
  obfuscation seed ``s`` per original (so level ``k`` extends level ``k - 1``).
* negative: ``(original, other program)``. For ``cpp`` the other program is another valid
  solution of the **same** POJ-104 problem (an independent solution of the same task,
  the hard case). Java and Python have no "same task" labels, so there the other program
  is another held-out function / file of similar length (one of the nearest in length),
  never a known BigCloneBench clone of it, never identical text and, for Python, never
  a file of the same top-level stdlib package (``encodings/*`` codecs are generated from
  one template and are near-copies of each other).

Variants are cached in ``cache_dir()/evaluation``, keyed by the generator's fingerprint
(:mod:`clonedetect.obfuscation.fingerprint`), so a change of the generator regenerates them. A variant the generator
refuses (``ObfuscationError``) is cached as a failure; any other exception is counted in
the report (``obfuscation_failures``) but not cached, and that positive is left out.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from clonedetect import data
from clonedetect.obfuscation.fingerprint import generator_fingerprint

LEVEL_RANGE = (1, 2, 3, 4, 5, 6)
LANGUAGES = ("cpp", "java", "python")
DATASETS = {
    "cpp": "POJ-104 valid split (problems 65-80)",
    "java": "BigCloneBench functions outside training (the training split's held-out 20%)",
    "python": "Python standard-library files outside training (the training split's held-out 20%)",
}
NEGATIVES = {
    "cpp": "another valid program of the same POJ-104 problem (independent solution of the same task)",
    "java": "another held-out function of similar length (no same-task labels; known clones excluded)",
    "python": "another held-out stdlib file of similar length from another top-level package "
    "(no same-task labels; same-package files such as the generated encodings/* codecs share templates)",
}


def held_out_java_functions() -> dict[str, Path]:
    return {fid: path for fid, path in data.bigclonebench_functions().items() if data.held_out(fid)}


def held_out_python_files() -> list[Path]:
    return [path for path in data.python_stdlib_files() if data.held_out(data.stdlib_key(path))]


def derived_seed(*parts) -> int:
    """A 32-bit seed from any parts, stable across processes (no ``hash()``)."""
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:8], 16)


def _code_size(code: str) -> int:
    return sum(1 for ch in code if not ch.isspace())


@dataclass(frozen=True)
class Unit:
    key: str
    code: str
    group: str = ""  # cpp: POJ-104 problem id; python: top-level stdlib package; java: none


@dataclass(frozen=True)
class Pair:
    language: str
    label: int  # 1 = derived (original vs its variant), 0 = independent
    level: int  # obfuscation level of a positive; 0 for negatives
    key_a: str
    key_b: str
    code_a: str
    code_b: str


@dataclass
class PairSet:
    language: str
    pairs: list[Pair]
    n_originals: int
    stats: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- selection


def select_cpp(n_originals: int, negatives_per_original: int, seed: int) -> tuple[list[Unit], list[tuple[Unit, Unit]]]:
    programs = data.poj104_programs("valid")
    by_problem: dict[str, list] = {}
    for program in programs:
        by_problem.setdefault(program.label, []).append(program)
    rng = random.Random(derived_seed(seed, "cpp-originals"))
    problems = sorted(by_problem, key=int)
    per_problem = -(-n_originals // len(problems))
    originals, negatives = [], []
    for problem in problems:
        members = by_problem[problem]
        chosen = rng.sample(range(len(members)), min(per_problem, len(members)))
        for index in chosen:
            if len(originals) >= n_originals:
                break
            program = members[index]
            unit = Unit(f"poj104/{problem}/{program.path.stem}", program.read(), problem)
            originals.append(unit)
            others = [i for i in range(len(members)) if i != index]
            for other_index in rng.sample(others, min(negatives_per_original, len(others))):
                other = members[other_index]
                other_unit = Unit(f"poj104/{problem}/{other.path.stem}", other.read(), problem)
                if other_unit.code.strip() != unit.code.strip():
                    negatives.append((unit, other_unit))
    return originals, negatives


def _similar_length_negatives(
    originals: list[Unit],
    pool: list[Unit],
    per_original: int,
    rng: random.Random,
    forbidden: set[frozenset] | None = None,
) -> list[tuple[Unit, Unit]]:
    """For each original, ``per_original`` other pool units among its nearest in length."""
    ordered = sorted(pool, key=lambda u: (_code_size(u.code), u.key))
    rank = {u.key: i for i, u in enumerate(ordered)}
    width = max(3, 2 * per_original)
    negatives = []
    for unit in originals:
        r = rank[unit.key]
        low, high = max(0, r - width), min(len(ordered), r + width + 1)
        candidates = [
            u
            for u in ordered[low:high]
            if u.key != unit.key
            and u.code.strip() != unit.code.strip()
            and not (forbidden and frozenset((u.key, unit.key)) in forbidden)
            and not (unit.group and u.group == unit.group)
        ]
        for other in rng.sample(candidates, min(per_original, len(candidates))):
            negatives.append((unit, other))
    return negatives


def _read_pool(items: list[tuple[str, Path, str]], min_chars: int, max_chars: int) -> list[Unit]:
    units = []
    for key, path, group in items:
        code = path.read_text(encoding="utf-8", errors="replace")
        if min_chars <= len(code) <= max_chars and code.strip():
            units.append(Unit(key, code, group))
    return units


def _stdlib_package(key: str) -> str:
    """The top-level stdlib package of a file (``encodings/cp1252.py`` -> ``encodings``),
    or the module itself for a top-level file."""
    return key.split("/", 1)[0]


def select_java(
    n_originals: int, negatives_per_original: int, seed: int, min_chars: int = 300, max_chars: int = 20_000
) -> tuple[list[Unit], list[tuple[Unit, Unit]]]:
    pool = _read_pool([(k, p, "") for k, p in sorted(held_out_java_functions().items())], min_chars, max_chars)
    rng = random.Random(derived_seed(seed, "java-originals"))
    originals = sorted(rng.sample(pool, min(n_originals, len(pool))), key=lambda u: u.key)
    held = {u.key for u in pool}
    clones = {
        frozenset((p.id_a, p.id_b))
        for p in data.bigclonebench_pairs()
        if p.is_clone and p.id_a in held and p.id_b in held
    }
    negatives = _similar_length_negatives(originals, pool, negatives_per_original, rng, clones)
    return originals, negatives


def select_python(
    n_originals: int, negatives_per_original: int, seed: int, min_chars: int = 200, max_chars: int = 20_000
) -> tuple[list[Unit], list[tuple[Unit, Unit]]]:
    pool = _read_pool(
        [(data.stdlib_key(p), p, _stdlib_package(data.stdlib_key(p))) for p in held_out_python_files()],
        min_chars,
        max_chars,
    )
    rng = random.Random(derived_seed(seed, "python-originals"))
    originals = sorted(rng.sample(pool, min(n_originals, len(pool))), key=lambda u: u.key)
    negatives = _similar_length_negatives(originals, pool, negatives_per_original, rng)
    return originals, negatives


SELECTORS = {"cpp": select_cpp, "java": select_java, "python": select_python}


# --------------------------------------------------------------------------- variants


class VariantCache:
    """``{sha1(code):level:seed -> variant or {"error": type}}`` in one JSON file per language and generator."""

    def __init__(self, language: str, directory: Path | None = None, enabled: bool = True):
        self.enabled = enabled
        self.path = (
            directory or data.cache_dir() / "evaluation"
        ) / f"variants-{language}-{generator_fingerprint()}.json"
        self.entries: dict[str, str | dict] = {}
        self.dirty = False
        if enabled and self.path.exists():
            try:
                self.entries = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}

    @staticmethod
    def key(code: str, level: int, seed: int) -> str:
        return f"{hashlib.sha1(code.encode('utf-8', 'surrogatepass')).hexdigest()}:{level}:{seed}"

    def save(self) -> None:
        if not (self.enabled and self.dirty):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self.entries), encoding="utf-8")
        os.replace(temporary, self.path)
        self.dirty = False
        self._prune()

    def _prune(self, keep: int = 3) -> None:
        """Drop this language's variant files of older generator versions (all but ``keep``)."""
        language = self.path.name.split("-")[1]
        files = sorted(
            self.path.parent.glob(f"variants-{language}-*.json"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for stale in files[keep:]:
            if stale != self.path:
                stale.unlink(missing_ok=True)


def make_variants(
    originals: list[Unit], language: str, seed: int, levels=LEVEL_RANGE, cache: VariantCache | None = None
) -> tuple[dict[tuple[str, int], str], Counter]:
    """``{(original key, level): variant}``; failures are left out and counted by error type."""
    from clonedetect.obfuscation import ObfuscationError, obfuscate

    cache = cache or VariantCache(language, enabled=False)
    variants: dict[tuple[str, int], str] = {}
    failures: Counter = Counter()
    for unit in originals:
        obf_seed = derived_seed(seed, "obfuscate", language, unit.key)
        for level in levels:
            key = VariantCache.key(unit.code, level, obf_seed)
            if key in cache.entries:
                variant = cache.entries[key]
            else:
                try:
                    variant = obfuscate(unit.code, language, level, obf_seed)
                    cache.entries[key] = variant
                    cache.dirty = True
                except ObfuscationError as exc:  # the generator's own refusal: deterministic, cached
                    variant = {"error": type(exc).__name__}
                    cache.entries[key] = variant
                    cache.dirty = True
                except Exception as exc:  # noqa: BLE001 - counted, not fatal, and not cached (may be transient)
                    variant = {"error": type(exc).__name__}
            if isinstance(variant, dict):
                failures[f"L{level}:{variant.get('error', 'error')}"] += 1
            elif variant.strip():
                variants[(unit.key, level)] = variant
            else:
                failures[f"L{level}:empty"] += 1
    cache.save()
    return variants, failures


def plagiarism_pairs(
    language: str,
    n_originals: int,
    negatives_per_original: int = 2,
    seed: int = 0,
    *,
    use_cache: bool = True,
    levels=LEVEL_RANGE,
    max_chars: int | None = None,
) -> PairSet:
    """All positive (per level) and negative pairs of one language; ``max_chars`` caps the
    Java / Python program size (default 20,000 characters)."""
    limits = {"max_chars": max_chars} if max_chars and language != "cpp" else {}
    originals, negatives = SELECTORS[language](n_originals, negatives_per_original, seed, **limits)
    variants, failures = make_variants(originals, language, seed, levels, VariantCache(language, enabled=use_cache))
    pairs: list[Pair] = []
    identical = Counter()
    for unit in originals:
        for level in levels:
            variant = variants.get((unit.key, level))
            if variant is None:
                continue
            if variant == unit.code:
                identical[f"L{level}"] += 1
            pairs.append(Pair(language, 1, level, unit.key, f"{unit.key}@L{level}", unit.code, variant))
    for unit, other in negatives:
        pairs.append(Pair(language, 0, 0, unit.key, other.key, unit.code, other.code))
    stats = {
        "dataset": DATASETS[language],
        "negatives": NEGATIVES[language],
        "n_originals": len(originals),
        "n_negatives": len(negatives),
        "n_positives": {f"L{lv}": sum(1 for p in pairs if p.label and p.level == lv) for lv in levels},
        "obfuscation_failures": dict(sorted(failures.items())),
        "variants_identical_to_original": {f"L{lv}": identical.get(f"L{lv}", 0) for lv in levels},
    }
    return PairSet(language, pairs, len(originals), stats)
