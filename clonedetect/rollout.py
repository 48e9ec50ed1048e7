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
from pathlib import Path

from clonedetect import paths
from clonedetect import rollout_repository as repo
from clonedetect.client import errors
from clonedetect.ensembles import LATEST, ready_versions
from clonedetect.import_rollout import is_import, plan_import_rollout
from clonedetect.rollout_plan import Move, Switch, answering, check_version_folder, replaced_version
from clonedetect.rollout_repository import RolloutError

DRAIN_TIMEOUT_S = 120.0  # an old ensemble version's requests in flight finish well within this


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


def plan_rollout(
    repository: Path, model: str, version: int, replace: int | None, live: dict[str, list[int]]
) -> tuple[list[Move], list[Switch]]:
    """The models that change version (``model`` first) and the ensemble switches that make
    ``version`` live, given the ``live`` (ready) versions of every model on the server. An
    imported encoder moves with its tokenizer (:mod:`clonedetect.import_rollout`)."""
    check_version_folder(repository, model, version)
    if is_import(repository, model):
        return plan_import_rollout(repository, model, version, replace, live)
    replaced = replaced_version(model, version, live.get(model, []), replace)
    switches = []
    for ensemble, steps in _callers(repository, model, replaced, live[model]).items():
        after = max(paths.model_versions(ensemble, repository)) + 1
        switches.append(Switch(ensemble, answering(live, ensemble), after, {**steps, model: version}, steps))
    return [Move(model, version, replaced, live[model])], switches


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


def _load_beside(client, repository: Path, move: Move, why: str, progress) -> dict[Path, str]:
    """Load ``move.add`` beside the versions served; if it does not load, put the configs
    back. The configs as they were, for :func:`_put_back`."""
    saved = repo.snapshot(repository, move.model)
    repo.set_served_versions(repository, move.model, sorted({*move.served, move.add}), why)
    served = ", ".join(map(str, move.served))
    progress(f"loading {move.model} version {move.add} beside {served} (warm-up included)")
    try:
        client.load_model(move.model)
    except errors.ClonedetectError as error:
        _put_back(client, move.model, saved)
        raise RolloutError(
            f"{move.model} version {move.add} did not load, so nothing was switched and {move.model} "
            f"serves {served} as before: {error}"
        ) from None
    return saved


def _put_back(client, model: str, saved: dict[Path, str]) -> None:
    repo.restore(saved)
    client.load_model(model)


def _configs_say_what_is_live(client, repository: Path, moves: list[Move], switches: list[Switch], why: str) -> None:
    """Triton reloads an ensemble, and the models it calls, from the configs it last read
    whenever one of them loads. Before anything loads, those configs must say what answers
    now: an import has already rewritten them for its new version, so they are put back
    and read again (a reload of what is live; nothing changes for the shipped models)."""
    changed = False
    for move in moves:
        if repo.served_versions(repository, move.model) != sorted(move.served):
            repo.set_served_versions(repository, move.model, move.served, why)
            changed = True
    for step in switches:
        repo.record_steps(repository, step.ensemble, step.before, step.before_pins)
        now = (repo.steps(repository, step.ensemble), repo.served_versions(repository, step.ensemble))
        if now != (step.before_pins, [step.before]):
            repo.pin_ensemble(repository, step.ensemble, step.before, step.before_pins, why)
            changed = True
    if changed:
        for step in switches:
            client.load_model(step.ensemble)


def switch(
    client, repository: Path, moves: list[Move], switches: list[Switch], *, why: str, progress: Callable[[str], None]
) -> None:
    """Load each move's new version beside the served ones, move ``switches`` onto them,
    unload the versions they replace."""
    _configs_say_what_is_live(client, repository, moves, switches, why)
    ensembles = {path: text for step in switches for path, text in repo.snapshot(repository, step.ensemble).items()}
    loaded: list[tuple[str, dict[Path, str]]] = []
    try:
        for move in moves:
            loaded.append((move.model, _load_beside(client, repository, move, why, progress)))
    except RolloutError:
        repo.restore(ensembles)
        for model, saved in loaded:  # the moves that did load go back too
            _put_back(client, model, saved)
        raise
    for step in switches:
        repo.pin_ensemble(repository, step.ensemble, step.after, step.pins, why)
        progress(f"switching {step.ensemble} from version {step.before} to {step.after}: {step.pins}")
        client.load_model(step.ensemble)
    _wait_until_retired(client, {step.ensemble: step.before for step in switches})
    for move in moves:
        repo.set_served_versions(repository, move.model, sorted({*move.served, move.add} - {move.remove}), why)
        progress(f"unloading {move.model} version {move.remove}")
        client.load_model(move.model)


def rollout(client, repository: Path, model: str, version: int, replace: int | None = None, progress=print) -> dict:
    """Make ``model`` ``version`` live in place of ``replace`` (or of its one other live version)."""
    check_version_folder(repository, model, version)
    live = ready_versions(client.model_status())
    moves, switches = plan_rollout(repository, model, version, replace, live)
    why = f"clonedetect rollout: version {version} replaced {moves[0].remove}"
    switch(client, repository, moves, switches, why=why, progress=progress)
    entry = {
        "version": version,
        "replaced": moves[0].remove,
        "ensembles": {s.ensemble: [s.before, s.after] for s in switches},
        "moved": {m.model: [m.add, m.remove] for m in moves},
    }
    repo.save_history(repository, model, [*repo.history(repository, model), entry])
    return {"model": model, **entry, "served": repo.served_versions(repository, model)}


def last_rollout(repository: Path, model: str) -> dict:
    entries = repo.history(repository, model)
    if not entries:
        raise RolloutError(f"{model} has no rollout to roll back in {repository}")
    return entries[-1]


def plan_rollback(repository: Path, model: str, live: dict[str, list[int]]) -> tuple[dict, list[Move], list[Switch]]:
    last = last_rollout(repository, model)
    switches = []
    for ensemble, (before, after) in last["ensembles"].items():
        serving = live.get(ensemble, [])
        if serving != [after]:
            raise RolloutError(
                f"{ensemble} serves version {serving} since the rollout of {model} version {last['version']} "
                f"(which made it {after}): roll back what changed it first"
            )
        back = repo.recorded_steps(repository, ensemble, before)
        switches.append(Switch(ensemble, after, before, back, repo.recorded_steps(repository, ensemble, after)))
    moved = last.get("moved", {model: [last["version"], last["replaced"]]})
    moves = [Move(name, replaced, added, live.get(name, [])) for name, (added, replaced) in moved.items()]
    return last, moves, switches


def rollback(client, repository: Path, model: str, progress=print) -> dict:
    """Undo the last rollout of ``model``: its previous version and ensemble versions answer again."""
    last_rollout(repository, model)
    live = ready_versions(client.model_status())
    last, moves, switches = plan_rollback(repository, model, live)
    why = f"clonedetect rollback: version {last['replaced']} replaced {last['version']} again"
    switch(client, repository, moves, switches, why=why, progress=progress)
    repo.save_history(repository, model, repo.history(repository, model)[:-1])
    ensembles = {s.ensemble: [s.before, s.after] for s in switches}
    return {"model": model, "version": last["replaced"], "rolled_back": last["version"], "ensembles": ensembles}
