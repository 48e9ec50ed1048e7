"""Write an import's three models, complete, into a staging folder laid out like the repository."""

from __future__ import annotations

import shutil
from pathlib import Path

from tokenizers import Tokenizer

from clonedetect import paths
from clonedetect.importing import model_configs
from clonedetect.importing.model_card import MODEL_CARD_FILE, model_card, read_records, write_records
from clonedetect.importing.repository import InstallPlan

# The Triton adapters an import installs as each version's model.py (thin: logic in clonedetect).
ADAPTERS = Path(__file__).resolve().parent / "adapters"


def stage_models(plan: InstallPlan, staged: Path, encoder: Path, tokenizer: Tokenizer, record: dict) -> None:
    """``encoder`` (the final model.onnx) and ``tokenizer`` (windowing set) as version
    ``plan.version`` of the encoder, tokenizer and ensemble, with configs and model card."""
    names, version = plan.names, str(plan.version)
    window, dim = record["window"], record["dim"]
    encoder_folder, tokenizer_folder, embed_folder = (staged / model for model in plan.model_folders())
    for folder in (encoder_folder / version, tokenizer_folder / version, embed_folder / version):
        folder.mkdir(parents=True)
    shutil.copyfile(encoder, encoder_folder / version / paths.ENCODER_FILE)
    shutil.copyfile(ADAPTERS / "encoder_model.py", encoder_folder / version / "model.py")
    tokenizer.save(str(tokenizer_folder / version / paths.TOKENIZER_FILE))
    shutil.copyfile(ADAPTERS / "tokenizer_model.py", tokenizer_folder / version / "model.py")
    configs = {
        encoder_folder / paths.MODEL_CONFIG_FILE: model_configs.encoder_config(names, window, dim),
        encoder_folder / "configs" / "bundled.pbtxt": model_configs.bundled_encoder_config(names, window, dim),
        encoder_folder / "configs" / "gpu.pbtxt": model_configs.gpu_encoder_config(names, window, dim),
        tokenizer_folder / paths.MODEL_CONFIG_FILE: model_configs.tokenizer_config(names, window),
        embed_folder / paths.MODEL_CONFIG_FILE: model_configs.embed_config(names, plan.version, dim),
    }
    for path, text in configs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    records = read_records(plan.repository / names.encoder) + [record]
    write_records(encoder_folder, records)
    (encoder_folder / MODEL_CARD_FILE).write_text(model_card(names, records))
