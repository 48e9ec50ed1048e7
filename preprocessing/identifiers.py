"""Which tokenizer pieces belong to names a plagiarist can rename.

The encoder's structural fingerprint (``training/model.py``, the "skeleton") replaces each
run of identifier pieces by one placeholder, so renaming variables and functions (level
L2 and everything above it) leaves the fingerprint unchanged. A piece counts as an
identifier piece when it looks like a name and is not a keyword or a standard-library
name that programs use without defining (``printf``, ``System``, ``len``): those are part
of a program's structure, and a copy keeps them.
"""

from __future__ import annotations

import keyword
import re

import numpy as np

C_KEYWORDS = """auto break case char const continue default do double else enum extern float for goto
if inline int long register restrict return short signed sizeof static struct switch typedef union
unsigned void volatile while _Bool""".split()
CPP_KEYWORDS = """bool true false class namespace using template typename public private protected virtual
new delete this operator try catch throw nullptr friend explicit mutable constexpr override final
static_cast dynamic_cast const_cast reinterpret_cast decltype noexcept""".split()
JAVA_KEYWORDS = """abstract boolean byte extends final finally implements import instanceof interface
native package super synchronized throws transient null var record""".split()
PYTHON_KEYWORDS = keyword.kwlist + keyword.softkwlist + ["self", "cls"]
# Library names used without being defined: renaming tools and plagiarists leave them.
LIBRARY_NAMES = """main std cout cin cerr endl printf scanf puts gets getchar putchar fprintf sprintf
sscanf include define iostream stdio stdlib cstdio cstdlib cstring cmath string math h vector map set
list queue stack pair algorithm sort swap memset memcpy strlen strcmp strcpy strcat malloc calloc free
sqrt pow abs fabs max min exit NULL EOF size push_back begin end String System out err println print
Integer Long Double Math List ArrayList HashMap Map Arrays Collections Scanner Exception Object length
len range open int str float list dict set tuple isinstance enumerate zip sorted append format
""".split()
RESERVED_NAMES = frozenset(C_KEYWORDS + CPP_KEYWORDS + JAVA_KEYWORDS + PYTHON_KEYWORDS + LIBRARY_NAMES)
_NAME_PIECE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_identifier_piece(token: str) -> bool:
    """A name-like token that is not reserved (see module docstring)."""
    return bool(_NAME_PIECE.fullmatch(token)) and token not in RESERVED_NAMES


def identifier_piece_mask(vocab: dict[str, int], size: int | None = None) -> np.ndarray:
    """``mask[id] = 1`` for the identifier pieces of a tokenizer vocabulary ``{token: id}``."""
    mask = np.zeros(size or (max(vocab.values()) + 1), dtype=np.int64)
    for token, index in vocab.items():
        if is_identifier_piece(token):
            mask[index] = 1
    return mask
