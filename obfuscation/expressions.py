"""Small facts about expressions that several control-logic passes need."""

from __future__ import annotations

from tree_sitter import Node

from .blocks import LITERAL_TYPES
from .source import Source

REFERENCE_TYPES = frozenset(
    {
        "identifier",
        "field_expression",
        "field_access",
        "subscript_expression",
        "array_access",
        "attribute",
        "subscript",
        "parenthesized_expression",
        "subscript_argument_list",
        "this",
    }
)
# Expressions that need no parentheses wherever an operand can go.
ATOMIC_TYPES = LITERAL_TYPES | frozenset(
    {
        "identifier",
        "call_expression",
        "call",
        "method_invocation",
        "field_expression",
        "field_access",
        "subscript_expression",
        "array_access",
        "attribute",
        "subscript",
        "parenthesized_expression",
    }
)


def is_pure_reference(node: Node) -> bool:
    """A variable, field or element whose evaluation has no side effect (no calls, no ++)."""
    if node.type in LITERAL_TYPES:
        return True
    if node.type not in REFERENCE_TYPES:
        return False
    return all(is_pure_reference(child) for child in node.named_children if child.type != "field_identifier")


def parenthesised(source: Source, node: Node) -> str:
    text = source.text_of(node)
    return text if node.type in ATOMIC_TYPES else f"({text})"


def condition_expression(node: Node) -> Node | None:
    """The expression inside an ``if``/``while``/``switch`` condition's parentheses, or None
    for a C++ condition with a declaration or initialiser."""
    if node.type == "condition_clause":
        if node.child_by_field_name("initializer") is not None:
            return None
        value = node.child_by_field_name("value")
        return None if value is None or value.type == "declaration" else value
    if node.type == "parenthesized_expression" and node.named_child_count == 1:
        inner = node.named_children[0]
        return None if inner.type in ("comment", "line_comment", "block_comment") else inner
    return None


def indent_unit(indentation: str) -> str:
    return "\t" if "\t" in indentation else "    "
