"""The code encoder: a small transformer whose ONNX graph takes a whole program.

Inputs ``input_ids`` / ``attention_mask`` are ``[batch, tokens]`` of any length. Inside
the graph the tokens are cut into fixed windows (``window`` tokens each, the position
table's size), every window is encoded, and the token vectors of all windows of a
program are pooled into one L2-normalised embedding. A long file is therefore embedded
whole, never truncated.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


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
        return self.encode(input_ids, attention_mask)

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, use_layers: bool = True) -> torch.Tensor:
        """The embedding; ``use_layers=False`` skips the transformer layers (the cheap "bag"
        pre-training stage, exact while the layers' residual outputs are still zero)."""
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
            ngrams = self.ngram_embedding(bigram.reshape(-1, window)) + self.ngram_embedding(trigram.reshape(-1, window))
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
