"""Helper extraction for Java methods (the helper becomes a private method of the class)."""

from __future__ import annotations

from tree_sitter import Node

from . import java_scopes
from .bindings import Binding, Resolution
from .blocks import statements
from .edits import EditGroup, insert, replace
from .extraction_base import Extraction, leaves_only_by_falling_through
from .source import Source, ancestors, contains, nodes_of_type, same_node, walk

EXTRACTABLE = frozenset(
    {
        "expression_statement",
        "if_statement",
        "for_statement",
        "enhanced_for_statement",
        "while_statement",
        "do_statement",
        "block",
    }
)
# A statement under one of these may depend on it (exceptions caught, captured scope).
ENCLOSING_BARRIERS = frozenset(
    {
        "try_statement",
        "try_with_resources_statement",
        "catch_clause",
        "finally_clause",
        "lambda_expression",
        "class_body",
        "switch_block_statement_group",
        "synchronized_statement",
    }
)


def extractions(source: Source) -> list[Extraction]:
    resolution = java_scopes.resolve(source)
    found = []
    for declaration in source.root.named_children:
        body = declaration.child_by_field_name("body")
        if declaration.type != "class_declaration" or body is None:
            continue
        for method in body.named_children:
            method_body = method.child_by_field_name("body")
            if method.type != "method_declaration" or method_body is None:
                continue
            if method.child_by_field_name("type_parameters") is not None:
                continue
            for block in nodes_of_type(method_body, "block"):
                if any(a.type in ENCLOSING_BARRIERS for a in _between(block, method)):
                    continue
                for statement in statements(block):
                    if statement.type in EXTRACTABLE and _self_contained(statement):
                        parameters = _parameters(source, resolution, method, statement)
                        if parameters is not None:
                            found.append(Extraction(statement, _builder(source, method, statement, parameters)))
    return found


def _between(node: Node, method: Node) -> list[Node]:
    found = []
    for ancestor in ancestors(node):
        if ancestor == method:
            break
        found.append(ancestor)
    return found


def _self_contained(statement: Node) -> bool:
    return leaves_only_by_falling_through(statement) and not any(
        n.type in ("class_declaration", "explicit_constructor_invocation") for n in walk(statement)
    )


def _parameters(source: Source, resolution: Resolution, method: Node, statement: Node) -> list[str] | None:
    parameters: dict[str, str] = {}
    for identifier in nodes_of_type(statement, "identifier"):
        binding = resolution.binding_of(identifier)
        if binding is None or binding.kind == "field" or contains(statement, binding.declaration):
            continue
        if not contains(method, binding.declaration) or _writes(identifier):
            return None
        declaration = _parameter_text(source, binding)
        if declaration is None:
            return None
        parameters.setdefault(binding.name, declaration)
    return list(parameters.values())


def _writes(identifier: Node) -> bool:
    parent = identifier.parent
    return parent.type == "update_expression" or (
        parent.type == "assignment_expression" and same_node(parent.child_by_field_name("left"), identifier)
    )


def _parameter_text(source: Source, binding: Binding) -> str | None:
    declaration = binding.declaration
    if declaration.type in ("formal_parameter", "enhanced_for_statement", "resource"):
        type_node, dimensions = declaration.child_by_field_name("type"), declaration.child_by_field_name("dimensions")
    elif declaration.type == "variable_declarator" and declaration.parent.type == "local_variable_declaration":
        type_node = declaration.parent.child_by_field_name("type")
        dimensions = declaration.child_by_field_name("dimensions")
    else:
        return None
    if type_node is None or source.text_of(type_node) == "var":
        return None
    suffix = source.text_of(dimensions) if dimensions is not None else ""
    return f"{source.text_of(type_node)}{suffix} {binding.name}"


def _builder(source: Source, method: Node, statement: Node, parameters: list[str]):
    arguments = ", ".join(p.split()[-1] for p in parameters)
    modifiers = next((c for c in method.children if c.type == "modifiers"), None)
    static = "static " if modifiers is not None and "static" in source.text_of(modifiers).split() else ""
    throws = next((" " + source.text_of(c) for c in method.children if c.type == "throws"), "")
    indentation = source.indentation_of(method)

    def build(name: str) -> EditGroup:
        helper = (
            f"\n\n{indentation}private {static}void {name}({', '.join(parameters)}){throws} {{\n"
            f"{indentation}    {source.text_of(statement)}\n{indentation}}}"
        )
        return [insert(method.end_byte, helper), replace(statement, f"{name}({arguments});")]

    return build
