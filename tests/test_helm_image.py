"""The serving image's Dockerfile (it cannot be built here: no container engine).

Checks what can be checked statically: the base image is the Triton release the
chart declares, every COPY source exists, the package install covers every folder
pyproject maps into the `clonedetect` namespace and pulls no extras, the model
repository lands where the chart points Triton, and the runtime user is numeric
and not root.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import zipfile

import pytest
import tomllib
import yaml

from clonedetect.paths import MODEL_REPOSITORY, PROJECT_ROOT
from clonedetect.server import server_arguments

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
DOCKERIGNORE = PROJECT_ROOT / ".dockerignore"
CHART_DIR = PROJECT_ROOT / "helm" / "clonedetect"
# The modules the chart's probes run in the Triton container (probes.readiness.checkEnsembles,
# probes.liveness.checkStubs).
PROBE_MODULES = ("clonedetect.readiness", "clonedetect.liveness")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = DOCKERFILE.read_text()
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        lines.append(current)
        current = ""
    result = []
    for line in lines:
        word, _, rest = line.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def of(kind: str) -> list[str]:
    return [rest for word, rest in instructions() if word == kind]


def triton_container_release(version: str) -> str:
    """NGC container release of a Triton server version: 2.42.0 was 24.01, one a month."""
    major, minor, _ = (int(p) for p in version.split("."))
    assert major == 2
    months = minor - 42
    return f"{24 + months // 12:02d}.{months % 12 + 1:02d}"


def chart() -> dict:
    return yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())


def values() -> dict:
    return yaml.safe_load((CHART_DIR / "values.yaml").read_text())


def test_release_mapping():
    assert triton_container_release("2.51.0") == "24.10"
    assert triton_container_release("2.53.0") == "24.12"
    assert triton_container_release("2.54.0") == "25.01"


def test_base_image_matches_chart_app_version():
    [base] = of("FROM")
    assert re.fullmatch(r"nvcr\.io/nvidia/tritonserver:\d\d\.\d\d-py3", base), base
    app_version = chart()["appVersion"]
    assert app_version == "2.51.0"  # the bundled server (nvidia-pytriton 0.7.0) is Triton 2.51
    assert base == f"nvcr.io/nvidia/tritonserver:{triton_container_release(app_version)}-py3"


def copy_sources() -> list[tuple[list[str], str]]:
    copies = []
    for rest in of("COPY"):
        parts = [p for p in shlex.split(rest) if not p.startswith("--")]
        copies.append((parts[:-1], parts[-1]))
    return copies


def test_copy_sources_exist():
    copies = copy_sources()
    assert copies
    for sources, _ in copies:
        for source in sources:
            assert (PROJECT_ROOT / source).exists(), f"COPY source {source} does not exist"


def test_copy_sources_not_dockerignored():
    ignored = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for sources, _ in copy_sources():
        for source in sources:
            assert source.rstrip("/") not in ignored, f"{source} is copied but excluded by .dockerignore"
    for heavy in (".venv", ".git", "tests", "helm"):
        assert heavy in ignored


def test_package_install_covers_pyproject():
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    copied = {source.rstrip("/") for sources, _ in copy_sources() for source in sources}
    assert {"pyproject.toml", pyproject["project"]["readme"]} <= copied
    for folder in pyproject["tool"]["setuptools"]["package-dir"].values():
        assert folder in copied, f"pip install . needs {folder}/ in the build context"
    runs = " ".join(of("RUN"))
    install = re.search(r"pip install ([^&;]*)", runs)
    assert install, "the package is installed with pip"
    targets = [t for t in install.group(1).split() if not t.startswith("-")]
    assert targets == ["."], "serving install only: no extras (train would pull torch)"
    assert "torch" not in runs


def test_model_repository_path_matches_chart():
    destinations = {dest.rstrip("/") for sources, dest in copy_sources() if sources == ["model_repository/"]}
    assert destinations == {values()["modelRepository"]["mountPath"]}


def test_runs_as_numeric_non_root_user():
    users = of("USER")
    assert users, "the image sets a USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0
    assert not gid or (gid.isdigit() and int(gid) != 0)
    # The chart runs the pods as the same user.
    v = values()
    assert v["podSecurityContext"]["runAsUser"] == int(uid)
    assert v["containerSecurityContext"]["runAsUser"] == int(uid)
    # USER comes after every RUN (nothing runs as root later by accident).
    words = [w for w, _ in instructions()]
    assert max(i for i, w in enumerate(words) if w == "RUN") < words.index("USER")


def test_exposes_triton_ports():
    ports = {int(p) for rest in of("EXPOSE") for p in rest.split()}
    assert ports == set(values()["server"]["ports"].values())


def test_keeps_nvidia_entrypoint():
    assert not of("ENTRYPOINT"), "the chart relies on the base image's entrypoint running its args"


def test_default_command_is_the_one_triton_command_line():
    """The image's CMD is what clonedetect serve builds, for the image's repository on all
    interfaces with the models' stock config.pbtxt (the image has the ORT backend)."""
    [cmd] = of("CMD")
    image_repository = values()["modelRepository"]["mountPath"]
    expected = ["tritonserver", *server_arguments(image_repository, host="0.0.0.0", model_config_name=None)]
    assert json.loads(cmd) == expected


@pytest.mark.parametrize("env", ["HOME=/tmp", "PYTHONDONTWRITEBYTECODE=1"])
def test_read_only_root_friendly_environment(env):
    assert env in " ".join(of("ENV"))


def test_build_context_installs_what_the_models_import(tmp_path):
    """Build the wheel from exactly the files the Dockerfile copies (as `pip install .`
    in the image does) and check it holds every clonedetect module the Python-backend
    models import and the chart's readiness probe runs, with no unconditional torch
    dependency."""
    context = tmp_path / "context"
    context.mkdir()
    for sources, _ in copy_sources():
        if sources == ["model_repository/"]:
            continue
        for source in sources:
            src = PROJECT_ROOT / source
            dst = context / source.rstrip("/")
            if src.is_dir():
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                dst.write_bytes(src.read_bytes())
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(wheels),
            str(context),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    [wheel] = list(wheels.glob("clonedetect-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))

    imported = set()
    for model in MODEL_REPOSITORY.glob("*/*/model.py"):
        imported |= set(re.findall(r"^\s*(?:from|import) (clonedetect(?:\.\w+)*)", model.read_text(), re.M))
    assert imported, "the Python-backend models import clonedetect"
    imported.update(PROBE_MODULES)
    for module in sorted(imported):
        path = module.replace(".", "/")
        assert f"{path}.py" in names or f"{path}/__init__.py" in names, f"{module} is not in the image's install"

    requires = re.findall(r"^Requires-Dist: (.*)$", metadata, re.M)
    unconditional = [r for r in requires if "extra ==" not in r]
    assert not [r for r in unconditional if r.lower().startswith("torch")]
    assert any(r.startswith("numpy") for r in unconditional)
