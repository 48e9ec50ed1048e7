"""Load a HuggingFace sequence-classification model (a cross-encoder) from a local
directory, refusing what cannot be served as a pair score."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clonedetect.importing.errors import ImportModelError
from clonedetect.importing.huggingface_source import encoder_config, is_pair_classifier, load_weights, window_of
from clonedetect.importing.tokenizer_source import SourceTokenizer, check_vocabulary

# How the head's logits become the probability that the pair are clones.
SCORE_RULES = {1: "sigmoid of the logit", 2: "softmax, class 1"}


@dataclass
class CrossEncoderSource:
    model: object  # a transformers ...ForSequenceClassification in eval mode
    model_type: str
    architecture: str
    num_labels: int
    window: int
    hidden_size: int
    num_heads: int


def load_cross_encoder(directory: Path, tokenizer: SourceTokenizer) -> CrossEncoderSource:
    """The classification model in ``directory``, checked against ``tokenizer``."""
    from transformers import AutoModelForSequenceClassification

    config = encoder_config(directory)
    if not is_pair_classifier(config):
        found = ", ".join(config.architectures or ["no architectures entry"])
        raise ImportModelError(
            f"{directory} has no sequence-classification head ({found}): --cross-encoder needs a "
            "...ForSequenceClassification model that scores a pair; import an encoder without --cross-encoder"
        )
    if config.num_labels not in SCORE_RULES:
        raise ImportModelError(
            f"{directory} has {config.num_labels} labels; a cross-encoder needs 1 (a clone logit) "
            "or 2 (not clone, clone), so that one probability comes out"
        )
    model = load_weights(AutoModelForSequenceClassification, directory)
    check_vocabulary(tokenizer, model.get_input_embeddings().num_embeddings)
    return CrossEncoderSource(
        model=model.eval(),
        model_type=config.model_type,
        architecture=config.architectures[0],
        num_labels=config.num_labels,
        window=window_of(config, tokenizer),
        hidden_size=config.hidden_size,
        num_heads=config.num_attention_heads,
    )
