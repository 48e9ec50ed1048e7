"""Contrastive losses over a batch of ``2N`` L2-normalised embeddings.

Row ``i`` and row ``i + N`` are two views of the same item (the original and a disguised
copy). ``labels`` (length ``2N``) are the items' groups (POJ-104 problem; a unique value
for items that have no group).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def _logits(embeddings: torch.Tensor, temperature: float) -> torch.Tensor:
    logits = embeddings @ embeddings.T / temperature
    return logits.masked_fill(torch.eye(len(embeddings), dtype=torch.bool, device=embeddings.device), float("-inf"))


def copy_nt_xent(embeddings: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent (InfoNCE): each view's positive is its own copy; every other row, other
    programs of the same problem included (the hard negatives), is a negative."""
    n = len(embeddings) // 2
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(embeddings.device)
    return F.cross_entropy(_logits(embeddings, temperature), targets)


def supervised_contrastive(embeddings: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """SupCon (Khosla et al. 2020, the "L_out" form): positives are all other rows with the
    same label, averaged per anchor; anchors without a positive are skipped."""
    log_prob = F.log_softmax(_logits(embeddings, temperature), dim=1)
    same = labels[:, None] == labels[None, :]
    same.fill_diagonal_(False)
    positives = same.sum(dim=1)
    has = positives > 0
    mean_log_prob = torch.where(same, log_prob, torch.zeros_like(log_prob)).sum(dim=1)[has] / positives[has]
    return -mean_log_prob.mean()


def combined_loss(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    copy_temperature: float = 0.05,
    sup_temperature: float = 0.1,
    sup_weight: float = 0.5,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(total, copy term, supervised term)``: copies very close, same task moderately."""
    copy = copy_nt_xent(embeddings, copy_temperature)
    supervised = supervised_contrastive(embeddings, labels, sup_temperature)
    return copy + sup_weight * supervised, copy, supervised
