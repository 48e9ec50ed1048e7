"""Switch the brace style of C, C++ and Java between K&R (same line) and Allman (own line)."""

from __future__ import annotations

import random

from tree_sitter import Node

from .edits import Edit, EditGroup
from .languages import COMMENT_TYPES
from .source import Source, walk

BODY_TYPES = frozenset(
    {
        "compound_statement",
        "field_declaration_list",
        "declaration_list",
        "block",
        "class_body",
        "interface_body",
        "enum_body",
        "constructor_body",
        "switch_block",
    }
)
STANDALONE_PARENTS = frozenset(
    {
        "compound_statement",
        "block",
        "constructor_body",
        "case_statement",
        "switch_block_statement_group",
        "translation_unit",
    }
)
FOLLOWER_KEYWORDS = frozenset({"else", "catch", "finally"})


def restyle_braces(source: Source, rng: random.Random) -> list[EditGroup]:
    """Move opening braces (and ``else``/``catch``/``finally`` after ``}``) onto or off the
    line before them, in one style chosen for the whole program."""
    own_line = rng.random() < 0.5
    groups = []
    for token in walk(source.root):
        if not _is_movable(token):
            continue
        previous = _previous_leaf(token)
        if previous is None or previous.type in COMMENT_TYPES:
            continue
        if token.type in FOLLOWER_KEYWORDS and previous.type != "}":
            continue
        gap = source.slice(previous.end_byte, token.start_byte)
        if gap.strip(" \t\r\n") or _line_is_directive(source, previous.end_byte):
            continue
        if own_line and "\n" not in gap:
            groups.append([Edit(previous.end_byte, token.start_byte, "\n")])
        elif not own_line and "\n" in gap:
            groups.append([Edit(previous.end_byte, token.start_byte, " ")])
    return groups


def _is_movable(token: Node) -> bool:
    parent = token.parent
    if parent is None:
        return False
    if token.type == "{":
        grandparent = parent.parent
        return (
            parent.type in BODY_TYPES
            and parent.children[0] == token
            and grandparent is not None
            and grandparent.type not in STANDALONE_PARENTS
        )
    return token.type in FOLLOWER_KEYWORDS and not token.is_named


def _previous_leaf(node: Node) -> Node | None:
    while node is not None and node.prev_sibling is None:
        node = node.parent
    if node is None:
        return None
    leaf = node.prev_sibling
    while leaf.child_count:
        leaf = leaf.children[-1]
    return leaf


def _line_is_directive(source: Source, offset: int) -> bool:
    line = source.data[source.line_start(offset) : offset]
    return line.lstrip().startswith(b"#")
