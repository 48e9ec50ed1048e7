"""Cheap, regex-level "plagiarism" augmentation: the fallback positive generator.

Used when the tree-sitter obfuscator (``clonedetect.obfuscation``) is not
installed, and mixed with its variants when it is. It does what a student hiding a copy
does first, approximately and without parsing:

* drop comments;
* rename identifiers consistently (keywords and common library names are kept, so are
  names after ``.`` in Java/Python, which are mostly library members);
* rewrite increments (``i++`` / ``++i`` / ``i += 1`` / ``i = i + 1``) and ``a += b``;
* turn simple ``for (init; cond; step) {...}`` loops into ``while`` loops;
* swap adjacent simple statements and insert dead declarations.

The output need not compile; it must look like a disguised copy to the encoder. Layout
is irrelevant (the tokenizer splits on whitespace), so it is not varied.
"""

from __future__ import annotations

import random
import re

C_KEYWORDS = set(
    """auto break case char const continue default do double else enum extern float for goto if
    inline int long register return short signed sizeof static struct switch typedef union unsigned
    void volatile while bool true false class public private protected new delete this using namespace
    template typename virtual friend operator include define ifdef ifndef endif pragma main std cin cout
    endl printf scanf puts gets getchar putchar strlen strcpy strcmp strcat strncpy memset memcpy malloc
    free calloc sqrt pow abs fabs exit sort max min swap string vector map set stdio stdlib string h math
    iostream cstdio cstring cmath algorithm cstdlib iomanip fixed setprecision size push_back begin end
    NULL EOF FILE fopen fclose fprintf fscanf sprintf sscanf atoi atof isalpha isdigit toupper tolower
    islower isupper floor ceil log exp sin cos const_cast static_cast length substr find erase insert""".split()
)
JAVA_KEYWORDS = set(
    """abstract assert boolean break byte case catch char class const continue default do double else enum
    extends final finally float for goto if implements import instanceof int interface long native new
    package private protected public return short static strictfp super switch synchronized this throw
    throws transient try void volatile while true false null String Object System out println print
    Integer Long Double Boolean List ArrayList Map HashMap Set HashSet Exception IOException
    RuntimeException File InputStream OutputStream StringBuilder Math length size get put add main
    BigbenchClone Override args""".split()
)
PY_KEYWORDS = set(
    """False None True and as assert async await break class continue def del elif else except finally for
    from global if import in is lambda nonlocal not or pass raise return try while with yield self cls
    print len range int str float list dict set tuple bool isinstance open super object Exception
    ValueError TypeError KeyError IndexError AttributeError enumerate zip map filter sorted min max sum
    any all iter next getattr setattr hasattr type repr format append extend items keys values join
    split strip startswith endswith __init__ __name__ __main__""".split()
)
KEYWORDS = {"cpp": C_KEYWORDS, "c": C_KEYWORDS, "java": JAVA_KEYWORDS, "python": PY_KEYWORDS}

_WORDS = (
    "a b c d k m n p q s t x y z i j tmp temp cnt count num val value res result arr buf data idx pos len total "
    "flag item node cur prev nxt key acc out tmpval"
).split()

# Strings and char literals, comments and preprocessor/import lines are matched as whole
# units so no identifier inside them is touched.
_C_UNITS = re.compile(
    r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|//[^\n]*|/\*.*?\*/|^\s*#[^\n]*|^\s*import [^\n]*|[A-Za-z_]\w*',
    re.S | re.M,
)
_PY_UNITS = re.compile(
    r'"""(?:.|\n)*?"""|\'\'\'(?:.|\n)*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|#[^\n]*'
    r"|^\s*(?:from|import) [^\n]*|[A-Za-z_]\w*",
    re.M,
)


def _new_name(rng: random.Random, taken: set[str]) -> str:
    style = rng.random()
    while True:
        base = rng.choice(_WORDS)
        if style < 0.3:
            name = base + str(rng.randrange(10))
        elif style < 0.6:
            name = base + rng.choice(_WORDS).capitalize()
        elif style < 0.8:
            name = base + "_" + rng.choice(_WORDS)
        else:
            name = base if base not in taken else base + str(rng.randrange(100))
        if name not in taken:
            taken.add(name)
            return name


