"""A parsed program: its text, bytes and tree-sitter tree, with helpers on nodes and lines."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from .languages import parser_for

ENCODING = "utf-8"
ENCODING_ERRORS = "surrogatepass"


class Source:
    """Immutable view of one program; edits produce a new :class:`Source`."""

    def __init__(self, text: str, language: str):
        self.text = text
        self.language = language
        self.data = text.encode(ENCODING, ENCODING_ERRORS)
        self.tree = parser_for(language).parse(self.data)
        self.root = self.tree.root_node

    def with_text(self, text: str) -> Source:
        return Source(text, self.language)

    def slice(self, start: int, end: int) -> str:
        return self.data[start:end].decode(ENCODING, ENCODING_ERRORS)

    def text_of(self, node: Node) -> str:
        return self.slice(node.start_byte, node.end_byte)

    def line_start(self, offset: int) -> int:
        return self.data.rfind(b"\n", 0, offset) + 1

    def line_end(self, offset: int) -> int:
        """Offset of the newline ending the line holding ``offset`` (or the end of the text)."""
        end = self.data.find(b"\n", offset)
        return len(self.data) if end < 0 else end

    def indentation_of(self, node: Node) -> str:
        """Leading whitespace of the line on which ``node`` starts."""
        start = self.line_start(node.start_byte)
        line = self.data[start : node.start_byte]
        return self.slice(start, start + len(line) - len(line.lstrip(b" \t")))

    def starts_line(self, node: Node) -> bool:
        return self.data[self.line_start(node.start_byte) : node.start_byte].strip(b" \t") == b""

    def ends_line(self, node: Node) -> bool:
        return self.data[node.end_byte : self.line_end(node.end_byte)].strip(b" \t\r") == b""

    def owns_lines(self, node: Node) -> bool:
        """True when nothing else shares the lines ``node`` starts and ends on."""
        return self.starts_line(node) and self.ends_line(node)

    def error_count(self) -> int:
        return count_errors(self.root)


def count_errors(root: Node) -> int:
    if not root.has_error:
        return 0
    return sum(1 for node in walk(root) if node.is_error or node.is_missing)


def walk(node: Node) -> Iterator[Node]:
    """All nodes under ``node`` (itself included) in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def nodes_of_type(node: Node, *types: str) -> Iterator[Node]:
    wanted = frozenset(types)
    return (n for n in walk(node) if n.type in wanted)


def ancestors(node: Node) -> Iterator[Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def is_field(node: Node, field: str) -> bool:
    """True when ``node`` sits in its parent's ``field``."""
    parent = node.parent
    return parent is not None and any(same_node(node, c) for c in parent.children_by_field_name(field))


def same_node(a: Node | None, b: Node | None) -> bool:
    return a is not None and b is not None and (a.start_byte, a.end_byte, a.type) == (b.start_byte, b.end_byte, b.type)


def contains(outer: Node, inner: Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte
