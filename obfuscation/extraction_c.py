"""Helper extraction for C and C++ functions."""

from __future__ import annotations

from tree_sitter import Node

from . import c_scopes
from .bindings import Binding, Resolution
from .blocks import declarators, declared_name, statements
from .edits import EditGroup, insert, replace
from .extraction_base import Extraction, leaves_only_by_falling_through
from .function_order import _prototype
from .source import Source, contains, nodes_of_type, same_node, walk

EXTRACTABLE = frozenset(
    {
        "expression_statement",
        "for_statement",
        "while_statement",
        "do_statement",
        "if_statement",
        "compound_statement",
        "switch_statement",
    }
)
SCALAR_TYPES = frozenset({"primitive_type", "sized_type_specifier"})
# Bodies that would not mean the same inside a separate function.
FORBIDDEN_IN_FUNCTION = frozenset(
    {
        "lambda_expression",
        "struct_specifier",
        "union_specifier",
        "enum_specifier",
        "class_specifier",
        "type_definition",
        "preproc_def",
        "preproc_function_def",
        "preproc_if",
        "preproc_ifdef",
        "preproc_call",
        "this",
    }
)
# Names that may legitimately be used without a declaration in the file.
KNOWN_EXTERNALS = frozenset({"cin", "cout", "cerr", "endl", "stdin", "stdout", "stderr", "NULL", "EOF", "errno"})
# C library functions: all their parameters are values, so an argument is only read.
BY_VALUE_CALLEES = frozenset(
    {
        "printf",
        "puts",
        "putchar",
        "abs",
        "fabs",
        "labs",
        "sqrt",
        "pow",
        "exp",
        "log",
        "log10",
        "sin",
        "cos",
        "tan",
        "atan",
        "floor",
        "ceil",
        "round",
        "max",
        "min",
        "sprintf",
        "strlen",
        "strcmp",
    }
)


def extractions(source: Source) -> list[Extraction]:
    resolution = c_scopes.resolve(source)
    found = []
    for function in source.root.named_children:
        if function.type != "function_definition" or not source.starts_line(function):
            continue
        body = function.child_by_field_name("body")
        if _prototype(source, function) is None or any(n.type in FORBIDDEN_IN_FUNCTION for n in walk(body)):
            continue
        for block in nodes_of_type(body, "compound_statement"):
            for statement in statements(block):
                if statement.type in EXTRACTABLE and leaves_only_by_falling_through(statement):
                    parameters = _parameters(source, resolution, function, statement)
                    if parameters is not None:
                        found.append(Extraction(statement, _builder(source, function, statement, parameters)))
    return found


def _parameters(source: Source, resolution: Resolution, function: Node, statement: Node) -> list[str] | None:
    """Parameter declarations for the locals ``statement`` reads, or None if it cannot move."""
    parameters: dict[str, str] = {}
    for identifier in nodes_of_type(statement, "identifier"):
        binding = resolution.binding_of(identifier)
        if binding is None:
            if not _external(source, resolution, identifier):
                return None  # perhaps a local whose declaration did not parse as one
            continue
        if contains(statement, binding.declaration):
            continue
        if binding.kind in ("global", "function", "enumerator"):
            if binding.declaration.start_byte >= function.start_byte:
                return None
            continue
        if _may_write(source, identifier):
            return None
        declaration = _parameter_text(source, binding)
        if declaration is None:
            return None
        parameters.setdefault(binding.name, declaration)
    return list(parameters.values())


def _external(source: Source, resolution: Resolution, identifier: Node) -> bool:
    """An undeclared name that is surely not a local: a called function, a macro-style
    constant, a well-known library object, or a name used by preprocessor lines."""
    name = source.text_of(identifier)
    parent = identifier.parent
    called = parent.type == "call_expression" and same_node(parent.child_by_field_name("function"), identifier)
    return called or name in KNOWN_EXTERNALS or name.isupper() or name in resolution.poisoned


def _may_write(source: Source, identifier: Node) -> bool:
    parent = identifier.parent
    if parent.type == "assignment_expression" and same_node(parent.child_by_field_name("left"), identifier):
        return True
    if parent.type == "update_expression":
        return True
    if parent.type == "pointer_expression" and source.text_of(parent).startswith("&"):
        return True
    if source.language == "cpp":
        if parent.type == "binary_expression" and source.text_of(parent.child_by_field_name("operator")) == ">>":
            return same_node(parent.child_by_field_name("right"), identifier)
        if parent.type == "argument_list":  # a C++ callee may take a reference
            callee = parent.parent.child_by_field_name("function") if parent.parent else None
            return callee is None or source.text_of(callee) not in BY_VALUE_CALLEES
    return False


def _parameter_text(source: Source, binding: Binding) -> str | None:
    """``int n`` / ``char *p`` for a scalar or pointer local, else None."""
    declaration = binding.declaration
    type_node = declaration.child_by_field_name("type")
    if type_node is None or type_node.type not in SCALAR_TYPES or binding.kind not in ("local", "parameter"):
        return None
    for declarator in declarators(declaration):
        name = declared_name(declarator)
        if name is None or source.text_of(name) != binding.name:
            continue
        core = declarator.child_by_field_name("declarator") if declarator.type == "init_declarator" else declarator
        if core.type == "identifier" or (
            core.type == "pointer_declarator"
            and same_node(declared_name(core), name)
            and core.child_by_field_name("declarator").type == "identifier"
        ):
            qualifiers = " ".join(source.text_of(c) for c in declaration.children if c.type == "type_qualifier")
            return f"{qualifiers} {source.text_of(type_node)} {source.text_of(core)}".strip()
    return None


def _builder(source: Source, function: Node, statement: Node, parameters: list[str]):
    arguments = ", ".join(p.split()[-1].lstrip("*") for p in parameters)

    def build(name: str) -> EditGroup:
        helper = f"static void {name}({', '.join(parameters) or 'void'}) {{\n    {source.text_of(statement)}\n}}\n\n"
        return [insert(function.start_byte, helper), replace(statement, f"{name}({arguments});")]

    return build
