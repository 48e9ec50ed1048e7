"""Dolos baseline: pair similarities from the Dolos plagiarism detector (``@dodona/dolos-lib``).

Dolos (Maertens et al., J. Comput. Assist. Learn. 2022) parses programs with tree-sitter,
hashes k-grams of the syntax-tree token stream and winnows them; a pair's ``similarity``
is the share of both programs' fingerprints that they share. It is a Node.js library, run
here through ``evaluation/dolos_runner/run.mjs`` (one ``node`` process per set of programs,
all pairs of the set at once), with dolos-lib's default options.

The npm packages are installed once into the cache (``<cache>/dolos/``, see
:func:`clonedetect.data.cache_dir`), never into the repository: ``npm ci`` from the committed
``package.json`` / ``package-lock.json`` (dolos-lib pinned), then ``npm rebuild`` of the
tree-sitter native modules (npm 11 skips install scripts), then a check run; a marker
file records a finished install. Run it with ``make dolos`` or
``python -m clonedetect.evaluation.dolos --install``; needs Node.js 18+ and npm.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from clonedetect import data

RUNNER_DIR = Path(__file__).resolve().parent / "dolos_runner"
RUNNER_SCRIPT = RUNNER_DIR / "run.mjs"
PACKAGE_FILES = ("package.json", "package-lock.json")
DOLOS_VERSION = "3.5.1"  # the exact version pinned in dolos_runner/package.json (a test checks they agree)
# The packages with native (node-gyp) builds that `npm rebuild` compiles after `npm ci`.
NATIVE_PACKAGES = ("tree-sitter", "tree-sitter-compat", "@dodona/dolos-parsers")
# The project's language names -> Dolos language names.
LANGUAGES = {"java": "java", "c": "c", "cpp": "cpp", "python": "python"}
MARKER = ".clonedetect-installed.json"
INSTALL_HINT = "make dolos  (or: python -m clonedetect.evaluation.dolos --install)"
NPM_TIMEOUT_S = 1800
RUN_TIMEOUT_S = 900


class DolosUnavailable(RuntimeError):
    """Node.js / npm is missing, or the Dolos install failed or is not there."""


def _package_hash() -> str:
    """What an install is keyed on: the package files (``run.mjs`` runs from the checkout)."""
    for name in (*PACKAGE_FILES, RUNNER_SCRIPT.name):
        if not (RUNNER_DIR / name).is_file():
            raise DolosUnavailable(f"{RUNNER_DIR / name} is missing: run the evaluation from a source checkout")
    digest = hashlib.sha256()
    for name in PACKAGE_FILES:
        digest.update((RUNNER_DIR / name).read_bytes())
    return digest.hexdigest()


def install_dir() -> Path:
    """Where this package.json / lockfile pair is (or will be) installed."""
    return data.cache_dir() / "dolos" / f"dolos-lib-{DOLOS_VERSION}-{_package_hash()[:12]}"


def _executable(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise DolosUnavailable(
            f"`{name}` was not found on PATH: the Dolos baseline needs Node.js 18+ with npm "
            f"(install Node.js, then run {INSTALL_HINT})"
        )
    return path


def node_version() -> str | None:
    """``node --version`` (e.g. ``v20.11.1``), or ``None`` without Node.js."""
    node = shutil.which("node")
    if node is None:
        return None
    return subprocess.run([node, "--version"], capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def _marker_contents() -> dict:
    return {"dolos_lib": DOLOS_VERSION, "package_hash": _package_hash(), "node": node_version()}


def is_installed() -> bool:
    """Whether a finished install for these package files and this Node.js exists."""
    marker = install_dir() / MARKER
    try:
        return json.loads(marker.read_text(encoding="utf-8")) == _marker_contents()
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def _install_lock(folder: Path):
    """One installer at a time (parallel test workers, a harness run beside the tests)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".install.lock", "w") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_logged(command: list[str], cwd: Path, log_file: Path, timeout: float, env: dict | None = None) -> None:
    with open(log_file, "a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        try:
            result = subprocess.run(
                command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise DolosUnavailable(f"`{' '.join(command)}` took more than {timeout:.0f} s (log: {log_file})") from error
    if result.returncode != 0:
        tail = log_file.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise DolosUnavailable(
            f"installing Dolos failed: `{' '.join(command)}` exited with {result.returncode} "
            f"(full log: {log_file}); fix the cause and run {INSTALL_HINT}\n{tail}"
        )


def check(folder: Path | None = None, timeout: float = 120) -> dict:
    """Run the runner's self-check (loads the Java and C parsers) against an install."""
    folder = folder or install_dir()
    result = subprocess.run(
        [_executable("node"), str(RUNNER_SCRIPT), "--check"],
        env={**os.environ, "CLONEDETECT_DOLOS_DIR": str(folder)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise DolosUnavailable(f"the Dolos install in {folder} does not work ({result.stderr.strip()[-2000:]})")
    return json.loads(result.stdout)


def ensure_installed(*, force: bool = False, log: Callable[[str], None] = lambda _: None) -> Path:
    """Install dolos-lib into :func:`install_dir` unless already done; return that folder.

    Idempotent and safe to call from several processes: the first one installs (a few
    minutes: download, native builds), the others wait for it and then return."""
    npm = _executable("npm")
    _executable("node")
    target = install_dir()
    if not force and is_installed():
        return target
    with _install_lock(target.parent):
        if not force and is_installed():
            return target
        start = time.perf_counter()
        log(f"installing @dodona/dolos-lib {DOLOS_VERSION} into {target} (once; a few minutes)")
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for name in PACKAGE_FILES:
            shutil.copyfile(RUNNER_DIR / name, partial / name)
        log_file = target.parent / f"{target.name}.install.log"
        log_file.write_text("", encoding="utf-8")
        # Install scripts off everywhere (npm 11 skips them anyway), then build the native modules.
        env = {**os.environ, "npm_config_update_notifier": "false"}
        _run_logged([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], partial, log_file, NPM_TIMEOUT_S, env)
        _run_logged([npm, "rebuild", *NATIVE_PACKAGES], partial, log_file, NPM_TIMEOUT_S, env)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        check(target)
        (target / MARKER).write_text(json.dumps(_marker_contents()) + "\n", encoding="utf-8")
        log(f"Dolos installed in {time.perf_counter() - start:.0f} s")
    return target


def runner_command(heap_mb: int | None = None) -> list[str]:
    """``node run.mjs``; ``heap_mb`` sets Node's heap limit (``--max-old-space-size``): Dolos
    holds every pair's shared fingerprints at once, so its memory grows with N² and the
    default limit runs out between 3,000 and 4,000 programs."""
    heap = [f"--max-old-space-size={heap_mb}"] if heap_mb else []
    return [_executable("node"), *heap, str(RUNNER_SCRIPT)]


def runner_environment() -> dict[str, str]:
    """The runner's environment: it finds dolos-lib in the cached install."""
    return {**os.environ, "CLONEDETECT_DOLOS_DIR": str(install_dir())}


def runner_request(codes: Sequence[str | Path], language: str) -> tuple[str, int]:
    """The runner's stdin for ``codes`` (sources, or paths to read) and the number of programs."""
    if language not in LANGUAGES:
        raise ValueError(f"no Dolos language for {language!r}: known {sorted(LANGUAGES)}")
    sources = [c.read_text(encoding="utf-8", errors="replace") if isinstance(c, Path) else c for c in codes]
    if len(sources) < 2:
        raise ValueError("Dolos compares at least two programs")
    return json.dumps({"language": LANGUAGES[language], "files": sources}), len(sources)


def pairs_from_reply(reply_text: str, n: int) -> dict[str, np.ndarray]:
    """The runner's stdout as symmetric ``[n, n]`` matrices ``similarity`` (diagonal 1),
    ``longest`` and ``overlap`` (diagonal 0)."""
    pairs = np.asarray(json.loads(reply_text)["pairs"], dtype=np.float64).reshape(-1, 5)
    if len(pairs) != n * (n - 1) // 2:
        raise DolosUnavailable(f"Dolos returned {len(pairs)} pairs for {n} programs, expected {n * (n - 1) // 2}")
    rows, cols = pairs[:, 0].astype(int), pairs[:, 1].astype(int)
    out = {}
    for column, name in ((2, "similarity"), (3, "longest"), (4, "overlap")):
        matrix = np.zeros((n, n), dtype=np.float64)
        matrix[rows, cols] = matrix[cols, rows] = pairs[:, column]
        out[name] = matrix
    np.fill_diagonal(out["similarity"], 1.0)
    return out


def dolos_pairs(
    codes: Sequence[str | Path], language: str, *, timeout: float = RUN_TIMEOUT_S, heap_mb: int | None = None
) -> dict[str, np.ndarray]:
    """Dolos on the whole set ``codes`` at once (sources, or paths to read): see
    :func:`pairs_from_reply`. ``heap_mb``: Node's heap limit (default: Node's own)."""
    request, n = runner_request(codes, language)
    command = runner_command(heap_mb)
    if not is_installed():
        raise DolosUnavailable(f"Dolos {DOLOS_VERSION} is not installed in {install_dir()}: run {INSTALL_HINT}")
    try:
        result = subprocess.run(
            command,
            input=request,
            env=runner_environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise DolosUnavailable(f"Dolos took more than {timeout:.0f} s on {n} programs") from error
    if result.returncode != 0:
        raise DolosUnavailable(f"the Dolos runner failed (exit {result.returncode}): {result.stderr.strip()[-3000:]}")
    return pairs_from_reply(result.stdout, n)


def dolos_pair_similarities(
    codes: Sequence[str | Path], language: str, *, timeout: float = RUN_TIMEOUT_S
) -> np.ndarray:
    """Dolos ``similarity`` of every two programs of ``codes``: a symmetric ``[n, n]`` matrix in ``[0, 1]``."""
    return dolos_pairs(codes, language, timeout=timeout)["similarity"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clonedetect.evaluation.dolos", description="Install / check the Dolos baseline."
    )
    parser.add_argument("--install", action="store_true", help="install dolos-lib into the cache (once)")
    parser.add_argument("--force", action="store_true", help="with --install: reinstall even if installed")
    args = parser.parse_args(argv)
    try:
        if args.install:
            start = time.perf_counter()
            already = is_installed() and not args.force
            folder = ensure_installed(force=args.force, log=lambda m: print(m, flush=True))
            state = "already installed" if already else f"installed in {time.perf_counter() - start:.0f} s"
            print(f"Dolos {DOLOS_VERSION}: {state}: {folder}")
        else:
            if not is_installed():
                print(f"Dolos {DOLOS_VERSION} is not installed: run {INSTALL_HINT}", file=sys.stderr)
                return 1
            print(json.dumps(check()))
    except DolosUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
