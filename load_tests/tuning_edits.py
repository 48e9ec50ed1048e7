"""Edits of a model repository *copy*'s ``config.pbtxt`` files (the shipped repository
is never edited): each ``set_*`` returns an edit, a function of the repository root,
and :func:`tuned_repository` writes a copy with the recommended encoder settings."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

from clonedetect import paths
from clonedetect.load_tests.bench_servers import copy_repository, with_parameter
from clonedetect.server import BUNDLED_CONFIG_NAME

# Which config an edit changes: a function of the repository root.
ConfigPath = Callable[[Path], Path]
Edit = Callable[[Path], None]

ENCODER_BUNDLED: ConfigPath = partial(paths.model_config, paths.ENCODER_MODEL, name=BUNDLED_CONFIG_NAME)
TOKENIZER: ConfigPath = partial(paths.model_config, paths.TOKENIZER_MODEL)
EMBED_ENSEMBLE: ConfigPath = partial(paths.model_config, paths.EMBED_MODEL)


def _edit(repository: Path, config: ConfigPath, change: Callable[[str], str]) -> None:
    path = config(repository)
    before = path.read_text()
    after = change(before)
    if after == before:
        raise ValueError(f"edit of {path.relative_to(repository)} changed nothing")
    path.write_text(after)


def set_instance_count(count: int, config: ConfigPath = ENCODER_BUNDLED) -> Edit:
    return lambda repo: _edit(
        repo, config, lambda t: re.sub(r"(instance_group\s*\[\s*{\s*count:\s*)\d+", rf"\g<1>{count}", t)
    )


def set_parameter(key: str, value: int | str, config: ConfigPath = ENCODER_BUNDLED) -> Edit:
    return lambda repo: _edit(repo, config, lambda t: with_parameter(t, key, value))


def set_dynamic_batching(delay_us: int, preferred: tuple[int, ...] = (), config: ConfigPath = ENCODER_BUNDLED) -> Edit:
    block = "dynamic_batching {\n"
    if preferred:
        block += f"  preferred_batch_size: [ {', '.join(str(p) for p in preferred)} ]\n"
    block += f"  max_queue_delay_microseconds: {delay_us}\n}}"
    return lambda repo: _edit(repo, config, lambda t: re.sub(r"dynamic_batching\s*{[^}]*}", block, t))


def remove_dynamic_batching(config: ConfigPath = ENCODER_BUNDLED) -> Edit:
    return lambda repo: _edit(repo, config, lambda t: re.sub(r"dynamic_batching\s*{[^}]*}", "", t))


def disable_response_cache(config: ConfigPath) -> Edit:
    return lambda repo: _edit(repo, config, lambda t: re.sub(r"response_cache\s*{\s*enable:\s*true\s*}", "", t))


NO_CACHE = [disable_response_cache(EMBED_ENSEMBLE)]


def set_ort_spinning(on: bool) -> Edit:
    return set_parameter("allow_spinning", 1 if on else 0)


def tuned_edits(instances: int = 2, intra: int = 1, spinning: bool = False, dynamic_batching: bool = False) -> list:
    """Encoder settings; the defaults are the recommended ones (see docs/PERFORMANCE.md):
    one instance per core with one ORT thread each, ORT spin-waiting off, and no dynamic
    batching (one program per ORT call: larger calls are slower per program on CPU)."""
    edits = [set_instance_count(instances), set_parameter("intra_op_thread_count", intra)]
    if spinning:
        edits.append(set_ort_spinning(True))
    if not dynamic_batching:
        edits.append(remove_dynamic_batching())
    return edits


def tuned_repository(base: Path, target: Path, **settings) -> Path:
    """A copy of ``base`` with :func:`tuned_edits` applied (for ``bench --model-repository``)."""
    repository = copy_repository(base, target)
    for edit in tuned_edits(**settings):
        edit(repository)
    return repository
