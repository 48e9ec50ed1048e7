"""Initialisation that lets a small encoder start as a sensible bag of tokens.

* :func:`idf` / :func:`init_pooling_from_idf`: the per-token pooling weight starts at the
  token's IDF over the training documents (``softplus(logit) = idf``), so rare,
  task-specific tokens dominate the pooled vector from step 0.
* :func:`zero_residual_branches`: the transformer layers start as the identity.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import sparse

from clonedetect.training.model import CodeEncoder


def document_term(ids: list[np.ndarray], vocab_size: int) -> sparse.csr_matrix:
    """Term counts ``[documents, vocab]``."""
    rows = np.repeat(np.arange(len(ids)), [len(i) for i in ids])
    cols = np.concatenate(ids).astype(np.int64)
    matrix = sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(ids), vocab_size))
    matrix.sum_duplicates()
    return matrix


def smooth_idf(document_frequency: np.ndarray, documents: int) -> np.ndarray:
    """Smooth IDF ``log((1 + n) / (1 + df)) + 1`` of each term, ``n`` documents."""
    return (np.log((1 + documents) / (1 + document_frequency)) + 1.0).astype(np.float32)


def idf(counts: sparse.csr_matrix) -> np.ndarray:
    """Smooth IDF per token of a ``[documents, vocab]`` count matrix."""
    return smooth_idf(np.bincount(counts.indices, minlength=counts.shape[1]), counts.shape[0])


def init_pooling_from_idf(model: CodeEncoder, weights: np.ndarray) -> None:
    """``softplus(token_weight_logit) = weights`` (inverse softplus, clamped for stability)."""
    w = torch.as_tensor(weights, dtype=torch.float32).clamp_min(1e-3)
    logit = torch.where(w > 20, w, torch.log(torch.expm1(w)))
    with torch.no_grad():
        model.token_weight_logit.weight.copy_(logit[:, None])


def zero_residual_branches(model: CodeEncoder) -> None:
    """Zero the output projection of every attention / FFN branch: the layers start as the
    identity, so the untrained encoder equals its cheap "bag" form
    (``model.encode(..., use_layers=False)``) and the bag stage can train it first."""
    with torch.no_grad():
        for layer in model.layers:
            for linear in (layer.attention.out, layer.ffn[-1]):
                linear.weight.zero_()
                linear.bias.zero_()
