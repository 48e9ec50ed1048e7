"""Line-level facts the layout passes need: where lines start and which ones are off limits."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from .languages import COMMENT_TYPES, STRING_TYPES
from .source import Source, ancestors

# Nodes whose inner line breaks belong to their text (whitespace there is not free).
VERBATIM_TYPES = (
    STRING_TYPES
    | COMMENT_TYPES
    | frozenset(
        {
            "string_content",
            "preproc_def",
            "preproc_function_def",
            "preproc_call",
            "preproc_arg",
            "preproc_include",
        }
    )
)


def line_starts(source: Source) -> Iterator[int]:
    yield 0
    position = source.data.find(b"\n")
    while position >= 0:
        yield position + 1
        position = source.data.find(b"\n", position + 1)


def node_at(source: Source, offset: int) -> Node:
    return source.root.descendant_for_byte_range(offset, offset)


def is_verbatim(source: Source, offset: int) -> bool:
    """True when ``offset`` lies strictly inside a string, comment or preprocessor line,
    or just after a backslash line continuation."""
    if offset > 1 and source.data[offset - 2 : offset] in (b"\\\n",):
        return True
    if offset > 2 and source.data[offset - 3 : offset] == b"\\\r\n":
        return True
    node = node_at(source, offset)
    for candidate in (node, *ancestors(node)):
        if candidate.type in VERBATIM_TYPES and candidate.start_byte < offset < candidate.end_byte:
            return True
    return False


def first_code_offset(source: Source, line_start: int) -> int:
    """Offset of the first non-blank byte of the line (its end when the line is blank)."""
    end = source.line_end(line_start)
    line = source.data[line_start:end]
    return line_start + len(line) - len(line.lstrip(b" \t\r"))
