"""Which passes make up each level, per language, in the order they run."""

from __future__ import annotations

import random
from collections.abc import Callable

from .assignments import rewrite_assignments
from .blank_lines import vary_blank_lines
from .braces import restyle_braces
from .comments import add_comments, rewrite_comments
from .conditionals import invert_if_else
from .dead_code import insert_dead_code
from .declarations import split_and_merge_declarations
from .edits import EditGroup
from .extraction import extract_helpers
from .function_order import reorder_functions
from .hoisting import hoist_declarations
from .indentation import reindent
from .initialisations import separate_initialisations
from .languages import SUPPORTED_LANGUAGES
from .loops import for_to_while, while_to_for
from .python_loops import range_for_to_while, while_to_infinite_loop
from .renaming import rename_identifiers
from .source import Source
from .spacing import respace_operators
from .statement_order import swap_independent_statements
from .switches import switch_to_if_chain
from .ternaries import switch_conditional_forms
from .tuple_assignments import split_and_merge_assignments

# A pass proposes edit groups for one program, drawing its choices from the given generator.
Pass = Callable[[Source, random.Random], list[EditGroup]]

_LAYOUT_BRACES = (restyle_braces, rewrite_comments, add_comments, vary_blank_lines, reindent, respace_operators)
_LAYOUT_PYTHON = (rewrite_comments, add_comments, vary_blank_lines, reindent, respace_operators)

_PASSES = {
    1: {"c": _LAYOUT_BRACES, "cpp": _LAYOUT_BRACES, "java": _LAYOUT_BRACES, "python": _LAYOUT_PYTHON},
    2: dict.fromkeys(SUPPORTED_LANGUAGES, (rename_identifiers,)),
    3: {
        **dict.fromkeys(
            ("c", "cpp", "java"),
            (
                split_and_merge_declarations,
                separate_initialisations,
                hoist_declarations,
            ),
        ),
        "python": (hoist_declarations, split_and_merge_assignments),
    },
    4: dict.fromkeys(SUPPORTED_LANGUAGES, (extract_helpers, reorder_functions)),
    5: dict.fromkeys(SUPPORTED_LANGUAGES, (swap_independent_statements,)),
    6: {
        **dict.fromkeys(
            ("c", "cpp", "java"),
            (
                switch_to_if_chain,
                while_to_for,
                for_to_while,
                switch_conditional_forms,
                invert_if_else,
                rewrite_assignments,
                insert_dead_code,
            ),
        ),
        "python": (
            while_to_infinite_loop,
            range_for_to_while,
            switch_conditional_forms,
            invert_if_else,
            rewrite_assignments,
            insert_dead_code,
        ),
    },
}


def passes_for(level: int, language: str) -> tuple[Pass, ...]:
    return _PASSES[level][language]
