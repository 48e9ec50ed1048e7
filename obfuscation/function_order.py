"""Level 4: reorder function definitions (C and C++ get prototypes so any order compiles)."""

from __future__ import annotations

import random

from tree_sitter import Node

from .blocks import identifier_texts
from .edits import Edit, EditGroup
from .languages import C_FAMILY, COMMENT_TYPES
from .source import Source, nodes_of_type, walk


def reorder_functions(source: Source, rng: random.Random) -> list[EditGroup]:
    groups = []
    for container in _containers(source):
        for run in _runs(source, container):
            if len(run) > 1 and _run_is_movable(source, run):
                groups.append(_reordered(source, run, rng))
    return groups


def _containers(source: Source) -> list[Node]:
    if source.language in C_FAMILY:
        return [source.root]
    if source.language == "java":
        return list(nodes_of_type(source.root, "class_body"))
    return [source.root] + [
        c.child_by_field_name("body")
        for c in nodes_of_type(source.root, "class_definition")
        if c.child_by_field_name("body") is not None
    ]


def _is_function(source: Source, node: Node) -> bool:
    if source.language == "java":
        return node.type in ("method_declaration", "constructor_declaration")
    return node.type == "function_definition"


def _runs(source: Source, container: Node) -> list[list[tuple[int, Node]]]:
    """Maximal runs of adjacent functions, each as (start of its leading comments, function)."""
    runs: list[list[tuple[int, Node]]] = [[]]
    comment_start: int | None = None
    for child in container.named_children:
        if child.type in COMMENT_TYPES and source.starts_line(child):
            comment_start = child.start_byte if comment_start is None else comment_start
            continue
        if _is_function(source, child) and source.starts_line(child):
            runs[-1].append((child.start_byte if comment_start is None else comment_start, child))
        else:
            runs.append([])
        comment_start = None
    return [run for run in runs if run]


def _run_is_movable(source: Source, run: list[tuple[int, Node]]) -> bool:
    functions = [f for _, f in run]
    if source.language in C_FAMILY:
        return all(_prototype(source, f) is not None for f in functions) and not _main_is_called(source)
    if source.language == "python":
        names = [source.text_of(f.child_by_field_name("name")) for f in functions]
        header_names = set().union(*(_header_identifiers(source, f) for f in functions))
        return len(set(names)) == len(names) and not header_names & set(names)
    return True


def _header_identifiers(source: Source, function: Node) -> set[str]:
    """Names a Python ``def`` evaluates when it runs (defaults and annotations)."""
    found: set[str] = set()
    for field in ("parameters", "return_type"):
        part = function.child_by_field_name(field)
        if part is not None:
            found |= identifier_texts(source, part)
    return found


def _reordered(source: Source, run: list[tuple[int, Node]], rng: random.Random) -> EditGroup:
    items = [source.slice(start, function.end_byte) for start, function in run]
    order = list(range(len(items)))
    while order == sorted(order):
        rng.shuffle(order)
    indentation = source.indentation_of(run[0][1])
    separator = "\n\n\n" if source.language == "python" and not indentation else "\n\n"
    text = (separator + indentation).join(items[i] for i in order)
    if source.language in C_FAMILY:
        prototypes = [_prototype(source, f) for _, f in run]
        text = "\n".join(p for p in prototypes if p) + "\n\n" + text
    return [Edit(run[0][0], run[-1][1].end_byte, text)]


def _prototype(source: Source, function: Node) -> str | None:
    """``int f(int a);`` for a plain C/C++ function; ``""`` for main; None if unsafe to declare."""
    declarator = function.child_by_field_name("declarator")
    body = function.child_by_field_name("body")
    if declarator is None or body is None or declarator.type != "function_declarator":
        return None
    name = declarator.child_by_field_name("declarator")
    parameters = declarator.child_by_field_name("parameters")
    if name is None or name.type != "identifier" or parameters is None:
        return None
    if any(c.type == "optional_parameter_declaration" for c in walk(parameters)):
        return None  # default arguments may be given only once
    if any(c.type == "identifier" for c in parameters.named_children):
        return None  # K&R parameter list
    if any(c.type == "declaration" for c in function.children):
        return None  # K&R parameter declarations
    if any(c.type in COMMENT_TYPES for c in walk(function) if c.end_byte <= declarator.end_byte):
        return None
    if source.text_of(name) == "main":
        return ""
    return source.slice(function.start_byte, declarator.end_byte) + ";"


def _main_is_called(source: Source) -> bool:
    calls = (n.child_by_field_name("function") for n in nodes_of_type(source.root, "call_expression"))
    return any(f is not None and source.text_of(f) == "main" for f in calls)
