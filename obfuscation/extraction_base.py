"""What the helper-extraction strategies share: the candidate type and the jump check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tree_sitter import Node

from .blocks import LOOP_TYPES, SWITCH_TYPES
from .edits import EditGroup
from .source import ancestors, walk

ALWAYS_ESCAPING = frozenset(
    {
        "return_statement",
        "goto_statement",
        "labeled_statement",
        "yield_statement",
        "co_return_statement",
        "yield",
        "await",
        "global_statement",
        "nonlocal_statement",
    }
)


@dataclass(frozen=True)
class Extraction:
    """A statement that can become a call; ``build`` makes the edits given a fresh name."""

    statement: Node
    build: Callable[[str], EditGroup]


def leaves_only_by_falling_through(statement: Node) -> bool:
    """No return/goto/label/yield inside, and every break/continue stays inside."""
    for node in walk(statement):
        if node.type in ALWAYS_ESCAPING:
            return False
        if node.type in ("break_statement", "continue_statement"):
            if node.named_child_count:  # labelled jump
                return False
            targets = LOOP_TYPES | (SWITCH_TYPES if node.type == "break_statement" else frozenset())
            inner = next((a for a in ancestors(node) if a.type in targets or a == statement), None)
            if inner is None or inner == statement and statement.type not in targets:
                return False
    return True
