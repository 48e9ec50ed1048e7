"""Which tokenizer pieces belong to names a plagiarist can rename.

The encoder's structural fingerprint (``training/model.py``, the "skeleton") replaces each
identifier *word* by one placeholder, so renaming variables and functions (level L2 and
everything above it) leaves the fingerprint unchanged. The decision is made per word, not
per piece: the tokenizer keeps each name whole as one pre-tokenized word
(``training/tokenizer_training.py``) and marks the pieces after a word's first with
:data:`CONTINUATION_PREFIX`, so ``a1`` and ``flagRes`` are both one identifier, and a
variable called ``max`` or ``lenHigh`` is not mistaken for structure.

A word is an identifier when it looks like a name and is not reserved. Reserved are the
keywords of C, C++, Java and Python, and a short list of library names that programs
call without defining and that are practically never a variable's name (``printf``,
``System``, ``println``): a copy keeps them. Names such as ``max``, ``len`` or ``list``
are often variables in student code, so they are left to rename. The tokenizer does not
know the language, so a keyword of one language that is a common name in another (``in``
and ``is`` in Java, ``default`` in Python) is a name too: otherwise renaming it would
change the fingerprint.

Each vocabulary piece gets one of five kinds (:func:`piece_kinds`); the graph works out
the words from them. The fifth marks the pieces that end a statement or open/close a block
(``;``, ``{``, ``}``): the fingerprint's n-grams stay inside one statement, so statements a
copy reorders or moves elsewhere keep theirs.
"""

from __future__ import annotations

import keyword
import re

import numpy as np

CONTINUATION_PREFIX = "##"

C_KEYWORDS = """auto break case char const continue default do double else enum extern float for goto
if inline int long register restrict return short signed sizeof static struct switch typedef union
unsigned void volatile while _Bool""".split()
CPP_KEYWORDS = """bool true false class namespace using template typename public private protected virtual
new delete this operator try catch throw nullptr friend explicit mutable constexpr override final
static_cast dynamic_cast const_cast reinterpret_cast decltype noexcept""".split()
JAVA_KEYWORDS = """abstract boolean byte extends final finally implements import instanceof interface
native package super synchronized throws transient null""".split()
# Hard keywords only: soft keywords (`match`, `type`, `_`) are names everywhere else, and
# the soft-keyword list changes between Python versions.
PYTHON_KEYWORDS = keyword.kwlist + ["self"]
# Library names used without being defined, and (unlike max, len, list) hardly ever as a name.
# (`std` is not one: students name standard deviations `std`, and `std::` / `using
# namespace std` read the same in every program either way.)
LIBRARY_NAMES = """main cout cin cerr endl printf scanf puts gets getchar putchar fprintf sprintf
sscanf include define iostream stdio stdlib cstdio cstdlib cstring cmath memset memcpy strlen strcmp
strcpy strcat malloc calloc sqrt fabs NULL EOF push_back System println Math Scanner Integer String
isinstance enumerate""".split()
# Keywords of one language that are common names in another, counted in the training
# corpora: `in` ~0.5 times per BigCloneBench function, `default` ~0.4 per Python file.
# (Java's contextual `var` and `record` are left out of JAVA_KEYWORDS for the same reason.)
KEYWORDS_USED_AS_NAMES = """in is as del from pass default""".split()
RESERVED_NAMES = frozenset(C_KEYWORDS + CPP_KEYWORDS + JAVA_KEYWORDS + PYTHON_KEYWORDS + LIBRARY_NAMES) - frozenset(
    KEYWORDS_USED_AS_NAMES
)
_NAME = re.compile(r"[^\W\d]\w*")

# Piece kinds (values of :func:`piece_kinds`).
OTHER = 0  # punctuation, the first piece of a number, special tokens
NAME = 1  # the first piece of a word that looks like a name
RESERVED = 2  # a whole reserved word (an identifier if a continuation piece follows)
CONTINUATION = 3  # a piece after the first of its word
SEPARATOR = 4  # a piece that ends a statement or opens/closes a block

STATEMENT_SEPARATORS = frozenset(";{}")


def piece_kind(token: str) -> int:
    """The kind of one vocabulary piece (see the module constants)."""
    if token.startswith(CONTINUATION_PREFIX) and len(token) > len(CONTINUATION_PREFIX):
        return CONTINUATION
    if token in STATEMENT_SEPARATORS:
        return SEPARATOR
    if not _NAME.fullmatch(token):
        return OTHER
    return RESERVED if token in RESERVED_NAMES else NAME


def piece_kinds(vocab: dict[str, int], size: int | None = None) -> np.ndarray:
    """``kinds[id]`` of every piece of a tokenizer vocabulary ``{token: id}``."""
    kinds = np.zeros(size or (max(vocab.values()) + 1), dtype=np.int64)
    for token, index in vocab.items():
        kinds[index] = piece_kind(token)
    return kinds
