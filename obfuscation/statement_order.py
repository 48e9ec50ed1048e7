"""Level 5: swap adjacent statements that are independent of each other."""

from __future__ import annotations

import random

from .blocks import gap_is_blank, statement_blocks, statements
from .edits import EditGroup, replace
from .effects import EffectAnalysis
from .source import Source


def swap_independent_statements(source: Source, rng: random.Random) -> list[EditGroup]:
    analysis = EffectAnalysis(source)
    pairs = []
    for block in statement_blocks(source):
        body = statements(block)
        for first, second in zip(body, body[1:], strict=False):
            if gap_is_blank(source, first, second) and analysis.independent(first, second):
                pairs.append((first, second))
    chosen, last_end = [], -1
    for first, second in pairs:
        if first.start_byte >= last_end and rng.random() < 0.6:
            chosen.append((first, second))
            last_end = second.end_byte
    if not chosen and pairs:
        chosen = [rng.choice(pairs)]
    return [
        [replace(first, source.text_of(second)), replace(second, source.text_of(first))] for first, second in chosen
    ]
