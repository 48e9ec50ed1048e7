"""What a rollout or rollback changes (the models that move to another version, the ensemble
versions that switch) and the checks every plan makes first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clonedetect import paths
from clonedetect.rollout_repository import RolloutError


@dataclass(frozen=True)
class Move:
    """A model whose version ``add`` takes over from ``remove``."""

    model: str
    add: int
    remove: int
    served: list[int]  # the versions it serves before


@dataclass(frozen=True)
class Switch:
    ensemble: str
    before: int  # the ensemble version answering now
    after: int  # the ensemble version that answers once switched
    pins: dict[str, int]  # what ``after`` calls
    before_pins: dict[str, int]  # what ``before`` calls (recorded, for a rollback)


def replaced_version(model: str, version: int, served: list[int], replace: int | None) -> int:
    if not served:
        raise RolloutError(f"{model} is not loaded on the server: load it first (clonedetect reload {model})")
    others = [v for v in served if v != version]
    listed = ", ".join(map(str, served))
    if replace is None:
        if len(others) != 1:
            raise RolloutError(
                f"{model} serves versions {listed}: say which one version {version} replaces with --replace"
            )
        return others[0]
    if replace not in others:
        raise RolloutError(f"--replace {replace}: {model} serves versions {listed} (and the new one is {version})")
    return replace


def answering(live: dict[str, list[int]], ensemble: str) -> int:
    if not live.get(ensemble):
        raise RolloutError(f"ensemble {ensemble} is not loaded on the server: load it first (clonedetect reload)")
    return max(live[ensemble])


def check_version_folder(repository: Path, model: str, version: int) -> None:
    if version not in paths.model_versions(model, repository):
        raise RolloutError(
            f"{model} has no version folder {version} in {repository}: install it first "
            "(clonedetect import-model, clonedetect calibrate, or copy it there)"
        )
