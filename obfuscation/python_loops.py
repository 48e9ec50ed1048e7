"""Level 6 (Python): ``for i in range(..)`` becomes a counting ``while`` loop, and
``while cond:`` becomes ``while True:`` with a ``break``."""

from __future__ import annotations

import random

from tree_sitter import Node

from . import python_scopes
from .bindings import Resolution
from .edits import Edit, EditGroup, insert, replace_apart
from .expressions import indent_unit
from .loops import continues_loop
from .sampling import some_of
from .source import Source, contains, nodes_of_type

LITERAL_BOUNDS = frozenset({"integer", "identifier"})


def range_for_to_while(source: Source, rng: random.Random) -> list[EditGroup]:
    resolution = python_scopes.resolve(source)[0]
    candidates = [
        group
        for loop in nodes_of_type(source.root, "for_statement")
        if (group := _counting_while(source, resolution, loop)) is not None
    ]
    return some_of(rng, candidates, 0.7)


def while_to_infinite_loop(source: Source, rng: random.Random) -> list[EditGroup]:
    candidates = []
    for loop in nodes_of_type(source.root, "while_statement"):
        condition, body = loop.child_by_field_name("condition"), loop.child_by_field_name("body")
        if loop.child_by_field_name("alternative") is not None or not _body_on_own_lines(loop, body):
            continue
        if condition.type == "true":
            continue
        indentation = source.indentation_of(body)
        unit = indent_unit(indentation)
        test = f"if not ({source.text_of(condition)}):\n{indentation}{unit}break\n{indentation}"
        candidates.append([replace_apart(source, condition, "True"), insert(body.start_byte, test)])
    return some_of(rng, candidates, 0.5)


def _counting_while(source: Source, resolution: Resolution, loop: Node) -> EditGroup | None:
    target, iterable = loop.child_by_field_name("left"), loop.child_by_field_name("right")
    body = loop.child_by_field_name("body")
    if target is None or target.type != "identifier" or iterable is None or iterable.type != "call":
        return None
    if loop.children[0].type == "async":
        return None
    if loop.child_by_field_name("alternative") is not None or not _body_on_own_lines(loop, body):
        return None
    function, arguments = iterable.child_by_field_name("function"), iterable.child_by_field_name("arguments")
    if source.text_of(function) != "range" or resolution.binding_of(function) is not None:
        return None
    bounds = arguments.named_children
    if not 1 <= len(bounds) <= 2 or any(b.type not in LITERAL_BOUNDS for b in bounds):
        return None
    if any(_assigned_in(resolution, b, body) for b in bounds + [target]) or continues_loop(loop, body):
        return None
    counter = resolution.binding_of(target)
    if counter is None or counter.kind == "global" or any(o.start_byte > loop.end_byte for o in counter.occurrences):
        return None  # the counter's final value would differ after the loop
    start, stop = ("0", bounds[0]) if len(bounds) == 1 else (source.text_of(bounds[0]), bounds[1])
    name, indentation = source.text_of(target), source.indentation_of(loop)
    colon = next(c for c in loop.children if c.type == ":")
    header = f"{name} = {start}\n{indentation}while {name} < {source.text_of(stop)}:"
    step = f"\n{source.indentation_of(body)}{name} += 1"
    return [Edit(loop.start_byte, colon.end_byte, header), insert(body.end_byte, step)]


def _assigned_in(resolution: Resolution, name: Node, body: Node) -> bool:
    binding = resolution.binding_of(name)
    return binding is not None and any(
        contains(body, o) and (o.start_byte, o.end_byte) in resolution.sites for o in binding.occurrences
    )


def _body_on_own_lines(loop: Node, body: Node | None) -> bool:
    return body is not None and body.start_point.row > loop.start_point.row
