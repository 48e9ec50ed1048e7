"""Level 6: rewrite ``for`` loops as ``while`` loops and back."""

from __future__ import annotations

import random

from tree_sitter import Node

from .blocks import LOOP_TYPES
from .edits import Edit, EditGroup, insert, replace
from .expressions import condition_expression, indent_unit
from .sampling import some_of
from .source import Source, ancestors, nodes_of_type, walk

COMPOUND_BODIES = frozenset({"compound_statement", "block"})


def for_to_while(source: Source, rng: random.Random) -> list[EditGroup]:
    """``for (init; cond; step) body`` becomes ``{ init; while (cond) { body step; } }``."""
    candidates = [
        group
        for loop in nodes_of_type(source.root, "for_statement")
        if (group := _for_as_while(source, loop)) is not None
    ]
    return some_of(rng, candidates, 0.7)


def while_to_for(source: Source, rng: random.Random) -> list[EditGroup]:
    """``while (cond) body`` becomes ``for (; cond; ) body``."""
    candidates = []
    for loop in nodes_of_type(source.root, "while_statement"):
        condition = loop.child_by_field_name("condition")
        inner = condition_expression(condition) if condition is not None else None
        if inner is not None:
            candidates.append([Edit(loop.start_byte, condition.end_byte, f"for (; {source.text_of(inner)}; )")])
    return some_of(rng, candidates, 0.5)


def _for_as_while(source: Source, loop: Node) -> EditGroup | None:
    java = source.language == "java"
    body = loop.child_by_field_name("body")
    condition = loop.child_by_field_name("condition")
    initialisers = loop.children_by_field_name("init" if java else "initializer")
    updates = loop.children_by_field_name("update")
    if body is None or not (initialisers or updates) or continues_loop(loop, body):
        return None
    if condition is not None and condition.type in ("declaration", "condition_clause"):
        return None
    if java and updates and not _may_complete_normally(body):
        return None  # the step would be an unreachable statement
    close_paren = next(c for c in reversed(loop.children) if c.type == ")" and c.end_byte <= body.start_byte)
    default_condition = "1" if source.language == "c" else "true"
    condition_text = source.text_of(condition) if condition is not None else default_condition
    steps = "".join(f"{source.text_of(u)}; " for u in updates).rstrip()
    indentation = source.indentation_of(loop)
    if initialisers:
        init = "".join(_as_statement(source, i) + " " for i in initialisers)
        header = f"{{\n{indentation}{init.rstrip()}\n{indentation}while ({condition_text})"
        closing = [insert(loop.end_byte, f"\n{indentation}}}")]
    else:
        header, closing = f"while ({condition_text})", []
    group = [Edit(loop.start_byte, close_paren.end_byte, header)]
    if steps:
        group.append(_append_to_body(source, body, steps, indentation))
    return group + closing


def _as_statement(source: Source, node: Node) -> str:
    text = source.text_of(node)
    return text if text.endswith(";") else text + ";"


def _append_to_body(source: Source, body: Node, steps: str, indentation: str) -> Edit:
    unit = indent_unit(indentation)
    if body.type not in COMPOUND_BODIES:
        inner = indentation + unit
        return replace(body, f"{{\n{inner}{source.text_of(body)}\n{inner}{steps}\n{indentation}}}")
    closing = body.children[-1]
    if source.starts_line(closing):
        return insert(closing.start_byte, f"{unit}{steps}\n{source.indentation_of(closing)}")
    return insert(closing.start_byte, f" {steps} ")


def continues_loop(loop: Node, body: Node) -> bool:
    """True when a ``continue`` in ``body`` would skip this loop's step."""
    for node in walk(body):
        if node.type == "continue_statement":
            if node.named_child_count:
                return True
            innermost = next(a for a in ancestors(node) if a.type in LOOP_TYPES)
            if innermost == loop:
                return True
    return False


def _may_complete_normally(statement: Node) -> bool:
    """Conservative Java reachability: True only when the statement surely can finish."""
    kind = statement.type
    if kind == "block":
        children = [c for c in statement.named_children if c.type not in ("line_comment", "block_comment")]
        return not children or _may_complete_normally(children[-1])
    if kind == "if_statement":
        alternative = statement.child_by_field_name("alternative")
        return (
            alternative is None
            or _may_complete_normally(statement.child_by_field_name("consequence"))
            or _may_complete_normally(alternative)
        )
    if kind in ("while_statement", "for_statement"):
        condition = statement.child_by_field_name("condition")
        if condition is not None and kind == "while_statement":
            condition = condition_expression(condition)
        return condition is not None and condition.type != "true"
    return kind in (
        "expression_statement",
        "local_variable_declaration",
        "enhanced_for_statement",
        "assert_statement",
        "empty_statement",
    )
