"""The fusion objective of eq. 9: `λ · CE(verified answer) + (1 - λ) · KL(fused ‖ student)`.

The KL term is taken the way FuseLLM trains it: the fused teachers' distribution is the target
(forward KL, mass-covering), restricted to the teachers' top-k tokens, renormalized there; the
student's log-probabilities are over its whole vocabulary, so mass it puts elsewhere is still
penalized through the normalization.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class LossParts:
    total: Any  # a scalar tensor, differentiable
    cross_entropy: float
    kl: float


def fusion_loss(student_logits: torch.Tensor, gold: torch.Tensor, target_indices: torch.Tensor | None,
                target_probs: torch.Tensor | None, ce_weight: float) -> LossParts:
    """`student_logits` [n, V] predict the answer's n tokens `gold` [n]; the target [n, k]."""
    logprobs = torch.log_softmax(student_logits.float(), dim=-1)
    cross_entropy = -logprobs.gather(1, gold.unsqueeze(1)).squeeze(1).mean()
    if target_indices is None or target_probs is None or ce_weight >= 1.0:
        return LossParts(cross_entropy, float(cross_entropy.detach()), 0.0)
    target = target_probs.float()
    target = target / target.sum(dim=1, keepdim=True).clamp_min(1e-12)
    student_on_target = logprobs.gather(1, target_indices)
    kl = (target * (torch.log(target.clamp_min(1e-12)) - student_on_target)).sum(dim=1).mean()
    total = ce_weight * cross_entropy + (1.0 - ce_weight) * kl
    return LossParts(total, float(cross_entropy.detach()), float(kl.detach()))
