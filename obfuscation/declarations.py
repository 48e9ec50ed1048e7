"""Level 3 (C, C++, Java): split multi-variable declarations, merge runs of single ones."""

from __future__ import annotations

import random
import re

from tree_sitter import Node

from .blocks import declaration_prefix, declarators, gap_is_blank, is_simple_declaration, statement_blocks, statements
from .edits import Edit, EditGroup, replace
from .sampling import some_of
from .source import Source

# Types whose declarators cannot share one declaration.
UNMERGEABLE_PREFIX = re.compile(r"\b(auto|var|decltype)\b")


def split_and_merge_declarations(source: Source, rng: random.Random) -> list[EditGroup]:
    """``int a=1,b;`` becomes ``int a=1; int b;`` and ``int a; int b;`` becomes ``int a, b;``."""
    candidates: list[EditGroup] = []
    for block in statement_blocks(source):
        run: list[Node] = []
        for statement in statements(block) + [None]:
            if statement is not None and _extends_run(source, run, statement):
                run.append(statement)
                continue
            if len(run) > 1:
                candidates.append([_merged(source, run)])
            run = [statement] if statement is not None and _mergeable(source, statement) else []
            if statement is not None and is_simple_declaration(source, statement) and len(declarators(statement)) > 1:
                candidates.append([_split(source, statement)])
    return some_of(rng, candidates, 0.7)


def _mergeable(source: Source, node: Node) -> bool:
    return (
        is_simple_declaration(source, node)
        and len(declarators(node)) == 1
        and not UNMERGEABLE_PREFIX.search(declaration_prefix(source, node))
    )


def _extends_run(source: Source, run: list[Node], node: Node) -> bool:
    return (
        bool(run)
        and _mergeable(source, node)
        and gap_is_blank(source, run[-1], node)
        and _normalised(declaration_prefix(source, node)) == _normalised(declaration_prefix(source, run[0]))
    )


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _merged(source: Source, run: list[Node]) -> Edit:
    prefix = declaration_prefix(source, run[0])
    parts = ", ".join(source.text_of(declarators(d)[0]) for d in run)
    return Edit(run[0].start_byte, run[-1].end_byte, f"{prefix} {parts};")


def _split(source: Source, declaration: Node) -> Edit:
    prefix = declaration_prefix(source, declaration)
    separator = "\n" + source.indentation_of(declaration) if source.starts_line(declaration) else " "
    parts = [f"{prefix} {source.text_of(d)};" for d in declarators(declaration)]
    return replace(declaration, separator.join(parts))
