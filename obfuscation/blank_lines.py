"""Remove existing blank lines and add new ones between statements."""

from __future__ import annotations

import random

from .comments import COMMENTABLE_PARENTS
from .edits import Edit, EditGroup, insert
from .languages import COMMENT_TYPES
from .lines import first_code_offset, is_verbatim, line_starts
from .source import Source, nodes_of_type


def vary_blank_lines(source: Source, rng: random.Random) -> list[EditGroup]:
    groups = []
    for start in line_starts(source):
        end = source.line_end(start)
        if start < end and first_code_offset(source, start) == end and not is_verbatim(source, start):
            if end < len(source.data) and rng.random() < 0.6:
                groups.append([Edit(start, end + 1, "")])
    statements = [
        child
        for parent in nodes_of_type(source.root, *COMMENTABLE_PARENTS[source.language])
        for child in parent.named_children
        if child.type not in COMMENT_TYPES and source.starts_line(child)
    ]
    for statement in statements:
        start = source.line_start(statement.start_byte)
        if start == 0 or _follows_comment_line(source, start):
            continue
        if not is_verbatim(source, start) and rng.random() < 0.12:
            groups.append([insert(start, "\n")])
    return groups


def _follows_comment_line(source: Source, line_start: int) -> bool:
    previous = source.data[source.line_start(line_start - 1) : line_start].strip()
    return previous.startswith((b"#", b"//", b"/*", b"*"))
