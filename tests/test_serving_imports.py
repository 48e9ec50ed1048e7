"""The serving path (Triton's Python-backend models, the client, the CLI and the local
server launcher) imports neither tree-sitter, the obfuscation generator nor torch."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from clonedetect.paths import MODEL_REPOSITORY, tokenizer_file

FORBIDDEN = ("tree_sitter", "clonedetect.obfuscation", "torch", "clonedetect.training")

# Imports what the Python-backend models import, tokenizes and checks a program as the
# tokenizer step does, and prints every module then loaded.
SERVE = """
import importlib, json, sys
for module in json.loads(sys.argv[1]):
    importlib.import_module(module)
from clonedetect.preprocessing.tokenization import CodeTokenizer
from clonedetect.preprocessing.validation import decode_code
tokenizer = CodeTokenizer.from_file(sys.argv[2])
ids = tokenizer.token_ids([decode_code(b"int main() { int a, b; return a + b; }")])
assert len(ids[0]) > 5
print(json.dumps(sorted(sys.modules)))
"""


def served_modules() -> list[str]:
    imported = set()
    for model in MODEL_REPOSITORY.glob("*/*/model.py"):
        imported |= set(re.findall(r"^\s*(?:from|import) (clonedetect(?:\.\w+)*)", model.read_text(), re.M))
    return sorted(imported)


def test_serving_path_imports_no_generator_parser_or_torch():
    adapters = served_modules()
    assert "clonedetect.preprocessing.tokenization" in adapters
    entry_points = ["clonedetect.client", "clonedetect.cli", "clonedetect.server", "clonedetect.paths"]
    completed = subprocess.run(
        [sys.executable, "-c", SERVE, json.dumps(adapters + entry_points), str(tokenizer_file())],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = json.loads(completed.stdout)
    assert "clonedetect.preprocessing.declaration_lists" in loaded  # the check saw the serving path
    offending = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert not offending, f"the serving path imports {offending}"
