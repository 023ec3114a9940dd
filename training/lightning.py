"""Training logic for the concept bottleneck model (the model itself is `cbm.model`).

Modes, as choices of what is trained and what the risk head is fed:
- joint: encoder and head together; loss = risk loss + lambda * concept loss.
- sequential: phase "concepts" trains the encoder on concepts; phase "head" freezes it and
  trains the head on its predicted concept probabilities.
- independent: like sequential, but the head is trained on the true concepts.
With `intervention_p` > 0, each known concept is replaced by its true value with that
probability before the head sees it, so the head learns to use corrected concepts.
With `policy_weight` > 0, the head is also fitted to the written risk policy's table (every
concept combination it is given, with the policy's risk), so that a reviewer's edit moves the
risk the way the policy says, also for combinations the corpus rarely shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from cbm.concepts import CONCEPT_IDS
from cbm.model import ConceptBottleneckModel, ModelConfig


@dataclass(frozen=True)
class OptimConfig:
    mode: str = "joint"  # joint | sequential | independent
    concept_weight: float = 1.0  # lambda, joint mode
    intervention_p: float = 0.25
    policy_weight: float = 0.0  # weight of the head's loss on the policy table
    lr: float = 2e-3
    head_lr: float = 5e-2
    weight_decay: float = 0.01
    warmup_steps: int = 100


class CBMTask(pl.LightningModule):
    def __init__(self, model_config: ModelConfig, optim: OptimConfig, concept_pos_weight: torch.Tensor | None = None,
                 phase: str = "all", risk_prior: float | None = None,
                 policy: tuple[torch.Tensor, torch.Tensor] | None = None, concept_ids: Sequence[str] = CONCEPT_IDS):
        super().__init__()
        if optim.mode not in ("joint", "sequential", "independent"):
            raise ValueError(f"unknown mode {optim.mode!r}")
        self.model = ConceptBottleneckModel(model_config, concept_ids)  # the taxonomy training reads
        if risk_prior is not None:
            self.model.head.start_at_prior(risk_prior)
        self.optim = optim
        self.phase = phase  # "all" (joint), "concepts" or "head"
        weight = concept_pos_weight if concept_pos_weight is not None else torch.ones(model_config.n_concepts)
        self.register_buffer("pos_weight", weight.float())
        if optim.policy_weight > 0 and policy is None:
            raise ValueError("policy_weight > 0 needs the policy table (concept vectors, risks)")
        concepts, risk, row_weight = None, None, None
        if optim.policy_weight > 0 and phase != "concepts":
            concepts, risk = policy[0].float(), policy[1].float()
            # each size of combination weighs the same in all: the empty row and the 18 single
            # concepts, which reviewers set most often, are not drowned by the 816 triples
            size = concepts.sum(1).long()
            counts = torch.bincount(size).float()
            row_weight = len(size) / (len(counts) * counts[size])
        self.register_buffer("policy_concepts", concepts, persistent=False)
        self.register_buffer("policy_risk", risk, persistent=False)
        self.register_buffer("policy_row_weight", row_weight, persistent=False)
        self._val: list[dict[str, np.ndarray]] = []

    # --- losses -------------------------------------------------------------------------------

    def concept_loss(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """BCE over known concept labels only; unknown is not false."""
        known = batch["concept_known"].float()
        loss = F.binary_cross_entropy_with_logits(logits.float(), batch["concepts"], pos_weight=self.pos_weight,
                                                  reduction="none")
        return (loss * known).sum() / known.sum().clamp(min=1)

    def risk_loss(self, risk_logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """BCE on actions with a known risk, plus max-over-actions BCE on runs labelled whole."""
        known = batch["risk_known"].float()
        per_action = F.binary_cross_entropy_with_logits(risk_logits.float(), batch["risk"], reduction="none")
        loss = (per_action * known).sum() / known.sum().clamp(min=1)
        if batch["run_risk_known"].any():
            runs = torch.full_like(batch["run_risk"], -1e4).scatter_reduce(
                0, batch["action_run"], risk_logits.float(), reduce="amax")
            mask = batch["run_risk_known"]
            loss = loss + F.binary_cross_entropy_with_logits(runs[mask], batch["run_risk"][mask])
        return loss

    def policy_loss(self) -> torch.Tensor:
        """BCE of the head on the policy table's concept vectors against the policy's risk."""
        return F.binary_cross_entropy_with_logits(self.model.head(self.policy_concepts).float(), self.policy_risk,
                                                  weight=self.policy_row_weight)

    def _interventions(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if self.phase == "head" and self.optim.mode == "independent":
            return batch["concept_known"], batch["concepts"]
        if self.optim.intervention_p > 0 and self.training and self.phase != "concepts":
            chosen = torch.rand_like(batch["concepts"]) < self.optim.intervention_p
            return chosen & batch["concept_known"], batch["concepts"]
        return None, None

    def step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor,
                                                         torch.Tensor]:
        mask, values = self._interventions(batch)
        if self.phase == "head":
            with torch.no_grad():
                self.model.encoder.eval()
                logits, _ = self.model(batch)
            probs = torch.sigmoid(logits.float())
            if mask is not None:
                probs = torch.where(mask, values, probs)
            risk_logits = self.model.head(probs)
        else:
            logits, risk_logits = self.model(batch, mask, values)
        parts = {"concept_loss": self.concept_loss(logits, batch), "risk_loss": self.risk_loss(risk_logits, batch)}
        if self.policy_concepts is not None:
            parts["policy_loss"] = self.policy_loss()
        if self.phase == "concepts":
            loss = parts["concept_loss"]
        elif self.phase == "head":
            loss = parts["risk_loss"]
        else:
            loss = parts["risk_loss"] + self.optim.concept_weight * parts["concept_loss"]
        if "policy_loss" in parts:
            loss = loss + self.optim.policy_weight * parts["policy_loss"]
        return loss, parts, logits, risk_logits

    # --- Lightning hooks ----------------------------------------------------------------------

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, parts, _, _ = self.step(batch)
        size = len(batch["risk"])
        self.log("train_loss", loss, prog_bar=True, batch_size=size)
        self.log_dict({f"train_{k}": v for k, v in parts.items()}, batch_size=size)
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        loss, parts, logits, risk_logits = self.step(batch)
        size = len(batch["risk"])
        self.log("val_loss", loss, prog_bar=True, batch_size=size, sync_dist=True)
        self.log_dict({f"val_{k}": v for k, v in parts.items()}, batch_size=size, sync_dist=True)
        self._val.append({k: v.detach().float().cpu().numpy() for k, v in {
            "concepts": batch["concepts"], "known": batch["concept_known"], "logits": logits,
            "risk": batch["risk"], "risk_known": batch["risk_known"], "risk_logits": risk_logits}.items()})

    def on_validation_epoch_end(self) -> None:
        if not self._val:
            return
        cat = {k: np.concatenate([v[k] for v in self._val]) for k in self._val[0]}
        self._val.clear()
        known = cat["risk_known"].astype(bool)
        risk_auc = _auroc(cat["risk"][known], cat["risk_logits"][known])
        concept_aucs = [_auroc(cat["concepts"][cat["known"][:, j] > 0, j], cat["logits"][cat["known"][:, j] > 0, j])
                        for j in range(cat["concepts"].shape[1])]
        concept_aucs = [a for a in concept_aucs if a is not None]
        self.log("val_risk_auroc", risk_auc if risk_auc is not None else 0.5, prog_bar=True, sync_dist=True)
        self.log("val_concept_auroc", float(np.mean(concept_aucs)) if concept_aucs else 0.5, prog_bar=True,
                 sync_dist=True)

    def configure_optimizers(self):
        # The head is a handful of weights that must travel far (a concept that alone makes an
        # action risky needs a weight of several units), so it gets its own, larger step size.
        head = {"params": list(self.model.head.parameters()), "lr": self.optim.head_lr, "weight_decay": 0.0}
        encoder = {"params": list(self.model.encoder.parameters()), "lr": self.optim.lr}
        groups = {"head": [head], "concepts": [encoder]}.get(self.phase, [encoder, head])
        optimizer = torch.optim.AdamW(groups, weight_decay=self.optim.weight_decay)
        warmup = max(self.optim.warmup_steps, 1)
        total = max(int(self.trainer.estimated_stepping_batches), warmup + 1)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.05, 1 - max(0, s - warmup) / (total - warmup)))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


def _auroc(y: np.ndarray, score: np.ndarray) -> float | None:
    if len(y) == 0 or y.min() == y.max():
        return None
    return float(roc_auc_score(y, score))
