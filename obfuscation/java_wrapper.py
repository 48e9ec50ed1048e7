"""Bare Java methods (as in BigCloneBench) parse only inside a class: wrap and unwrap them."""

from __future__ import annotations

import textwrap

from .source import Source

WRAPPER_CLASS = "ObfuscationWrapper"
TYPE_DECLARATIONS = frozenset(
    {
        "class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "annotation_type_declaration",
    }
)


def needs_wrapper(code: str) -> bool:
    """True unless the code already declares a top-level type."""
    root = Source(code, "java").root
    return not any(child.type in TYPE_DECLARATIONS for child in root.named_children)


def wrap(code: str) -> str:
    return f"class {WRAPPER_CLASS} {{\n{code}\n}}\n"


def unwrap(code: str) -> str:
    """The members of the wrapper class, dedented; ``code`` itself if the wrapper is gone."""
    source = Source(code, "java")
    for node in source.root.named_children:
        name = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        if node.type == "class_declaration" and name is not None and source.text_of(name) == WRAPPER_CLASS and body:
            inner = source.slice(body.children[0].end_byte, body.children[-1].start_byte)
            return textwrap.dedent(inner.strip("\n")).rstrip() + "\n"
    return code
