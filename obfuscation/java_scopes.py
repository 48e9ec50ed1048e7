"""Name resolution for Java: locals, parameters and fields in block scopes."""

from __future__ import annotations

from tree_sitter import Node

from .bindings import Binding, Resolution, ScopeWalker
from .source import Source, is_field, nodes_of_type

SCOPE_OWNERS = frozenset(
    {
        "class_body",
        "interface_body",
        "enum_body",
        "method_declaration",
        "constructor_declaration",
        "block",
        "constructor_body",
        "for_statement",
        "enhanced_for_statement",
        "catch_clause",
        "lambda_expression",
        "try_with_resources_statement",
        "switch_block",
        "record_declaration",
    }
)
# (parent type, field) pairs where an identifier names no variable.
NON_VARIABLE_SITES = frozenset(
    {
        ("method_invocation", "name"),
        ("field_access", "field"),
        ("method_declaration", "name"),
        ("constructor_declaration", "name"),
        ("class_declaration", "name"),
        ("interface_declaration", "name"),
        ("enum_declaration", "name"),
        ("record_declaration", "name"),
        ("annotation", "name"),
        ("marker_annotation", "name"),
        ("element_value_pair", "key"),
        ("enum_constant", "name"),
        ("annotation_type_declaration", "name"),
        ("annotation_type_element_declaration", "name"),
    }
)
NON_VARIABLE_PARENTS = frozenset(
    {
        "labeled_statement",
        "break_statement",
        "continue_statement",
        "scoped_identifier",
        "import_declaration",
        "package_declaration",
        "module_declaration",
        "type_parameter",
    }
)
# Contexts the resolver does not model (pattern variables, case constants): never renamed.
OPAQUE_PARENTS = frozenset(
    {
        "switch_label",
        "instanceof_expression",
        "type_pattern",
        "record_pattern",
        "record_pattern_component",
        "pattern",
        "guard",
        "explicit_constructor_invocation",
    }
)


class JavaScopeWalker(ScopeWalker):
    def opens_scope(self, node: Node) -> bool:
        return node.type in SCOPE_OWNERS

    def hoist(self, scope_owner: Node) -> None:
        if scope_owner.type not in ("class_body", "interface_body", "enum_body"):
            return
        for member in scope_owner.named_children:
            if member.type in ("field_declaration", "constant_declaration"):
                for declarator in member.children_by_field_name("declarator"):
                    self.declare(declarator.child_by_field_name("name"), "field", member)
            elif member.type == "enum_constant":
                self.declare(member.child_by_field_name("name"), "field", member)

    def identifier(self, node: Node) -> None:
        parent = node.parent
        if parent is None or parent.type in NON_VARIABLE_PARENTS:
            return
        if parent.type in OPAQUE_PARENTS:
            self.poisoned.add(self.source.text_of(node))
            return
        if parent.type == "method_reference":
            if parent.children[0] == node:
                self.reference(node)
            return
        if any((parent.type, f) in NON_VARIABLE_SITES for f in ("name", "field", "key") if is_field(node, f)):
            return
        kind = _declared_kind(node)
        if kind is None:
            self.reference(node)
        elif kind != "field":  # fields were hoisted with their class body
            self.declare(node, kind, parent)


def _declared_kind(node: Node) -> str | None:
    """``local``/``parameter``/``field`` when ``node`` declares a variable there."""
    parent = node.parent
    if parent.type == "variable_declarator" and is_field(node, "name"):
        holder = parent.parent
        if holder is not None and holder.type in ("field_declaration", "constant_declaration"):
            return "field"
        return "parameter" if holder is not None and holder.type == "spread_parameter" else "local"
    if parent.type == "formal_parameter" and is_field(node, "name"):
        return "parameter"
    if parent.type in ("catch_formal_parameter", "enhanced_for_statement", "resource") and is_field(node, "name"):
        return "local"
    if parent.type == "inferred_parameters" or (parent.type == "lambda_expression" and is_field(node, "parameters")):
        return "parameter"
    return None


def resolve(source: Source) -> Resolution:
    return JavaScopeWalker(source).resolve()


def renamable(source: Source, resolution: Resolution) -> list[Binding]:
    return [b for b in resolution.bindings if b.kind in ("local", "parameter") and b.name not in resolution.poisoned]


def renamable_methods(source: Source) -> list[Node]:
    """Name nodes of methods of top-level classes that nothing in the file calls or overrides."""
    called = {
        source.text_of(n.child_by_field_name("name")) for n in nodes_of_type(source.root, "method_invocation")
    } | {source.text_of(n.children[-1]) for n in nodes_of_type(source.root, "method_reference")}
    names = []
    for declaration in source.root.named_children:
        body = declaration.child_by_field_name("body")
        if declaration.type != "class_declaration" or body is None:
            continue
        for method in body.named_children:
            name = method.child_by_field_name("name")
            if method.type == "method_declaration" and name is not None and not _annotated(source, method):
                text = source.text_of(name)
                if text not in called and text != "main":
                    names.append(name)
    return names


def _annotated(source: Source, method: Node) -> bool:
    modifiers = next((c for c in method.children if c.type == "modifiers"), None)
    return modifiers is not None and any(c.type in ("annotation", "marker_annotation") for c in modifiers.children)
