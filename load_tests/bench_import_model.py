"""The import benchmark's source model, built here (nothing downloaded): a HuggingFace
BERT with random weights (a fixed seed) and a WordPiece tokenizer trained on real
POJ-104 programs, saved as a model directory ``clonedetect import-model`` reads.

Random weights measure speed and memory only; the shapes are what cost time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from clonedetect import data

BERT_SPECIAL_TOKENS = {
    "pad_token": "[PAD]",
    "unk_token": "[UNK]",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "mask_token": "[MASK]",
}


@dataclass(frozen=True)
class ModelShape:
    """A BERT encoder's size: ``window`` positions, ``vocab`` the tokenizer's target size
    (the trained vocabulary can end smaller; the model gets exactly its size)."""

    layers: int
    hidden: int
    heads: int
    ffn: int
    window: int
    vocab: int

    def describe(self) -> dict:
        return asdict(self)


BERT_BASE = ModelShape(layers=12, hidden=768, heads=12, ffn=3072, window=512, vocab=30522)
TINY = ModelShape(layers=2, hidden=64, heads=4, ffn=128, window=64, vocab=500)


def training_programs(count: int) -> list[str]:
    """``count`` POJ-104 train programs spread evenly over its problems (deterministic)."""
    if count < 1:
        raise ValueError(f"tokenizer training needs at least 1 program, not {count}")
    programs = data.poj104_programs("train")
    step = max(1, len(programs) // count)
    return [program.read() for program in programs[::step][:count]]


def train_tokenizer(programs: list[str], shape: ModelShape):
    """A BERT WordPiece tokenizer (cased: identifiers keep their case) trained on ``programs``."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertTokenizerFast

    tokenizer = Tokenizer(models.WordPiece(unk_token=BERT_SPECIAL_TOKENS["unk_token"]))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=False)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=shape.vocab, special_tokens=list(BERT_SPECIAL_TOKENS.values()))
    tokenizer.train_from_iterator(programs, trainer)
    return BertTokenizerFast(tokenizer_object=tokenizer, model_max_length=shape.window, **BERT_SPECIAL_TOKENS)


def build_source(folder: Path, shape: ModelShape, tokenizer_programs: int, seed: int = 0) -> Path:
    """Save a random BERT of ``shape`` and its tokenizer in ``folder``; returns ``folder``."""
    import torch
    from transformers import BertConfig, BertModel

    tokenizer = train_tokenizer(training_programs(tokenizer_programs), shape)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        intermediate_size=shape.ffn,
        max_position_embeddings=shape.window,
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
