"""The obfuscated-variant caches are keyed on everything the generator uses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from clonedetect.obfuscation import fingerprint
from clonedetect.paths import PROJECT_ROOT
from clonedetect.training.variants import variants_cache_path

SAMPLES = PROJECT_ROOT / "tests" / "samples"
JAVA = "class A { int f(int n) { int s = 0; for (int i = 0; i < n; i++) { s += i; } return s; } }\n"

# Runs the generator at every level in every language in a fresh interpreter and prints
# the files of every module it loaded (not those of the interpreter's start-up) and the
# distributions they came from.
LOADED_BY_THE_GENERATOR = """
import sys
at_start = set(sys.modules)
import importlib.metadata, json
from clonedetect.obfuscation import LEVELS, obfuscate
programs = json.loads(sys.argv[1])
for language, code in programs.items():
    for level in LEVELS:
        obfuscate(code, language, level, seed=level)
distributions = importlib.metadata.packages_distributions()
files, third_party = [], set()
for name, module in list(sys.modules.items()):
    if name in at_start:
        continue
    path = getattr(module, "__file__", None)
    if path:
        files.append(path)
        third_party.update(distributions.get(name.split(".")[0], []))
print(json.dumps({"files": files, "distributions": sorted(third_party)}))
"""


def generator_imports() -> dict:
    c = (SAMPLES / "bubble_sort.c").read_text()
    programs = {"c": c, "cpp": c, "java": JAVA, "python": (SAMPLES / "word_count.py").read_text()}
    completed = subprocess.run(
        [sys.executable, "-c", LOADED_BY_THE_GENERATOR, json.dumps(programs)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(completed.stdout)


def test_every_project_module_the_generator_loads_is_in_the_fingerprint():
    keyed = {path.resolve() for path in fingerprint.source_files()}
    # The namespace package's own __init__ is loaded on the way in; it holds no generator code.
    allowed = {(PROJECT_ROOT / "clonedetect" / "__init__.py").resolve()}
    loaded = {Path(p).resolve() for p in generator_imports()["files"]}
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    project = {p for p in loaded if p.is_relative_to(PROJECT_ROOT) and not p.is_relative_to(site_packages)}
    assert project - allowed, "the generator loaded no project module: the check saw nothing"
    assert not project - allowed - keyed, f"loaded by the generator but not keyed: {sorted(project - allowed - keyed)}"


def test_every_third_party_distribution_the_generator_loads_is_keyed():
    loaded = generator_imports()
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    third_party_files = [p for p in loaded["files"] if Path(p).resolve().is_relative_to(site_packages)]
    assert third_party_files, "the generator loaded no third-party module: the check saw nothing"
    keyed = {name.lower().replace("_", "-") for name in fingerprint.generator_distributions()}
    used = {name.lower().replace("_", "-") for name in loaded["distributions"]} - {"clonedetect"}
    assert "tree-sitter" in keyed
    assert not used - keyed, f"distributions the generator imports but the fingerprint ignores: {used - keyed}"


def test_every_file_of_the_package_is_keyed_and_any_change_moves_the_fingerprint(tmp_path):
    package = tmp_path / "obfuscation"
    shutil.copytree(fingerprint.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    files = fingerprint.source_files(package)
    on_disk = sorted(p for p in package.rglob("*") if p.is_file())
    assert files == on_disk
    before = fingerprint.generator_fingerprint(package)
    for path in files:  # every module, not only the pipeline's entry point
        original = path.read_bytes()
        path.write_bytes(original + b"\n# changed\n")
        assert fingerprint.generator_fingerprint(package) != before, path.name
        path.write_bytes(original)
    (package / "phrases.txt").write_text("a data file beside the modules\n")
    assert fingerprint.generator_fingerprint(package) != before
    (package / "phrases.txt").unlink()
    assert fingerprint.generator_fingerprint(package) == before


def test_training_variants_cache_follows_the_generator(tmp_path, monkeypatch):
    items = [("k", "int main(){return 0;}", "cpp")]

    def path() -> Path:
        return variants_cache_path(items, seed=0, per_item=1, levels=(1, 2), cache=tmp_path)

    first = path()
    assert path() == first
    monkeypatch.setattr(fingerprint, "generator_fingerprint", lambda folder=fingerprint.PACKAGE_DIR: "changed")
    assert path() != first
