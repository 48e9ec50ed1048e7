"""Level 2: rename local variables, parameters and the program's own functions."""

from __future__ import annotations

import random

from . import c_scopes, java_scopes, python_scopes
from .bindings import Binding
from .edits import EditGroup, replace
from .languages import C_FAMILY
from .naming import NameFactory
from .sampling import some_of
from .source import Source


def renamable_bindings(source: Source) -> list[Binding]:
    if source.language in C_FAMILY:
        return c_scopes.renamable(source, c_scopes.resolve(source))
    if source.language == "java":
        return java_scopes.renamable(source, java_scopes.resolve(source))
    return python_scopes.resolve(source)[1]


def rename_identifiers(source: Source, rng: random.Random) -> list[EditGroup]:
    """Give most renamable names a fresh name, consistently at every use."""
    factory = NameFactory(source, rng)
    groups = [
        [replace(node, new) for node in binding.occurrences]
        for binding in some_of(rng, renamable_bindings(source), 0.8)
        for new in [factory.fresh()]
    ]
    if source.language == "java":
        groups += [
            [replace(name, factory.fresh())] for name in java_scopes.renamable_methods(source) if rng.random() < 0.8
        ]
    return groups
