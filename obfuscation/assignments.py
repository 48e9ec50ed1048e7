"""Level 6: ``x = x + y`` <-> ``x += y`` and ``i++`` <-> ``i += 1``."""

from __future__ import annotations

import random

from tree_sitter import Node

from . import c_scopes, java_scopes
from .bindings import Resolution
from .edits import EditGroup, replace
from .expressions import is_pure_reference, parenthesised
from .languages import C_FAMILY
from .sampling import some_of
from .source import Source, nodes_of_type

OPERATORS = frozenset({"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"})
PYTHON_OPERATORS = frozenset({"+", "-", "*", "/", "//", "%"})
PYTHON_NUMBERS = frozenset({"integer", "float"})
# Java types for which ``x op= y`` and ``x = x op y`` mean the same (no implicit narrowing).
JAVA_WIDE_TYPES = frozenset({"int", "long", "float", "double", "String"})
JAVA_NUMERIC_TYPES = frozenset({"int", "long", "float", "double", "short", "byte", "char"})
C_SCALAR_TYPES = frozenset({"primitive_type", "sized_type_specifier"})


def rewrite_assignments(source: Source, rng: random.Random) -> list[EditGroup]:
    resolution = _resolution(source)
    candidates = []
    for node in nodes_of_type(
        source.root, "assignment_expression", "assignment", "augmented_assignment", "update_expression"
    ):
        text = _rewritten(source, resolution, node)
        if text is not None:
            candidates.append([replace(node, text)])
    return some_of(rng, candidates, 0.5)


def _resolution(source: Source) -> Resolution | None:
    if source.language in C_FAMILY:
        return c_scopes.resolve(source)
    if source.language == "java":
        return java_scopes.resolve(source)
    return None


def _rewritten(source: Source, resolution: Resolution | None, node: Node) -> str | None:
    if node.type == "update_expression":
        return _increment_as_assignment(source, resolution, node)
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    operator = node.child_by_field_name("operator") or (node.children[1] if node.child_count > 2 else None)
    if left is None or right is None or operator is None or not is_pure_reference(left):
        return None
    symbol = source.text_of(operator)
    if symbol == "=":
        return _expanded_as_compound(source, left, right)
    if symbol.endswith("=") and symbol[:-1] in OPERATORS | PYTHON_OPERATORS:
        return _compound_as_other(source, resolution, node, left, right, symbol[:-1])
    return None


def _expanded_as_compound(source: Source, left: Node, right: Node) -> str | None:
    """``x = x op y`` -> ``x op= y``."""
    if right.type not in ("binary_expression", "binary_operator"):
        return None
    operand, operator = right.child_by_field_name("left"), right.child_by_field_name("operator")
    other = right.child_by_field_name("right")
    symbol = source.text_of(operator)
    if source.text_of(operand) != source.text_of(left):
        return None
    if source.language == "python":
        if symbol not in PYTHON_OPERATORS or other.type not in PYTHON_NUMBERS or left.type != "identifier":
            return None
    elif symbol not in OPERATORS:
        return None
    return f"{source.text_of(left)} {symbol}= {source.text_of(other)}"


def _compound_as_other(
    source: Source, resolution: Resolution | None, node: Node, left: Node, right: Node, symbol: str
) -> str | None:
    """``x op= y`` -> ``x = x op (y)``, or ``i += 1`` -> ``i++`` when it is a statement."""
    if source.language == "python":
        if symbol not in PYTHON_OPERATORS or right.type not in PYTHON_NUMBERS or left.type != "identifier":
            return None
        return f"{source.text_of(left)} = {source.text_of(left)} {symbol} {source.text_of(right)}"
    if (
        symbol in "+-"
        and source.text_of(right) == "1"
        and _value_unused(node)
        and _has_type(source, resolution, left, JAVA_NUMERIC_TYPES)
    ):
        return f"{source.text_of(left)}{symbol * 2}"
    if not _has_type(source, resolution, left, JAVA_WIDE_TYPES):
        return None
    return f"{source.text_of(left)} = {source.text_of(left)} {symbol} {parenthesised(source, right)}"


def _increment_as_assignment(source: Source, resolution: Resolution | None, node: Node) -> str | None:
    """``i++`` / ``--i`` -> ``i += 1`` / ``i -= 1`` where the value is not used."""
    operand = node.named_children[0] if node.named_child_count == 1 else None
    if operand is None or operand.type != "identifier" or not _value_unused(node):
        return None
    if not _has_type(source, resolution, operand, JAVA_NUMERIC_TYPES):
        return None
    symbol = "+" if "++" in source.text_of(node) else "-"
    return f"{source.text_of(operand)} {symbol}= 1"


def _value_unused(node: Node) -> bool:
    parent = node.parent
    if parent is None:
        return False
    if parent.type == "expression_statement":
        return True
    return parent.type == "for_statement" and any(u == node for u in parent.children_by_field_name("update"))


def _has_type(source: Source, resolution: Resolution | None, reference: Node, java_types: frozenset[str]) -> bool:
    """Whether the variable behind ``reference`` has a type for which the rewrite is exact:
    a scalar or pointer in C/C++, one of ``java_types`` in Java."""
    if source.language == "c":
        return True
    if reference.type != "identifier" or resolution is None:
        return False
    binding = resolution.binding_of(reference)
    if binding is None:
        return False
    declaration = binding.declaration
    if declaration.type == "variable_declarator":
        declaration = declaration.parent
    type_node = declaration.child_by_field_name("type")
    if type_node is None:
        return False
    if source.language == "java":
        return source.text_of(type_node) in java_types and not _java_array(source, declaration, binding.name)
    return type_node.type in C_SCALAR_TYPES


def _java_array(source: Source, declaration: Node, name: str) -> bool:
    """``int a[]``: the brackets sit on the declarator (or parameter), not on the type."""
    if declaration.child_by_field_name("dimensions") is not None:
        return True
    return any(
        d.child_by_field_name("dimensions") is not None
        for d in declaration.children_by_field_name("declarator")
        if source.text_of(d.child_by_field_name("name")) == name
    )
