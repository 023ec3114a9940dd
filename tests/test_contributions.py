"""Concept -> risk contributions (`cbm.contributions`): the baseline logit plus every concept's
contribution is the head's risk logit, exactly for a linear head with interactions and within the
reported delta for an MLP head."""

from __future__ import annotations

import torch

from cbm.concepts import CONCEPT_IDS
from cbm.contributions import concept_contributions
from cbm.model import ModelConfig, RiskHead


def probs_and_prior(n: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.rand(n, len(CONCEPT_IDS), generator=generator), torch.full((len(CONCEPT_IDS),), 0.2)


def test_a_linear_heads_contributions_are_exact(tiny):
    _, model = tiny
    head = model.head
    assert head.kind == "linear" and len(head.pairs)  # the tiny model has an interaction to split
    probs, prior = probs_and_prior()
    split = concept_contributions(head, probs, prior)
    assert split.method == "exact" and split.delta is None and split.values.shape == probs.shape
    with torch.no_grad():
        logit = head(probs).double()
    assert torch.allclose(split.baseline_logit + split.values.sum(1), split.logit, atol=1e-9)
    assert torch.allclose(split.logit, logit, atol=1e-5)
    at_prior = concept_contributions(head, prior.expand(2, -1), prior)
    assert torch.count_nonzero(at_prior.values) == 0  # at the baseline nothing contributes


def test_an_mlp_heads_contributions_add_up_within_the_delta():
    torch.manual_seed(0)
    head = RiskHead(ModelConfig(vocab_size=8, n_concepts=len(CONCEPT_IDS), head="mlp", dropout=0.0),
                    CONCEPT_IDS).eval()
    probs, prior = probs_and_prior()
    split = concept_contributions(head, probs, prior, n_steps=16)
    assert split.method == "integrated_gradients"
    total = split.baseline_logit + split.values.sum(1)
    assert torch.allclose(total, split.logit, atol=float(split.delta.abs().max()) + 1e-4)
    assert split.delta.abs().max() < 1e-2
    assert split.values.abs().max() > 1e-4  # a random head: the check is not vacuous
    with torch.no_grad():
        assert torch.allclose(split.logit, head(probs), atol=1e-6)
