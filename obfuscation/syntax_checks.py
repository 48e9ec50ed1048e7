"""Syntax checks of generated C, C++ and Java with the system compilers.

POJ-104 programs had their ``#include`` lines stripped, so C++ is checked after a prelude
of the whole standard library (precompiled once, which makes each check fast) and
``using namespace std``, with ``-fpermissive -w`` as old student code needs; C after the
usual C headers. Java sources are compiled together in one ``javac`` run.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

CPP_PRELUDE = "#include <bits/stdc++.h>\nusing namespace std;\n"
C_PRELUDE = "".join(f"#include <{h}.h>\n" for h in ("stdio", "stdlib", "string", "math", "ctype", "limits"))
JAVA_IMPORTS = "import java.util.*;\nimport java.io.*;\n"


class CompilerCheck:
    """``g++``/``gcc -fsyntax-only`` on code prefixed by the language's prelude."""

    def __init__(self, language: str, workdir: Path):
        self.language = language
        if language == "cpp":
            header = workdir / "prelude.hpp"
            header.write_text(CPP_PRELUDE)
            self.command = ["g++", "-fsyntax-only", "-fpermissive", "-w"]
            subprocess.run(
                self.command[:1] + ["-fpermissive", "-w", "-x", "c++-header", str(header), "-o", str(header) + ".gch"],
                check=True,
                capture_output=True,
            )
            self.command += ["-include", str(header), "-x", "c++", "-"]
            self.prelude = ""
        else:
            self.command = ["gcc", "-fsyntax-only", "-w", "-x", "c", "-"]
            self.prelude = C_PRELUDE

    def errors(self, code: str) -> str:
        """The compiler's complaints ('' when the code passes)."""
        run = subprocess.run(self.command, input=self.prelude + code, capture_output=True, text=True)
        return "" if run.returncode == 0 else run.stderr or f"exit status {run.returncode}"

    def passes(self, code: str) -> bool:
        return not self.errors(code)


def javac_errors(classes: dict[str, str]) -> str:
    """Compile ``{class name: source declaring that public class}`` in one run; '' if clean."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name, code in classes.items():
            path = Path(folder, f"{name}.java")
            path.write_text(JAVA_IMPORTS + code)
            paths.append(str(path))
        run = subprocess.run(
            ["javac", "-proc:none", "-nowarn", "-Xmaxerrs", "1000", "-d", folder, *paths],
            capture_output=True,
            text=True,
        )
        return "" if run.returncode == 0 else run.stderr or f"exit status {run.returncode}"


def as_public_class(code: str, name: str) -> str:
    """A BigCloneBench file (class ``BigbenchClone``, constructors included) or a bare
    method as public class ``name``."""
    if re.search(r"\bclass\s+BigbenchClone\b", code):
        return re.sub(r"\bBigbenchClone\b", name, code)
    return f"public class {name} {{\n{code}\n}}\n"
