"""Keeps a pass result only when it is no less valid than the program it started from."""

from __future__ import annotations

import warnings

from .edits import EditGroup, render, without_overlaps
from .source import Source


def python_compiles(text: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(text, "<obfuscated>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


class Validator:
    """Accepts a candidate that parses with no more errors than the original (and, for
    Python input that compiles, still compiles)."""

    def __init__(self, original: Source):
        self.error_budget = original.error_count()
        self.must_compile = original.language == "python" and python_compiles(original.text)

    def accepts(self, candidate: Source) -> bool:
        if candidate.error_count() > self.error_budget:
            return False
        return not self.must_compile or python_compiles(candidate.text)


def apply_validated(source: Source, groups: list[EditGroup], validator: Validator) -> Source:
    """``source`` with as many of ``groups`` applied as keep it valid (all of them normally)."""
    groups = without_overlaps(groups)
    if not groups:
        return source
    candidate = source.with_text(render(source, groups))
    if validator.accepts(candidate):
        return candidate
    accepted: list[EditGroup] = []
    best = source

    def try_add(chunk: list[EditGroup]) -> None:
        nonlocal best
        trial = source.with_text(render(source, accepted + chunk))
        if validator.accepts(trial):
            accepted.extend(chunk)
            best = trial
        elif len(chunk) > 1:
            middle = len(chunk) // 2
            try_add(chunk[:middle])
            try_add(chunk[middle:])

    middle = len(groups) // 2
    try_add(groups[:middle])
    try_add(groups[middle:])
    return best
