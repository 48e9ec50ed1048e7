"""Load the HuggingFace tokenizer of an imported model and check it against the model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

from clonedetect.importing.errors import ImportModelError

# transformers' stand-in for "no limit" is about 1e30; anything this large is no real limit.
UNSET_MAX_LENGTH = 1_000_000
# Models often pad their embedding table to a round size beyond the tokenizer's last id;
# a larger gap means the tokenizer belongs to another model.
EMBEDDING_PADDING_ROWS = 128


@dataclass(frozen=True)
class SourceTokenizer:
    tokenizer: Tokenizer
    size: int  # ids 0 .. size - 1, added tokens included
    max_length: int | None  # the tokenizer's model_max_length, when it states one
    pad_id: int  # what the model saw in padded positions


def load_tokenizer(directory: Path) -> SourceTokenizer:
    """The fast (``tokenizers``) form of the tokenizer saved in ``directory``, read from
    local files only."""
    from transformers import AutoTokenizer

    try:
        loaded = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise ImportModelError(f"cannot load a HuggingFace tokenizer from {directory}: {error}") from None
    if not getattr(loaded, "is_fast", False):
        raise ImportModelError(
            f"the tokenizer in {directory} has no fast (tokenizers) form; save it with tokenizer.json"
        )
    max_length = loaded.model_max_length if loaded.model_max_length < UNSET_MAX_LENGTH else None
    tokenizer = Tokenizer.from_str(loaded.backend_tokenizer.to_str())
    return SourceTokenizer(tokenizer, len(loaded), max_length, loaded.pad_token_id or 0)


def check_vocabulary(tokenizer: SourceTokenizer, embedding_rows: int) -> None:
    """Refuse a tokenizer whose ids the model's embedding table does not cover, or covers
    with far more rows than padding explains."""
    if tokenizer.size > embedding_rows or embedding_rows - tokenizer.size >= EMBEDDING_PADDING_ROWS:
        raise ImportModelError(
            f"the tokenizer has {tokenizer.size} tokens but the model embeds {embedding_rows}: "
            "it is not this model's tokenizer (pass the right one with --tokenizer)"
        )
