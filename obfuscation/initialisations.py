"""Level 3 (C, C++, Java): declare a variable first and assign its initial value after."""

from __future__ import annotations

import random

from tree_sitter import Node

from .blocks import declaration_prefix, declarators, is_simple_declaration, statement_blocks, statements
from .edits import EditGroup, replace
from .sampling import some_of
from .source import Source

C_SCALAR_TYPES = frozenset({"primitive_type", "sized_type_specifier"})
JAVA_UNSPLITTABLE_VALUES = frozenset({"array_initializer"})


def separate_initialisations(source: Source, rng: random.Random) -> list[EditGroup]:
    """``int s = 0;`` becomes ``int s;`` followed by ``s = 0;``."""
    candidates = [
        [replace(statement, _separated(source, statement))]
        for block in statement_blocks(source)
        for statement in statements(block)
        if _separable(source, statement)
    ]
    return some_of(rng, candidates, 0.5)


def _separable(source: Source, declaration: Node) -> bool:
    if not is_simple_declaration(source, declaration) or len(declarators(declaration)) != 1:
        return False
    declarator = declarators(declaration)[0]
    if source.language == "java":
        value = declarator.child_by_field_name("value")
        return (
            value is not None
            and value.type not in JAVA_UNSPLITTABLE_VALUES
            and declarator.child_by_field_name("dimensions") is None
            and not any(c.type == "modifiers" for c in declaration.children)
            and declaration_prefix(source, declaration) != "var"
        )
    value = declarator.child_by_field_name("value")
    name = declarator.child_by_field_name("declarator")
    # Only a bare scalar: no qualifiers or storage class, a plain name, an expression value.
    return (
        declarator.type == "init_declarator"
        and value is not None
        and value.type not in ("initializer_list", "argument_list")
        and name is not None
        and name.type == "identifier"
        and [c.type for c in declaration.children if c.is_named][0] in C_SCALAR_TYPES
        and len([c for c in declaration.children if c.is_named]) == 2
    )


def _separated(source: Source, declaration: Node) -> str:
    declarator = declarators(declaration)[0]
    name_field = "name" if source.language == "java" else "declarator"
    name = source.text_of(declarator.child_by_field_name(name_field))
    value = source.text_of(declarator.child_by_field_name("value"))
    separator = "\n" + source.indentation_of(declaration) if source.starts_line(declaration) else " "
    return f"{declaration_prefix(source, declaration)} {name};{separator}{name} = {value};"
