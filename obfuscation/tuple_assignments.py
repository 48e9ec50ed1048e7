"""Level 3 (Python): split ``a, b = 1, 2`` and ``a = b = 0`` into separate assignments, and
merge adjacent assignments into one."""

from __future__ import annotations

import random

from tree_sitter import Node

from .blocks import gap_is_blank, statement_blocks, statements
from .edits import Edit, EditGroup, replace
from .sampling import some_of
from .source import Source, walk

# Expressions whose evaluation may observe or cause effects, or that read badly in a tuple.
UNSAFE_VALUE_PARTS = frozenset(
    {
        "call",
        "await",
        "yield",
        "named_expression",
        "lambda",
        "expression_list",
        "list_splat",
        "dictionary_splat",
        "conditional_expression",
        "generator_expression",
    }
)

IMMUTABLE_LITERALS = frozenset({"integer", "float", "string", "true", "false", "none"})


def split_and_merge_assignments(source: Source, rng: random.Random) -> list[EditGroup]:
    candidates: list[EditGroup] = []
    for block in statement_blocks(source):
        body = statements(block)
        index = 0
        while index < len(body):
            statement = body[index]
            pair = _tuple_assignment(source, statement) or _chained_assignment(source, statement)
            if pair is not None:
                candidates.append([_split(source, statement, pair)])
            elif index + 1 < len(body) and _mergeable(source, statement, body[index + 1]):
                candidates.append([_merge(source, statement, body[index + 1])])
                index += 1
            index += 1
    return some_of(rng, candidates, 0.6)


def _single_assignment(source: Source, statement: Node) -> tuple[Node, Node] | None:
    """(target, value) of ``name = value`` on lines of its own."""
    if statement.type != "expression_statement" or statement.named_child_count != 1 or not source.owns_lines(statement):
        return None
    assignment = statement.named_children[0]
    if assignment.type != "assignment" or assignment.child_by_field_name("type") is not None:
        return None
    left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
    if left is None or right is None or right.type == "assignment":
        return None
    return left, right


def _tuple_assignment(source: Source, statement: Node) -> tuple[list[Node], list[Node]] | None:
    pair = _single_assignment(source, statement)
    if pair is None or pair[0].type != "pattern_list" or pair[1].type != "expression_list":
        return None
    targets, values = pair[0].named_children, pair[1].named_children
    if len(targets) != len(values) or any(t.type != "identifier" for t in targets):
        return None
    names = {source.text_of(t) for t in targets}
    if len(names) != len(targets) or not all(_safe_value(source, v, names) for v in values):
        return None
    return targets, values


def _chained_assignment(source: Source, statement: Node) -> tuple[list[Node], list[Node]] | None:
    """``a = b = <literal>``: two names bound to one immutable constant."""
    if statement.type != "expression_statement" or statement.named_child_count != 1 or not source.owns_lines(statement):
        return None
    outer = statement.named_children[0]
    inner = outer.child_by_field_name("right") if outer.type == "assignment" else None
    if inner is None or inner.type != "assignment" or inner.child_by_field_name("type") is not None:
        return None
    targets = [outer.child_by_field_name("left"), inner.child_by_field_name("left")]
    value = inner.child_by_field_name("right")
    if any(t is None or t.type != "identifier" for t in targets):
        return None
    if value is None or value.type not in IMMUTABLE_LITERALS:
        return None
    if source.text_of(targets[0]) == source.text_of(targets[1]):
        return None
    return targets, [value, value]


def _mergeable(source: Source, first: Node, second: Node) -> bool:
    a, b = _single_assignment(source, first), _single_assignment(source, second)
    if a is None or b is None or a[0].type != "identifier" or b[0].type != "identifier":
        return False
    first_name, second_name = source.text_of(a[0]), source.text_of(b[0])
    return (
        first_name != second_name
        and gap_is_blank(source, first, second)
        and _safe_value(source, a[1], set())
        and _safe_value(source, b[1], {first_name})
    )


def _safe_value(source: Source, value: Node, forbidden_names: set[str]) -> bool:
    return not any(
        node.type in UNSAFE_VALUE_PARTS or (node.type == "identifier" and source.text_of(node) in forbidden_names)
        for node in walk(value)
    )


def _split(source: Source, statement: Node, pair: tuple[list[Node], list[Node]]) -> Edit:
    separator = "\n" + source.indentation_of(statement)
    lines = [f"{source.text_of(t)} = {source.text_of(v)}" for t, v in zip(*pair, strict=True)]
    return replace(statement, separator.join(lines))


def _merge(source: Source, first: Node, second: Node) -> Edit:
    (t1, v1), (t2, v2) = _single_assignment(source, first), _single_assignment(source, second)
    if v1.type in IMMUTABLE_LITERALS and source.text_of(v1) == source.text_of(v2):
        text = f"{source.text_of(t1)} = {source.text_of(t2)} = {source.text_of(v1)}"
    else:
        text = f"{source.text_of(t1)}, {source.text_of(t2)} = {source.text_of(v1)}, {source.text_of(v2)}"
    return Edit(first.start_byte, second.end_byte, text)
