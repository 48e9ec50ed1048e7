"""The plagiarism obfuscation generator on real programs: every level of every language
gives code that still compiles (or parses), and each level changes what it claims to."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys

import pytest

from clonedetect import data
from clonedetect.obfuscation import (
    LEVELS,
    SUPPORTED_LANGUAGES,
    ObfuscationError,
    apply_level,
    obfuscate,
)
from clonedetect.obfuscation.source import Source, walk
from clonedetect.obfuscation.syntax_checks import CompilerCheck, as_public_class, javac_errors

ALL_LEVELS = tuple(range(1, 7))
# Small BigCloneBench methods (with loops and branches) that compile given java.util/java.io.
BIGCLONEBENCH_IDS = ("18376169", "1972366", "5818876", "6790770", "1363")
STDLIB_FUNCTIONS = (
    ("bisect.py", "bisect_right"),
    ("sunau.py", "_write_u32"),
    ("ftplib.py", "parse257"),
    ("tarfile.py", "copyfileobj"),
)
COMMENTS = ("comment", "line_comment", "block_comment")


# Real inputs.
@pytest.fixture(scope="module")
def gxx(tmp_path_factory):
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    return CompilerCheck("cpp", tmp_path_factory.mktemp("gxx"))


@pytest.fixture(scope="module")
def gcc(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    return CompilerCheck("c", tmp_path_factory.mktemp("gcc"))


def _small_programs(check: CompilerCheck, step: int, count: int) -> list[str]:
    """The first ``count`` small POJ-104 programs (every ``step``-th) that pass ``check`` as they are."""
    chosen = []
    for program in data.poj104_programs("valid")[::step]:
        code = program.read()
        if len(code) < 1500 and check.passes(code):
            chosen.append(code)
            if len(chosen) == count:
                return chosen
    raise AssertionError("not enough POJ-104 programs pass the compiler as they are")


@pytest.fixture(scope="module")
def cpp_programs(gxx) -> list[str]:
    return _small_programs(gxx, 250, 4)


@pytest.fixture(scope="module")
def c_programs(gcc) -> list[str]:
    return _small_programs(gcc, 330, 3)


@pytest.fixture(scope="module")
def java_files() -> dict[str, str]:
    functions = data.bigclonebench_functions()
    return {key: functions[key].read_text() for key in BIGCLONEBENCH_IDS}


def _bare_method(java_file: str) -> str:
    return java_file[java_file.index("{") + 1 : java_file.rindex("}")].strip("\n")


@pytest.fixture(scope="module")
def python_functions() -> dict[str, str]:
    files = {path.name: path for path in data.python_stdlib_files()}
    found = {}
    for file_name, function_name in STDLIB_FUNCTIONS:
        module = files[file_name].read_text()
        node = next(n for n in ast.parse(module).body if isinstance(n, ast.FunctionDef) and n.name == function_name)
        found[function_name] = ast.get_source_segment(module, node) + "\n"
    found["bisect module"] = files["bisect.py"].read_text()
    return found


# Helpers looking at the syntax of a variant.
def _parse(code: str, language: str) -> Source:
    return Source(as_public_class(code, "Parsed") if language == "java" else code, language)


def _leaves(code: str, language: str):
    return [n for n in walk(_parse(code, language).root) if n.child_count == 0 and n.type not in COMMENTS]


def _tokens(code: str, language: str) -> list[str]:
    return [n.text.decode() for n in _leaves(code, language)]


def _tokens_with_names_masked(code: str, language: str) -> list[str]:
    return ["<name>" if n.type == "identifier" else n.text.decode() for n in _leaves(code, language)]


def _names(code: str, language: str) -> set[str]:
    return {n.text.decode() for n in _leaves(code, language) if n.type == "identifier"}


def _nodes(code: str, language: str, kind: str) -> list:
    return [n for n in walk(_parse(code, language).root) if n.type == kind]


def _comments(code: str, language: str) -> list[str]:
    return [n.text.decode() for n in walk(_parse(code, language).root) if n.type in COMMENTS]


def _python_ast(code: str, keep_docstrings: bool = True, mask_names: bool = False) -> str:
    tree = ast.parse(code)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            not keep_docstrings
            and isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:]
        if mask_names:
            for field in ("id", "arg"):
                if isinstance(getattr(node, field, None), str):
                    setattr(node, field, "_")
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                node.name = "_"
    return ast.dump(tree)


def _python_names(code: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)} | {
        n.arg for n in ast.walk(ast.parse(code)) if isinstance(n, ast.arg)
    }


# The public API.
def test_levels_and_languages_are_published():
    assert tuple(LEVELS) == ALL_LEVELS
    assert all(isinstance(text, str) and text for text in LEVELS.values())
    assert SUPPORTED_LANGUAGES == ("c", "cpp", "java", "python")


def test_unsupported_language_is_refused_naming_the_supported_ones():
    with pytest.raises(ObfuscationError) as refusal:
        obfuscate("x = 1\n", "rust", 1)
    assert isinstance(refusal.value, ValueError)
    assert "'rust'" in str(refusal.value) and "c, cpp, java, python" in str(refusal.value)


@pytest.mark.parametrize("level", [0, 7, -1, True, "3", 2.0])
def test_unsupported_level_is_refused_naming_the_levels(level):
    for function in (obfuscate, apply_level):
        with pytest.raises(ObfuscationError, match="levels are integers 1 to 6"):
            function("x = 1\n", "python", level)


# Every level keeps the programs valid.
@pytest.mark.parametrize("level", ALL_LEVELS)
def test_cpp_variants_pass_gxx(level, gxx, cpp_programs):
    failures = {}
    for index, code in enumerate(cpp_programs):
        errors = gxx.errors(obfuscate(code, "cpp", level, seed=level + index))
        if errors:
            failures[index] = errors
    assert not failures


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_c_variants_pass_gcc(level, gcc, c_programs):
    failures = {}
    for index, code in enumerate(c_programs):
        errors = gcc.errors(obfuscate(code, "c", level, seed=level * 10 + index))
        if errors:
            failures[index] = errors
    assert not failures


@pytest.fixture(scope="module")
def java_variants(java_files) -> dict[tuple[str, str, int], str]:
    """(method, form, level) -> variant: every level of every method, obfuscated both as the
    BigCloneBench file and as a bare method."""
    variants = {}
    for key, code in java_files.items():
        for level in ALL_LEVELS:
            variants[key, "File", level] = obfuscate(code, "java", level, seed=level)
            variants[key, "Bare", level] = obfuscate(_bare_method(code), "java", level, seed=level)
    return variants


def test_java_variants_parse_without_errors(java_variants):
    for variant_key, variant in java_variants.items():
        assert "ObfuscationWrapper" not in variant, variant_key
        assert _parse(variant, "java").error_count() == 0, variant_key


def test_java_variants_compile_where_the_originals_do(java_files, java_variants):
    if shutil.which("javac") is None:
        pytest.skip("javac is not installed")
    originals = {f"Original{key}": as_public_class(code, f"Original{key}") for key, code in java_files.items()}
    compiling = set(java_files)
    if javac_errors(originals):  # find the ones that do compile, one by one
        compiling = {key for key in java_files if not javac_errors({f"Original{key}": originals[f"Original{key}"]})}
    assert compiling, "none of the chosen BigCloneBench methods compiles as it is"
    classes = {
        f"V{key}{form}{level}": as_public_class(code, f"V{key}{form}{level}")
        for (key, form, level), code in java_variants.items()
        if key in compiling
    }
    assert javac_errors(classes) == ""


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_python_variants_compile(level, python_functions):
    for name, code in python_functions.items():
        variant = obfuscate(code, "python", level, seed=level)
        ast.parse(variant)
        compile(variant, name, "exec", dont_inherit=True)


_DRIVER_PRELUDE = "import io\n\n\nclass error_reply(Exception):\n    pass\n\n\n"
_DRIVER = """
def run_all():
    results = []
    for response in ('257 "/home/x" created', '257 "a""b" made', '257 none', '500 failed'):
        try:
            results.append(parse257(response))
        except error_reply as error:
            results.append(("error", str(error)))
    sink = io.BytesIO()
    _write_u32(sink, 0x12345678)
    results.append(sink.getvalue())
    copied = io.BytesIO()
    copyfileobj(io.BytesIO(bytes(range(100))), copied, 37, bufsize=8)
    results.append(copied.getvalue())
    results.append([bisect_right([1, 3, 3, 7, 9], value) for value in (0, 3, 8, 10)])
    return results