def rename_and_strip(code: str, language: str, rng: random.Random, rename_p: float, drop_comments: bool) -> str:
    """Consistently rename non-keyword identifiers (each with probability ``rename_p``)
    and optionally drop comments."""
    python = language == "python"
    units = _PY_UNITS if python else _C_UNITS
    keywords = KEYWORDS.get(language, C_KEYWORDS)
    if python:  # imported modules and names keep their names
        imported = re.findall(r"^\s*(?:from|import) ([^\n]*)", code, re.M)
        keywords = keywords | set(re.findall(r"[A-Za-z_]\w*", " ".join(imported)))
    taken = set(re.findall(r"[A-Za-z_]\w*", code))
    mapping: dict[str, str] = {}

    def replace(match: re.Match) -> str:
        text = match.group(0)
        first = text.lstrip()[:1]
        if text.startswith(("//", "/*")) or (python and text.startswith("#")):
            return " " if drop_comments else text
        if not (first.isalpha() or first == "_") or text.lstrip().startswith(("import ", "from ")):
            return text  # literal, preprocessor line or import line
        if text in keywords or text.startswith("__"):
            return text
        start = match.start()
        if language in ("java", "python") and code[max(0, start - 1) : start] == ".":
            return text
        if text not in mapping:
            mapping[text] = _new_name(rng, taken) if rng.random() < rename_p else text
        return mapping[text]

    return units.sub(replace, code)


_INCREMENT = re.compile(r"\b([A-Za-z_]\w*)\s*\+\+(?=\s*[;)])|\+\+\s*([A-Za-z_]\w*)(?=\s*[;)])")
_ADD_ASSIGN = re.compile(r"\b([A-Za-z_]\w*)\s*\+=\s*([^;(){}\n]+);")
_FOR = re.compile(r"\bfor\s*\(([^;()]*);([^;()]*);([^;()]*)\)\s*\{")
_SIMPLE_STATEMENT = re.compile(r"^\s*[^{}\n;]*;\s*$")
_CONTROL = re.compile(r"\b(?:if|for|while|return|else|break|continue|case|do)\b")


def _rewrite_increments(code: str, rng: random.Random) -> str:
    def inc(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return rng.choice([f"{name}++", f"++{name}", f"{name} += 1", f"{name} = {name} + 1"])

    code = _INCREMENT.sub(inc, code)
    return _ADD_ASSIGN.sub(
        lambda m: f"{m.group(1)} = {m.group(1)} + ({m.group(2).strip()});" if rng.random() < 0.5 else m.group(0), code
    )


def _for_to_while(code: str, rng: random.Random, p: float) -> str:
    out, position = [], 0
    for match in _FOR.finditer(code):
        if match.start() < position or rng.random() >= p:
            continue
        # Find the loop body's closing brace.
        depth, end = 1, match.end()
        while end < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[end], 0)
            end += 1
        if depth:
            continue
        init, cond, step = (part.strip() for part in match.groups())
        body = code[match.end() : end - 1]
        out.append(code[position : match.start()])
        out.append(f"{init + '; ' if init else ''}while ({cond or '1'}) {{{body}{step + ';' if step else ''}\n}}")
        position = end
    out.append(code[position:])
    return "".join(out)


def _shuffle_lines(code: str, rng: random.Random, swap_p: float, insert_p: float, language: str) -> str:
    lines = code.split("\n")
    for i in range(len(lines) - 1):
        a, b = lines[i], lines[i + 1]
        if (
            rng.random() < swap_p
            and _SIMPLE_STATEMENT.match(a)
            and _SIMPLE_STATEMENT.match(b)
            and not _CONTROL.search(a + b)
        ):
            lines[i], lines[i + 1] = b, a
    result = []
    for line in lines:
        result.append(line)
        if line.rstrip().endswith(";") and rng.random() < insert_p:
            name = _new_name(rng, set())
            result.append(f"int {name}{rng.randrange(1000)} = {rng.randrange(100)};")
    return "\n".join(result)


def augment(code: str, language: str, rng: random.Random, strength: float | None = None) -> str:
    """A disguised copy of ``code``; ``strength`` in [0, 1] (random when None)."""
    strength = rng.random() if strength is None else strength
    code = rename_and_strip(code, language, rng, rename_p=0.3 + 0.7 * strength, drop_comments=rng.random() < 0.9)
    if language in ("c", "cpp", "java"):
        if rng.random() < 0.3 + 0.6 * strength:
            code = _rewrite_increments(code, rng)
        if rng.random() < strength:
            code = _for_to_while(code, rng, p=0.5)
        code = _shuffle_lines(code, rng, swap_p=0.3 * strength, insert_p=0.05 * strength, language=language)
    return code
