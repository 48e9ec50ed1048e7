"""The rollout plan of an imported model (``clonedetect import-model``).

Each import of ``NAME`` adds version N of three models: ``NAME``, ``NAME_tokenizer`` and the
ensemble that calls them (``NAME_embed``, or ``NAME_compare`` for a cross-encoder), whose
config the import rewrites to call version N of both. A rollout of ``NAME`` version N
therefore moves the tokenizer with the model (a tokenizer and a model of different imports
do not fit each other) and switches the ensemble to its version N; the version it answers
with now is recorded calling what it calls now, so a rollback returns to it.
"""

from __future__ import annotations

from pathlib import Path

from clonedetect import rollout_repository as repo
from clonedetect.importing.model_card import IMPORTS_FILE
from clonedetect.importing.model_configs import ModelNames
from clonedetect.rollout_plan import Move, Switch, answering, check_version_folder, replaced_version
from clonedetect.rollout_repository import RolloutError


def is_import(repository: Path, model: str) -> bool:
    return (Path(repository) / model / IMPORTS_FILE).is_file()


def _ensemble(repository: Path, names: ModelNames) -> str:
    return names.compare if (Path(repository) / names.compare).is_dir() else names.embed


def _calls(repository: Path, ensemble: str, version: int, names: ModelNames) -> dict[str, int]:
    """What ensemble ``version`` calls: as recorded by an earlier rollout, or as the import
    that made it wrote the config."""
    target = Path(repository) / ensemble / str(version) / repo.STEPS_FILE
    steps = repo.recorded_steps(repository, ensemble, version) if target.is_file() else repo.steps(repository, ensemble)
    if steps.get(names.encoder) != version or steps.get(names.tokenizer) != version:
        raise RolloutError(
            f"{ensemble} does not call version {version} of {names.encoder} and {names.tokenizer} "
            f"(it calls {steps}): import the model again to make a version to roll out"
        )
    return steps


def plan_import_rollout(
    repository: Path, model: str, version: int, replace: int | None, live: dict[str, list[int]]
) -> tuple[list[Move], list[Switch]]:
    names = ModelNames(model)
    ensemble = _ensemble(repository, names)
    for name in (names.tokenizer, ensemble):
        check_version_folder(repository, name, version)
    replaced = replaced_version(model, version, live.get(model, []), replace)
    tokenizer_live = live.get(names.tokenizer, [])
    if len(tokenizer_live) != 1:
        raise RolloutError(
            f"{names.tokenizer} serves versions {tokenizer_live}, not one: reload it (clonedetect reload "
            f"{names.tokenizer}) so that it serves the version {ensemble} calls"
        )
    pins = _calls(repository, ensemble, version, names)
    before_pins = {**pins, model: replaced, names.tokenizer: tokenizer_live[0]}
    moves = [
        Move(model, version, replaced, live[model]),
        Move(names.tokenizer, version, tokenizer_live[0], tokenizer_live),
    ]
    return moves, [Switch(ensemble, answering(live, ensemble), version, pins, before_pins)]
