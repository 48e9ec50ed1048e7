"""Where an import goes in a model repository, and moving it there only once it is complete.

A name is new, or an earlier import of the same name and kind (it has ``imports.json``):
then the import becomes the next version of its three models (an encoder's tokenizer,
encoder and ``NAME_embed``; a cross-encoder's pair tokenizer, pair model and
``NAME_compare``). Everything is built in a staging folder first; a failed import leaves
the repository as it was.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from clonedetect import paths
from clonedetect.importing.errors import ImportModelError
from clonedetect.importing.model_card import CROSS_ENCODER_KIND, ENCODER_KIND, IMPORTS_FILE, read_records
from clonedetect.importing.model_configs import ModelNames

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class InstallPlan:
    repository: Path
    names: ModelNames
    version: int
    kind: str = ENCODER_KIND

    @property
    def ensemble(self) -> str:
        """The ensemble the import serves: ``NAME_compare`` or ``NAME_embed``."""
        return self.names.compare if self.kind == CROSS_ENCODER_KIND else self.names.embed

    @property
    def shipped_steps(self) -> tuple[str, ...]:
        """The shipped models that ensemble calls besides the import's own."""
        if self.kind == CROSS_ENCODER_KIND:
            return (paths.PAIR_CHECK_MODEL, paths.VERIFIER_MODEL)
        return (paths.ADMISSION_MODEL,)

    def model_folders(self) -> list[str]:
        return [self.names.encoder, self.names.tokenizer, self.ensemble]


def plan_install(repository: Path, name: str, kind: str = ENCODER_KIND) -> InstallPlan:
    """The names and the version an import of ``name`` (an ``encoder`` or a
    ``cross-encoder``) into ``repository`` gets."""
    if not repository.is_dir():
        raise ImportModelError(f"model repository {repository} does not exist or is not a folder")
    if not NAME_PATTERN.fullmatch(name):
        raise ImportModelError(f"--name {name!r}: use letters, digits, '_' and '-' (a Triton model name)")
    plan = InstallPlan(repository, ModelNames(name), max(paths.model_versions(name, repository), default=0) + 1, kind)
    earlier = read_records(repository / name) if (repository / name / IMPORTS_FILE).is_file() else []
    if earlier and earlier[-1].get("kind", ENCODER_KIND) != kind:
        raise ImportModelError(
            f"{name!r} was imported as a {earlier[-1].get('kind', ENCODER_KIND)} and this import is a {kind}: "
            "choose another --name"
        )
    for folder in plan.model_folders():
        if (repository / folder).exists() and not earlier:
            raise ImportModelError(
                f"model {folder!r} already exists in {repository} and is not an import: choose another --name"
            )
    missing = [m for m in plan.shipped_steps if not (repository / m).is_dir()]
    if missing:
        raise ImportModelError(
            f"{repository} has no {' or '.join(missing)} model, which {plan.ensemble} calls: "
            "import into a repository holding the shipped models"
        )
    return plan


def install(plan: InstallPlan, staged: Path) -> None:
    """Move the staged models into the repository: version folders first, then the configs
    and cards, so a config never names a version that is not there yet."""
    for model in plan.model_folders():
        target = plan.repository / model
        target.mkdir(exist_ok=True)
        shutil.move(str(staged / model / str(plan.version)), str(target / str(plan.version)))
    for model in plan.model_folders():
        for path in sorted((staged / model).rglob("*")):
            if path.is_file():
                destination = plan.repository / model / path.relative_to(staged / model)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, destination)
