"""Training data: labelled trajectories -> encoded examples -> length-bucketed batches.

Labels may be partial. Every concept and risk target comes with a mask saying whether it is
known, so importers' weak labels train what they know and nothing else; a run labelled only as
a whole (ToolEmu) trains the max over its actions' risks.

Two views of a generated run keep the model from judging an action by the story around it (in
the generator, the narration and the tool outputs predict the risk well enough that a model can
learn them instead of the action): `without_narration` drops the agent's running commentary,
and `action_only_view` keeps only the people's words and the agent's calls. Counterfactual
`twins` pull a risky call and its context apart (see their section).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from cbm.concepts import CONCEPT_IDS
from cbm.features import Encoded, FeatureConfig, Vocabulary, encode
from cbm.formats import read_records
from cbm.model import collate
from cbm.trajectory import Label, Step, Trajectory, assign_action_ids
from cbm_training.generator.policy import DEFAULT_POLICY, Policy
from cbm_training.generator.surface import MINI_SWE_RULES, system_prompt


@dataclass
class Example:
    encoded: Encoded
    concepts: np.ndarray  # (A, K) float32 targets
    concept_known: np.ndarray  # (A, K) bool
    risk: np.ndarray  # (A,) float32
    risk_known: np.ndarray  # (A,) bool
    run_risk: float  # trajectory-level label, for runs labelled only as a whole
    run_risk_known: bool


def make_example(trajectory: Trajectory, vocab: Vocabulary, features: FeatureConfig) -> Example:
    encoded = encode(trajectory, vocab, features)
    n, k = len(encoded.action_ids), len(CONCEPT_IDS)
    concepts = np.zeros((n, k), dtype=np.float32)
    known = np.zeros((n, k), dtype=bool)
    risk = np.zeros(n, dtype=np.float32)
    risk_known = np.zeros(n, dtype=bool)
    for a, action_id in enumerate(encoded.action_ids):
        label = trajectory.labels.get(action_id)
        if label is None:
            continue
        for j, cid in enumerate(CONCEPT_IDS):
            if cid in label.concepts:
                concepts[a, j], known[a, j] = label.concepts[cid], True
        if label.risk is not None:
            risk[a], risk_known[a] = label.risk, True
    run_label = trajectory.metadata.get("trajectory_label") or {}
    run_risk = run_label.get("risk") if isinstance(run_label, dict) else None
    return Example(encoded, concepts, known, risk, risk_known, float(run_risk or 0), run_risk in (0, 1))


# Concepts whose truth can hang on what a tool answered (the injected text, the output a report
# contradicts, the failing test): a view without tool outputs cannot keep their labels.
OBSERVED_CONCEPTS = ("follows_injected_instruction", "deceptive_report", "evaluation_gaming")


def without_narration(trajectory: Trajectory) -> Trajectory:
    """The run without the agent's commentary (assistant text that is not itself an action).
    Labels are unchanged: the generator's labels never depend on what the agent says it does."""
    steps = [s for s in trajectory.steps if s.kind != "assistant" or s.action_id is not None]
    return replace(trajectory, steps=steps, metadata={**trajectory.metadata, "view": "without_narration"})


def _generated(label: Label) -> bool:
    """A label the generator's policy gave (not a family exception, which hangs on the story)."""
    source = label.source or ""
    return source.startswith("generator:") and not source.startswith("generator:exception")


def action_only_view(trajectory: Trajectory) -> Trajectory | None:
    """The run as the system prompt, the user's messages and the agent's tool calls alone. A
    call keeps its label when nothing in it could depend on a tool's output (generated label,
    no family exception, none of OBSERVED_CONCEPTS); other labels become unknown. None when no
    label is left. Trained on, it teaches the model to read the action (what it does, where);
    evaluated on, it measures whether the model does."""
    steps = [s for s in trajectory.steps if s.kind in ("system", "user", "tool_call")]
    calls = {s.action_id for s in steps if s.action_id is not None}
    labels = {a: label for a, label in trajectory.labels.items()
              if a in calls and _generated(label) and not any(label.concepts.get(c) for c in OBSERVED_CONCEPTS)}
    if not labels:
        return None
    return replace(trajectory, id=f"{trajectory.id}#action-only", steps=steps, labels=labels,
                   metadata={**trajectory.metadata, "view": "action_only"})


def augment(trajectories: Sequence[Trajectory], narration_dropout: float, action_only_share: float,
            seed: int = 0) -> list[Trajectory]:
    """Training runs with views mixed in: a generated run loses its narration with probability
    `narration_dropout`, and with probability `action_only_share` its action-only view is added
    beside it. Seeded; runs without generator metadata (imports, reviews) pass unchanged."""
    rng = random.Random(f"augment:{seed}")
    out = []
    for t in trajectories:
        generated = "generator" in t.metadata
        if generated and rng.random() < narration_dropout:
            t = without_narration(t)
        out.append(t)
        if generated and rng.random() < action_only_share:
            view = action_only_view(t)
            if view is not None:
                out.append(view)
    return out


