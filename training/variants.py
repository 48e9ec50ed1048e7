"""Pre-generate obfuscated variants with the tree-sitter obfuscator, once, cached.

``clonedetect.obfuscation.obfuscate(code, language, level, seed)`` is
optional: when it cannot be imported, :func:`pregenerate` returns ``{}`` and training
uses the regex augmentation only. Generation runs in worker processes (one per core)
under a wall-clock budget; whatever finished in it is used and cached in
``cache_dir()/training`` (keyed by the generator's fingerprint: every file of the
obfuscation package and the versions of tree-sitter and its grammars; and by the items
and the seed), so a rerun does not pay for it again.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import random
import time
from pathlib import Path

from clonedetect import data


def load_obfuscator():
    """The obfuscator function, or None when it is not installed / not importable."""
    try:
        from clonedetect.obfuscation import obfuscate
    except Exception:  # noqa: BLE001 - absent or broken: fall back to regex augmentation
        return None
    return obfuscate


def variants_cache_path(
    items: list[tuple[str, str, str]], *, seed: int, per_item: int, levels: tuple[int, ...], cache: Path | None
) -> Path:
    """The cache file of :func:`pregenerate`'s result for these arguments and this generator."""
    from clonedetect.obfuscation.fingerprint import generator_fingerprint

    digest = hashlib.sha1(generator_fingerprint().encode())
    digest.update(f"{seed}/{per_item}/{levels}".encode())
    for key, code, language in items:
        digest.update(f"{key}\0{language}\0".encode() + hashlib.sha1(code.encode("utf-8", "replace")).digest())
    return (cache or data.cache_dir() / "training") / f"variants-{digest.hexdigest()[:16]}.json"


def _work(job: tuple[str, str, str, int, int]) -> tuple[str, str | None]:
    key, code, language, level, seed = job
    obfuscate = load_obfuscator()
    try:
        result = obfuscate(code, language, level, seed)
    except Exception:  # noqa: BLE001 - a program the obfuscator cannot handle is skipped
        return key, None
    return key, result if isinstance(result, str) and result.strip() and result != code else None


def pregenerate(
    items: list[tuple[str, str, str]],
    *,
    seed: int,
    budget_s: float,
    processes: int = 2,
    per_item: int = 1,
    levels: tuple[int, ...] = (1, 2, 3, 4, 5, 6),
    cache: Path | None = None,
) -> dict[str, list[str]]:
    """``{key: [variant, ...]}`` for ``items`` = ``[(key, code, language), ...]``, each item
    obfuscated ``per_item`` times at random levels."""
    obfuscate = load_obfuscator()
    if obfuscate is None or not items or budget_s <= 0:
        return {}
    path = variants_cache_path(items, seed=seed, per_item=per_item, levels=levels, cache=cache)
    if path.exists():
        return json.loads(path.read_text())

    rng = random.Random(seed)
    jobs = [
        (key, code, language, rng.choice(levels), rng.randrange(2**31))
        for key, code, language in items
        for _ in range(per_item)
    ]
    variants: dict[str, list[str]] = {}
    deadline = time.monotonic() + budget_s
    pool = multiprocessing.get_context("fork").Pool(processes)
    try:
        results = pool.imap_unordered(_work, jobs)  # chunksize 1: an iterator with timeouts
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                key, result = results.next(timeout=remaining)
            except (StopIteration, multiprocessing.TimeoutError):
                break
            if result is not None:
                variants.setdefault(key, []).append(result)
    finally:
        pool.terminate()
        pool.join()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(variants))  # what finished in the budget, reused from now on
    return variants
