"""Language-aware plagiarism obfuscation: turn a real program into disguised variants at
the six classic levels (see :data:`LEVELS`) for C, C++, Java and Python.

    from clonedetect.obfuscation import obfuscate
    variant = obfuscate(code, "cpp", level=4, seed=1)   # levels 1..4 applied
    single = apply_level(code, "cpp", level=4, seed=1)  # level 4 only

What each level does (every site is chosen with a seeded ``random.Random``):

1. Layout: delete or reword comments (Python: also some docstrings), add comment lines,
   remove and add blank lines, re-indent with a new unit, squeeze or widen the spaces
   around operators and commas; C/C++/Java also switch braces between K&R and Allman.
2. Renaming: local variables, parameters and the program's own functions (C/C++ globals,
   Python module-level names) get fresh two-word names, at every use. Never renamed:
   keywords, library names, ``main``, members, names used by macros or in a context the
   scope analysis does not model; Python keeps ``self``/``cls``, parameters passed by
   keyword, names in strings (``__all__``) and every name of a scope using ``locals()``.
3. Declarations: C/C++/Java split ``int a=1,b;``, merge adjacent same-type declarations,
   separate an initialisation from its declaration and move declarations to the top of
   their block; Python splits/merges ``a, b = 1, 2`` and ``a = b = 0`` and moves literal
   assignments to the top of the function.
4. Functions: extract a statement into a new helper (its read-only locals become
   parameters) and reorder functions and methods; C/C++ get prototypes for any order.
5. Statement order: swap adjacent simple statements that share no name and cannot
   observe each other (at most one has side effects, no aliasing variable is involved).
6. Control logic: ``for`` <-> ``while`` (Python: ``for i in range`` -> counting ``while``,
   ``while c`` -> ``while True`` + ``break``), inverted ``if``/``else``, ``switch`` ->
   ``if`` chain, conditional expression <-> ``if``, ``x = x + y`` <-> ``x += y``,
   ``i++`` <-> ``i += 1``, and dead code (``if (0) {...}`` and an unused variable).

Every pass edits byte ranges of the tree-sitter tree and the program is re-parsed after
each pass. A site a transformation cannot handle safely is skipped, and a pass result is
kept only if it parses with no more errors than the input (Python: still compiles).
Input that does not parse cleanly (ERROR or MISSING nodes) gets levels 1 and 2 only,
outside the erroneous regions; the other levels leave it unchanged.
Java methods without a class (as in BigCloneBench) are wrapped in one internally.
"""

from .errors import ObfuscationError
from .languages import SUPPORTED_LANGUAGES
from .levels import LEVELS
from .pipeline import apply_level, obfuscate

__all__ = ["LEVELS", "SUPPORTED_LANGUAGES", "ObfuscationError", "apply_level", "obfuscate"]
