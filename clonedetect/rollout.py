"""Make another version of a model live on the running server without failing a request.

A rollout of ``MODEL`` version N, replacing version M:

1. N is loaded beside the live versions (its config's ``model_warmup`` runs before Triton
   calls it ready, so the first real request does not pay for a cold start);
2. every ensemble that calls M gets a *new* ensemble version pinned to N (and to the exact
   versions of its other steps); Triton loads it beside the old one, then retires the old
   one once its requests in flight are answered;
3. when no old ensemble version is left, M is unloaded.

Triton's response cache is keyed by ensemble name and version, and an ensemble version
never changes what it calls (``<ensemble>/<version>/steps.json``), so a cached answer is
only ever served by the ensemble version that computed it. A rollback re-activates the
previous ensemble versions (whose cached answers are those of M again) the same way.

The repository is edited first and Triton loads from it, so a restarted server serves
what the last rollout made live.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clonedetect import paths
from clonedetect import rollout_repository as repo
from clonedetect.client import errors
from clonedetect.ensembles import LATEST, ready_versions
from clonedetect.rollout_repository import RolloutError

DRAIN_TIMEOUT_S = 120.0  # an old ensemble version's requests in flight finish well within this


@dataclass(frozen=True)
class Switch:
    ensemble: str
    before: int  # the ensemble version answering now
    after: int  # the ensemble version that answers once switched
    pins: dict[str, int]  # what ``after`` calls


def _callers(repository: Path, model: str, replaced: int, served: list[int]) -> dict[str, dict[str, int]]:
    """``{ensemble: its steps}`` for every ensemble that calls ``model`` version ``replaced``."""
    callers = {}
    for ensemble in repo.ensembles(repository):
        steps = repo.steps(repository, ensemble)
        version = steps.get(model)
        if version == replaced or (version == LATEST and replaced == max(served)):
            callers[ensemble] = steps
        elif version == LATEST:
            raise RolloutError(
                f"{ensemble} calls the newest version of {model} (-1), which is not version {replaced}: "
                f"roll out with --replace {max(served)}, or pin its step to a version"
            )
    return callers


def _replaced_version(model: str, version: int, served: list[int], replace: int | None) -> int:
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


def _answering(live: dict[str, list[int]], ensemble: str) -> int:
    if not live.get(ensemble):
        raise RolloutError(f"ensemble {ensemble} is not loaded on the server: load it first (clonedetect reload)")
    return max(live[ensemble])


def check_version_folder(repository: Path, model: str, version: int) -> None:
    if version not in paths.model_versions(model, repository):
        raise RolloutError(
            f"{model} has no version folder {version} in {repository}: install it first "
            "(clonedetect import-model, clonedetect calibrate, or copy it there)"
        )


def plan_rollout(
    repository: Path, model: str, version: int, replace: int | None, live: dict[str, list[int]]
) -> tuple[int, list[Switch]]:
    """The version ``version`` replaces and the ensemble switches that make it live, given
    the ``live`` (ready) versions of every model on the server."""
    check_version_folder(repository, model, version)
    replaced = _replaced_version(model, version, live.get(model, []), replace)
    switches = []
    for ensemble, steps in _callers(repository, model, replaced, live[model]).items():
        after = max(paths.model_versions(ensemble, repository)) + 1
        switches.append(Switch(ensemble, _answering(live, ensemble), after, {**steps, model: version}))
    return replaced, switches


def _wait_until_retired(client, retiring: dict[str, int], timeout: float = DRAIN_TIMEOUT_S) -> None:
    """Until every ``{ensemble: version}`` has answered its requests in flight and unloaded."""
    deadline = time.monotonic() + timeout
    while True:
        ready = ready_versions(client.model_status())
        left = {e: v for e, v in retiring.items() if v in ready.get(e, [])}
        if not left:
            return
        if time.monotonic() > deadline:
            raise RolloutError(
                f"{left} still answer requests after {timeout:.0f} s; the new versions are live. "
                "Run the command again once the old requests are done"
            )
        time.sleep(0.2)


def _load_beside(client, repository: Path, model: str, add: int, served: list[int], why: str, progress) -> None:
    """Load version ``add`` beside ``served``; if it does not load, put the configs back."""
    saved = repo.snapshot(repository, model)
    repo.set_served_versions(repository, model, sorted({*served, add}), why)
    progress(f"loading {model} version {add} beside {', '.join(map(str, served))} (warm-up included)")
    try:
        client.load_model(model)
    except errors.ClonedetectError as error:
        repo.restore(saved)
        client.load_model(model)
        raise RolloutError(
            f"{model} version {add} did not load, so nothing was switched and {model} serves "
            f"{', '.join(map(str, served))} as before: {error}"
        ) from None


def switch(
    client,
    repository: Path,
    model: str,
    *,
    add: int,
    remove: int,
    served: list[int],
    switches: list[Switch],
    why: str,
    progress: Callable[[str], None],
) -> None:
    """Load ``model`` version ``add`` beside the ``served`` ones, move ``switches`` onto it,
    unload ``remove``."""
    _load_beside(client, repository, model, add, served, why, progress)
    for step in switches:
        repo.record_steps(repository, step.ensemble, step.before, repo.steps(repository, step.ensemble))
        repo.pin_ensemble(repository, step.ensemble, step.after, step.pins, why)
        progress(f"switching {step.ensemble} from version {step.before} to {step.after}: {step.pins}")
        client.load_model(step.ensemble)
    _wait_until_retired(client, {step.ensemble: step.before for step in switches})
    repo.set_served_versions(repository, model, sorted({*served, add} - {remove}), why)
    progress(f"unloading {model} version {remove}")
    client.load_model(model)


def rollout(client, repository: Path, model: str, version: int, replace: int | None = None, progress=print) -> dict:
    """Make ``model`` ``version`` live in place of ``replace`` (or of its one other live version)."""
    check_version_folder(repository, model, version)
    live = ready_versions(client.model_status())
    replaced, switches = plan_rollout(repository, model, version, replace, live)
    why = f"clonedetect rollout: version {version} replaced {replaced}"
    switch(
        client,
        repository,
        model,
        add=version,
        remove=replaced,
        served=live[model],
        switches=switches,
        why=why,
        progress=progress,
    )
    entry = {"version": version, "replaced": replaced, "ensembles": {s.ensemble: [s.before, s.after] for s in switches}}
    repo.save_history(repository, model, [*repo.history(repository, model), entry])
    return {"model": model, **entry, "served": repo.served_versions(repository, model)}


def last_rollout(repository: Path, model: str) -> dict:
    entries = repo.history(repository, model)
    if not entries:
        raise RolloutError(f"{model} has no rollout to roll back in {repository}")
    return entries[-1]


def plan_rollback(repository: Path, model: str, live: dict[str, list[int]]) -> tuple[dict, list[Switch]]:
    last = last_rollout(repository, model)
    switches = []
    for ensemble, (before, after) in last["ensembles"].items():
        serving = live.get(ensemble, [])
        if serving != [after]:
            raise RolloutError(
                f"{ensemble} serves version {serving} since the rollout of {model} version {last['version']} "
                f"(which made it {after}): roll back what changed it first"
            )
        switches.append(Switch(ensemble, after, before, repo.recorded_steps(repository, ensemble, before)))
    return last, switches


def rollback(client, repository: Path, model: str, progress=print) -> dict:
    """Undo the last rollout of ``model``: its previous version and ensemble versions answer again."""
    last_rollout(repository, model)
    live = ready_versions(client.model_status())
    last, switches = plan_rollback(repository, model, live)
    why = f"clonedetect rollback: version {last['replaced']} replaced {last['version']} again"
    switch(
        client,
        repository,
        model,
        add=last["replaced"],
        remove=last["version"],
        served=live.get(model, []),
        switches=switches,
        why=why,
        progress=progress,
    )
    repo.save_history(repository, model, repo.history(repository, model)[:-1])
    ensembles = {s.ensemble: [s.before, s.after] for s in switches}
    return {"model": model, "version": last["replaced"], "rolled_back": last["version"], "ensembles": ensembles}
