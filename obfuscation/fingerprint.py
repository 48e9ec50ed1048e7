"""The generator's version, for caches of the variants it made.

A cached variant is stale as soon as anything that shapes the generator's output
changes: any file of this package (its modules and any data file beside them), the
tree-sitter runtime and grammars it parses with, or the Python version. The fingerprint
hashes all of them; tests check that running the generator loads nothing else.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The extra of pyproject.toml that lists the generator's third-party dependencies.
GENERATOR_EXTRA = "obfuscate"


def source_files(folder: Path = PACKAGE_DIR) -> list[Path]:
    """Every file of the package folder but compiled bytecode, sorted."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


def generator_distributions() -> list[str]:
    """The distributions of the ``obfuscate`` extra (tree-sitter and its grammars)."""
    marker = f'extra == "{GENERATOR_EXTRA}"'
    requirements = importlib.metadata.requires("clonedetect") or []
    return sorted(
        re.match(r"[A-Za-z0-9_.-]+", requirement).group(0) for requirement in requirements if marker in requirement
    )


def generator_fingerprint(folder: Path = PACKAGE_DIR) -> str:
    """Hash of the package's files, its dependencies' versions and the Python version."""
    digest = hashlib.sha256(f"python {sys.version_info.major}.{sys.version_info.minor}\0".encode())
    for name in generator_distributions():
        digest.update(f"{name}=={importlib.metadata.version(name)}\0".encode())
    for path in source_files(folder):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]
