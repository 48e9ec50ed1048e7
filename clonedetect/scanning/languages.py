"""Which files of a submission are source code, and which files may be compared.

The language comes from the file's suffix alone: a course hands out one language per
assignment, and guessing from content would silently drop or mix files.
"""

from __future__ import annotations

from pathlib import PurePath

SUFFIXES = {
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".java": "java",
    ".py": "python",
}
LANGUAGES = tuple(sorted(set(SUFFIXES.values())))

# C++ code includes .h headers and is often written in C style, so C and C++ files are
# compared with each other; a Java file and a Python file never are.
_FAMILIES = {"c": "c", "cpp": "c", "java": "java", "python": "python"}


def language_of(path: str, forced: str | None = None) -> str | None:
    """The language of ``path`` by its suffix, or None when it is not a source file (of
    the ``forced`` language, when one is given)."""
    language = SUFFIXES.get(PurePath(path).suffix.lower())
    if forced is not None and language != forced:
        return None
    return language


def unsupported_reason(path: str, forced: str | None = None) -> str:
    """Why :func:`language_of` returned None for ``path``, for the skipped list."""
    suffix = PurePath(path).suffix or "(none)"
    if forced is not None and SUFFIXES.get(suffix.lower()):
        return f"not a {forced} file (--language {forced})"
    return f"unsupported suffix {suffix}"


def family(language: str) -> str:
    """Files are compared only with files of the same family."""
    return _FAMILIES[language]
