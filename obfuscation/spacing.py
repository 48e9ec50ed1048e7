"""Change the spacing around binary and assignment operators and after commas."""

from __future__ import annotations

import random

from tree_sitter import Node

from .edits import Edit, EditGroup
from .source import Source, walk

OPERATOR_PARENTS = frozenset(
    {
        "binary_expression",
        "assignment_expression",
        "init_declarator",
        "variable_declarator",
        "assignment",
        "augmented_assignment",
        "binary_operator",
        "comparison_operator",
    }
)
COMMA_PARENTS = frozenset({"argument_list", "parameter_list", "formal_parameters", "parameters"})
# Characters that can never glue onto an operator to form a different token.
SAFE_NEIGHBOURS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_)]\"'")


def respace_operators(source: Source, rng: random.Random) -> list[EditGroup]:
    """Either put single spaces around operators and after commas, or squeeze them out."""
    spaced = rng.random() < 0.5
    groups = []
    for node in walk(source.root):
        if node.is_named or node.parent is None:
            continue
        if node.parent.type in OPERATOR_PARENTS and _is_symbolic_operator(source, node):
            groups.extend(_around(source, node, spaced))
        elif node.type == "," and node.parent.type in COMMA_PARENTS:
            groups.extend(_gap(source, node.end_byte, _next_start(node), " " if spaced else "", spaced))
    return groups


def _is_symbolic_operator(source: Source, node: Node) -> bool:
    text = source.text_of(node)
    return bool(text) and not any(ch.isalnum() or ch == "_" for ch in text) and node.prev_sibling is not None


def _around(source: Source, operator: Node, spaced: bool) -> list[EditGroup]:
    before = operator.prev_sibling.end_byte
    after = _next_start(operator)
    if after is None:
        return []
    if not spaced and not (source.data[before - 1] in SAFE_NEIGHBOURS and source.data[after] in SAFE_NEIGHBOURS):
        return []
    text = " " if spaced else ""
    return _gap(source, before, operator.start_byte, text, spaced) + _gap(
        source, operator.end_byte, after, text, spaced
    )


def _next_start(node: Node) -> int | None:
    following = node.next_sibling
    return None if following is None else following.start_byte


def _gap(source: Source, start: int, end: int | None, text: str, spaced: bool) -> list[EditGroup]:
    if end is None or end < start:
        return []
    current = source.slice(start, end)
    if current == text or current.strip(" \t") or (spaced and current):
        return []
    return [[Edit(start, end, text)]]