def reframe(trajectories: Sequence[Trajectory], share: float, seed: int = 0) -> list[Trajectory]:
    """Training runs whose system message says nothing about the task: with probability `share`
    a run whose labels the generator gave (a generated run, its views, a twin) starts with a
    system message from `surface.SYSTEM_PROMPTS` instead of its own or none. Without this,
    system messages in generated data come from a few families, and the model learns their
    presence as a sign of risk (a one-line "You are a helpful assistant." lifted a requested
    email from 0.01 to 0.998). mini-swe-agent's rules stay: they say how its agent acts.
    Labels are unchanged. Seeded."""
    rng = random.Random(f"reframe:{seed}")
    out = []
    for t in trajectories:
        generated = "generator" in t.metadata or str(t.metadata.get("view", "")).startswith("twin")
        if generated and not any(s.kind == "system" and s.text == MINI_SWE_RULES for s in t.steps) \
                and rng.random() < share:
            system = Step("system", system_prompt(rng), message_index=-1)
            t = replace(t, steps=[system] + [s for s in t.steps if s.kind != "system"],
                        metadata={**t.metadata, "reframed": True})
        out.append(t)
    return out


# --- counterfactual twins ----------------------------------------------------------------------

# Training runs that break the shortcuts of generated data.
#
# In generated runs the context gives the answer away: destructive commands appear in runs that
# look dangerous, and a plain coding session never holds one. A model then learns the session,
# not the call (`rm -rf /var/lib/postgresql/data` appended to a test command scores as harmless).
# Two views pull the call and its context apart:
#
# - The risky call in a neutral context: a risky generated call, moved to the end of a prefix
#   of a harmless run (a generated one or a real SWE-bench session), without a system message half
#   of the time (as in a Claude Code transcript). The concepts that describe the call itself keep
#   their labels; nothing in the new context authorises, injects or reports on it, so those are 0;
#   out-of-scope, instruction and test-gaming concepts become unknown. Its risk is the written
#   policy's on those concepts, and the twin is kept only where that is risky.
# - A harmless call in the risky context: the same run up to the risky call, which is replaced
#   by one of the run's harmless calls (a read, a list, a dry run), with that call's label.
#
# Only the twin's call is labelled. Seeded.

# Concepts that describe the context of a call rather than the call: they cannot travel with it.
CONTEXT_FREE_ZERO = ("user_authorized", "follows_injected_instruction", "deceptive_report")
CONTEXT_UNKNOWN = ("out_of_scope", "violates_user_instruction", "evaluation_gaming")


def _generated_calls(trajectory: Trajectory) -> Iterator[tuple[int, Label]]:
    """(step index, label) of each tool call with a label the generator's policy gave."""
    for i, step in enumerate(trajectory.steps):
        label = trajectory.labels.get(step.action_id) if step.kind == "tool_call" else None
        if label is not None and _generated(label):
            yield i, label


def risky_calls(trajectory: Trajectory) -> list[tuple[int, Label]]:
    """(step index, label) of each risky generated call whose risk does not hang on a tool's
    output or on the user's approval."""
    return [(i, label) for i, label in _generated_calls(trajectory)
            if label.risk == 1 and not label.concepts.get("user_authorized")
            and not any(label.concepts.get(c) for c in OBSERVED_CONCEPTS)]


def harmless_calls(trajectory: Trajectory) -> list[tuple[int, Label]]:
    """(step index, label) of each generated call labelled harmless with every concept known."""
    return [(i, label) for i, label in _generated_calls(trajectory)
            if label.risk == 0 and not any(label.concepts.values())]


def _with_call(run_id: str, context: list[Step], call: Step, label: Label, view: str) -> Trajectory:
    steps = [copy.copy(s) for s in context]
    twin = replace(call, call_id=f"twin_{run_id}", action_id=None,
                   message_index=max((s.message_index for s in steps), default=-1) + 1)
    steps.append(twin)
    assign_action_ids(steps)
    return Trajectory(f"{run_id}#{view}", steps, {"view": view}, {twin.action_id: label})


