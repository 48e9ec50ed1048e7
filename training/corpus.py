"""Training / held-out corpora and their cached tokenisation.

Sources (``clonedetect.data``):

* POJ-104 **train** (problems 1-64, C/C++): the supervised part; label = problem.
* POJ-104 **valid** (problems 65-80): never trained on. A fixed subset is the early-
  stopping set; the rest is where the calibration pairs come from.
* BigCloneBench Java functions: the stable split of :func:`clonedetect.data.held_out`
  by function id; at most ``java_limit`` of the training side are used for training.
* Python standard library: the same split by file path; each file is cut into
  top-level ``def``/``class`` blocks (one item each).

Java and Python items only take part in the copy (augmentation) term: each is its own
label. Token ids are cached in ``cache_dir()/training`` keyed by the tokenizer's hash.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clonedetect import data
from clonedetect.preprocessing.tokenization import PREPROCESSING_VERSION, CodeTokenizer

MIN_TOKENS = 24
_PY_BLOCK = re.compile(r"^(?=(?:async\s+def|def|class)\s)", re.M)


@dataclass
class Corpus:
    """Parallel lists: text, language, label (int; -1 = own label) and token ids."""

    texts: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    ids: list[np.ndarray] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, text: str, language: str, label: int) -> None:
        self.texts.append(text)
        self.languages.append(language)
        self.labels.append(label)

    def subset(self, indices) -> Corpus:
        return Corpus(
            [self.texts[i] for i in indices],
            [self.languages[i] for i in indices],
            [self.labels[i] for i in indices],
            [self.ids[i] for i in indices] if self.ids else [],
        )


def concat(*parts: Corpus) -> Corpus:
    return Corpus(
        [t for c in parts for t in c.texts],
        [lang for c in parts for lang in c.languages],
        [label for c in parts for label in c.labels],
        [ids for c in parts for ids in c.ids],
    )


def python_blocks(source: str, max_chars: int = 6000) -> list[str]:
    """Top-level ``def``/``class`` blocks of a Python file (the module header is dropped)."""
    parts = _PY_BLOCK.split(source)[1:]
    return [p[:max_chars] for p in parts if p.count("\n") >= 3]


def poj104(split: str) -> Corpus:
    corpus = Corpus()
    for program in data.poj104_programs(split):
        corpus.add(program.read(), "cpp", int(program.label))
    return corpus


def java(held_out: bool, limit: int | None = None) -> Corpus:
    corpus = Corpus()
    for function_id, path in data.bigclonebench_functions().items():
        if data.held_out(function_id) == held_out:
            corpus.add(path.read_text(encoding="utf-8", errors="replace"), "java", -1)
            if limit and len(corpus) >= limit:
                break
    return corpus


def python(held_out: bool, limit: int | None = None) -> Corpus:
    corpus = Corpus()
    for path in data.python_stdlib_files():
        if data.held_out(data.stdlib_key(path)) != held_out:
            continue
        for block in python_blocks(path.read_text(encoding="utf-8", errors="replace")):
            corpus.add(block, "python", -1)
            if limit and len(corpus) >= limit:
                return corpus
    return corpus


def tokenize(corpus: Corpus, tokenizer_path: Path, name: str, cache: Path | None = None) -> Corpus:
    """Fill ``corpus.ids``, from the cache when the same tokenizer tokenised the same texts."""
    digest = hashlib.sha1(Path(tokenizer_path).read_bytes() + PREPROCESSING_VERSION.encode())
    for text in corpus.texts:
        digest.update(hashlib.sha1(text.encode("utf-8", "replace")).digest())
    cache = cache or data.cache_dir() / "training"
    path = cache / f"ids-{name}-{digest.hexdigest()[:16]}.npz"
    if path.exists():
        stored = np.load(path)
        corpus.ids = np.split(stored["flat"], stored["offsets"][1:-1])
        return corpus
    corpus.ids = CodeTokenizer.from_file(tokenizer_path).token_ids(corpus.texts)
    offsets = np.cumsum([0] + [len(i) for i in corpus.ids])
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, flat=np.concatenate(corpus.ids).astype(np.int32), offsets=offsets)
    tmp.replace(path)
    corpus.ids = np.split(np.load(path)["flat"], offsets[1:-1])
    return corpus


def drop_short(corpus: Corpus, minimum: int = MIN_TOKENS) -> Corpus:
    return corpus.subset([i for i, ids in enumerate(corpus.ids) if len(ids) >= minimum])


def calibration_corpus(valid_rest: Corpus, tokenizer_path: Path) -> Corpus:
    """The held-out items calibration pairs come from: POJ-104 valid programs outside the
    early-stopping subset, the held-out BigCloneBench functions and Python stdlib blocks."""
    held_java = tokenize(java(True), tokenizer_path, "java-heldout")
    held_python = tokenize(python(True), tokenizer_path, "python-heldout")
    return drop_short(concat(valid_rest, held_java, held_python))


def valid_split(valid: Corpus, per_problem: int, seed: int = 0) -> tuple[list[int], list[int]]:
    """Fixed early-stopping subset (``per_problem`` programs of each valid problem) and the
    rest (indices into ``valid``); independent of the training seed."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(valid.labels)
    chosen: list[int] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        chosen.extend(rng.choice(members, size=min(per_problem, len(members)), replace=False).tolist())
    chosen_set = set(chosen)
    return sorted(chosen), [i for i in range(len(valid)) if i not in chosen_set]
