"""Level 6: invert ``if``/``else`` statements (negate the condition, swap the branches)."""

from __future__ import annotations

import random

from tree_sitter import Node

from .edits import EditGroup, replace, replace_apart
from .expressions import condition_expression
from .languages import COMMENT_TYPES
from .sampling import some_of
from .source import Source, nodes_of_type

COMPOUND_BODIES = frozenset({"compound_statement", "block"})


def invert_if_else(source: Source, rng: random.Random) -> list[EditGroup]:
    invert = _inverted_python if source.language == "python" else _inverted_braces
    candidates = [
        group
        for statement in nodes_of_type(source.root, "if_statement")
        if (group := invert(source, statement)) is not None
    ]
    return some_of(rng, candidates, 0.5)


def negation(source: Source, expression: Node) -> str:
    """The text of the logical negation of a C/C++/Java expression."""
    if expression.type == "unary_expression" and source.text_of(expression).startswith("!"):
        return source.text_of(expression.child_by_field_name("argument") or expression.named_children[0])
    if expression.type == "binary_expression":
        operator = expression.child_by_field_name("operator")
        flipped = {"==": "!=", "!=": "=="}.get(source.text_of(operator))
        if flipped is not None:
            left, right = expression.child_by_field_name("left"), expression.child_by_field_name("right")
            return f"{source.text_of(left)} {flipped} {source.text_of(right)}"
    return f"!({source.text_of(expression)})"


def _inverted_braces(source: Source, statement: Node) -> EditGroup | None:
    condition = statement.child_by_field_name("condition")
    consequence = statement.child_by_field_name("consequence")
    alternative = _else_branch(statement)
    if condition is None or consequence is None or alternative is None:
        return None
    if any(c.type == "constexpr" or source.text_of(c) == "constexpr" for c in statement.children[:3]):
        return None
    inner = condition_expression(condition)
    if inner is None:
        return None
    return [
        replace(condition, f"({negation(source, inner)})"),
        replace(consequence, _braced(source, alternative)),
        replace(alternative, _braced(source, consequence)),
    ]


def _else_branch(statement: Node) -> Node | None:
    alternative = statement.child_by_field_name("alternative")
    if alternative is None or alternative.type != "else_clause":
        return alternative
    branches = [c for c in alternative.named_children if c.type not in COMMENT_TYPES]
    return branches[0] if len(branches) == 1 and len(alternative.named_children) == 1 else None


def _braced(source: Source, branch: Node) -> str:
    text = source.text_of(branch)
    return text if branch.type in COMPOUND_BODIES else f"{{ {text} }}"


def _inverted_python(source: Source, statement: Node) -> EditGroup | None:
    alternatives = statement.children_by_field_name("alternative")
    if len(alternatives) != 1 or alternatives[0].type != "else_clause":
        return None
    condition = statement.child_by_field_name("condition")
    consequence = statement.child_by_field_name("consequence")
    otherwise = alternatives[0].child_by_field_name("body")
    if consequence is None or otherwise is None:
        return None
    if (
        consequence.start_point.row == statement.start_point.row
        or otherwise.start_point.row == alternatives[0].start_point.row
    ):
        return None  # a branch on its header's line
    if condition.type == "not_operator":
        negated = source.text_of(condition.child_by_field_name("argument"))
    else:
        negated = f"not ({source.text_of(condition)})"
    return [
        replace_apart(source, condition, negated),
        replace(consequence, source.text_of(otherwise)),
        replace(otherwise, source.text_of(consequence)),
    ]
