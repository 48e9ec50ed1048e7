"""A program as the token sequence the verification stage aligns: names, numbers and
strings replaced by one symbol each, keywords and punctuation kept, every token with the
line it starts on (so matched fragments can be shown as line ranges of the original file).

Comments are left out by the rules of :func:`clonedetect.preprocessing.comments.strip_comments`
(here as spans, so that positions stay those of the original text). Why not the BPE
tokenizer: its pieces split names and numbers and it drops line structure; alignment wants
one token per lexical unit, in the original file's coordinates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from clonedetect.preprocessing.comments import LITERAL, comment_spans
from clonedetect.preprocessing.identifiers import RESERVED_NAMES

NAME_SYMBOL = "N"
NUMBER_SYMBOL = "0"
STRING_SYMBOL = '"'

_LEXEME = re.compile(
    rf"""
      (?P<string>{LITERAL})
    | (?P<number>\d[\w.]*)
    | (?P<name>[^\W\d]\w*)
    | (?P<operator>->|::|<<=|>>=|\+\+|--|&&|\|\||[-+*/%&|^!=<>]=|<<|>>)
    | (?P<other>\S)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class TokenSequence:
    """``symbols[i]`` is token i's normalised form, ``lines[i]`` its 1-based line and
    ``texts[i]`` its original text."""

    symbols: tuple[str, ...]
    lines: tuple[int, ...]
    texts: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.symbols)

    @cached_property
    def literals(self) -> frozenset[str]:
        """The distinct number and string literals, as written (:mod:`clonedetect.literals`
        weighs them); made once per sequence, however many programs it is compared with."""
        kinds = (NUMBER_SYMBOL, STRING_SYMBOL)
        return frozenset(text for symbol, text in zip(self.symbols, self.texts, strict=True) if symbol in kinds)


def _without_comments(code: str) -> str:
    """``code`` with every comment character blanked, newlines kept."""
    parts, position = [], 0
    for start, end in comment_spans(code):
        parts.append(code[position:start])
        parts.append(re.sub(r"[^\n]", " ", code[start:end]))
        position = end
    parts.append(code[position:])
    return "".join(parts)


def _symbol(match: re.Match) -> str:
    kind, text = match.lastgroup, match.group(0)
    if kind == "string":
        return STRING_SYMBOL
    if kind == "number":
        return NUMBER_SYMBOL
    if kind == "name":
        return text if text in RESERVED_NAMES else NAME_SYMBOL
    return text


def token_sequence(code: str) -> TokenSequence:
    """The normalised token sequence of ``code`` (any of C, C++, Java, Python)."""
    text = _without_comments(code)
    symbols, lines, texts = [], [], []
    line, counted_to = 1, 0
    for match in _LEXEME.finditer(text):
        line += text.count("\n", counted_to, match.start())
        counted_to = match.start()
        symbols.append(_symbol(match))
        lines.append(line)
        texts.append(match.group(0))
    return TokenSequence(tuple(symbols), tuple(lines), tuple(texts))
