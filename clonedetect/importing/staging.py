"""Write an import's three models, complete, into a staging folder laid out like the repository."""

from __future__ import annotations

import shutil
from pathlib import Path

from tokenizers import Tokenizer

from clonedetect import paths, rollout_repository
from clonedetect.importing import model_configs, pair_model_configs
from clonedetect.importing.model_card import MODEL_CARD_FILE, model_card, read_records, write_records
from clonedetect.importing.repository import InstallPlan

# The Triton adapters an import installs as each version's model.py (thin: logic in clonedetect).
ADAPTERS = Path(__file__).resolve().parent / "adapters"


def stage_models(plan: InstallPlan, staged: Path, encoder: Path, tokenizer: Tokenizer, record: dict) -> None:
    """``encoder`` (the final model.onnx) and ``tokenizer`` (windowing set) as version
    ``plan.version`` of the encoder, tokenizer and ensemble, with configs and model card."""
    names, window, dim = plan.names, record["window"], record["dim"]
    configs = {
        names.encoder: {
            paths.MODEL_CONFIG_FILE: model_configs.encoder_config(names, window, dim),
            "configs/bundled.pbtxt": model_configs.bundled_encoder_config(names, window, dim),
            "configs/gpu.pbtxt": model_configs.gpu_encoder_config(names, window, dim),
        },
        names.tokenizer: {paths.MODEL_CONFIG_FILE: model_configs.tokenizer_config(names, window)},
        names.embed: {paths.MODEL_CONFIG_FILE: model_configs.embed_config(names, plan.version, dim)},
    }
    _stage(plan, staged, (encoder, "encoder_model.py"), (tokenizer, "tokenizer_model.py"), configs, record)
    _stage_warmup(staged, names, window)


def stage_pair_models(plan: InstallPlan, staged: Path, graph: Path, tokenizer: Tokenizer, record: dict) -> None:
    """A cross-encoder's ``graph`` and pair ``tokenizer`` (window set) as version
    ``plan.version`` of the pair model, pair tokenizer and ``NAME_compare``."""
    names = plan.names
    configs = {
        names.encoder: {
            paths.MODEL_CONFIG_FILE: pair_model_configs.pair_model_config(names, record["window"]),
            "configs/bundled.pbtxt": pair_model_configs.bundled_pair_model_config(names, record["window"]),
            "configs/gpu.pbtxt": pair_model_configs.gpu_pair_model_config(names, record["window"]),
        },
        names.tokenizer: {paths.MODEL_CONFIG_FILE: pair_model_configs.pair_tokenizer_config(names, record["window"])},
        names.compare: {paths.MODEL_CONFIG_FILE: pair_model_configs.compare_config(names, plan.version)},
    }
    _stage(plan, staged, (graph, "pair_model.py"), (tokenizer, "pair_tokenizer_model.py"), configs, record)
    _stage_warmup(staged, names, record["window"])


def _stage_warmup(staged: Path, names, window: int) -> None:
    """The model_warmup data of the model (``encoder``'s files) and its tokenizer."""
    warmup = model_configs.warmup_files(window)
    for name, files in ((names.encoder, warmup["encoder"]), (names.tokenizer, warmup["tokenizer"])):
        for relative, data in files.items():
            (staged / name / relative).parent.mkdir(parents=True, exist_ok=True)
            (staged / name / relative).write_bytes(data)


def _stage(plan: InstallPlan, staged: Path, model: tuple, tokenizer: tuple, configs: dict, record: dict) -> None:
    """The model's graph and the tokenizer, each with its adapter as ``model.py``, the
    ensemble's version folder with its ``steps.json``, every config, and the records and card."""
    (graph, model_adapter), (tokenizer_json, tokenizer_adapter) = model, tokenizer
    version = str(plan.version)
    model_folder, tokenizer_folder, ensemble_folder = (staged / name for name in plan.model_folders())
    for folder in (model_folder / version, tokenizer_folder / version, ensemble_folder / version):
        folder.mkdir(parents=True)
    shutil.copyfile(graph, model_folder / version / paths.ENCODER_FILE)
    shutil.copyfile(ADAPTERS / model_adapter, model_folder / version / "model.py")
    tokenizer_json.save(str(tokenizer_folder / version / paths.TOKENIZER_FILE))
    shutil.copyfile(ADAPTERS / tokenizer_adapter, tokenizer_folder / version / "model.py")
    for name, files in configs.items():
        for relative, text in files.items():
            path = staged / name / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    # What this ensemble version calls; it also keeps the folder in object storage, which
    # has no empty folders (Triton needs the version folder to serve the version).
    ensemble = ensemble_folder.name
    rollout_repository.record_steps(staged, ensemble, plan.version, rollout_repository.steps(staged, ensemble))
    records = read_records(plan.repository / plan.names.encoder) + [record]
    write_records(model_folder, records)
    (model_folder / MODEL_CARD_FILE).write_text(model_card(plan.names, records))
