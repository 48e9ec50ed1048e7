"""Level 6 (C, C++, Java): turn a simple ``switch`` into an ``if``/``else if`` chain.

Simple means: a side-effect-free subject, constant case labels, every group but the last
ending in ``break`` with no other ``break`` leaving the switch, ``default`` (if any) last,
and no declarations or labels directly in a group.
"""

from __future__ import annotations

import random

from tree_sitter import Node

from .blocks import LOOP_TYPES, SWITCH_TYPES
from .edits import EditGroup, replace
from .expressions import condition_expression, is_pure_reference, parenthesised
from .languages import COMMENT_TYPES
from .sampling import some_of
from .source import Source, ancestors, contains, nodes_of_type, walk

C_LABEL_TYPES = frozenset({"number_literal", "char_literal", "identifier"})
JAVA_LABEL_TYPES = frozenset(
    {
        "decimal_integer_literal",
        "hex_integer_literal",
        "octal_integer_literal",
        "binary_integer_literal",
        "character_literal",
    }
)
STATEMENT_PARENTS = frozenset(
    {"compound_statement", "block", "case_statement", "switch_block_statement_group", "constructor_body"}
)
UNMOVABLE = frozenset({"declaration", "local_variable_declaration", "labeled_statement", "case_statement"})


def switch_to_if_chain(source: Source, rng: random.Random) -> list[EditGroup]:
    candidates = []
    for switch in nodes_of_type(source.root, *SWITCH_TYPES):
        text = _if_chain(source, switch)
        if text is not None:
            candidates.append([replace(switch, text)])
    return some_of(rng, candidates, 0.7)


def _if_chain(source: Source, switch: Node) -> str | None:
    in_block = switch.parent is not None and switch.parent.type in STATEMENT_PARENTS
    if source.language == "java" and not in_block:
        return None  # perhaps a switch expression
    condition = switch.child_by_field_name("condition")
    subject = condition_expression(condition) if condition is not None else None
    groups = _groups(source, switch)
    if subject is None or not is_pure_reference(subject) or not groups:
        return None
    subject_text = parenthesised(source, subject)
    indentation = source.indentation_of(switch)
    parts = []
    for index, (labels, body) in enumerate(groups):
        statements = _without_final_break(body, last=index == len(groups) - 1)
        if statements is None:
            return None
        block = _block(source, statements, indentation)
        if labels is None:
            if index != len(groups) - 1 or not parts:
                return None
            parts.append(f"{{{block}}}")
        else:
            test = " || ".join(f"{subject_text} == {source.text_of(label)}" for label in labels)
            parts.append(f"if ({test}) {{{block}}}")
    chain = " else ".join(parts)
    return chain if in_block else f"{{ {chain} }}"


def _groups(source: Source, switch: Node) -> list[tuple[list[Node] | None, list[Node]]] | None:
    """(labels, statements) per group; labels None for ``default``."""
    body = switch.child_by_field_name("body")
    if body is None:
        return None
    groups, labels = [], []
    for child in body.named_children:
        if child.type in COMMENT_TYPES:
            continue
        if source.language == "java":
            if child.type != "switch_block_statement_group":
                return None
            entries = child.named_children
            label_nodes = [e for e in entries if e.type == "switch_label"]
            statements = [e for e in entries if e.type != "switch_label"]
        else:
            if child.type != "case_statement":
                return None
            value = child.child_by_field_name("value")
            label_nodes = [child]
            statements = [e for e in child.named_children if value is None or e != value]
        for label in label_nodes:
            values = _label_values(source, label)
            if values is False:
                return None
            if values is None:
                if labels:  # default shares its statements with case labels
                    return None
                labels = None
            else:
                if labels is None:
                    return None
                labels.extend(values)
        if statements:
            groups.append((labels, statements))
            labels = []
        elif labels is None:
            return None
    return groups if not labels else None


def _label_values(source: Source, label: Node) -> list[Node] | None | bool:
    """The constants of one label, None for ``default``, False when not a plain constant."""
    if source.language == "java":
        values = label.named_children
        allowed = JAVA_LABEL_TYPES
    else:
        value = label.child_by_field_name("value")
        values = [] if value is None else [value]
        allowed = C_LABEL_TYPES
    if not values:
        return None if source.text_of(label).lstrip().startswith("default") else False
    return values if all(v.type in allowed for v in values) else False


def _without_final_break(statements: list[Node], last: bool) -> list[Node] | None:
    kept = [s for s in statements if s.type not in COMMENT_TYPES]
    if kept and kept[-1].type == "break_statement" and not kept[-1].named_children:
        kept = kept[:-1]
    elif not last:
        return None  # falls through into the next group
    for statement in kept:
        if statement.type in UNMOVABLE or _breaks_out(statement):
            return None
    return kept


def _breaks_out(statement: Node) -> bool:
    """True when a ``break`` inside would leave the switch itself."""
    for node in walk(statement):
        if node.type == "break_statement":
            if node.named_children:
                return True
            owner = next((a for a in ancestors(node) if a.type in LOOP_TYPES | SWITCH_TYPES), None)
            if owner is None or not contains(statement, owner):
                return True
        if node.type in ("labeled_statement", "case_statement", "switch_label"):
            return True
    return False


def _block(source: Source, statements: list[Node], indentation: str) -> str:
    if not statements:
        return " "
    text = source.slice(statements[0].start_byte, statements[-1].end_byte)
    return f"\n{indentation}    {text}\n{indentation}"
