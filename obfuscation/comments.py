"""Remove, rewrite and add comments (and Python docstrings)."""

from __future__ import annotations

import random
import re

from tree_sitter import Node

from .edits import Edit, EditGroup, insert, replace
from .languages import COMMENT_TYPES, STATEMENT_BLOCKS
from .lines import is_verbatim
from .phrases import comment_text, phrase_for
from .sampling import some_of
from .source import Source, nodes_of_type

KEEP_PYTHON_COMMENT = re.compile(r"#!|#.*coding[:=]|#\s*type:")
# Containers whose children may be preceded by a new comment line.
COMMENTABLE_PARENTS = {
    "c": frozenset({"compound_statement", "translation_unit", "case_statement"}),
    "cpp": frozenset({"compound_statement", "translation_unit", "case_statement"}),
    "java": frozenset({"block", "constructor_body", "class_body", "switch_block_statement_group"}),
    "python": frozenset({"block", "module"}),
}


def rewrite_comments(source: Source, rng: random.Random) -> list[EditGroup]:
    """Delete about half of the comments and reword most of the others."""
    groups = []
    for comment in nodes_of_type(source.root, *COMMENT_TYPES):
        if not _may_touch(source, comment):
            continue
        roll = rng.random()
        if roll < 0.5:
            groups.append([_deletion(source, comment)])
        elif roll < 0.8:
            block = source.text_of(comment).startswith("/*")
            groups.append([replace(comment, comment_text(source.language, phrase_for(comment, rng), block))])
    if source.language == "python":
        groups.extend([_deletion(source, doc)] for doc in _removable_docstrings(source) if rng.random() < 0.5)
    return groups


def add_comments(source: Source, rng: random.Random) -> list[EditGroup]:
    """Put a comment line above some statements and definitions."""
    parents = COMMENTABLE_PARENTS[source.language]
    candidates = [
        node
        for node in _statements(source, parents)
        if source.starts_line(node) and not is_verbatim(source, source.line_start(node.start_byte))
    ]
    groups = []
    for node in some_of(rng, candidates, 0.15):
        text = comment_text(source.language, phrase_for(node, rng))
        groups.append([insert(node.start_byte, f"{text}\n{source.indentation_of(node)}")])
    return groups


def _statements(source: Source, parents: frozenset[str]) -> list[Node]:
    return [
        child
        for parent in nodes_of_type(source.root, *parents)
        for child in parent.named_children
        if child.type not in COMMENT_TYPES and not child.type.startswith("preproc") and not child.is_error
    ]


def _may_touch(source: Source, comment: Node) -> bool:
    text = source.text_of(comment)
    if source.language == "python":
        return not KEEP_PYTHON_COMMENT.match(text)
    # A line comment ending in a backslash swallows the next line: leave it alone.
    return not (text.startswith("//") and text.rstrip().endswith("\\"))


def _deletion(source: Source, node: Node) -> Edit:
    """An edit removing ``node``: its whole lines when it owns them, else just its text."""
    if source.owns_lines(node):
        start = source.line_start(node.start_byte)
        end = min(source.line_end(node.end_byte) + 1, len(source.data))
        return Edit(start, end, "")
    if source.ends_line(node):
        before = source.data[: node.start_byte]
        return Edit(len(before.rstrip(b" \t")), node.end_byte, "")
    return replace(node, " ")


def _removable_docstrings(source: Source) -> list[Node]:
    """Docstrings that own their lines and are followed by another statement."""
    found = []
    for block in nodes_of_type(source.root, *STATEMENT_BLOCKS["python"]):
        children = block.named_children
        statements = [c for c in children if c.type != "comment"]
        if len(statements) < 2:
            continue
        first = statements[0]
        if (
            first.type == "expression_statement"
            and first.named_child_count == 1
            and first.named_children[0].type == "string"
            and source.owns_lines(first)
            and (block.type == "module" or block.parent.type in ("function_definition", "class_definition"))
        ):
            found.append(first)
    return found
