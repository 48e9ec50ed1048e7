"""Level 6: conditional expressions become ``if``/``else`` statements, and back."""

from __future__ import annotations

import random

from tree_sitter import Node

from .edits import EditGroup, replace
from .expressions import condition_expression, indent_unit, is_pure_reference, parenthesised
from .languages import COMMENT_TYPES
from .sampling import some_of
from .source import Source, nodes_of_type, walk

CONDITIONALS = frozenset({"conditional_expression", "ternary_expression"})
STATEMENT_PARENTS = frozenset({"compound_statement", "block", "module", "constructor_body"})
PYTHON_VALUE_HAZARDS = frozenset({"yield", "await", "lambda", "named_expression", "conditional_expression"})


def switch_conditional_forms(source: Source, rng: random.Random) -> list[EditGroup]:
    """Some conditional expressions become ``if`` statements and some ``if`` statements
    conditional expressions (chosen together, so one direction never undoes the other)."""
    return some_of(rng, _ternaries_as_ifs(source) + _ifs_as_ternaries(source), 0.6)


def _ternaries_as_ifs(source: Source) -> list[EditGroup]:
    """``x = c ? a : b;`` -> ``if (c) x = a; else x = b;`` (Python: ``a if c else b``)."""
    candidates = []
    for statement in nodes_of_type(source.root, "expression_statement", "return_statement"):
        if statement.parent is None or statement.parent.type not in STATEMENT_PARENTS:
            continue
        text = _as_if(source, statement)
        if text is not None:
            candidates.append([replace(statement, text)])
    return candidates


def _ifs_as_ternaries(source: Source) -> list[EditGroup]:
    """``if (c) x = a; else x = b;`` -> ``x = (c) ? a : b;``."""
    candidates = []
    for statement in nodes_of_type(source.root, "if_statement"):
        if any(n.type in COMMENT_TYPES for n in walk(statement)):
            continue
        text = _as_conditional(source, statement)
        if text is not None:
            candidates.append([replace(statement, text)])
    return candidates


def _as_if(source: Source, statement: Node) -> str | None:
    python = source.language == "python"
    if statement.type == "return_statement":
        if source.language == "java":
            return None  # a conditional's type may differ from either branch's
        value = statement.named_children[0] if statement.named_child_count == 1 else None
        prefix = "return "
    else:
        expression = statement.named_children[0] if statement.named_child_count == 1 else None
        if expression is None or expression.type not in ("assignment_expression", "assignment"):
            return None
        if source.text_of(expression.child_by_field_name("operator") or expression.children[1]) != "=":
            return None
        left, value = expression.child_by_field_name("left"), expression.child_by_field_name("right")
        if left is None or not is_pure_reference(left) or (python and expression.child_by_field_name("type")):
            return None
        prefix = f"{source.text_of(left)} = "
    if value is None or value.type not in CONDITIONALS:
        return None
    if python:
        return _python_if(source, statement, value, prefix)
    condition = value.child_by_field_name("condition")
    yes, no = value.child_by_field_name("consequence"), value.child_by_field_name("alternative")
    if condition is None or yes is None or no is None or any(b.type == "throw_expression" for b in (yes, no)):
        return None
    return f"if ({source.text_of(condition)}) {prefix}{source.text_of(yes)}; else {prefix}{source.text_of(no)};"


def _python_if(source: Source, statement: Node, value: Node, prefix: str) -> str | None:
    if not source.owns_lines(statement) or "\n" in source.text_of(statement):
        return None
    yes, condition, no = value.named_children[:3]
    if any(n.type in PYTHON_VALUE_HAZARDS for n in (yes, condition)):
        return None
    indentation = source.indentation_of(statement)
    inner = indentation + indent_unit(indentation)
    return (
        f"if {source.text_of(condition)}:\n{inner}{prefix}{source.text_of(yes)}\n"
        f"{indentation}else:\n{inner}{prefix}{source.text_of(no)}"
    )


def _as_conditional(source: Source, statement: Node) -> str | None:
    if source.language == "python":
        return _python_conditional(source, statement)
    condition = statement.child_by_field_name("condition")
    consequence = statement.child_by_field_name("consequence")
    alternative = statement.child_by_field_name("alternative")
    if alternative is not None and alternative.type == "else_clause":
        alternative = alternative.named_children[0] if alternative.named_child_count == 1 else None
    test = condition_expression(condition) if condition is not None else None
    if test is None:
        return None
    first, second = _single_assignment(source, consequence), _single_assignment(source, alternative)
    if first is None or second is None or source.text_of(first[0]) != source.text_of(second[0]):
        return None
    left = source.text_of(first[0])
    return (
        f"{left} = ({source.text_of(test)}) ? {parenthesised(source, first[1])} : {parenthesised(source, second[1])};"
    )


def _single_assignment(source: Source, branch: Node | None) -> tuple[Node, Node] | None:
    """(target, value) when a branch is exactly one ``target = value;`` statement."""
    while branch is not None and branch.type in ("compound_statement", "block"):
        inner = branch.named_children
        branch = inner[0] if len(inner) == 1 else None
    if branch is None or branch.type != "expression_statement" or branch.named_child_count != 1:
        return None
    expression = branch.named_children[0]
    if expression.type != "assignment_expression" or source.text_of(expression.child_by_field_name("operator")) != "=":
        return None
    left, right = expression.child_by_field_name("left"), expression.child_by_field_name("right")
    if not is_pure_reference(left) or any(n.type == "lambda_expression" for n in walk(right)):
        return None
    return left, right


def _python_conditional(source: Source, statement: Node) -> str | None:
    alternatives = statement.children_by_field_name("alternative")
    if len(alternatives) != 1 or alternatives[0].type != "else_clause" or not source.owns_lines(statement):
        return None
    first = _python_assignment(source, statement.child_by_field_name("consequence"))
    second = _python_assignment(source, alternatives[0].child_by_field_name("body"))
    if first is None or second is None or source.text_of(first[0]) != source.text_of(second[0]):
        return None
    condition = statement.child_by_field_name("condition")
    test = source.text_of(condition)
    if condition.type in ("lambda", "conditional_expression", "named_expression") or "\n" in test:
        return None
    return (
        f"{source.text_of(first[0])} = {parenthesised(source, first[1])} if {test} "
        f"else {parenthesised(source, second[1])}"
    )


def _python_assignment(source: Source, block: Node | None) -> tuple[Node, Node] | None:
    if block is None or block.named_child_count != 1:
        return None
    statement = block.named_children[0]
    if statement.type != "expression_statement" or statement.named_child_count != 1:
        return None
    assignment = statement.named_children[0]
    if assignment.type != "assignment" or assignment.child_by_field_name("type") is not None:
        return None
    left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
    if left is None or right is None or left.type != "identifier" or right.type in ("assignment", "yield"):
        return None
    if "\n" in source.text_of(right) or any(n.type in ("yield", "await") for n in walk(right)):
        return None
    return left, right
