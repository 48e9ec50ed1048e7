"""Comment texts a plagiarist might write, keyed by the kind of code they precede."""

from __future__ import annotations

import random

from tree_sitter import Node

PHRASES = {
    "loop": ("loop over the values", "iterate", "main loop", "repeat until done", "go through all items"),
    "branch": ("check the condition", "handle the special case", "test this case", "decide what to do"),
    "declaration": ("variables", "set up", "initialise", "local state"),
    "return": ("return the result", "done", "give back the answer"),
    "function": ("helper function", "compute the answer", "worker routine", "entry point"),
    "other": ("next step", "process", "update the values", "do the work", "store the result"),
}

KIND_OF_TYPE = {
    "for_statement": "loop",
    "while_statement": "loop",
    "do_statement": "loop",
    "for_range_loop": "loop",
    "enhanced_for_statement": "loop",
    "if_statement": "branch",
    "switch_statement": "branch",
    "switch_expression": "branch",
    "declaration": "declaration",
    "local_variable_declaration": "declaration",
    "return_statement": "return",
    "function_definition": "function",
    "method_declaration": "function",
    "decorated_definition": "function",
    "constructor_declaration": "function",
}


def phrase_for(node: Node, rng: random.Random) -> str:
    return rng.choice(PHRASES[KIND_OF_TYPE.get(node.type, "other")])


def comment_text(language: str, phrase: str, block: bool = False) -> str:
    if language == "python":
        return f"# {phrase}"
    return f"/* {phrase} */" if block else f"// {phrase}"