__result__ = run_all()
"""


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_python_variants_behave_like_the_original(level, python_functions):
    functions = [python_functions[name] for _, name in STDLIB_FUNCTIONS]
    program = _DRIVER_PRELUDE + "\n\n".join(functions) + _DRIVER

    def result(code: str):
        namespace: dict = {}
        exec(compile(code, "driver", "exec"), namespace)
        return namespace["__result__"]

    expected = result(program)
    for seed in (level, level + 10):
        variant = obfuscate(program, "python", level, seed=seed)
        assert variant != program
        assert result(variant) == expected


# Determinism.
def test_same_seed_gives_the_same_variant_and_seeds_differ(cpp_programs, java_files, python_functions):
    samples = [("cpp", cpp_programs[0]), ("java", java_files["1972366"]), ("python", python_functions["parse257"])]
    for language, code in samples:
        assert obfuscate(code, language, 6, seed=5) == obfuscate(code, language, 6, seed=5)
        assert len({obfuscate(code, language, 6, seed=seed) for seed in range(5)}) >= 3, language


def test_variants_do_not_depend_on_the_interpreters_hash_seed(cpp_programs, python_functions):
    script = (
        "import sys\nfrom clonedetect.obfuscation import obfuscate\n"
        "sys.stdout.write(obfuscate(sys.stdin.read(), sys.argv[1], 6, seed=3))\n"
    )
    for language, code in (("cpp", cpp_programs[1]), ("python", python_functions["copyfileobj"])):
        outputs = {
            subprocess.run(
                [sys.executable, "-c", script, language],
                input=code,
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONHASHSEED": hash_seed},
            ).stdout
            for hash_seed in ("1", "2")
        }
        assert outputs == {obfuscate(code, language, 6, seed=3)}


# Each level does what it says.
def test_level1_changes_only_layout_and_comments(cpp_programs, java_files, python_functions):
    for language, code in (("cpp", cpp_programs[0]), ("java", java_files["18376169"])):
        variant = apply_level(code, language, 1, seed=2)
        assert variant != code
        assert _tokens(variant, language) == _tokens(code, language)
        assert _comments(variant, language) != _comments(code, language)
    code = python_functions["bisect_right"]
    variant = apply_level(code, "python", 1, seed=2)
    assert variant != code
    assert _python_ast(variant, keep_docstrings=False) == _python_ast(code, keep_docstrings=False)


def test_level2_renames_identifiers_and_nothing_else(cpp_programs, java_files, python_functions):
    for language, code in (("cpp", cpp_programs[0]), ("java", java_files["18376169"])):
        variant = apply_level(code, language, 2, seed=1)
        assert _tokens_with_names_masked(variant, language) == _tokens_with_names_masked(code, language)
        assert _names(code, language) - _names(variant, language), "no identifier was renamed"
    cpp = cpp_programs[0]
    kept = {"main", "printf", "scanf", "cin", "cout"} & _names(cpp, "cpp")
    assert kept <= _names(apply_level(cpp, "cpp", 2, seed=1), "cpp")
    code = python_functions["parse257"]
    variant = apply_level(code, "python", 2, seed=1)
    assert _python_ast(variant, mask_names=True) == _python_ast(code, mask_names=True)
    assert _python_names(code) - _python_names(variant)
    assert {"len", "error_reply"} <= _python_names(variant)


def _declared_names(code: str, language: str) -> list[str]:
    """Every variable the local declarations declare (one entry per declarator)."""
    names = []
    for declaration in _nodes(code, language, _DECLARATION[language]):
        for declarator in declaration.children_by_field_name("declarator"):
            node = declarator
            while node.type != "identifier":
                node = node.child_by_field_name("name" if node.type == "variable_declarator" else "declarator")
            names.append(node.text.decode())
    return sorted(names)


_DECLARATION = {"cpp": "declaration", "java": "local_variable_declaration"}


def test_level3_reshapes_declarations_but_declares_the_same_variables(cpp_programs, java_files, python_functions):
    for language, code in [("cpp", c) for c in cpp_programs] + [("java", java_files["1972366"])]:
        variant = apply_level(code, language, 3, seed=4)
        before = [n.text for n in _nodes(code, language, _DECLARATION[language])]
        after = [n.text for n in _nodes(variant, language, _DECLARATION[language])]
        assert after != before
        assert _declared_names(variant, language) == _declared_names(code, language)
    code = python_functions["parse257"]
    variant = apply_level(code, "python", 3, seed=4)
    assert variant != code and _python_names(variant) == _python_names(code)


def _function_names(code: str, language: str) -> list[str]:
    if language == "python":
        return [n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef)]
    kinds = {"cpp": "function_definition", "java": "method_declaration"}
    names = []
    for node in _nodes(code, language, kinds[language]):
        name = node.child_by_field_name("name")  # Java; C++ names sit inside the declarator
        name = name or node.child_by_field_name("declarator").child_by_field_name("declarator")
        names.append(name.text.decode())
    return names


def test_level4_extracts_or_reorders_functions(cpp_programs, java_files, python_functions):
    samples = [("cpp", c) for c in cpp_programs] + [
        ("java", java_files["5818876"]),
        ("python", python_functions["copyfileobj"]),
    ]
    for language, code in samples:
        variant = apply_level(code, language, 4, seed=0)
        before, after = _function_names(code, language), _function_names(variant, language)
        assert after != before, (language, before)
        assert set(before) <= set(after)
    java = apply_level(java_files["5818876"], "java", 4, seed=0)
    assert len(_function_names(java, "java")) > 1, "no helper method was extracted"


def test_level5_swaps_statements_without_changing_them(cpp_programs, python_functions):
    samples = [("cpp", c) for c in cpp_programs] + [("python", python_functions["_write_u32"])]
    swapped = 0
    for language, code in samples:
        variant = apply_level(code, language, 5, seed=0)
        if variant != code:
            swapped += 1
            assert sorted(_tokens(variant, language)) == sorted(_tokens(code, language))
            assert _tokens(variant, language) != _tokens(code, language)
    assert swapped >= 2
    assert apply_level(python_functions["_write_u32"], "python", 5, seed=0) != python_functions["_write_u32"]


def test_level6_rewrites_loops_and_adds_dead_code(cpp_programs, java_files, python_functions):
    for language, code in [("cpp", c) for c in cpp_programs] + [("java", java_files["18376169"])]:
        if not _nodes(code, language, "for_statement"):
            continue
        variant = apply_level(code, language, 6, seed=1)
        assert len(_nodes(variant, language, "while_statement")) > len(_nodes(code, language, "while_statement"))
        assert re.search(r"if \((0|false)\) \{", variant) or re.search(r"\bint \w+ = \d;", variant)
    code = python_functions["_write_u32"]
    variant = apply_level(code, "python", 6, seed=1)
    assert "for i in range(4)" not in variant and re.search(r"while i < 4:", variant)


def test_levels_compose(cpp_programs, python_functions):
    code = cpp_programs[2]
    top, first = obfuscate(code, "cpp", 6, seed=8), obfuscate(code, "cpp", 1, seed=8)
    assert top != first
    assert top != apply_level(code, "cpp", 6, seed=8)
    assert _names(code, "cpp") - _names(top, "cpp"), "level 6 includes renaming"
    assert _comments(top, "cpp") != _comments(code, "cpp"), "level 6 includes the layout changes"
    code = python_functions["_write_u32"]
    top = obfuscate(code, "python", 6, seed=8)
    assert "while" in top and _python_names(code) - _python_names(top)


def test_unparsable_input_gets_only_layout_and_renaming_outside_the_error():
    broken = (
        "int helper(int value) {\n    int total = 0;\n    for (int i = 0; i < value; i++) total += i;\n"
        '    return total;\n}\nint main() {\n    int count = 3 @@ ;\n    printf("%d", helper(count));\n'
        "    return 0;\n}\n"
    )
    for level in (3, 4, 5, 6):
        assert apply_level(broken, "c", level, seed=1) == broken
    variant = obfuscate(broken, "c", 6, seed=1)
    assert variant != broken and "@@" in variant
    assert _parse(variant, "c").error_count() <= _parse(broken, "c").error_count()
    assert "for (" in variant, "loops are left alone when the input does not parse"
