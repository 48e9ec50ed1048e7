"""Helper extraction for Python functions and methods (the helper is a module-level def)."""

from __future__ import annotations

from tree_sitter import Node

from . import python_scopes
from .bindings import Resolution
from .blocks import is_string_statement, statements
from .edits import EditGroup, insert, replace
from .extraction_base import Extraction, leaves_only_by_falling_through
from .source import Source, ancestors, contains, nodes_of_type, walk

EXTRACTABLE = frozenset({"expression_statement", "for_statement", "while_statement", "if_statement"})
NESTED_SCOPES = frozenset({"function_definition", "class_definition", "lambda"})
# Names whose meaning depends on the function they are written in.
CONTEXT_NAMES = frozenset({"super", "__class__", "locals", "vars", "eval", "exec", "dir"})


def extractions(source: Source) -> list[Extraction]:
    resolution, _ = python_scopes.resolve(source)
    found = []
    for item in source.root.named_children:
        for function in _functions(item):
            body = function.child_by_field_name("body")
            for block in nodes_of_type(body, "block"):
                if any(a.type in NESTED_SCOPES for a in _between(block, function)):
                    continue
                for statement in statements(block):
                    if _movable(source, statement, body):
                        parameters = _parameters(source, resolution, function, statement)
                        if parameters is not None:
                            found.append(Extraction(statement, _builder(source, item, statement, parameters)))
    return found


def _functions(item: Node) -> list[Node]:
    """The functions defined by a module-level statement: itself, or a class's methods."""
    definition = item.child_by_field_name("definition") if item.type == "decorated_definition" else item
    if definition is None:
        return []
    if definition.type == "function_definition":
        return [definition]
    if definition.type != "class_definition":
        return []
    methods = []
    for member in definition.child_by_field_name("body").named_children:
        member = member.child_by_field_name("definition") if member.type == "decorated_definition" else member
        if member is not None and member.type == "function_definition":
            methods.append(member)
    return methods


def _between(node: Node, function: Node) -> list[Node]:
    found = []
    for ancestor in ancestors(node):
        if ancestor == function:
            break
        found.append(ancestor)
    return found


def _movable(source: Source, statement: Node, body: Node) -> bool:
    if statement.type not in EXTRACTABLE or not source.owns_lines(statement):
        return False
    if is_string_statement(statement):
        return False
    if not leaves_only_by_falling_through(statement):
        return False
    for node in walk(statement):
        if node.type in NESTED_SCOPES:
            return False
        if node.type == "identifier":
            text = source.text_of(node)
            if text in CONTEXT_NAMES or (text.startswith("__") and not text.endswith("__")):
                return False
        if node.type == "string" and node.start_point.row != node.end_point.row:
            return False
    indentation = source.indentation_of(statement)
    lines = source.text_of(statement).split("\n")[1:]
    return all(line.startswith(indentation) or not line.strip() for line in lines)


def _parameters(source: Source, resolution: Resolution, function: Node, statement: Node) -> list[str] | None:
    parameters: list[str] = []
    for identifier in nodes_of_type(statement, "identifier"):
        binding = resolution.binding_of(identifier)
        if binding is None:
            continue
        assigned = (identifier.start_byte, identifier.end_byte) in resolution.sites
        if not contains(function, binding.declaration):  # a module-level name
            if assigned:
                return None
            continue
        if all(contains(statement, o) for o in binding.occurrences):
            continue  # lives entirely inside the statement
        if assigned:
            return None
        if binding.name not in parameters:
            parameters.append(binding.name)
    return parameters


def _builder(source: Source, item: Node, statement: Node, parameters: list[str]):
    indentation = source.indentation_of(statement)
    unit = "\t" if "\t" in indentation else "    "
    first, *rest = source.text_of(statement).split("\n")
    body = "\n".join([unit + first] + [unit + line[len(indentation) :] if line.strip() else "" for line in rest])
    signature = ", ".join(parameters)

    def build(name: str) -> EditGroup:
        helper = f"def {name}({signature}):\n{body}\n\n\n"
        return [insert(item.start_byte, helper), replace(statement, f"{name}({signature})")]

    return build