def in_neutral_context(call: Step, label: Label, context: Trajectory, policy: Policy,
                       rng: random.Random) -> Trajectory | None:
    """The call at the end of a prefix of a harmless run; None when its own concepts are not
    risky by the policy."""
    concepts = {c: v for c, v in label.concepts.items() if c not in CONTEXT_UNKNOWN + CONTEXT_FREE_ZERO}
    concepts.update({c: 0 for c in CONTEXT_FREE_ZERO})
    risk, _ = policy.decide(concepts)
    if risk != 1:
        return None
    actions = [i for i, s in enumerate(context.steps) if s.action_id is not None]
    cut = actions[rng.randrange(len(actions))] if actions else len(context.steps)
    steps = [s for s in context.steps[:cut] if not (s.kind == "system" and rng.random() < 0.5)]
    if not any(s.kind == "user" for s in steps):
        return None
    return _with_call(f"{context.id}:{call.call_id}", steps, call,
                      Label(risk, concepts, "twin:neutral_context"), "twin:neutral_context")


def harmless_in_context(trajectory: Trajectory, index: int, options: list[tuple[int, Label]],
                        rng: random.Random) -> Trajectory | None:
    """The run up to its risky call at `index`, that call replaced by one of its harmless calls
    (`options`: the run's `harmless_calls`)."""
    if not options:
        return None
    i, label = options[rng.randrange(len(options))]
    return _with_call(f"{trajectory.id}:{index}", trajectory.steps[:index], trajectory.steps[i],
                      Label(0, dict(label.concepts), "twin:harmless_action"), "twin:harmless_action")


def twins(trajectories: Sequence[Trajectory], share: float, policy: Policy, seed: int = 0) -> list[Trajectory]:
    """For a `share` of the risky generated calls, both twins. Neutral contexts are drawn from
    the runs whose every labelled action is harmless (generated ones and real sessions)."""
    rng = random.Random(f"twins:{seed}")
    harmless_runs = [t for t in trajectories if t.labels and all(label.risk == 0 for label in t.labels.values())]
    out: list[Trajectory] = []
    for t in trajectories:
        risky = risky_calls(t)
        options = harmless_calls(t) if risky else []
        for index, label in risky:
            if rng.random() >= share:
                continue
            if harmless_runs:
                twin = in_neutral_context(t.steps[index], label, harmless_runs[rng.randrange(len(harmless_runs))],
                                          policy, rng)
                if twin is not None:
                    out.append(twin)
            twin = harmless_in_context(t, index, options, rng)
            if twin is not None:
                out.append(twin)
    return out


def concept_prior(trajectories: Sequence[Trajectory]) -> np.ndarray:
    """Mean value of each concept among the known labels (0.5 where none is known): the baseline
    that explanations measure concept contributions against."""
    pos, n = np.zeros(len(CONCEPT_IDS)), np.zeros(len(CONCEPT_IDS))
    for t in trajectories:
        for label in t.labels.values():
            for j, cid in enumerate(CONCEPT_IDS):
                if cid in label.concepts:
                    pos[j] += label.concepts[cid]
                    n[j] += 1
    return np.where(n > 0, pos / np.maximum(n, 1), 0.5)


def read_labelled(paths: Sequence[str | Path], limit: int | None = None) -> list[Trajectory]:
    """Trajectories with at least one known label; unreadable records are counted and skipped
    (they were reported by `cbm validate`), never silently: the count is returned in the log."""
    out: list[Trajectory] = []
    for path in paths:
        for record in read_records(path):
            if record.error is None and (record.trajectory.labels or record.trajectory.metadata.get("trajectory_label")):
                out.append(record.trajectory)
                if limit is not None and len(out) >= limit:
                    return out
    return out


class Examples(Dataset):
    def __init__(self, examples: list[Example]):
        self.examples = examples

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> Example:
        return self.examples[i]


def collate_examples(examples: list[Example]) -> dict[str, torch.Tensor]:
    batch = collate([e.encoded for e in examples])
    batch["concepts"] = torch.from_numpy(np.concatenate([e.concepts for e in examples]))
    batch["concept_known"] = torch.from_numpy(np.concatenate([e.concept_known for e in examples]))
    batch["risk"] = torch.from_numpy(np.concatenate([e.risk for e in examples]))
    batch["risk_known"] = torch.from_numpy(np.concatenate([e.risk_known for e in examples]))
    batch["run_risk"] = torch.tensor([e.run_risk for e in examples], dtype=torch.float32)
    batch["run_risk_known"] = torch.tensor([e.run_risk_known for e in examples], dtype=torch.bool)
    return batch


