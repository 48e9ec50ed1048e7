"""Train the project's code tokenizer (byte-level-free BPE) on C, C++, Java and Python."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers

from clonedetect import data
from clonedetect.preprocessing.identifiers import CONTINUATION_PREFIX
from clonedetect.preprocessing.tokenization import PAD_TOKEN, UNK_TOKEN


def training_corpus(seed: int = 0, per_source: int = 6000) -> Iterator[str]:
    """Code from every language the model serves: POJ-104 train (C/C++), the
    BigCloneBench subset (Java) and this interpreter's standard library (Python)."""
    rng = random.Random(seed)
    poj = data.poj104_programs("train")
    java = list(data.bigclonebench_functions().values())
    python = data.python_stdlib_files()
    for sources in (poj, java):
        for item in rng.sample(sources, min(per_source, len(sources))):
            yield (item.read() if isinstance(item, data.Program) else item.read_text(errors="replace"))
    for path in python:
        yield path.read_text(encoding="utf-8", errors="replace")


# Names the recipe below in cached tokenizer files; bump it whenever the recipe changes.
TOKENIZER_RECIPE = "whole-names"


def build_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(models.BPE(unk_token=UNK_TOKEN, continuing_subword_prefix=CONTINUATION_PREFIX))
    # Layout is not content: whitespace only separates tokens, so reformatting a file
    # does not change its tokens. A name (letters, digits, underscores) or a number stays
    # one word, every other character is a word of its own, and BPE learns the pieces
    # of words, marking each piece after the first: the skeleton needs to see where a
    # name starts and ends (preprocessing/identifiers.py).
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Split(Regex(r"[^\W\d]\w*|\d\w*|[^\w\s]"), behavior="isolated"),
        ]
    )
    return tokenizer


def train_tokenizer(output: Path, vocab_size: int = 8192, seed: int = 0) -> Tokenizer:
    tokenizer = build_tokenizer()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=3,
        special_tokens=[PAD_TOKEN, UNK_TOKEN],
        continuing_subword_prefix=CONTINUATION_PREFIX,
        show_progress=False,
    )
    tokenizer.train_from_iterator(training_corpus(seed), trainer=trainer)
    output.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(output))
    return tokenizer
