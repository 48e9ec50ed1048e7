"""Level 3: move declarations (C, C++, Java) and literal assignments (Python) up to the top
of their block, where nothing before them can be affected."""

from __future__ import annotations

import random

from tree_sitter import Node

from .blocks import (
    LITERAL_TYPES,
    declarators,
    declared_name,
    identifier_texts,
    is_simple_declaration,
    is_string_statement,
    statement_blocks,
    statements,
)
from .edits import Edit, EditGroup, insert
from .sampling import some_of
from .source import Source, walk

C_MOVABLE_TYPES = frozenset({"primitive_type", "sized_type_specifier", "type_identifier", "template_type"})


def hoist_declarations(source: Source, rng: random.Random) -> list[EditGroup]:
    candidates = []
    for block in statement_blocks(source):
        if source.language == "python" and (block.parent is None or block.parent.type != "function_definition"):
            continue
        body = statements(block)
        leading = _leading_count(source, body)
        if leading == len(body):
            continue
        anchor = body[leading - 1] if leading else None
        for index in range(leading + 1, len(body)):
            statement = body[index]
            names = _movable_names(source, statement)
            if not names or any(names & identifier_texts(source, s) for s in body[:index]):
                continue
            # Type names must not be defined between the new and the old place either.
            type_names = identifier_texts(source, statement) - names
            if not any(type_names & identifier_texts(source, s) for s in body[leading:index]):
                candidates.append(_move(source, body[leading], anchor, statement))
    return some_of(rng, candidates, 0.6)


def _leading_count(source: Source, body: list[Node]) -> int:
    """How many statements at the top are already declarations (or a docstring, or the
    ``super(...)``/``this(...)`` call a Java constructor must start with)."""
    count = 0
    for statement in body:
        if (
            _movable_names(source, statement)
            or is_string_statement(statement)
            or _is_declaration(source, statement)
            or statement.type == "explicit_constructor_invocation"
        ):
            count += 1
        else:
            break
    return count


def _is_declaration(source: Source, node: Node) -> bool:
    return source.language != "python" and is_simple_declaration(source, node)


def _movable_names(source: Source, statement: Node) -> set[str]:
    """Names a statement declares when it does nothing else (no non-literal initialiser)."""
    if source.language == "python":
        return _python_literal_assignment(source, statement)
    if not is_simple_declaration(source, statement):
        return set()
    type_node = statement.child_by_field_name("type")
    if source.language != "java" and (type_node is None or type_node.type not in C_MOVABLE_TYPES):
        return set()
    names = {source.text_of(declared_name(d)) for d in declarators(statement)}
    for declarator in declarators(statement):
        value = declarator.child_by_field_name("value")
        if value is not None and value.type not in LITERAL_TYPES:
            return set()
        if any(n.type == "identifier" and source.text_of(n) not in names for n in walk(declarator)):
            return set()
    return names


def _python_literal_assignment(source: Source, statement: Node) -> set[str]:
    if statement.type != "expression_statement" or statement.named_child_count != 1:
        return set()
    assignment = statement.named_children[0]
    if assignment.type != "assignment":
        return set()
    left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
    if left is None or right is None or left.type != "identifier" or right.type not in LITERAL_TYPES:
        return set()
    if right.type == "string" and any(c.type == "interpolation" for c in right.children):
        return set()
    return {source.text_of(left)}


def _move(source: Source, first: Node, anchor: Node | None, statement: Node) -> EditGroup:
    text = source.text_of(statement)
    if anchor is None:
        where = insert(first.start_byte, f"{text}\n{source.indentation_of(first)}")
    else:
        where = insert(anchor.end_byte, f"\n{source.indentation_of(anchor)}{text}")
    return [where, _deletion(source, statement)]


def _deletion(source: Source, statement: Node) -> Edit:
    if source.owns_lines(statement):
        start = source.line_start(statement.start_byte)
        return Edit(start, min(source.line_end(statement.end_byte) + 1, len(source.data)), "")
    return Edit(statement.start_byte, statement.end_byte, "")
