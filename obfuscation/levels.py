"""The six classic plagiarism disguise levels (Faidhi & Robinson)."""

from types import MappingProxyType

LEVELS = MappingProxyType(
    {
        1: "comments, whitespace and formatting",
        2: "identifier renaming",
        3: "moved declarations and split/merged variables",
        4: "moved and extracted functions",
        5: "reordered independent statements",
        6: "changed control logic",
    }
)
