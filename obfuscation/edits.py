"""Byte-range edits on a :class:`Source` and their validated application.

A pass proposes *edit groups*: the edits of one transformation site, applied all or none.
Overlapping groups are dropped (first proposal wins). A pass result is kept only when it
parses no worse than the original program; otherwise the groups that keep it so are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from .source import Source


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str

    def overlaps(self, other: Edit) -> bool:
        if self.start == self.end or other.start == other.end:
            point, span = (self, other) if self.start == self.end else (other, self)
            return span.start < point.start < span.end
        return self.start < other.end and other.start < self.end


EditGroup = list[Edit]


def replace(node: Node, text: str) -> Edit:
    return Edit(node.start_byte, node.end_byte, text)


def replace_apart(source: Source, node: Node, text: str) -> Edit:
    """Like :func:`replace`, with a space added where the new text would otherwise run into
    a neighbouring word (``while(x)`` -> ``while True``, not ``whileTrue``)."""
    before = source.data[node.start_byte - 1 : node.start_byte] if node.start_byte else b""
    after = source.data[node.end_byte : node.end_byte + 1]
    if text[:1].isidentifier() and (before.isalnum() or before == b"_"):
        text = " " + text
    if text[-1:].isalnum() and (after.isalnum() or after == b"_"):
        text += " "
    return replace(node, text)


def insert(offset: int, text: str) -> Edit:
    return Edit(offset, offset, text)


def render(source: Source, groups: list[EditGroup]) -> str:
    """The text of ``source`` with the (non-overlapping) groups applied."""
    edits = sorted((edit for group in groups for edit in group), key=lambda e: (e.start, e.end))
    pieces, position = [], 0
    for edit in edits:
        pieces.append(source.slice(position, edit.start))
        pieces.append(edit.text)
        position = edit.end
    pieces.append(source.slice(position, len(source.data)))
    return "".join(pieces)


def without_overlaps(groups: list[EditGroup]) -> list[EditGroup]:
    kept: list[EditGroup] = []
    taken: list[Edit] = []
    for group in groups:
        if any(edit.overlaps(other) for edit in group for other in taken):
            continue
        if any(a.overlaps(b) for i, a in enumerate(group) for b in group[i + 1 :]):
            continue
        kept.append(group)
        taken.extend(group)
    return kept
