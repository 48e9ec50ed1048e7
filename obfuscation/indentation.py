"""Re-indent a program with a new indentation unit, from its syntactic nesting."""

from __future__ import annotations

import random

from tree_sitter import Node

from .edits import Edit, EditGroup
from .lines import first_code_offset, is_verbatim, line_starts, node_at
from .source import Source, ancestors

INDENT_UNITS = ("  ", "    ", "\t", "   ", "        ")

# Brace languages: nodes whose contents are indented one level.
NESTING_TYPES = frozenset(
    {
        "compound_statement",
        "field_declaration_list",
        "declaration_list",
        "enumerator_list",
        "initializer_list",
        "case_statement",
        "block",
        "class_body",
        "interface_body",
        "enum_body",
        "constructor_body",
        "switch_block",
        "switch_block_statement_group",
        "array_initializer",
        "annotation_type_body",
        "element_value_array_initializer",
        "record_body",
        "switch_rule",
    }
)
TOP_LEVEL_TYPES = frozenset({"translation_unit", "program"})
# Tokens that line up with the statement they belong to rather than hang under it.
ALIGNED_TOKENS = frozenset({"{", "}", "else", "catch", "finally"})

PYTHON_CLAUSES = frozenset(
    {
        "elif_clause",
        "else_clause",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "case_clause",
    }
)


def reindent(source: Source, rng: random.Random) -> list[EditGroup]:
    """Rewrite the leading whitespace of every code line with a randomly chosen unit."""
    unit = rng.choice(INDENT_UNITS)
    if source.language == "python":
        return _reindent_python(source, unit)
    return _reindent_braces(source, unit)


def _reindent_braces(source: Source, unit: str) -> list[EditGroup]:
    groups = []
    for start in line_starts(source):
        code = first_code_offset(source, start)
        if is_verbatim(source, start):
            continue
        if code == source.line_end(start) or source.data[code : code + 1] == b"#":
            new = ""
        else:
            new = unit * _brace_depth(source, node_at(source, code))
        groups.extend(_replacement(source, start, code, new))
    return groups


def _brace_depth(source: Source, token: Node) -> int:
    row = token.start_point.row
    depth = sum(
        1
        for node in (token, *ancestors(token))
        if node.type in NESTING_TYPES
        and node.start_point.row < row
        and not (token.type == "}" and token.parent is not None and token.parent == node)
    )
    statement = _enclosing_statement(token)
    if statement is not None and statement.start_point.row < row and token.type not in ALIGNED_TOKENS:
        depth += 1
    return depth


def _enclosing_statement(token: Node) -> Node | None:
    for node in (token, *ancestors(token)):
        parent = node.parent
        if parent is not None and (parent.type in NESTING_TYPES or parent.type in TOP_LEVEL_TYPES):
            return node
    return None


def _reindent_python(source: Source, unit: str) -> list[EditGroup]:
    groups = []
    old_logical, new_logical = "", ""
    comment_lines: list[tuple[int, int]] = []  # take the indentation of the code line below
    for start in line_starts(source):
        code = first_code_offset(source, start)
        if is_verbatim(source, start):
            continue
        old = source.slice(start, code)
        if code == source.line_end(start):
            groups.extend(_replacement(source, start, code, ""))
            continue
        if source.data[code : code + 1] == b"#":
            comment_lines.append((start, code))
            continue
        line_node = _logical_line_node(source, code)
        if line_node is not None:
            new = unit * sum(1 for a in ancestors(line_node) if a.type == "block")
            old_logical, new_logical = old, new
            groups.extend(g for s, e in comment_lines for g in _replacement(source, s, e, new))
            comment_lines = []
        elif old.startswith(old_logical):
            new = new_logical + old[len(old_logical) :]
        else:
            continue
        groups.extend(_replacement(source, start, code, new))
    return groups


def _logical_line_node(source: Source, offset: int) -> Node | None:
    """The statement, clause or comment starting a logical line at ``offset``, if any."""
    node = node_at(source, offset)
    while node is not None and node.start_byte == offset:
        parent = node.parent
        if node.type in PYTHON_CLAUSES:
            return node
        if parent is not None and (parent.type in ("block", "module", "decorated_definition")):
            return node
        node = parent
    return None


def _replacement(source: Source, start: int, end: int, new: str) -> list[EditGroup]:
    return [] if source.slice(start, end) == new else [[Edit(start, end, new)]]
