"""Batched inference over encoded trajectories: concept and risk logits for every action."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch

from cbm.features import Encoded
from cbm.model import ConceptBottleneckModel, collate


def cpu_threads(setting: int | str = "auto") -> int:
    """Torch threads for CPU work. `auto` is one per physical core (half the logical CPUs): on
    small machines, oversubscribed threads were measured 3x slower than a single one."""
    if setting == "auto":
        return max(1, (os.cpu_count() or 2) // 2)
    return int(setting)


@torch.inference_mode()
def predict_logits(model: ConceptBottleneckModel, encoded: Sequence[Encoded], batch_size: int = 32,
                   device: str | torch.device = "cpu") -> list[tuple[np.ndarray, np.ndarray]]:
    """(concept logits (A, K), risk logits (A,)) per trajectory, in input order: the whole model,
    as training sees it. Trajectories are batched by length, which is what makes CPU inference fast."""
    return _predict(model, encoded, batch_size, device, head=True)


@torch.inference_mode()
def predict_concept_logits(model: ConceptBottleneckModel, encoded: Sequence[Encoded], batch_size: int = 32,
                           device: str | torch.device = "cpu") -> list[np.ndarray]:
    """Concept logits (A, K) per trajectory, in input order, from the encoder alone (x -> c): the
    scoring core runs the risk head once, afterwards, on the concept values it reports."""
    return [c for c, _ in _predict(model, encoded, batch_size, device, head=False)]


def _predict(model: ConceptBottleneckModel, encoded: Sequence[Encoded], batch_size: int,
             device: str | torch.device, head: bool) -> list[tuple[np.ndarray, np.ndarray | None]]:
    model.eval()
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    out: list[tuple[np.ndarray, np.ndarray | None] | None] = [None] * len(encoded)
    for b in range(0, len(order), batch_size):
        chunk = [i for i in order[b:b + batch_size] if len(encoded[i].action_ids)]
        for i in order[b:b + batch_size]:
            if not len(encoded[i].action_ids):
                out[i] = (np.zeros((0, model.config.n_concepts), np.float32), np.zeros(0, np.float32) if head else None)
        if not chunk:
            continue
        batch = collate([encoded[i] for i in chunk], device)
        if head:
            concept_logits, risk_logits = model(batch)
            risk_logits = risk_logits.float().cpu().numpy()
        else:
            concept_logits, risk_logits = model.concept_logits(batch), None
        concept_logits = concept_logits.float().cpu().numpy()
        owner = batch["action_run"].cpu().numpy()
        for j, i in enumerate(chunk):
            rows = owner == j
            out[i] = (concept_logits[rows], None if risk_logits is None else risk_logits[rows])
    return out
