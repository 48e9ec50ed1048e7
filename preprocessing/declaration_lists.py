"""Declaration lists read both ways: ``int i, j = 0;`` becomes ``int i, j = 0; int i; int j = 0;``.

Splitting a declaration list into single declarations, or merging a run of them into one
list, is a level-3 disguise that changes nothing a program does. The structural
fingerprint (``training/model.py``) hashes n-grams inside one statement, so a split list
loses all of the list's n-grams (a short program's one ``int i,j,n,...;`` line can be a
tenth of its fingerprint). Following every list with its single declarations gives a
copy that split it the same n-grams as the original, and one that merged single
declarations the n-grams of the singles it started from. The list itself stays: how a
program groups its declarations is part of its author's style, and on the development
seeds replacing lists by singles (rather than adding them) made copies harder to tell
from independent solutions of the same task.

Like :mod:`.comments`, this works without knowing the language (the serving API does not
receive it) and runs on code without comments. A statement is rewritten only when it is
unambiguous in C, C++ and Java alike:

* it ends with a ``;`` outside any bracket (so ``for (int i = 0, j = 0; ...)``, a call's
  arguments and Python code, whose lines do not end with ``;``, are never touched);
* it starts with one or more type words and a name (``unsigned long long n``,
  ``static final String s``, ``int *p``, ``String[] a``, ``vector<int> v``) before its first
  ``=``, ``(``, ``[`` or top-level ``,``, all on one line, and the first word is not a
  statement keyword such as ``return`` or ``delete`` (``return a, b;`` is an expression);
* it has a comma outside brackets and literals.

Types whose own text holds a comma (``map<int, int> m, n;``) are left as they are. Why not
tree-sitter: it needs the language, and it is not part of the serving install.
"""

from __future__ import annotations

import re

from clonedetect.preprocessing.comments import LITERAL

_SCAN = re.compile(rf"(?P<literal>{LITERAL})|(?P<mark>[;{{}}()\[\],])")
_OPENING, _CLOSING = "([", ")]"
# Matched against text whose whitespace runs are single spaces (so no two parts of a
# pattern compete for the same run of blanks, which could take quadratic time).
_TYPE_WORD = r"[A-Za-z_]\w*(?: ?:: ?[A-Za-z_]\w*)*(?: ?<[\w :<>*&]*>)?(?: ?\[ ?\])*"
# A declaration's head on one line: type words, then the first declarator's name (with
# any ``*`` / ``&``), which must not run on from the last type word.
_HEAD = re.compile(rf"(?P<prefix>{_TYPE_WORD}(?: {_TYPE_WORD})*?)[ *&]*(?<!\w)[A-Za-z_]\w*")
# What may stand between the previous statement and a declaration's line: blank lines,
# preprocessor directives and annotations. (Anything else, as in Python code, which has
# no ``;``, means the statement did not start where the scan thought.)
_LEAD_IN = re.compile(r"(?:[ \t]*(?:[#@][^\n]*)?\n)*")
_BRACKET_OR_BREAK = re.compile(r"[()\[\]\n]")
_ARRAY_SUFFIX = re.compile(r"(?: ?\[[^\]]*\])+$")
# First words after which a name list is an expression, not a declaration.
_STATEMENT_KEYWORDS = frozenset("return throw delete case goto else do new yield co_return co_yield assert".split())


def with_single_declarations(code: str) -> str:
    """``code`` with every declaration list followed by its single declarations (see the module)."""
    if "," not in code or ";" not in code:  # no declaration list possible (most Python)
        return code
    pieces: list[str] = []
    start = 0  # where the current statement starts
    depth = 0
    commas: list[int] = []  # the current statement's commas outside brackets
    nested_end = False  # the statement contains a ``;`` inside brackets (a for header)
    for match in _SCAN.finditer(code):
        mark = match.group("mark")
        if mark is None:
            continue
        position = match.start()
        if mark in _OPENING:
            depth += 1
        elif mark in _CLOSING:
            depth = max(0, depth - 1)
        elif mark == "," and depth == 0:
            commas.append(position)
        elif mark == ";" and depth > 0:
            nested_end = True
        elif mark in "{};":
            if mark == ";" and commas and not nested_end:
                pieces.append(_with_singles(code, start, commas, position))
            else:
                pieces.append(code[start:position])
            pieces.append(mark)
            start, depth, commas, nested_end = position + 1, 0, [], False
    pieces.append(code[start:])
    return "".join(pieces)


def _with_singles(code: str, start: int, commas: list[int], end: int) -> str:
    """The statement ``code[start:end]`` (without its ``;``) followed by its single
    declarations, or as it is when it is not a declaration list."""
    statement = code[start:end]
    line = code.rfind("\n", start, commas[0]) + 1 or start  # the head is on the first comma's line
    # Whitespace is not a token, so the single declarations may have it normalised.
    first = " ".join(code[line : commas[0]].split())
    head = _ARRAY_SUFFIX.sub("", re.split(r"[=(]", first, maxsplit=1)[0].rstrip())
    match = _HEAD.fullmatch(head)
    if (
        match is None
        or match.group("prefix").split(None, 1)[0] in _STATEMENT_KEYWORDS
        or not _LEAD_IN.fullmatch(code[start:line])
    ):
        return statement
    rest = [code[a + 1 : b].strip() for a, b in zip(commas, [*commas[1:], end], strict=True)]
    if any(_breaks_line_outside_brackets(d) for d in rest):
        return statement
    prefix = match.group("prefix")
    declarators = [first[match.end("prefix") :].strip(), *rest]
    return statement + "; " + "; ".join(f"{prefix} {d}" for d in declarators)


def _breaks_line_outside_brackets(text: str) -> bool:
    """Whether ``text`` has a line break outside brackets (a declarator has none)."""
    depth = 0
    for match in _BRACKET_OR_BREAK.finditer(text):
        mark = match.group()
        if mark in _OPENING:
            depth += 1
        elif mark in _CLOSING:
            depth = max(0, depth - 1)
        elif depth == 0:  # a line break
            return True
    return False
