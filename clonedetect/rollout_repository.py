"""The model repository side of a rollout: which versions a model serves, which ensemble
version pins which step versions, and the record that ``clonedetect rollback`` undoes.

Configs are edited as text (one line each), so their comments stay; every edit is parsed
back into Triton's ModelConfig to check it says what was meant. Each ensemble version
keeps the step versions it was made with in ``<ensemble>/<version>/steps.json``: an
ensemble version never changes what it calls, so the answers Triton's response cache
holds for it (keyed by ensemble name and version) are always that version's.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from clonedetect import paths

STEPS_FILE = "steps.json"
ROLLOUTS_FILE = "rollouts.json"
_POLICY = re.compile(r"^version_policy:.*$", re.MULTILINE)


class RolloutError(ValueError):
    """A rollout or rollback that cannot be done as asked; the message says why and what to do."""


def config_files(repository: Path, model: str) -> list[Path]:
    """``config.pbtxt`` and every ``configs/<name>.pbtxt`` of a model (all say the same versions)."""
    main = paths.model_config(model, repository)
    if not main.is_file():
        raise RolloutError(f"model {model!r} is not in {repository} (no {paths.MODEL_CONFIG_FILE})")
    return [main, *sorted((main.parent / "configs").glob("*.pbtxt"))]


def parse(text: str) -> model_config_pb2.ModelConfig:
    return text_format.Parse(text, model_config_pb2.ModelConfig())


def ensembles(repository: Path) -> list[str]:
    """The ensembles of the repository, by name."""
    names = [p.parent.name for p in sorted(Path(repository).glob(f"*/{paths.MODEL_CONFIG_FILE}"))]
    return [n for n in names if parse(paths.model_config(n, repository).read_text()).platform == "ensemble"]


def steps(repository: Path, ensemble: str) -> dict[str, int]:
    """``{model: version}`` that the ensemble's config.pbtxt calls."""
    config = parse(paths.model_config(ensemble, repository).read_text())
    return {step.model_name: step.model_version for step in config.ensemble_scheduling.step}


def served_versions(repository: Path, model: str) -> list[int]:
    """The versions a model's config serves: its ``specific`` policy, or its newest one."""
    policy = parse(config_files(repository, model)[0].read_text()).version_policy
    if policy.HasField("specific"):
        return sorted(policy.specific.versions)
    present = paths.model_versions(model, repository)
    count = policy.latest.num_versions if policy.HasField("latest") else 1
    return present[-count:] if policy.WhichOneof("policy_choice") != "all" else present


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def snapshot(repository: Path, model: str) -> dict[Path, str]:
    """The text of every config of ``model``, for :func:`restore`."""
    return {path: path.read_text() for path in config_files(repository, model)}


def restore(saved: dict[Path, str]) -> None:
    for path, text in saved.items():
        _write(path, text)


def policy_line(versions: list[int], why: str) -> str:
    listed = ", ".join(str(v) for v in sorted(versions))
    return f"version_policy: {{ specific: {{ versions: [ {listed} ] }} }}   # {why}"


def set_served_versions(repository: Path, model: str, versions: list[int], why: str) -> None:
    """Make every config of ``model`` serve exactly ``versions``."""
    for path in config_files(repository, model):
        text = path.read_text()
        line = policy_line(versions, why)
        found = _POLICY.search(text)
        edited = text[: found.start()] + line + text[found.end() :] if found else f"{text.rstrip()}\n{line}\n"
        if sorted(parse(edited).version_policy.specific.versions) != sorted(versions):
            raise RolloutError(f"{path}: could not set its version_policy to {versions}; edit it by hand")
        _write(path, edited)


def pin_ensemble(repository: Path, ensemble: str, version: int, pins: dict[str, int], why: str) -> None:
    """Point ensemble ``version`` (its folder made here) at ``pins`` and make it the one served."""
    path = paths.model_config(ensemble, repository)
    text = path.read_text()
    for model, model_version in pins.items():
        pattern = re.compile(rf'(model_name:\s*"{re.escape(model)}"\s*\n\s*model_version:\s*)-?\d+[^\n]*')
        text = pattern.sub(rf"\g<1>{model_version}", text)
    folder = path.parent / str(version)
    folder.mkdir(exist_ok=True)
    record_steps(repository, ensemble, version, pins)
    _write(path, text)
    set_served_versions(repository, ensemble, [version], why)
    if steps(repository, ensemble) != pins:
        raise RolloutError(f"{path}: its steps did not become {pins}; edit it by hand")


def record_steps(repository: Path, ensemble: str, version: int, pins: dict[str, int]) -> None:
    target = paths.model_config(ensemble, repository).parent / str(version) / STEPS_FILE
    if not target.exists():
        _write(target, json.dumps(pins, indent=2, sort_keys=True) + "\n")


def recorded_steps(repository: Path, ensemble: str, version: int) -> dict[str, int]:
    target = paths.model_config(ensemble, repository).parent / str(version) / STEPS_FILE
    if not target.is_file():
        raise RolloutError(f"{ensemble} version {version} has no {STEPS_FILE}: it was not made by a rollout")
    return json.loads(target.read_text())


def history(repository: Path, model: str) -> list[dict]:
    """The rollouts of ``model`` not rolled back yet, oldest first."""
    target = Path(repository) / model / ROLLOUTS_FILE
    return json.loads(target.read_text()) if target.is_file() else []


def save_history(repository: Path, model: str, entries: list[dict]) -> None:
    _write(Path(repository) / model / ROLLOUTS_FILE, json.dumps(entries, indent=2) + "\n")
