"""Concept -> risk contributions: how much each concept moved an action's risk logit away from a
stated baseline, every concept at its training prior.

    risk logit = baseline logit + sum_k contribution_k

For the linear head the split is exact: `w_k (c_k - b_k)` for each concept, and each named
product `w_ab c_a c_b` is shared between its two concepts by its Shapley value,
`w_ab (c_a - b_a)(c_b + b_b) / 2` to `a` (and symmetrically to `b`). It is computed in float64
element by element and the logit is the baseline plus the contributions' sum, so a row's result
never depends on which rows share its batch. For any other head the contributions are Captum's
integrated gradients from the baseline, and the convergence delta (how far their sum misses the
logit difference) is reported with them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from captum.attr import IntegratedGradients

from cbm.model import RiskHead


@dataclass
class Contributions:
    values: torch.Tensor  # (A, K): each concept's share of `logit - baseline_logit`
    logit: torch.Tensor  # (A,): the head's risk logit
    baseline_logit: torch.Tensor  # (A,): the logit with every concept at the baseline
    method: str  # "exact" or "integrated_gradients"
    delta: torch.Tensor | None = None  # (A,): integrated gradients' convergence delta


@torch.no_grad()
def linear_contributions(head: RiskHead, probs: torch.Tensor, baseline: torch.Tensor) -> torch.Tensor:
    """The exact split of a linear head's logit difference, (A, K)."""
    k = probs.shape[1]
    weight = head.linear.weight[0].detach().to(probs.dtype)
    diff = probs - baseline
    values = weight[:k] * diff
    for j, (a, b) in enumerate(head.pairs.tolist()):
        w = weight[k + j]
        values[:, a] += w * diff[:, a] * (probs[:, b] + baseline[b]) / 2
        values[:, b] += w * diff[:, b] * (probs[:, a] + baseline[a]) / 2
    return values


def concept_contributions(head: RiskHead, probs: torch.Tensor, baseline: torch.Tensor,
                          n_steps: int = 32) -> Contributions:
    """Contributions of every concept to every action's risk logit. `probs` (A, K) are the
    concept probabilities the head reads (predicted or intervened); `baseline` (K,) the prior."""
    if head.kind == "linear":
        probs, baseline = probs.double(), baseline.double()
        values = linear_contributions(head, probs, baseline)
        with torch.no_grad():
            base = head.linear.bias.double() + (head.features(baseline[None]) * head.linear.weight.double()).sum(1)
        baseline_logit = base.expand(len(probs))
        return Contributions(values, baseline_logit + values.sum(1), baseline_logit, "exact")
    probs = probs.float()
    baseline = baseline.to(probs)
    with torch.no_grad():
        logit = head(probs)
        baseline_logit = head(baseline.expand_as(probs)) if len(probs) else logit
    if not len(probs):
        return Contributions(torch.zeros_like(probs), logit, baseline_logit, "integrated_gradients",
                             torch.zeros_like(logit))
    ig = IntegratedGradients(head)
    with torch.enable_grad():
        values, delta = ig.attribute(probs, baselines=baseline.expand_as(probs), n_steps=n_steps,
                                     return_convergence_delta=True)
    return Contributions(values.detach(), logit, baseline_logit, "integrated_gradients", delta.detach())
