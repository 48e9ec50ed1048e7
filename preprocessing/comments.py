"""Comment removal for C, C++, Java and Python, without knowing which language a file is.

Comments are the first thing a plagiarist adds, rewrites or deletes, and they say nothing
about what a program does, so the tokenizer never sees them. One left-to-right scan
recognises string and character literals (kept verbatim, so ``"http://x"`` or ``'#'``
survive), ``/* ... */`` and ``// ...`` comments (C family) and ``# ...`` comments (Python).
A ``#`` that starts a C/C++ preprocessor directive (``#include``, ``#define``, ...) is code
and stays (the rest of its line is scanned like any other).

Python docstrings are documentation too, and deleting or rewording them is the same
disguise as for comments: a second scan drops a triple-quoted string that opens the file
or the line after one ending in ``:`` (a module, class or function docstring). Other
triple-quoted strings (an assigned text block) are values and stay.

Why not a lexer library: ``pygments`` or tree-sitter need the language, which the serving
API does not receive, and a wrong guess would lose code; this scan is the common subset
of the four languages' comment and literal rules.
"""

from __future__ import annotations

import re

_TRIPLE_QUOTED = r"""\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''"""
# String and character literals of the four languages (also skipped by :mod:`.declaration_lists`).
LITERAL = _TRIPLE_QUOTED + r"""|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'"""
_SCAN = re.compile(
    rf"""
      (?P<literal>{LITERAL})
    | (?P<block>/\*[\s\S]*?(?:\*/|\Z))
    | (?P<line>//[^\n]*)
    | (?P<directive>\#[ \t]*(?:include|define|undef|if|ifdef|ifndef|elif|else|endif|pragma|error|warning|line|import)\b)
    | (?P<hash>\#[^\n]*)
    """,
    re.VERBOSE,
)
# Run on code without comments, so a comment between the ``:`` and the docstring is gone.
_DOCSTRING_SCAN = re.compile(
    rf"""
      (?P<opening>\A|:[ \t]*\n)(?P<indent>\s*)(?P<docstring>{_TRIPLE_QUOTED})
    | (?P<literal>{LITERAL})
    """,
    re.VERBOSE,
)


def _is_comment(match: re.Match) -> bool:
    """Whether a :data:`_SCAN` match is a comment (not a literal or a directive, which stay)."""
    return match.group("literal") is None and match.group("directive") is None


def _replace(match: re.Match) -> str:
    if not _is_comment(match):
        return match.group(0)
    if match.group("block") is not None:
        return " "  # a block comment separates tokens: a/**/b is two tokens
    return ""


def _drop_docstring(match: re.Match) -> str:
    if match.group("docstring") is None:
        return match.group(0)
    return match.group("opening") + match.group("indent")


def comment_spans(code: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` character spans of ``code``'s comments, for callers that must keep
    positions (line numbers of evidence); the same rules as :func:`strip_comments` without
    the docstring scan."""
    return [match.span() for match in _SCAN.finditer(code) if _is_comment(match)]


def strip_comments(code: str) -> str:
    """``code`` without its comments and docstrings; other literals, directives and line
    structure kept."""
    code = _SCAN.sub(_replace, code)
    if '"""' not in code and "'''" not in code:  # no docstring possible: skip the second scan
        return code
    return _DOCSTRING_SCAN.sub(_drop_docstring, code)