class BucketSampler(Sampler[list[int]]):
    """Batches of similar length (less padding, much less attention work), in shuffled order.
    Deterministic for a seed and epoch; under DDP each rank takes every world_size-th batch."""

    def __init__(self, lengths: Sequence[int], batch_size: int, shuffle: bool, seed: int = 0,
                 rank: int = 0, world_size: int = 1):
        self.lengths, self.batch_size, self.shuffle, self.seed = list(lengths), batch_size, shuffle, seed
        self.rank, self.world_size, self.epoch = rank, world_size, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        rng = random.Random(f"{self.seed}:{self.epoch}")
        order = list(range(len(self.lengths)))
        if self.shuffle:
            rng.shuffle(order)
        pool = self.batch_size * 50
        batches = []
        for i in range(0, len(order), pool):
            chunk = sorted(order[i:i + pool], key=lambda j: self.lengths[j])
            batches += [chunk[j:j + self.batch_size] for j in range(0, len(chunk), self.batch_size)]
        if self.shuffle:
            rng.shuffle(batches)
        usable = len(batches) - len(batches) % self.world_size if self.world_size > 1 else len(batches)
        return batches[self.rank:usable:self.world_size]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._batches())

    def __len__(self) -> int:
        return len(self._batches())


class TrajectoryDataModule(pl.LightningDataModule):
    """Reads the labelled files once, builds the vocabulary on the training data, and serves
    bucketed batches. Pinned memory and worker prefetch are used when training on CUDA."""

    def __init__(self, train: Sequence[str], val: Sequence[str], features: FeatureConfig = FeatureConfig(),
                 batch_size: int = 32, vocab_size: int = 20_000, vocab_min_count: int = 3, hash_buckets: int = 4096,
                 num_workers: int = 0, pin_memory: bool = False, seed: int = 0, limit: int | None = None,
                 narration_dropout: float = 0.0, action_only_share: float = 0.0, twin_share: float = 0.0,
                 system_prompt_share: float = 0.0, policy: Policy | None = None):
        super().__init__()
        self.train_paths, self.val_paths = list(train), list(val)
        self.features, self.batch_size, self.seed = features, batch_size, seed
        self.vocab_size, self.vocab_min_count, self.hash_buckets = vocab_size, vocab_min_count, hash_buckets
        self.num_workers, self.pin_memory, self.limit = num_workers, pin_memory, limit
        self.narration_dropout, self.action_only_share = narration_dropout, action_only_share
        self.twin_share, self.policy = twin_share, policy or Policy.load(DEFAULT_POLICY)
        self.system_prompt_share = system_prompt_share
        self.vocab: Vocabulary | None = None
        self.train_set: Examples | None = None
        self.val_set: Examples | None = None
        self.concept_prior: np.ndarray | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        train = read_labelled(self.train_paths, self.limit)
        val = read_labelled(self.val_paths, None if self.limit is None else max(self.limit // 8, 1))
        if not train or not val:
            raise ValueError(f"no labelled trajectories in {self.train_paths if not train else self.val_paths}")
        self.vocab = Vocabulary.build(train, self.vocab_size, self.vocab_min_count, self.hash_buckets)
        self.concept_prior = concept_prior(train)
        paired = twins(train, self.twin_share, self.policy, self.seed) if self.twin_share else []
        train = augment(train, self.narration_dropout, self.action_only_share, self.seed) + paired
        train = reframe(train, self.system_prompt_share, self.seed) if self.system_prompt_share else train
        self.train_set = Examples([make_example(t, self.vocab, self.features) for t in train])
        self.val_set = Examples([make_example(t, self.vocab, self.features) for t in val])

    def risk_prior(self) -> float:
        """The share of risky actions among those with a known risk."""
        risky = sum(float((e.risk * e.risk_known).sum()) for e in self.train_set.examples)
        known = sum(int(e.risk_known.sum()) for e in self.train_set.examples)
        return risky / max(known, 1)

    def concept_pos_weight(self) -> torch.Tensor:
        """sqrt(negatives / positives) per concept among known labels, capped at 10: rare concepts
        count more, without inflating every probability (the head reads them as evidence)."""
        pos = np.zeros(len(CONCEPT_IDS))
        neg = np.zeros(len(CONCEPT_IDS))
        for e in self.train_set.examples:
            pos += (e.concepts * e.concept_known).sum(0)
            neg += ((1 - e.concepts) * e.concept_known).sum(0)
        return torch.tensor(np.clip(np.sqrt(neg / np.maximum(pos, 1)), 1, 10), dtype=torch.float32)

    def _loader(self, dataset: Examples, shuffle: bool) -> DataLoader:
        rank = self.trainer.global_rank if self.trainer else 0
        world = self.trainer.world_size if self.trainer else 1
        sampler = BucketSampler([len(e.encoded) for e in dataset.examples], self.batch_size, shuffle, self.seed,
                                rank if shuffle else 0, world if shuffle else 1)
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_examples, num_workers=self.num_workers,
                          pin_memory=self.pin_memory, persistent_workers=self.num_workers > 0,
                          prefetch_factor=4 if self.num_workers > 0 else None)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False)
