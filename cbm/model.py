"""The concept bottleneck model, top to bottom.

    tokens of a whole trajectory, in order
      -> ConceptEncoder: embeddings + a small causal transformer (a token sees only what came
         before it); each action is the mean of its own step's token states, so it is judged
         with everything before it and nothing after (not even its own result)
      -> 18 concept logits per action                       (x -> c)
      -> RiskHead: sees only the concept probabilities       (c -> y)
      -> risk logit per action; a trajectory's risk is the max over its actions

x -> c and c -> y are separate modules, so the training modes are choices of what is frozen
and what is fed: joint (both trained together), sequential (head trained on the encoder's
frozen predictions), independent (head trained on true concepts). At inference any concept
can be replaced by a reviewer's value (an intervention) and the head recomputes the risk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cbm.features import N_ORIGINS, SEGMENTS


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    n_concepts: int  # the taxonomy's size; the concepts themselves are the checkpoint's (`concept_ids`)
    dim: int = 128
    layers: int = 2
    heads: int = 4
    ff_mult: int = 2
    dropout: float = 0.1
    max_tokens: int = 1024
    head: str = "linear"  # "linear" (with `interactions`) or "mlp"
    interactions: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # named concept pairs
    mlp_hidden: int = 32
    n_facts: int = 0  # action fact features read beside the words (0: words only)
    monotone: bool = False  # risk head weights signed by the policy: >= 0 for risks, <= 0 for user_authorized

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict) -> ModelConfig:
        obj = dict(obj)
        obj["interactions"] = tuple(tuple(p) for p in obj.get("interactions", ()))
        return cls(**obj)


class Block(nn.Module):
    """Pre-norm causal transformer block."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.heads = config.heads
        self.ln1 = nn.LayerNorm(config.dim)
        self.qkv = nn.Linear(config.dim, 3 * config.dim)
        self.proj = nn.Linear(config.dim, config.dim)
        self.ln2 = nn.LayerNorm(config.dim)
        self.mlp = nn.Sequential(nn.Linear(config.dim, config.ff_mult * config.dim), nn.GELU(),
                                 nn.Linear(config.ff_mult * config.dim, config.dim))
        self.dropout = nn.Dropout(config.dropout)  # on the residual branches; attention dropout
        # would force the slow T x T path on the CPU, so there is none

    def forward(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        """(B, T, D) -> the new states of positions `start`..T-1 (all by default). Keys and values
        always cover the whole prefix, so a later `start` gives the same states for those
        positions with less work."""
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q = q[:, start:]
        q, k, v = (z.reshape(b, z.shape[1], self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        if start:  # query i is position start + i: it reads keys 0..start + i
            mask = torch.ones(t - start, t, dtype=torch.bool, device=x.device).tril(diagonal=start)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x[:, start:] + self.dropout(self.proj(y.transpose(1, 2).reshape(b, t - start, d)))
        return x + self.dropout(self.mlp(self.ln2(x)))


class ConceptEncoder(nn.Module):
    """x -> c: concept logits for every action of a batch of trajectories."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.token = nn.Embedding(config.vocab_size, config.dim, padding_idx=0)
        self.segment = nn.Embedding(len(SEGMENTS), config.dim)
        self.origin = nn.Embedding(N_ORIGINS, config.dim)
        self.position = nn.Embedding(config.max_tokens, config.dim)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.ln = nn.LayerNorm(config.dim)
        # what the action's facts add to its pooled state: a small network, so that a pair such as
        # "deletes" and "a data directory" can mean more than its parts
        self.facts = nn.Sequential(nn.Linear(config.n_facts, config.dim), nn.GELU(),
                                   nn.Linear(config.dim, config.dim)) if config.n_facts else None
        self.concepts = nn.Linear(config.dim, config.n_concepts)

    def embed(self, ids: torch.Tensor, segment: torch.Tensor, origin: torch.Tensor) -> torch.Tensor:
        """Token embeddings, the layer that explanations attribute to."""
        positions = torch.arange(ids.shape[1], device=ids.device)
        return self.token(ids) + self.segment(segment) + self.origin(origin) + self.position(positions)[None]

    def action_states(self, x: torch.Tensor, action_batch: torch.Tensor, action_span: torch.Tensor) -> torch.Tensor:
        """Run the blocks on embeddings `x` (B, T, D) and pool each action's tokens: (A, D).
        Sequences are right-padded, so causal attention never reads padding."""
        for block in self.blocks:
            x = block(x)
        x = self.ln(x)
        cumulative = F.pad(x.cumsum(dim=1), (0, 0, 1, 0))  # (B, T+1, D)
        begin, end = action_span[:, 0], action_span[:, 1]
        total = cumulative[action_batch, end] - cumulative[action_batch, begin]
        return total / (end - begin).clamp(min=1).unsqueeze(1).to(x.dtype)

    def concept_logits(self, states: torch.Tensor, facts: torch.Tensor | None) -> torch.Tensor:
        """Pooled action states (A, D) and fact features (A, F) -> concept logits (A, K)."""
        if self.facts is not None:
            if facts is None:
                raise ValueError("this model reads action facts: encode with the checkpoint's FeatureConfig")
            states = states + self.facts(facts.to(states.dtype))
        return self.concepts(states)

    def forward(self, ids: torch.Tensor, segment: torch.Tensor, origin: torch.Tensor, action_batch: torch.Tensor,
                action_span: torch.Tensor, facts: torch.Tensor | None = None) -> torch.Tensor:
        return self.concept_logits(self.action_states(self.embed(ids, segment, origin), action_batch, action_span), facts)

    def last_action_logits(self, x: torch.Tensor, begin: int, facts: torch.Tensor | None = None) -> torch.Tensor:
        """Concept logits (B, K) of the action at positions `begin`..T-1 of embeddings `x` (B, T, D),
        the run cut at the action's end. The last block runs only on the action's own tokens, the
        only states its pooling reads: the numbers of `forward`, with much less attention work
        (explanations run this 32 times per concept)."""
        for block in self.blocks[:-1]:
            x = block(x)
        states = self.ln(self.blocks[-1](x, start=begin)).mean(dim=1)
        return self.concept_logits(states, None if facts is None else facts.expand(len(states), -1))


class SignedLinear(nn.Module):
    """A linear layer to one output whose weights keep given signs: `weight = sign * |raw|` (the
    gradient never vanishes, unlike softplus near zero). `weight` reads and sets like
    `nn.Linear.weight`; a zero weight is stored as a tiny one, so it can still grow."""

    def __init__(self, sign: torch.Tensor):
        super().__init__()
        self.register_buffer("sign", sign.reshape(1, -1), persistent=False)
        self.raw = nn.Parameter(torch.full_like(self.sign, 0.1))
        self.bias = nn.Parameter(torch.zeros(1))

    @property
    def weight(self) -> torch.Tensor:
        return self.sign * self.raw.abs()

    @weight.setter
    def weight(self, value: torch.Tensor) -> None:
        with torch.no_grad():
            self.raw.copy_((value * self.sign).clamp(min=1e-4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


class RiskHead(nn.Module):
    """c -> y: the risk logit from concept probabilities only.

    `concept_ids` name the concept columns, in order: the names `interactions` and `monotone` use.
    Linear: `bias + sum_k w_k c_k + sum_(a,b) w_ab c_a c_b` over named pairs, so every
    contribution is exact and readable. With `monotone`, every risk concept's weight is kept
    >= 0 and `user_authorized`'s (alone or in a pair) <= 0, so a reviewer who confirms a risk
    can never lower the risk, and the user's approval can never raise it. MLP: a small network,
    for comparison."""

    def __init__(self, config: ModelConfig, concept_ids: Sequence[str]):
        super().__init__()
        if len(concept_ids) != config.n_concepts:
            raise ValueError(f"{len(concept_ids)} concept ids for a model of {config.n_concepts} concepts")
        self.kind = config.head
        index = {cid: i for i, cid in enumerate(concept_ids)}
        unknown = {c for pair in config.interactions for c in pair} - set(index)
        if unknown:
            raise ValueError(f"interactions name unknown concept(s): {', '.join(sorted(unknown))}")
        pairs = [(index[a], index[b]) for a, b in config.interactions]
        self.register_buffer("pairs", torch.tensor(pairs, dtype=torch.long).reshape(-1, 2), persistent=False)
        if self.kind == "linear":
            if config.monotone:
                clears = index.get("user_authorized", -1)
                sign = [-1.0 if k == clears else 1.0 for k in range(config.n_concepts)]
                sign += [-1.0 if clears in p else 1.0 for p in pairs]
                self.linear = SignedLinear(torch.tensor(sign))
            else:
                self.linear = nn.Linear(config.n_concepts + len(pairs), 1)
        elif self.kind == "mlp":
            self.mlp = nn.Sequential(nn.Linear(config.n_concepts, config.mlp_hidden), nn.GELU(),
                                     nn.Linear(config.mlp_hidden, 1))
        else:
            raise ValueError(f"unknown head {config.head!r} (linear or mlp)")

    @torch.no_grad()
    def start_at_prior(self, risk_prior: float) -> None:
        """No concept weighs anything yet; every action starts at the base rate. A random start
        lets early, uncalibrated concept probabilities pull weights the wrong way."""
        last = self.linear if self.kind == "linear" else self.mlp[-1]
        last.weight = torch.zeros_like(last.weight)
        p = min(max(risk_prior, 1e-4), 1 - 1e-4)
        last.bias.fill_(float(torch.logit(torch.tensor(p))))

    def features(self, probs: torch.Tensor) -> torch.Tensor:
        """The linear head's inputs: the concepts, then the named products."""
        if len(self.pairs) == 0:
            return probs
        return torch.cat([probs, probs[:, self.pairs[:, 0]] * probs[:, self.pairs[:, 1]]], dim=1)

    def forward(self, probs: torch.Tensor) -> torch.Tensor:
        if self.kind == "linear":
            return self.linear(self.features(probs)).squeeze(1)
        return self.mlp(probs).squeeze(1)


class ConceptBottleneckModel(nn.Module):
    """The encoder and the risk head; `concept_ids` are the concepts in the order of the
    bottleneck's columns (a checkpoint's own list)."""

    def __init__(self, config: ModelConfig, concept_ids: Sequence[str]):
        super().__init__()
        self.config = config
        self.concept_ids = tuple(concept_ids)
        self.encoder = ConceptEncoder(config)
        self.head = RiskHead(config, self.concept_ids)

    def forward(self, batch: dict[str, torch.Tensor], intervene_mask: torch.Tensor | None = None,
                intervene_values: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(concept logits (A, K), risk logits (A,)). Where `intervene_mask` is true the head
        sees `intervene_values` instead of the predicted probability."""
        logits = self.concept_logits(batch)
        probs = torch.sigmoid(logits.float())
        if intervene_mask is not None:
            probs = torch.where(intervene_mask, intervene_values.to(probs.dtype), probs)
        return logits, self.head(probs)


    def concept_logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Concept logits (A, K) of a collated batch: the encoder alone (x -> c)."""
        return self.encoder(batch["ids"], batch["segment"], batch["origin"], batch["action_batch"],
                            batch["action_span"], batch.get("facts"))


def collate(encoded: list, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Right-pad a list of `features.Encoded` into one batch, one row per window (a short run is
    one window); actions are flattened across runs, each pointing at its window's row
    (`action_batch`) and its run (`action_run`)."""
    rows = []  # (encoded, token range)
    action_batch, action_span, action_run = [], [], []
    for r, e in enumerate(encoded):
        windows = e.windows if e.windows is not None else np.asarray([[0, len(e)]])
        owner = e.action_window if e.action_window is not None else np.zeros(len(e.action_ids), dtype=np.int64)
        first = len(rows)
        rows.extend((e, int(a), int(b)) for a, b in windows)
        action_batch.append(torch.from_numpy(first + owner.astype(np.int64)))
        action_span.append(torch.from_numpy(e.action_span - windows[owner][:, :1]).reshape(-1, 2))
        action_run.append(torch.full((len(e.action_ids),), r, dtype=torch.long))
    t = max(b - a for _, a, b in rows)
    ids = torch.zeros(len(rows), t, dtype=torch.long)
    segment = torch.zeros(len(rows), t, dtype=torch.long)
    origin = torch.zeros(len(rows), t, dtype=torch.long)
    for i, (e, a, b) in enumerate(rows):
        ids[i, :b - a] = torch.from_numpy(e.ids[a:b])
        segment[i, :b - a] = torch.from_numpy(e.segment[a:b])
        origin[i, :b - a] = torch.from_numpy(e.origin[a:b])
    batch = {"ids": ids, "segment": segment, "origin": origin, "action_batch": torch.cat(action_batch),
             "action_span": torch.cat(action_span), "action_run": torch.cat(action_run)}
    if encoded[0].facts is not None:
        batch["facts"] = torch.from_numpy(np.concatenate([e.facts for e in encoded]))
    return {k: v.to(device) for k, v in batch.items()}
