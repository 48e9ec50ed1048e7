"""A conservative def/use view of simple statements, for deciding which ones may swap."""

from __future__ import annotations

from tree_sitter import Node

from . import c_scopes, java_scopes, python_scopes
from .bindings import Binding, Resolution
from .blocks import declarators, declared_name, is_string_statement
from .languages import C_FAMILY
from .source import Source, contains, nodes_of_type, walk

SIMPLE_STATEMENTS = {
    "c": frozenset({"expression_statement", "declaration"}),
    "cpp": frozenset({"expression_statement", "declaration"}),
    "java": frozenset({"expression_statement", "local_variable_declaration"}),
    "python": frozenset({"expression_statement"}),
}
# Anything that may run code we cannot see or write memory other than a plain variable.
EFFECT_NODES = frozenset(
    {
        "call_expression",
        "call",
        "method_invocation",
        "object_creation_expression",
        "new_expression",
        "delete_expression",
        "await",
        "yield",
        "throw_statement",
        "lambda_expression",
        "lambda",
        "conditional_expression",
        "comma_expression",
        "gnu_asm_expression",
        "explicit_constructor_invocation",
    }
)
ASSIGNMENTS = frozenset({"assignment_expression", "assignment", "augmented_assignment"})
NAME_TYPES = frozenset({"identifier", "field_identifier"})


class EffectAnalysis:
    """Resolves one program once and answers questions about its simple statements."""

    def __init__(self, source: Source):
        self.source = source
        if source.language in C_FAMILY:
            self.resolution: Resolution = c_scopes.resolve(source)
        elif source.language == "java":
            self.resolution = java_scopes.resolve(source)
        else:
            self.resolution = python_scopes.resolve(source)[0]
        self.address_taken = {
            source.text_of(n.child_by_field_name("argument"))
            for n in nodes_of_type(source.root, "pointer_expression")
            if source.text_of(n).startswith("&") and n.child_by_field_name("argument") is not None
        }
        self.has_references = any(True for _ in nodes_of_type(source.root, "reference_declarator"))

    def independent(self, first: Node, second: Node) -> bool:
        """True when swapping two adjacent simple statements cannot change what they do."""
        kinds = SIMPLE_STATEMENTS[self.source.language]
        if any(s.type not in kinds or is_string_statement(s) for s in (first, second)):
            return False  # only simple statements move, and a docstring stays first
        if self._names(first) & self._names(second):
            return False
        first_effects, second_effects = self.has_effects(first), self.has_effects(second)
        if first_effects and second_effects:
            return False
        return self._only_safe_variables(first, second_effects) and self._only_safe_variables(second, first_effects)

    def has_effects(self, statement: Node) -> bool:
        for node in walk(statement):
            if node.type in EFFECT_NODES:
                return True
            if node.type in ASSIGNMENTS and node.child_by_field_name("left").type != "identifier":
                return True
            if node.type == "update_expression" and node.named_children[0].type != "identifier":
                return True
            if (
                node.type == "binary_expression"
                and self.source.language == "cpp"
                and self.source.text_of(node.child_by_field_name("operator")) in ("<<", ">>")
            ):
                return True  # possibly stream input/output
        return False

    def _names(self, statement: Node) -> set[str]:
        return {self.source.text_of(n) for n in walk(statement) if n.type in NAME_TYPES}

    def _only_safe_variables(self, statement: Node, partner_has_effects: bool) -> bool:
        for identifier in nodes_of_type(statement, "identifier"):
            binding = self.resolution.binding_of(identifier)
            if binding is None and _is_written(identifier):
                return False  # an undeclared variable: its declaration may not have parsed as one
            if binding is None or contains(statement, binding.declaration):
                continue  # a constant, library name, or a variable this statement declares
            if not self._safe(binding, partner_has_effects):
                return False
        return True

    def _safe(self, binding: Binding, partner_has_effects: bool) -> bool:
        """Whether nothing but its own name can reach this variable (no alias, no callee)."""
        if binding.kind == "enumerator":
            return True
        if binding.kind not in ("local", "parameter", "global", "field"):
            return False
        if partner_has_effects and binding.kind not in ("local", "parameter"):
            return False
        if self.source.language not in C_FAMILY:
            return True
        if binding.name in self.address_taken or (self.has_references and binding.kind == "global"):
            return False
        return not any(
            d.type in ("array_declarator", "reference_declarator")
            or any(n.type in ("array_declarator", "reference_declarator") for n in walk(d))
            for d in declarators(binding.declaration)
            if (name := declared_name(d)) is not None and self.source.text_of(name) == binding.name
        )


def _is_written(identifier: Node) -> bool:
    parent = identifier.parent
    if parent.type == "update_expression":
        return True
    return parent.type in ASSIGNMENTS and parent.child_by_field_name("left") == identifier
