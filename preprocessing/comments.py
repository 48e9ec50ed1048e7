"""Comment removal for C, C++, Java and Python, without knowing which language a file is.

Comments are the first thing a plagiarist adds, rewrites or deletes, and they say nothing
about what a program does, so the tokenizer never sees them. One left-to-right scan
recognises string and character literals (kept verbatim, so ``"http://x"`` or ``'#'``
survive), ``/* ... */`` and ``// ...`` comments (C family) and ``# ...`` comments (Python).
A ``#`` that starts a C/C++ preprocessor directive (``#include``, ``#define``, ...) is code
and stays (the rest of its line is scanned like any other).

Why not a lexer library: ``pygments`` or tree-sitter need the language, which the serving
API does not receive, and a wrong guess would lose code; this scan is the common subset
of the four languages' comment and literal rules.
"""

from __future__ import annotations

import re

_SCAN = re.compile(
    r"""
      (?P<literal>\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
    | (?P<block>/\*[\s\S]*?(?:\*/|\Z))
    | (?P<line>//[^\n]*)
    | (?P<directive>\#[ \t]*(?:include|define|undef|if|ifdef|ifndef|elif|else|endif|pragma|error|warning|line|import)\b)
    | (?P<hash>\#[^\n]*)
    """,
    re.VERBOSE,
)


def _replace(match: re.Match) -> str:
    if match.group("literal") is not None or match.group("directive") is not None:
        return match.group(0)
    if match.group("block") is not None:
        return " "  # a block comment separates tokens: a/**/b is two tokens
    return ""


def strip_comments(code: str) -> str:
    """``code`` without its comments; literals, directives and line structure kept."""
    return _SCAN.sub(_replace, code)
