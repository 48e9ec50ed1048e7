"""Where the project's artifacts live: the model repository and the files of each model.

Every path to a shipped artifact is built here, so moving one is a change in one place.
Each function takes the repository root, so the same layout serves the project's own
``model_repository/``, a copy of it (tests, benchmarks) or a freshly trained one.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL_REPOSITORY = PROJECT_ROOT / "model_repository"

# A model's folder name in the repository is its name in Triton's API.
TOKENIZER_MODEL = "code_tokenizer"
ENCODER_MODEL = "code_clone_detector"
SCORER_MODEL = "clone_scorer"
VERIFIER_MODEL = "clone_verifier"
PAIR_CHECK_MODEL = "clone_pair_check"  # the first step of every pair ensemble
ADMISSION_MODEL = "clone_admission"  # the first step of every embedding ensemble
EMBED_MODEL = "clone_embed"
COMPARE_MODEL = "clone_compare"

# The files inside a model's version folder (read by the Python-backend adapters).
TOKENIZER_FILE = "tokenizer.json"
ENCODER_FILE = "model.onnx"
CALIBRATION_FILE = "calibration.json"
LITERAL_RARITY_FILE = "literal_rarity.json"  # the verifier's background literal counts
MODEL_CONFIG_FILE = "config.pbtxt"
# The INT8 encoder's name beside the FP32 one, in a training run's or an evaluation's folder.
INT8_ENCODER_FILE = "model.int8.onnx"

# The encoder's versions: FP32 as trained, and its INT8 dynamic quantisation.
FP32_VERSION = 1
INT8_VERSION = 2


def version_folder(triton_args: dict) -> Path:
    """The folder of the model version a Python-backend model's ``initialize(args)`` loads."""
    return Path(triton_args["model_repository"]) / triton_args["model_version"]


def model_config(model: str, repository: Path = MODEL_REPOSITORY, name: str | None = None) -> Path:
    """A model's ``config.pbtxt``, or its alternative ``configs/<name>.pbtxt``
    (what ``--model-config-name=<name>`` selects)."""
    folder = Path(repository) / model
    return folder / "configs" / f"{name}.pbtxt" if name else folder / MODEL_CONFIG_FILE


def tokenizer_file(repository: Path = MODEL_REPOSITORY) -> Path:
    return Path(repository) / TOKENIZER_MODEL / "1" / TOKENIZER_FILE


def encoder_file(repository: Path = MODEL_REPOSITORY, version: int = FP32_VERSION) -> Path:
    return Path(repository) / ENCODER_MODEL / str(version) / ENCODER_FILE


def calibration_file(repository: Path = MODEL_REPOSITORY) -> Path:
    return Path(repository) / SCORER_MODEL / "1" / CALIBRATION_FILE


def literal_rarity_file(repository: Path = MODEL_REPOSITORY) -> Path:
    return Path(repository) / VERIFIER_MODEL / "1" / LITERAL_RARITY_FILE


def model_versions(model: str, repository: Path = MODEL_REPOSITORY) -> list[int]:
    """The numbered version folders of ``model`` in ``repository``, ascending (none: [])."""
    folder = Path(repository) / model
    if not folder.is_dir():
        return []
    return sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())
