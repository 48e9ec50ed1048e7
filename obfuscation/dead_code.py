"""Level 6: insert code that never runs (``if (0) {...}``) and a variable nobody uses."""

from __future__ import annotations

import random

from tree_sitter import Node

from .blocks import is_string_statement, statement_blocks, statements
from .edits import EditGroup, insert
from .expressions import indent_unit
from .languages import C_FAMILY
from .naming import NameFactory
from .source import Source, ancestors, nodes_of_type

CALLS = frozenset({"call_expression", "method_invocation", "call"})
FALSE = {"c": "0", "cpp": "false", "java": "false", "python": "False"}


def insert_dead_code(source: Source, rng: random.Random) -> list[EditGroup]:
    """A never-taken branch repeating a nearby call, and an unused variable."""
    places = _insertion_points(source)
    if not places:
        return []
    factory = NameFactory(source, rng)
    groups = []
    calls = [s for s in places if _is_call_statement(source, s)]
    if calls:
        call = rng.choice(calls)
        groups.append([insert(call.start_byte, _dead_branch(source, call))])
    if not (source.language in C_FAMILY and any(True for _ in nodes_of_type(source.root, "goto_statement"))):
        statement = rng.choice(places)
        groups.append([insert(statement.start_byte, _unused_variable(source, statement, factory, rng))])
    return groups


def _insertion_points(source: Source) -> list[Node]:
    """Statements that start their line, in blocks where a new statement may precede them."""
    found = []
    for block in statement_blocks(source):
        if source.language == "python" and not any(a.type == "function_definition" for a in ancestors(block)):
            continue  # module and class level: a new first line could displace a docstring
        if block.parent is not None and block.parent.type == "switch_statement":
            continue  # a declaration there would be crossed by the jumps to the case labels
        body = statements(block)
        for index, statement in enumerate(body):
            if not source.starts_line(statement):
                continue
            if source.language == "python" and index == 0 and is_string_statement(statement):
                continue
            if statement.type == "explicit_constructor_invocation":
                continue  # must stay the first statement of a constructor
            found.append(statement)
    return found


def _is_call_statement(source: Source, statement: Node) -> bool:
    return (
        statement.type == "expression_statement"
        and statement.named_child_count == 1
        and statement.named_children[0].type in CALLS
        and "\n" not in source.text_of(statement)
    )


def _dead_branch(source: Source, statement: Node) -> str:
    indentation = source.indentation_of(statement)
    copy = source.text_of(statement)
    if source.language == "python":
        return f"if False:\n{indentation}{indent_unit(indentation)}{copy}\n{indentation}"
    inner = indentation + indent_unit(indentation)
    return f"if ({FALSE[source.language]}) {{\n{inner}{copy}\n{indentation}}}\n{indentation}"


def _unused_variable(source: Source, statement: Node, factory: NameFactory, rng: random.Random) -> str:
    indentation = source.indentation_of(statement)
    value = rng.randint(0, 9)
    if source.language == "python":
        return f"{factory.fresh()} = {value}\n{indentation}"
    return f"int {factory.fresh()} = {value};\n{indentation}"
