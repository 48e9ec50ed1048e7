"""Supported languages, their tree-sitter parsers and the node types the passes share."""

from __future__ import annotations

import functools

from tree_sitter import Language, Parser

SUPPORTED_LANGUAGES: tuple[str, ...] = ("c", "cpp", "java", "python")
C_FAMILY = frozenset({"c", "cpp"})

COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment"})
STRING_TYPES = frozenset(
    {
        "string",
        "string_literal",
        "raw_string_literal",
        "concatenated_string",
        "char_literal",
        "character_literal",
        "text_block",
        "system_lib_string",
    }
)
# Nodes whose direct children form a sequence of statements.
STATEMENT_BLOCKS = {
    "c": frozenset({"compound_statement"}),
    "cpp": frozenset({"compound_statement"}),
    "java": frozenset({"block", "constructor_body"}),
    "python": frozenset({"block", "module"}),
}


@functools.cache
def parser_for(language: str) -> Parser:
    """A tree-sitter parser for one of :data:`SUPPORTED_LANGUAGES`."""
    if language == "c":
        import tree_sitter_c as grammar
    elif language == "cpp":
        import tree_sitter_cpp as grammar
    elif language == "java":
        import tree_sitter_java as grammar
    elif language == "python":
        import tree_sitter_python as grammar
    else:
        raise KeyError(language)
    return Parser(Language(grammar.language()))
