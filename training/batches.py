"""Training batches: ``N`` anchors and their disguised copies, ``2N`` crops of <= ``crop`` tokens.

Anchors per batch: ``problems x per_problem`` POJ-104 train programs (several per problem,
so the supervised term has positives and the copy term has same-task hard negatives),
plus ``java`` BigCloneBench and ``python`` stdlib items. The copy of an anchor is a
pre-generated obfuscator variant when one exists (with probability ``variant_p``), else
the regex augmentation of :mod:`clonedetect.training.augment`. Long programs get a
random crop, taken at the same relative position in both views. Variant keys are
``"poj:<index>"`` / ``"extra:<index>"`` (see :mod:`clonedetect.training.variants`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch

from clonedetect.preprocessing.tokenization import CodeTokenizer, pad_batch
from clonedetect.training.augment import augment
from clonedetect.training.corpus import Corpus


@dataclass
class Batch:
    input_ids: torch.Tensor  # [2N, <= crop]: rows 0..N-1 anchors, N..2N-1 their copies
    attention_mask: torch.Tensor
    labels: torch.Tensor  # [2N]


class BatchSampler:
    def __init__(
        self,
        poj: Corpus,
        extra: Corpus,
        tokenizer: CodeTokenizer,
        *,
        problems: int,
        per_problem: int,
        java: int,
        python: int,
        crop: int,
        seed: int,
        variants: dict[str, list[str]] | None = None,
        variant_p: float = 0.5,
    ):
        self.poj, self.extra, self.tokenizer = poj, extra, tokenizer
        self.problems, self.per_problem, self.crop = problems, per_problem, crop
        self.counts = {"java": java, "python": python}
        self.variants = variants or {}
        self.variant_p = variant_p
        self.rng = random.Random(seed)
        labels = np.asarray(poj.labels)
        self.by_problem = {int(label): np.flatnonzero(labels == label).tolist() for label in np.unique(labels)}
        self.by_language = {
            language: [i for i, lang in enumerate(extra.languages) if lang == language] for language in self.counts
        }

    def _crop_pair(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        crop = self.crop
        position = self.rng.random() if len(a) > crop and self.rng.random() < 0.5 else 0.0
        start_a = int(position * max(0, len(a) - crop))
        start_b = int(position * max(0, len(b) - crop))
        return a[start_a : start_a + crop], b[start_b : start_b + crop]

    def sample(self) -> Batch:
        rng = self.rng
        anchors: list[tuple[Corpus, int, int]] = []  # corpus, index, label
        for problem in rng.sample(sorted(self.by_problem), self.problems):
            for index in rng.sample(self.by_problem[problem], self.per_problem):
                anchors.append((self.poj, index, problem))
        next_label = -1
        for language, count in self.counts.items():
            pool = self.by_language[language]
            for index in rng.sample(pool, min(count, len(pool))):
                anchors.append((self.extra, index, next_label))
                next_label -= 1
        copies = []
        for corpus, index, _ in anchors:
            options = self.variants.get(f"{'poj' if corpus is self.poj else 'extra'}:{index}", [])
            if options and rng.random() < self.variant_p:
                copies.append(rng.choice(options))
            else:
                copies.append(augment(corpus.texts[index], corpus.languages[index], rng))
        copy_ids = self.tokenizer.token_ids(copies)
        views_a, views_b = [], []
        for (corpus, index, _), b in zip(anchors, copy_ids, strict=True):
            a, b = self._crop_pair(np.asarray(corpus.ids[index], dtype=np.int64), b)
            views_a.append(a)
            views_b.append(b)
        ids, mask = pad_batch(views_a + views_b)
        labels = torch.tensor([label for _, _, label in anchors] * 2)
        return Batch(torch.from_numpy(ids), torch.from_numpy(mask), labels)
