"""Load a fine-tuned HuggingFace encoder from a local directory, refusing what cannot be served."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clonedetect.importing.errors import ImportModelError
from clonedetect.importing.tokenizer_source import SourceTokenizer, check_vocabulary

WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
# Encoder families the export and onnxruntime's "bert" fusions handle, and whether their
# position ids start after the padding id (RoBERTa's scheme), which costs positions.
ENCODER_FAMILIES = {"bert": False, "roberta": True, "xlm-roberta": True, "camembert": True}


@dataclass
class HuggingFaceSource:
    model: object  # a transformers PreTrainedModel in eval mode
    model_type: str
    window: int
    hidden_size: int
    num_heads: int


def load_source(directory: Path, tokenizer: SourceTokenizer) -> HuggingFaceSource:
    """The model in ``directory`` (local files only, eager attention: the form the ONNX
    exporter traces and onnxruntime fuses), checked against ``tokenizer``."""
    from transformers import AutoModel

    config = encoder_config(directory)
    if is_pair_classifier(config):
        raise ImportModelError(
            f"{directory} is a sequence-classification model ({', '.join(config.architectures)}), "
            "a cross-encoder that scores a pair of programs: import it with --cross-encoder"
        )
    model = load_weights(AutoModel, directory)
    check_vocabulary(tokenizer, model.get_input_embeddings().num_embeddings)
    return HuggingFaceSource(
        model=model.eval(),
        model_type=config.model_type,
        window=window_of(config, tokenizer),
        hidden_size=config.hidden_size,
        num_heads=config.num_attention_heads,
    )


def load_weights(auto_class, directory: Path):
    """The model in ``directory`` through ``auto_class`` (an ``AutoModel...``), local
    files only, eager attention: the form the ONNX exporter traces and onnxruntime fuses."""
    if not any((directory / name).is_file() for name in WEIGHT_FILES):
        raise ImportModelError(f"{directory} has no weights ({' or '.join(WEIGHT_FILES[::2])})")
    try:
        return auto_class.from_pretrained(str(directory), local_files_only=True, attn_implementation="eager")
    except (OSError, ValueError) as error:
        raise ImportModelError(f"cannot load the model in {directory}: {error}") from None


def is_pair_classifier(config) -> bool:
    """Whether the saved model has a sequence-classification head (what a cross-encoder is)."""
    return any(name.endswith("ForSequenceClassification") for name in config.architectures or ())


def encoder_config(directory: Path):
    """The model's config, refused unless it is of an encoder family the export supports."""
    from transformers import AutoConfig

    if not (directory / "config.json").is_file():
        raise ImportModelError(f"{directory} is not a HuggingFace model directory: it has no config.json")
    try:
        config = AutoConfig.from_pretrained(str(directory), local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise ImportModelError(f"unknown architecture in {directory}/config.json: {error}") from None
    if config.model_type not in ENCODER_FAMILIES:
        raise ImportModelError(
            f"architecture {config.model_type!r} is not an encoder family import-model supports "
            f"({', '.join(sorted(ENCODER_FAMILIES))})"
        )
    return config


def window_of(config, tokenizer: SourceTokenizer) -> int:
    """Positions one window may use: the position table, less RoBERTa's offset, within
    the tokenizer's stated limit."""
    window = config.max_position_embeddings
    if ENCODER_FAMILIES[config.model_type]:
        window -= config.pad_token_id + 1
    return min(window, tokenizer.max_length or window)
