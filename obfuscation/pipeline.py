"""Run the passes of the requested levels over a program, re-parsing after every pass."""

from __future__ import annotations

import random

from . import java_wrapper
from .edits import EditGroup
from .errors import ObfuscationError
from .languages import SUPPORTED_LANGUAGES
from .levels import LEVELS
from .registry import passes_for
from .source import Source, nodes_of_type
from .validation import Validator, apply_validated

# Structural levels first, cosmetic ones last, so the final layout covers all generated code.
EXECUTION_ORDER = (4, 6, 3, 5, 2, 1)
# On input that does not parse cleanly only these levels run, and only outside ERROR nodes.
LEVELS_SAFE_ON_PARSE_ERRORS = frozenset({1, 2})


def obfuscate(code: str, language: str, level: int, seed: int = 0) -> str:
    """A plagiarised variant of ``code`` with the transformations of levels ``1..level``."""
    _check(language, level)
    return _run(code, language, [lv for lv in EXECUTION_ORDER if lv <= level], seed)


def apply_level(code: str, language: str, level: int, seed: int = 0) -> str:
    """A variant of ``code`` with the transformations of ``level`` only."""
    _check(language, level)
    return _run(code, language, [level], seed)


def _check(language: str, level: int) -> None:
    if language not in SUPPORTED_LANGUAGES:
        raise ObfuscationError(
            f"unsupported language {language!r}: supported languages are {', '.join(SUPPORTED_LANGUAGES)}"
        )
    if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
        raise ObfuscationError(f"unsupported level {level!r}: levels are integers {min(LEVELS)} to {max(LEVELS)}")


def _run(code: str, language: str, levels: list[int], seed: int) -> str:
    wrapped = language == "java" and java_wrapper.needs_wrapper(code)
    source = Source(java_wrapper.wrap(code) if wrapped else code, language)
    validator = Validator(source)
    clean = source.error_count() == 0
    for level in levels:
        if not clean and level not in LEVELS_SAFE_ON_PARSE_ERRORS:
            continue
        for pass_ in passes_for(level, language):
            rng = random.Random(f"{seed}:{language}:{pass_.__module__}.{pass_.__name__}")
            groups = pass_(source, rng)
            if not clean:
                groups = _outside_errors(source, groups)
            source = apply_validated(source, groups, validator)
    return java_wrapper.unwrap(source.text) if wrapped else source.text


def _outside_errors(source: Source, groups: list[EditGroup]) -> list[EditGroup]:
    spans = [(n.start_byte, n.end_byte) for n in nodes_of_type(source.root, "ERROR")]
    return [
        group
        for group in groups
        if not any(start <= edit.end and edit.start <= end for edit in group for start, end in spans)
    ]
