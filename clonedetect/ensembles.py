"""Which version of each ensemble answers, and the exact versions of the models it calls.

Read from a running server (its repository index and the ensembles' configs), so
``clonedetect status``, ``python -m clonedetect.readiness`` and ``clonedetect rollout``
tell the same story. A step pinned to ``-1`` calls the newest ready version of its model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clonedetect.client import errors
from clonedetect.client.protocol import ENSEMBLES, ModelState

LATEST = -1  # an ensemble step's model_version that means "the newest ready version"
EXPECTED_ENSEMBLES = tuple(name for pair in ENSEMBLES.values() for name in pair)


def step_versions(config: dict) -> dict[str, int]:
    """``{composing model: version}`` of an ensemble config (JSON of either protocol; gRPC
    writes int64 as strings). Raises ValueError for one model called at two versions."""
    versions: dict[str, int] = {}
    for step in config.get("ensemble_scheduling", {}).get("step", []):
        model, version = step["model_name"], int(step.get("model_version", LATEST))
        if versions.setdefault(model, version) != version:
            name = config.get("name")
            raise ValueError(f"ensemble {name!r} calls {model} at versions {versions[model]} and {version}")
    return versions


def ready_versions(states: list[ModelState]) -> dict[str, list[int]]:
    """``{model: [ready versions, ascending]}`` from the repository index."""
    ready: dict[str, list[int]] = {}
    for state in states:
        if state.state == "READY" and state.version.isdigit():
            ready.setdefault(state.name, []).append(int(state.version))
    return {name: sorted(versions) for name, versions in ready.items()}


@dataclass(frozen=True)
class EnsembleState:
    name: str
    version: int | None  # the ready version that answers (None: none is ready)
    calls: dict[str, int | None] = field(default_factory=dict)  # model -> exact version called
    pinned: dict[str, int] = field(default_factory=dict)  # model -> version in the config (-1: newest)
    problems: tuple[str, ...] = ()  # why it cannot answer; empty when it can

    @property
    def can_answer(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "calls": self.calls,
            "pinned": self.pinned,  # as the config says: -1 follows the model's newest ready version
            "can_answer": self.can_answer,
            "problems": list(self.problems),
        }


def _state(row: ModelState) -> str:
    return f"{row.state}: {row.reason}" if row.reason else row.state


def _reason(states: list[ModelState], model: str, version: int | None) -> str:
    rows = [s for s in states if s.name == model and (version is None or s.version == str(version))]
    return "; ".join(_state(s) for s in rows) or "not in the repository"


def _not_loaded(name: str, states: list[ModelState], ensembles: set[str]) -> str:
    """Why an ensemble is not loaded: Triton unloads one when a model version it calls goes."""
    gone = [f"{s.name} {s.version} ({_state(s)})" for s in states if s.state != "READY" and s.name not in ensembles]
    why = f"; model versions not ready: {', '.join(gone)}" if gone else ""
    return f"{name} is not loaded ({_reason(states, name, None)}){why}"


def resolve(name: str, config: dict | None, states: list[ModelState], ensembles: set[str]) -> EnsembleState:
    """What ensemble ``name`` (``config`` as the server has it, None if unreadable) answers
    with; ``ensembles``: the names of all ensembles."""
    ready = ready_versions(states)
    version = max(ready.get(name, []), default=None)
    if version is None or config is None:
        return EnsembleState(name, None, problems=(_not_loaded(name, states, ensembles),))
    pinned = step_versions(config)
    calls: dict[str, int | None] = {}
    problems = []
    for model, wanted in pinned.items():
        live = ready.get(model, [])
        calls[model] = max(live, default=None) if wanted == LATEST else (wanted if wanted in live else None)
        if calls[model] is None:
            which, version_asked = ("any version", None) if wanted == LATEST else (f"version {wanted}", wanted)
            reason = _reason(states, model, version_asked)
            problems.append(f"{name} calls {model} {which}, which is not ready ({reason})")
    return EnsembleState(name, version, calls, pinned, tuple(problems))


def ensemble_states(client) -> list[EnsembleState]:
    """Every ensemble the server knows, and the project's own ensembles even when unloaded."""
    states = client.model_status()
    configs: dict[str, dict | None] = {name: None for name in EXPECTED_ENSEMBLES}
    for name in sorted(ready_versions(states)):
        try:
            config = client.model_config(name)
        except errors.ClonedetectError:
            continue
        if config.get("platform") == "ensemble":
            configs[name] = config
    return [resolve(name, configs[name], states, set(configs)) for name in sorted(configs)]
