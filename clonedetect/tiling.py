"""Greedy string tiling (Wise, 1993): the matched fragments of two token sequences.

Repeatedly takes the longest common runs of tokens not yet covered (at least
``min_match`` long) and marks them as tiles, so each token belongs to at most one tile and
moved or reordered blocks are still matched, which n-gram overlap of whole programs cannot
show. JPlag's comparison is built on the same algorithm.

Why hand-written: no maintained Python package implements greedy string tiling (JPlag is
Java; difflib's matcher finds one alignment in order and so misses moved blocks).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Tile:
    """Tokens ``a[start_a:start_a + length]`` equal ``b[start_b:start_b + length]``."""

    start_a: int
    start_b: int
    length: int


def _unmarked_grams(symbols: Sequence[int], marked: bytearray, k: int) -> dict[tuple[int, ...], list[int]]:
    grams: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for j in range(len(symbols) - k + 1):
        if not any(marked[j : j + k]):
            grams[tuple(symbols[j : j + k])].append(j)
    return grams


MAX_SEEDS_PER_GRAM = 32
"""Where a run of ``min_match`` tokens occurs more often than this in B (repeated
boilerplate, generated tables), only its first occurrences start matches."""
MAX_STEPS_PER_ROUND = 2_000_000
"""Token comparisons one round may spend extending matches; a round that runs out keeps the
longest matches found so far. With the seed limit this bounds the work on pathological
input (periodic code has a matching diagonal every period)."""
MAX_WORK_PER_PAIR = 3_000_000
"""Positions scanned plus token comparisons that all rounds of one pair may spend together.
Each round finds the longest remaining matches, one round per distinct tile length, and
scans both sequences: two ~20,000-token programs built of blocks of ever-growing length
took 185 rounds and 8 s without it (docs/RELIABILITY.md). A pair that runs out keeps the
tiles found so far, its longest, and loses only the shortest."""


def _extend(a, b, marked_a, marked_b, i: int, j: int, n: int) -> int:
    while i + n < len(a) and j + n < len(b) and a[i + n] == b[j + n] and not marked_a[i + n] and not marked_b[j + n]:
        n += 1
    return n


def _longest_matches(a, b, marked_a, marked_b, min_match) -> tuple[int, list[Tile], int]:
    """The longest runs of equal unmarked tokens (at least ``min_match``), all of that length,
    and the token comparisons spent finding them."""
    grams = _unmarked_grams(b, marked_b, min_match)
    longest, found, steps = min_match, [], 0
    for i in range(len(a) - min_match + 1):
        if any(marked_a[i : i + min_match]):
            continue
        for j in grams.get(tuple(a[i : i + min_match]), ())[:MAX_SEEDS_PER_GRAM]:
            if i and j and a[i - 1] == b[j - 1] and not marked_a[i - 1] and not marked_b[j - 1]:
                continue  # inside a longer run that starts earlier
            n = _extend(a, b, marked_a, marked_b, i, j, min_match)
            steps += n
            if n > longest:
                longest, found = n, [Tile(i, j, n)]
            elif n == longest:
                found.append(Tile(i, j, n))
        if steps > MAX_STEPS_PER_ROUND:
            break
    return longest, found, steps


def greedy_string_tiling(a: Sequence[str], b: Sequence[str], min_match: int) -> list[Tile]:
    """The tiles of ``a`` and ``b``, longest first."""
    if min_match < 1:
        raise ValueError(f"min_match must be at least 1, got {min_match}")
    codes: dict[str, int] = {}
    a_ids = [codes.setdefault(s, len(codes)) for s in a]
    b_ids = [codes.setdefault(s, len(codes)) for s in b]
    marked_a, marked_b = bytearray(len(a)), bytearray(len(b))
    tiles: list[Tile] = []
    work = 0
    while True:
        longest, matches, steps = _longest_matches(a_ids, b_ids, marked_a, marked_b, min_match)
        work += len(a) + len(b) + steps
        for tile in matches:
            span_a = range(tile.start_a, tile.start_a + tile.length)
            span_b = range(tile.start_b, tile.start_b + tile.length)
            if any(marked_a[i] for i in span_a) or any(marked_b[j] for j in span_b):
                continue  # overlaps a tile marked in this round
            for i in span_a:
                marked_a[i] = 1
            for j in span_b:
                marked_b[j] = 1
            tiles.append(tile)
        if not matches or longest == min_match or work > MAX_WORK_PER_PAIR:
            return tiles
