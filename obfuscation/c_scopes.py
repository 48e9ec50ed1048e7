"""Name resolution for C and C++: block scopes, declarators, file-level functions."""

from __future__ import annotations

from tree_sitter import Node

from .bindings import Binding, Resolution, ScopeWalker
from .source import Source, ancestors, is_field, nodes_of_type, same_node

SCOPE_OWNERS = frozenset(
    {
        "translation_unit",
        "function_definition",
        "compound_statement",
        "for_statement",
        "for_range_loop",
        "if_statement",
        "while_statement",
        "switch_statement",
        "catch_clause",
        "lambda_expression",
    }
)
DECLARATOR_WRAPPERS = frozenset(
    {
        "init_declarator",
        "pointer_declarator",
        "array_declarator",
        "parenthesized_declarator",
        "reference_declarator",
        "attributed_declarator",
        "function_declarator",
    }
)
DECLARING_NODES = frozenset(
    {
        "declaration",
        "parameter_declaration",
        "optional_parameter_declaration",
        "for_range_loop",
        "function_definition",
    }
)
PARAMETER_NODES = frozenset({"parameter_declaration", "optional_parameter_declaration"})
# Whole directives whose words may name anything (macros can use any variable).
OPAQUE_DIRECTIVES = frozenset({"preproc_include", "preproc_def", "preproc_function_def", "preproc_call"})
# Contexts whose identifiers do not follow block scoping: their names are never renamed.
OPAQUE_CONTEXTS = frozenset(
    {
        "qualified_identifier",
        "structured_binding_declarator",
        "template_function",
        "using_declaration",
        "alias_declaration",
        "attribute_specifier",
        "attribute_declaration",
        "destructor_name",
        "gnu_asm_expression",
        "ms_declspec_modifier",
        "namespace_alias_definition",
        "template_method",
        "dependent_name",
        "operator_cast",
    }
)


class CScopeWalker(ScopeWalker):
    def __init__(self, source: Source):
        super().__init__(source)
        if source.language == "cpp" and _has_member_functions(source):
            # Members are visible unqualified inside methods: keep every member name as it is.
            for declarator in nodes_of_type(source.root, "field_identifier"):
                if declarator.parent is not None and declarator.parent.type != "field_expression":
                    self.poisoned.add(source.text_of(declarator))

    def visit(self, node: Node) -> bool:
        if node.type in OPAQUE_DIRECTIVES or node.type in OPAQUE_CONTEXTS:
            self.poison_words(node)
            return True
        if node.type in ("preproc_if", "preproc_elif", "preproc_ifdef", "preproc_elifdef"):
            condition = node.child_by_field_name("condition") or node.child_by_field_name("name")
            if condition is not None:
                self.poison_words(condition)
        return False

    def opens_scope(self, node: Node) -> bool:
        if node.type in SCOPE_OWNERS:
            return True
        # The parameters of a prototype form a scope of their own.
        return (
            node.type == "parameter_list"
            and node.parent is not None
            and (node.parent.type == "function_declarator" and _defined_function(node.parent) is None)
        )

    def hoist(self, scope_owner: Node) -> None:
        if scope_owner.type != "translation_unit":
            return
        for child in scope_owner.named_children:
            for name in _declared_function_names(child):
                self.declare(name, "function", child)

    def identifier(self, node: Node) -> None:
        parent = node.parent
        if parent is not None and parent.type == "parameter_list":  # K&R parameter names
            self.poisoned.add(self.source.text_of(node))
            return
        if parent is not None and parent.type == "enumerator" and is_field(node, "name"):
            self.declare(node, "enumerator", parent)
            return
        declaring = _declaring_node(node)
        if declaring is None:
            self.reference(node)
        elif parent.type == "function_declarator":
            self._function_name(node, declaring)
        elif len(self.scopes) == 1:
            self.declare(node, "global", declaring)
        elif declaring.type in PARAMETER_NODES:
            self.declare(node, "parameter", declaring)
        else:
            self.declare(node, "local", declaring)

    def _function_name(self, node: Node, declaring: Node) -> None:
        if any(a.type == "template_declaration" for a in ancestors(node)):
            self.poisoned.add(self.source.text_of(node))
        elif declaring.type == "function_definition":
            self.declare(node, "function", declaring, depth=-2)
        elif len(self.scopes) == 1:
            self.declare(node, "function", declaring)
        elif declaring.type in PARAMETER_NODES:
            self.declare(node, "parameter", declaring)
        else:
            self.reference(node)  # a block-scope prototype names the file-level function


def resolve(source: Source) -> Resolution:
    return CScopeWalker(source).resolve()


def renamable(source: Source, resolution: Resolution) -> list[Binding]:
    defined = {
        source.text_of(n)
        for child in source.root.named_children
        if child.type == "function_definition"
        for n in _declared_function_names(child)
    }
    return [
        b
        for b in resolution.bindings
        if b.name not in resolution.poisoned
        and b.name != "main"
        and (
            b.kind in ("local", "parameter")
            or (b.kind == "function" and b.name in defined)
            or (b.kind == "global" and not _is_extern(source, b.declaration))
        )
    ]


def _declaring_node(identifier: Node) -> Node | None:
    """The declaration/parameter/definition that ``identifier`` is the declared name of."""
    node = identifier
    while node.parent is not None and node.parent.type in DECLARATOR_WRAPPERS and is_field(node, "declarator"):
        node = node.parent
    parent = node.parent
    if parent is not None and parent.type in DECLARING_NODES and is_field(node, "declarator"):
        return parent
    return None


def _defined_function(function_declarator: Node) -> Node | None:
    """The function definition whose own declarator this is, if any."""
    node = function_declarator
    while node.parent is not None and node.parent.type in DECLARATOR_WRAPPERS and is_field(node, "declarator"):
        node = node.parent
    parent = node.parent
    if parent is not None and parent.type == "function_definition" and is_field(node, "declarator"):
        return parent
    return None


def _declared_function_names(node: Node) -> list[Node]:
    """Identifiers that a top-level definition or prototype declares as functions."""
    if node.type not in ("function_definition", "declaration"):
        return []
    names = []
    for declarator in node.children_by_field_name("declarator"):
        for candidate in nodes_of_type(declarator, "function_declarator"):
            name = candidate.child_by_field_name("declarator")
            if name is not None and name.type == "identifier" and same_node(_declaring_node(name), node):
                names.append(name)
    return names


def _has_member_functions(source: Source) -> bool:
    for definition in nodes_of_type(source.root, "function_definition"):
        declarator = definition.child_by_field_name("declarator")
        if any(a.type == "field_declaration_list" for a in ancestors(definition)):
            return True
        if declarator is not None and any(True for _ in nodes_of_type(declarator, "qualified_identifier")):
            return True
    return False


def _is_extern(source: Source, declaration: Node) -> bool:
    return any(c.type == "storage_class_specifier" and source.text_of(c) == "extern" for c in declaration.children)
