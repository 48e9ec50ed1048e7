"""Access to the read-only training/evaluation archives in ``../shared/data``.

The archives are unpacked once into a cache folder (never into the repository) and
read from there. ``CLONEDETECT_DATA_DIR`` overrides where the archives are found,
``CLONEDETECT_CACHE_DIR`` where they are unpacked.
"""

from __future__ import annotations

import hashlib
import os
import sysconfig
import tarfile
from dataclasses import dataclass
from pathlib import Path

from clonedetect.paths import PROJECT_ROOT

POJ104_ARCHIVE = "poj104-train-valid.tar.gz"
BIGCLONEBENCH_ARCHIVE = "bigclonebench-subset.tar.gz"


def data_dir() -> Path:
    """Folder holding the shared archives (default: ``../shared/data`` beside the project)."""
    configured = os.environ.get("CLONEDETECT_DATA_DIR")
    return Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "data"


def cache_dir() -> Path:
    """Writable cache folder for unpacked data, tokenised corpora and runtime files."""
    configured = os.environ.get("CLONEDETECT_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "clonedetect"


def unpacked(archive_name: str) -> Path:
    """Unpack ``archive_name`` from :func:`data_dir` into the cache once; return the folder."""
    archive = data_dir() / archive_name
    target = cache_dir() / "data" / archive_name.removesuffix(".tar.gz")
    done_marker = target / ".unpacked"
    if done_marker.exists():
        return target
    if not archive.exists():
        raise FileNotFoundError(
            f"data archive {archive} not found: set CLONEDETECT_DATA_DIR to the folder holding {archive_name}"
        )
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    done_marker.touch()
    return target


@dataclass(frozen=True)
class Program:
    """One source file with its label (POJ-104 problem id, or BigCloneBench function id)."""

    label: str
    path: Path
    language: str

    def read(self) -> str:
        return self.path.read_text(encoding="utf-8", errors="replace")


def poj104_programs(split: str) -> list[Program]:
    """All programs of a POJ-104 split (``train`` or ``valid``), sorted for determinism."""
    if split not in ("train", "valid"):
        raise ValueError(f"unknown POJ-104 split {split!r}: expected 'train' or 'valid'")
    root = unpacked(POJ104_ARCHIVE) / "poj104" / split
    return [
        Program(label=problem.name, path=path, language="cpp")
        for problem in sorted(root.iterdir(), key=lambda p: int(p.name))
        for path in sorted(problem.glob("*.cpp"), key=lambda p: int(p.stem))
    ]


def bigclonebench_root() -> Path:
    return unpacked(BIGCLONEBENCH_ARCHIVE) / "bigclonebench"


def bigclonebench_functions() -> dict[str, Path]:
    """BigCloneBench function id -> path of its ``.java`` file."""
    return {path.stem: path for path in sorted(bigclonebench_root().glob("folder_*/*.java"))}


@dataclass(frozen=True)
class ClonePair:
    id_a: str
    id_b: str
    is_clone: bool
    clone_type: int  # 0 = T1, 1 = T2, 2-4 = strongly/moderately/weakly similar T3/T4, 5 = not a clone


def bigclonebench_pairs() -> list[ClonePair]:
    labels = bigclonebench_root() / "folder_1" / "clone_labels.txt"
    pairs = []
    for line in labels.read_text().splitlines():
        fields = line.strip().split(",")
        if len(fields) != 4 or not fields[2].strip().lstrip("-").isdigit():
            continue
        id_a, id_b, label, clone_type = (f.strip() for f in fields)
        pairs.append(ClonePair(id_a, id_b, label == "1", int(clone_type)))
    return pairs


def python_stdlib_files(limit: int | None = None) -> list[Path]:
    """Real Python sources from this interpreter's standard library (no tests), sorted."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = [
        p
        for p in sorted(stdlib.rglob("*.py"))
        if "site-packages" not in p.parts
        and "test" not in p.parts
        and "tests" not in p.parts
        and "idlelib" not in p.parts
    ]
    return files[:limit] if limit else files


# --------------------------------------------------------------------------- held-out split

HELD_OUT_FRACTION = 0.2


def held_out(key: str) -> bool:
    """The one train/held-out split of training and evaluation: whether the item ``key``
    (a BigCloneBench function id, or a stdlib file's :func:`stdlib_key`) is held out of
    training. Stable whatever the seed: the first 8 hex digits of its SHA-1 over
    ``0xFFFFFFFF``, below :data:`HELD_OUT_FRACTION`."""
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < HELD_OUT_FRACTION


def stdlib_key(path: Path) -> str:
    """A standard-library file's path relative to the stdlib folder (``json/decoder.py``)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(Path(path).resolve().relative_to(root.resolve()))
