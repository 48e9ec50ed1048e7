"""Statement blocks and the declarations in them, as the structural passes see them."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from .languages import COMMENT_TYPES, STATEMENT_BLOCKS
from .source import Source, nodes_of_type, walk

LOCAL_DECLARATION = {"c": "declaration", "cpp": "declaration", "java": "local_variable_declaration"}
TYPE_DEFINITIONS = frozenset(
    {
        "struct_specifier",
        "union_specifier",
        "enum_specifier",
        "class_specifier",
        "class_declaration",
    }
)
LOOP_TYPES = frozenset(
    {
        "for_statement",
        "while_statement",
        "do_statement",
        "for_range_loop",
        "enhanced_for_statement",
    }
)
SWITCH_TYPES = frozenset({"switch_statement", "switch_expression"})
LITERAL_TYPES = frozenset(
    {
        "number_literal",
        "char_literal",
        "string_literal",
        "true",
        "false",
        "null",
        "nullptr",
        "decimal_integer_literal",
        "hex_integer_literal",
        "octal_integer_literal",
        "binary_integer_literal",
        "decimal_floating_point_literal",
        "hex_floating_point_literal",
        "character_literal",
        "null_literal",
        "integer",
        "float",
        "string",
        "none",
    }
)


def statement_blocks(source: Source) -> Iterator[Node]:
    return nodes_of_type(source.root, *STATEMENT_BLOCKS[source.language])


def statements(block: Node) -> list[Node]:
    """The statements directly in ``block`` (no comments, braces or directives)."""
    return [
        c
        for c in block.named_children
        if c.type not in COMMENT_TYPES and not c.type.startswith("preproc") and not c.is_error
    ]


def is_string_statement(statement: Node) -> bool:
    """A statement that is only a string (a Python docstring, or a string where one could be)."""
    return (
        statement.type == "expression_statement"
        and statement.named_child_count == 1
        and statement.named_children[0].type in ("string", "concatenated_string")
    )


def declarators(declaration: Node) -> list[Node]:
    return declaration.children_by_field_name("declarator")


def declared_name(declarator: Node) -> Node | None:
    """The identifier a (possibly wrapped) declarator declares."""
    node = declarator
    while node is not None and node.type not in ("identifier", "field_identifier"):
        if node.type == "variable_declarator":
            node = node.child_by_field_name("name")
        elif node.type in ("function_declarator",):
            return None
        else:
            node = node.child_by_field_name("declarator")
    return node


def is_simple_declaration(source: Source, node: Node) -> bool:
    """A local declaration of variables only: no type definition, prototype or structured binding."""
    if node.type != LOCAL_DECLARATION.get(source.language):
        return False
    if any(c.type in TYPE_DEFINITIONS and c.child_by_field_name("body") is not None for c in node.children):
        return False
    found = declarators(node)
    return bool(found) and all(declared_name(d) is not None for d in found)


def declaration_prefix(source: Source, declaration: Node) -> str:
    """Everything before the first declarator: storage class, qualifiers and type."""
    return source.slice(declaration.start_byte, declarators(declaration)[0].start_byte).rstrip()


def identifier_texts(source: Source, node: Node) -> set[str]:
    return {source.text_of(n) for n in walk(node) if n.type in ("identifier", "field_identifier", "type_identifier")}


def gap_is_blank(source: Source, before: Node, after: Node) -> bool:
    return not source.slice(before.end_byte, after.start_byte).strip()
