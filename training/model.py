"""The code encoder: a small transformer whose ONNX graph takes a whole program.

Inputs ``input_ids`` / ``attention_mask`` are ``[batch, tokens]`` of any length. Inside
the graph the tokens are cut into fixed windows (``window`` tokens each, the position
table's size), every window is encoded, and the token vectors of all windows of a
program are pooled into one L2-normalised embedding. A long file is therefore embedded
whole, never truncated.

With ``skeleton_dim > 0`` the embedding has a second part, the **structural fingerprint**
("skeleton"): every identifier word becomes one placeholder (so renaming changes nothing;
``preprocessing/identifiers.py`` says what a word and an identifier are), hashed 3- to
6-grams of that sequence that stay inside one statement (none spans a ``;``, ``{`` or
``}``, so reordered or moved statements keep their n-grams) are collected as a set per
program, and the set is sketched into ``skeleton_dim`` numbers (count sketch: each n-gram
adds its signed IDF weight to one slot). The cosine of two sketches approximates the
IDF-weighted overlap of the two programs' n-gram sets, the quantity winnowing tools (MOSS, JPlag)
measure. The embedding is ``[sqrt(1 - share) * semantic, sqrt(share) * skeleton]``, each
part unit-length, so its cosine is ``(1 - share) * cos_semantic + share * cos_skeleton``.
``share`` and the IDF table are fitted after training (``training/skeleton.py``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from clonedetect.preprocessing.identifiers import CONTINUATION, NAME, RESERVED, SEPARATOR


@dataclass(frozen=True)
class EncoderConfig:
    vocab_size: int
    dim: int = 128
    layers: int = 2
    heads: int = 4
    ffn_dim: int = 512
    window: int = 256
    embedding_dim: int = 128
    pad_id: int = 0
    dropout: float = 0.1
    # Hashed bigram + trigram embeddings added to each token's input (0 = off): gives the
    # bag of token vectors n-gram information before any attention layer.
    ngram_buckets: int = 0
    ngram_dim: int = 64
    # Sublinear TF: a token's pooling weight is divided by count**exponent, count = how
    # often the same trigram occurs in its window (a learned exponent, start value here).
    sublinear_tf: bool = False
    tf_exponent_init: float = 0.5
    # Structural fingerprint (0 = off): sketch size, hash buckets and n-gram lengths.
    skeleton_dim: int = 0
    skeleton_buckets: int = 1 << 20
    skeleton_ngrams: tuple[int, ...] = (3, 4, 5, 6)

    @property
    def output_dim(self) -> int:
        """Length of the encoder's output vector."""
        return self.embedding_dim + self.skeleton_dim

    def to_dict(self) -> dict:
        return asdict(self)


class SelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        q, k, v = self.qkv(x).reshape(batch, length, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(dim // self.heads) + bias
        weights = self.dropout(scores.softmax(dim=-1))
        return self.out((weights @ v).transpose(1, 2).reshape(batch, length, dim))


class EncoderLayer(nn.Module):
    """Pre-norm transformer layer."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.attention_norm = nn.LayerNorm(config.dim)
        self.attention = SelfAttention(config.dim, config.heads, config.dropout)
        self.ffn_norm = nn.LayerNorm(config.dim)
        self.ffn = nn.Sequential(
            nn.Linear(config.dim, config.ffn_dim), nn.GELU(), nn.Linear(config.ffn_dim, config.dim)
        )
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = x + self.dropout(self.attention(self.attention_norm(x), bias))
        return x + self.dropout(self.ffn(self.ffn_norm(x)))


class CodeEncoder(nn.Module):
    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.dim, padding_idx=config.pad_id)
        self.position_embedding = nn.Parameter(torch.randn(config.window, config.dim) * 0.02)
        self.layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.layers))
        self.final_norm = nn.LayerNorm(config.dim)
        # Per-token pooling weight (softplus of a learned logit): lets the model learn
        # which tokens matter, like an IDF weight. Training may initialise it from IDF.
        self.token_weight_logit = nn.Embedding(config.vocab_size, 1)
        nn.init.zeros_(self.token_weight_logit.weight)
        self.projection = nn.Linear(config.dim, config.embedding_dim)
        if config.ngram_buckets:
            self.ngram_embedding = nn.Embedding(config.ngram_buckets, config.ngram_dim)
            nn.init.normal_(self.ngram_embedding.weight, std=1.0)
            self.ngram_projection = nn.Linear(config.ngram_dim, config.dim, bias=False)
        if config.sublinear_tf:
            self.tf_exponent = nn.Parameter(torch.tensor(float(config.tf_exponent_init)))
        if config.skeleton_dim:
            # Fitted, not trained (training/skeleton.py); buffers, so they are saved and exported.
            self.register_buffer("piece_kind", torch.zeros(config.vocab_size, dtype=torch.int64))
            self.register_buffer("skeleton_weight", torch.zeros(config.skeleton_buckets))
            self.register_buffer("skeleton_share", torch.tensor(0.0))

    def _ngram_hashes(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Bucket of the bigram and of the trigram ending at each position of ``[batch, tokens]``
        (non-negative int64 arithmetic, no overflow for vocabularies < 2**20)."""
        prev1 = F.pad(ids, (1, 0), value=self.config.pad_id)[:, :-1]
        prev2 = F.pad(ids, (2, 0), value=self.config.pad_id)[:, :-2]
        buckets = self.config.ngram_buckets
        bigram = (prev1 * 1000003 + ids * 7919 + 17) % buckets
        trigram = ((prev2 * 1000003 + prev1) * 1000033 + ids) % buckets
        return bigram, trigram

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The served embedding: the semantic part, and the skeleton part when configured."""
        semantic = self.encode(input_ids, attention_mask)
        if not self.config.skeleton_dim:
            return semantic
        skeleton = F.normalize(self.skeleton_sketch(input_ids, attention_mask), dim=-1)
        share = self.skeleton_share.clamp(0.0, 1.0)
        joint = torch.cat([semantic * torch.sqrt(1.0 - share), skeleton * torch.sqrt(share)], dim=-1)
        # Unit length already, except for a program too short to have a skeleton n-gram:
        # its skeleton part is zero and the semantic part alone is its embedding.
        return F.normalize(joint, dim=-1)

    def skeleton_grams(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Hash bucket of every skeleton n-gram ``[batch, grams]`` and whether it is the first
        occurrence of its bucket in its program (invalid positions never are). An n-gram
        that spans the end of a statement is invalid."""
        vocab, buckets = self.config.vocab_size, self.config.skeleton_buckets
        mask = attention_mask.to(torch.int64)
        batch, tokens = input_ids.shape
        identifier, continuation = self.identifier_tokens(input_ids, mask)
        # An identifier word keeps its first piece only, as the placeholder.
        keep = mask * (1 - identifier * continuation)
        symbol = torch.where(identifier > 0, torch.full_like(input_ids, vocab), input_ids)
        # Compact the kept tokens to the left; dropped ones go to a spare last column.
        target = torch.where(keep > 0, keep.cumsum(1) - 1, torch.full_like(input_ids, tokens))

        def compacted(values: torch.Tensor) -> torch.Tensor:
            return torch.zeros(batch, tokens + 1, dtype=torch.int64).scatter(1, target, values)[:, :tokens]

        compact = compacted(symbol)
        ends = compacted((self.piece_kind[input_ids] == SEPARATOR).to(torch.int64))
        statement = ends.cumsum(1) - ends  # statement number; a separator belongs to the one it ends
        length = keep.sum(1, keepdim=True)
        position = torch.arange(tokens).unsqueeze(0)
        hashes, valid = [], []
        for n in self.config.skeleton_ngrams:
            code = torch.full_like(compact, n)
            for back in range(n - 1, -1, -1):  # the n-gram ending at each position
                code = (code * 1000003 + F.pad(compact, (back, 0))[:, :tokens] + 1) % 2147483647
            hashes.append(code % buckets)
            same_statement = statement == F.pad(statement, (n - 1, 0))[:, :tokens]
            valid.append((position >= n - 1) & (position < length) & same_statement)
        bucket = torch.cat(hashes, 1)
        # Invalid positions sort last (bucket value ``buckets``) and are never "first".
        bucket = torch.where(torch.cat(valid, 1), bucket, torch.full_like(bucket, buckets))
        ordered, _ = torch.sort(bucket, dim=1)
        first = (ordered != F.pad(ordered, (1, 0), value=-1)[:, :-1]) & (ordered < buckets)
        return ordered, first

    def identifier_tokens(self, input_ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``[batch, tokens]`` 1 where the token belongs to an identifier word (a word whose
        first piece is a name, and not a reserved word standing alone), and 1 where the
        token continues a word."""
        kind = self.piece_kind[input_ids]
        continuation = (kind == CONTINUATION).to(torch.int64)
        continued = F.pad(continuation, (0, 1))[:, 1:]  # the next piece continues this word
        is_name = (kind == NAME).to(torch.int64)
        reserved = (kind == RESERVED).to(torch.int64)
        starts_identifier = (is_name + reserved * continued) * mask  # the two never overlap
        # Word number of every token (a stray leading continuation joins word 0).
        word = ((1 - continuation).cumsum(1) - 1).clamp(min=0)
        per_word = torch.zeros_like(input_ids).scatter_add(1, word, starts_identifier)
        return per_word.gather(1, word) * mask, continuation

    def skeleton_sketch(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """``[batch, skeleton_dim]`` count sketch of each program's set of skeleton n-grams."""
        ordered, first = self.skeleton_grams(input_ids, attention_mask)
        safe = torch.where(first, ordered, torch.zeros_like(ordered))
        weight = self.skeleton_weight[safe] * first.to(torch.float32)
        slot = safe % self.config.skeleton_dim
        sketch = torch.zeros(ordered.shape[0], self.config.skeleton_dim, dtype=weight.dtype)
        return sketch.scatter_add(1, slot, weight)

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, use_layers: bool = True) -> torch.Tensor:
        """The semantic embedding; ``use_layers=False`` skips the transformer layers (the cheap
        "bag" pre-training stage, exact while the layers' residual outputs are still zero)."""
        window = self.config.window
        batch = input_ids.shape[0]
        tokens = input_ids.shape[1]
        padding = (window - tokens % window) % window
        padded = F.pad(input_ids, (0, padding), value=self.config.pad_id)
        ids = padded.reshape(-1, window)
        mask = F.pad(attention_mask, (0, padding), value=0).reshape(-1, window).to(torch.float32)

        x = self.token_embedding(ids) + self.position_embedding
        if self.config.ngram_buckets:
            bigram, trigram = self._ngram_hashes(padded)
            ngrams = self.ngram_embedding(bigram.reshape(-1, window)) + self.ngram_embedding(
                trigram.reshape(-1, window)
            )
            x = x + self.ngram_projection(ngrams)
        # Additive mask: a large negative (not -inf) keeps all-padding windows finite;
        # their tokens get zero pooling weight below.
        bias = ((1.0 - mask) * -1e4)[:, None, None, :]
        if use_layers:
            for layer in self.layers:
                x = layer(x, bias)
        x = self.final_norm(x)

        weight = mask * F.softplus(self.token_weight_logit(ids).squeeze(-1))
        if self.config.sublinear_tf:
            key = (ids * 1000003 + trigram.reshape(-1, window)) if self.config.ngram_buckets else ids
            same = (key.unsqueeze(2) == key.unsqueeze(1)).to(torch.float32) * mask.unsqueeze(1)
            count = same.sum(dim=2).clamp_min(1.0)
            weight = weight * torch.exp(-self.tf_exponent.clamp(0.0, 1.0) * torch.log(count))
        pooled = (x * weight.unsqueeze(-1)).sum(dim=1).reshape(batch, -1, self.config.dim).sum(dim=1)
        total = weight.reshape(batch, -1).sum(dim=1, keepdim=True).clamp_min(1e-6)
        return F.normalize(self.projection(pooled / total), dim=-1)
