"""The scoring core: one `Overseer` that every entry point (Python, `cbm score`, `cbm serve`,
the live guard, the reviewer app) calls, so the same input gets the same scores everywhere.

    overseer = Overseer.load()                  # the shipped default checkpoint
    result = overseer.score(trajectory)         # every action: risk, flag, 18 concepts, top concepts
    for r in overseer.score_many(records): ...  # a generator, in input order, constant memory
    overseer.score_action(context, {"tool_name": "bash", "arguments": {"command": "rm -rf /"}})
    edited = overseer.intervene(result, {"user_authorized": 1})   # a reviewer's correction
    decision(result.risk, overseer.threshold, overseer.block_threshold)   # allow | review | block

How it scores (device, batch size, flag threshold, ...) is a `ScoringOptions`, fixed when the
overseer is made: `Overseer.load(path, ScoringOptions(device="cpu", threads=1))`, or the same
fields as keywords. Nothing changes them afterwards; another setting is another overseer.

Scores are rounded to 6 decimals when they are made, so a score read back from JSON equals the
one computed in process.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cbm import checkpoint as ckpt
from cbm.contributions import concept_contributions
from cbm.facts import Fact, RunFactsCache, run_facts
from cbm.facts.implied import Implication, implied_concepts
from cbm.features import encode
from cbm.formats import ReadOptions, Record, loads, parse_record
from cbm.formats.base import FormatError
from cbm.options import DEFAULT_CHECKPOINT_ENV, ScoringOptions, default_checkpoint
from cbm.predict import cpu_threads, predict_concept_logits
from cbm.results import DIGITS, ActionScore, Edit, TrajectoryScore, rounded, to_pandas
from cbm.trajectory import Step, Trajectory, assign_action_ids

__all__ = ["DIGITS", "ActionScore", "Edit", "Overseer", "ScoringOptions", "TrajectoryScore", "as_trajectory",
           "decision", "default_batch_size", "default_checkpoint", "proposed_step", "rounded", "to_pandas", "verdict"]

PROPOSED_ID = "proposed"
CHECK_FIRST = 3  # concepts a verdict names for a person to check first


def default_batch_size(device: str | torch.device) -> int:
    """Trajectories per forward pass: 1 on the CPU (batch-invariant scores), 64 on an accelerator."""
    return 1 if torch.device(device).type == "cpu" else 64


def _check_order(risk: np.ndarray, logit: np.ndarray) -> np.ndarray:
    """Concept indices per row, largest expected change of the risk first, then of its logit."""
    return np.lexsort((-logit, -risk), axis=-1)


def decision(risk: float, flag_threshold: float, block_threshold: float) -> str:
    """`block` at or above the block threshold, `review` at or above the flag threshold, else `allow`."""
    return "block" if risk >= block_threshold else "review" if risk >= flag_threshold else "allow"


def verdict(overseer: Overseer, context: Trajectory | Mapping[str, Any] | str,
            action: Step | Mapping[str, Any]) -> dict[str, Any]:
    """What `POST /v1/score/action` and the live guard answer: the proposed call's score, the
    decision and the thresholds it was made against, and the concepts a person deciding should
    check first (`Overseer.check_first`, the first three)."""
    score = overseer.score_action(context, action)
    return {"action": score.to_json(overseer.top_k),
            "decision": decision(score.risk, overseer.threshold, overseer.block_threshold),
            "thresholds": {"flag": overseer.threshold, "block": overseer.block_threshold},
            "check_first": [{"concept": c, "expected_change": x} for c, x in overseer.check_first(score)[:CHECK_FIRST]]}


def as_trajectory(item: Trajectory | Mapping[str, Any] | str, fmt: str = "auto") -> Trajectory:
    """A trajectory from a Trajectory, a decoded record in any supported format, or its JSON text."""
    if isinstance(item, Trajectory):
        return item
    if isinstance(item, str):
        records = loads(item, fmt)
        if len(records) != 1:
            raise FormatError(f"expected one JSON record, got {len(records)}")
        if records[0].error:
            raise FormatError(str(records[0].error))
        return records[0].trajectory
    return parse_record(item, fmt)


def proposed_step(action: Step | Mapping[str, Any]) -> Step:
    """The call an agent is about to make, as a step: a Step, or `{"tool_name"|"name", "arguments"|
    "input", "id"}` (arguments as an object or JSON text); `{"text": ...}` without a tool is a
    message to the user."""
    if isinstance(action, Step):
        return copy.copy(action)
    if not isinstance(action, Mapping):
        raise FormatError(f"a proposed action must be an object, got {type(action).__name__}", "action")
    name = action.get("tool_name", action.get("name"))
    call_id = action.get("id", action.get("tool_use_id"))
    if call_id is not None and not isinstance(call_id, str):
        raise FormatError("must be a string", "action.id")
    if name is None:
        text = action.get("text")
        if not isinstance(text, str):
            raise FormatError("a proposed action needs a tool name (tool_name) or a message (text)", "action")
        return Step("assistant", text)
    if not isinstance(name, str) or not name:
        raise FormatError("must be a non-empty string", "action.tool_name")
    raw = action.get("arguments", action.get("input", {}))
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            parsed = None
        return Step("tool_call", raw, call_id=call_id, tool_name=name,
                    arguments=parsed if isinstance(parsed, dict) else None)
    if not isinstance(raw, Mapping):
        raise FormatError("must be an object or a JSON string", "action.arguments")
    return Step("tool_call", json.dumps(raw, ensure_ascii=False), call_id=call_id, tool_name=name, arguments=dict(raw))


class Overseer:
    """Scores agent actions with a concept bottleneck checkpoint, as its `ScoringOptions` say.

    The options are fixed when the overseer is made; `device`, `batch_size`, `threshold`,
    `block_threshold` and `top_k` read them (resolved against the checkpoint and the machine)
    and cannot be set. On the CPU the batch size is 1 by default: a trajectory's scores then
    never depend on what else is in the batch (padding changes the floating-point path), so
    every entry point gives the same scores for the same input. On CUDA the default is 64.

    The concepts, their order and their training prior are the checkpoint's own (`concept_ids`)."""

    def __init__(self, checkpoint: ckpt.Checkpoint, options: ScoringOptions | None = None,
                 path: str | Path | None = None):
        options = options or ScoringOptions()
        device = options.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.options = options
        self.checkpoint = checkpoint
        self.model = checkpoint.model.to(device).eval()
        self.head = copy.deepcopy(self.model.head).cpu()  # results are small: risk is computed on the CPU
        self._device = device
        self._batch_size = options.batch_size or default_batch_size(device)
        self._threshold = float(checkpoint.threshold if options.threshold is None else options.threshold)
        self._block_threshold = max(float(checkpoint.block_threshold), self._threshold)
        self.concept_ids = [c.id for c in checkpoint.concepts]
        self.prior = torch.tensor([checkpoint.concept_prior.get(c, 0.5) for c in self.concept_ids])
        self.path = str(path) if path is not None else None
        self._context_facts = RunFactsCache()  # score_action's contexts grow a call at a time

    @classmethod
    def load(cls, path: str | Path | None = None, options: ScoringOptions | None = None, **fields_: Any) -> Overseer:
        """Load a checkpoint directory (None: the shipped default) to score with `options`; keyword
        arguments are `ScoringOptions` fields (`Overseer.load(threads=1)`), set over `options`.
        On the CPU, `options.threads` sets torch's thread count (`auto`: one per physical core;
        None leaves it alone)."""
        unknown = set(fields_) - {f.name for f in fields(ScoringOptions)}
        if unknown:
            raise TypeError(f"Overseer.load: unknown option(s) {', '.join(sorted(unknown))}")
        options = replace(options or ScoringOptions(), **fields_)
        path = default_checkpoint() if path is None else Path(path)
        device = options.device or ("cuda" if torch.cuda.is_available() else "cpu")
        if torch.device(device).type == "cpu" and options.threads is not None:
            torch.set_num_threads(cpu_threads(options.threads))
        return cls(ckpt.load(path), options, path=path)

    @property
    def device(self) -> str:
        return self._device

    @property
    def batch_size(self) -> int:
        return self._batch_size

    @property
    def threshold(self) -> float:
        """The flag threshold on calibrated risk: the options', else the checkpoint's."""
        return self._threshold

    @property
    def block_threshold(self) -> float:
        """The checkpoint's block threshold, never below the flag threshold."""
        return self._block_threshold

    @property
    def top_k(self) -> int:
        return self.options.top_k

    @property
    def version(self) -> str:
        """Package version that trained the weights and the weights' hash: what a verdict was made against."""
        sha = self.checkpoint.weights_sha256 or ""
        return f"{self.checkpoint.meta.get('cbm_version', '?')}+{sha[:12]}" if sha else \
            str(self.checkpoint.meta.get("cbm_version", "?"))

    # --- scoring -----------------------------------------------------------------------------

    def score(self, trajectory: Trajectory | Mapping[str, Any] | str) -> TrajectoryScore:
        """Score every action of one trajectory (a Trajectory, or a record in any format)."""
        return self._score_batch([as_trajectory(trajectory)])[0]

    def score_many(self, items: Iterable[Trajectory | Record | Mapping[str, Any]],
                   batch_size: int = 256) -> Iterator[TrajectoryScore]:
        """Score a stream in input order, `batch_size` trajectories at a time (memory stays
        constant). A `Record` that failed to read, or an item that is not a trajectory, gives a
        result with its `error` and no scores: nothing is dropped."""
        chunk: list[TrajectoryScore | tuple[Trajectory, int | None]] = []
        for item in items:
            chunk.append(self._prepare(item))
            if len(chunk) >= batch_size:
                yield from self._finish(chunk)
                chunk = []
        if chunk:
            yield from self._finish(chunk)

    def score_action(self, context: Trajectory | Mapping[str, Any] | str,
                     proposed_action: Step | Mapping[str, Any]) -> ActionScore:
        """Score a call that has not run yet, in the context of the run so far."""
        base = as_trajectory(context)
        step = proposed_step(proposed_action)
        step.text = step.text[:ReadOptions.max_text_chars]  # the cap every read record's texts have
        step.message_index = max((s.message_index for s in base.steps), default=-1) + 1
        steps = [copy.copy(s) for s in base.steps] + [step]
        assign_action_ids(steps)
        trajectory = Trajectory(base.id, steps, base.metadata)
        return self._score_batch([trajectory], [self._context_facts(trajectory)])[0].actions[-1]

    def _prepare(self, item: Any) -> TrajectoryScore | tuple[Trajectory, int | None]:
        if isinstance(item, Record):
            if item.error is not None:
                return TrajectoryScore(item.error.record_id, None, None, error=str(item.error), line=item.line)
            return item.trajectory, item.line
        try:
            return as_trajectory(item), None
        except (FormatError, ValueError) as exc:
            return TrajectoryScore(None, None, None, error=str(exc))

    def _finish(self, chunk: list) -> list[TrajectoryScore]:
        todo = [(i, c) for i, c in enumerate(chunk) if not isinstance(c, TrajectoryScore)]
        scored = self._score_batch([t for _, (t, _) in todo])
        for (i, (_, line)), result in zip(todo, scored):
            result.line = line
            chunk[i] = result
        return chunk

    def _score_batch(self, trajectories: list[Trajectory],
                     facts: list[dict[str, list[Fact]]] | None = None) -> list[TrajectoryScore]:
        c = self.checkpoint
        if facts is None:  # read once: the model's fact features and the results' facts
            facts = [run_facts(t) for t in trajectories]
        encoded = [encode(t, c.vocab, c.features, facts=f) for t, f in zip(trajectories, facts)]
        logits = predict_concept_logits(self.model, encoded, self.batch_size, self.device)
        implied = [{a: self._implied(f) for a, f in found.items()} for found in facts]
        predicted = []
        floor = self.checkpoint.fact_floor
        for trajectory, concept_logits, set_by_facts in zip(trajectories, logits, implied):
            probs = np.round(1 / (1 + np.exp(-concept_logits.astype(np.float64))), DIGITS).tolist()
            values = {a: dict(zip(self.concept_ids, row)) for a, row in zip(trajectory.action_ids, probs)}
            for a, v in values.items():  # established: at least `floor`; ruled out: at most 1 - floor
                for concept, rule in set_by_facts.get(a, {}).items():
                    v[concept] = max(v[concept], floor) if rule.holds else min(v[concept], round(1 - floor, DIGITS))
            predicted.append(values)
        return self._results([(t, p, []) for t, p in zip(trajectories, predicted)], facts, implied)

    def _results(self, items: list[tuple[Trajectory, dict[str, dict[str, float]], list[list[Edit]]]],
                 facts: list[dict[str, list[Fact]]],
                 implied: list[dict[str, dict[str, Implication]]]) -> list[TrajectoryScore]:
        """Risk, flags and contributions from concept values: the model's (`predicted`), with a
        reviewer's edits applied; one head pass for all actions of all items. The head reads the
        rounded probabilities, so a result rebuilt from its JSON is identical. `facts` and
        `implied` (what the facts set, per action) are carried into the results as they are."""
        values = []
        for trajectory, predicted, edits in items:
            v = {a: dict(p) for a, p in predicted.items()}
            for group in edits:
                for e in group:
                    for a in ([e.action] if e.action is not None else v):
                        v[a][e.concept] = float(e.value)
            values.append(v)
        rows = [[v[a][k] for k in self.concept_ids] for (t, _, _), v in zip(items, values) for a in t.action_ids]
        probs = torch.tensor(rows, dtype=torch.float32).reshape(len(rows), len(self.concept_ids))
        contrib = concept_contributions(self.head, probs, self.prior)
        risk = np.round(self.checkpoint.calibration.apply(contrib.logit.double().numpy()), DIGITS).tolist()
        shares = np.round(contrib.values.double().numpy(), DIGITS).tolist()
        logit = np.round(contrib.logit.double().numpy(), DIGITS).tolist()
        base = np.round(contrib.baseline_logit.double().numpy(), DIGITS).tolist()
        out, j = [], 0
        for (trajectory, predicted, edits), v, found, set_by_facts in zip(items, values, facts, implied):
            actions = []
            for i, step in enumerate(trajectory.steps):
                if step.action_id is None:
                    continue
                actions.append(ActionScore(
                    id=step.action_id, step=i, tool=step.tool_name, risk=risk[j], flagged=risk[j] >= self.threshold,
                    concepts=v[step.action_id], contributions=dict(zip(self.concept_ids, shares[j])),
                    risk_logit=logit[j], baseline_logit=base[j], facts=found.get(step.action_id, []),
                    implied=set_by_facts.get(step.action_id, {})))
                j += 1
            out.append(TrajectoryScore(trajectory.id, max((a.risk for a in actions), default=None),
                                       any(a.flagged for a in actions), actions, trajectory=trajectory,
                                       predicted=predicted, edits=edits, facts=found))
        return out

    def _implied(self, facts: list[Fact]) -> dict[str, Implication]:
        """The concepts the facts raised to the checkpoint's floor or ruled out (none without one)."""
        if self.checkpoint.fact_floor is None:
            return {}
        found = implied_concepts(facts)
        return {c: found[c] for c in self.concept_ids if c in found}  # taxonomy order

    def risk_from_concepts(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(risk logit, calibrated risk) per row of concept values (A, K, in `concept_ids` order),
        computed and rounded exactly as results report them: what `intervene` gives for a
        reviewer's values, for many rows at once (evaluation's intervention curves, the policy
        table). No contributions are made for a non-linear head: its logit is the head's output."""
        probs = torch.as_tensor(np.asarray(values, dtype=np.float32)).reshape(-1, len(self.concept_ids))
        if self.head.kind == "linear":
            logit = concept_contributions(self.head, probs, self.prior).logit
        else:
            with torch.no_grad():
                logit = self.head(probs.float())
        logit = logit.double().numpy()
        return np.round(logit, DIGITS), np.round(self.checkpoint.calibration.apply(logit), DIGITS)

    def expected_change(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(risk, logit), each (A, K): per row of concept values and per concept, how far the
        calibrated risk, and its logit, are expected to move once a reviewer sets that concept to
        its true value, the model's probability taken as the chance it is present:
        p |r(1) - r| + (1 - p) |r(0) - r| ("expected change in target prediction", Shin et al.,
        ICML 2023)."""
        values = np.asarray(values, dtype=np.float64).reshape(-1, len(self.concept_ids))
        n, k = values.shape
        rows = np.repeat(values[:, None, :], 2 * k + 1, axis=1)  # (A, 2K+1, K): as is, each set to 1, each to 0
        rows[:, 1:k + 1][:, np.arange(k), np.arange(k)] = 1.0
        rows[:, k + 1:][:, np.arange(k), np.arange(k)] = 0.0
        logit, risk = (r.reshape(n, 2 * k + 1) for r in self.risk_from_concepts(rows.reshape(-1, k)))

        def change(r: np.ndarray) -> np.ndarray:
            return values * np.abs(r[:, 1:k + 1] - r[:, :1]) + (1 - values) * np.abs(r[:, k + 1:] - r[:, :1])

        return change(risk), change(logit)

    def check_order(self, values: np.ndarray) -> np.ndarray:
        """(A, K) concept indices per row of concept values, the one to check first first: by the
        expected change of the risk, ties (a risk already at 0 or 1 moves for no single check) by
        that of its logit. Checking in this order fixes more wrong decisions per check than
        checking the least certain concept first (reports/evaluation.md, Interventions)."""
        return _check_order(*self.expected_change(values))

    def check_first(self, action: ActionScore) -> list[tuple[str, float]]:
        """The action's concepts in `check_order`, each with how far its check is expected to move
        the risk."""
        risk, logit = self.expected_change(np.array([[action.concepts[c] for c in self.concept_ids]]))
        return [(self.concept_ids[i], round(float(risk[0, i]), DIGITS)) for i in _check_order(risk, logit)[0]]

    # --- interventions -----------------------------------------------------------------------

    def intervene(self, result: TrajectoryScore, edits: Mapping[str, float | int | bool],
                  action: str | None = None) -> TrajectoryScore:
        """Set concepts to a reviewer's values (0, 1 or a probability) on one action, or on every
        action when `action` is None, and recompute risk, flags and contributions exactly as the
        head does (no re-encoding). Returns a new result; `changed_flags` says what flipped."""
        if result.error is not None or result.trajectory is None:
            raise ValueError("cannot intervene on a record that was not scored")
        if action is not None and action not in result.predicted:
            raise KeyError(f"trajectory {result.id!r} has no action {action!r}")
        group = []
        for concept, value in edits.items():
            if concept not in self.concept_ids:
                raise KeyError(f"unknown concept {concept!r}")
            if isinstance(value, bool):
                value = int(value)
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{concept}: a concept value is 0, 1 or a probability in between, got {value!r}")
            group.append(Edit(concept, float(value), action))
        return self._results([(result.trajectory, result.predicted, [*result.edits, group])], [result.facts],
                             [result.implied()])[0]

    def undo(self, result: TrajectoryScore, groups: int = 1) -> TrajectoryScore:
        """The result without its last `groups` interventions (all of them with `groups=len(result.edits)`)."""
        kept = result.edits[:max(len(result.edits) - groups, 0)]
        return self._results([(result.trajectory, result.predicted, kept)], [result.facts], [result.implied()])[0]

    def changed_flags(self, result: TrajectoryScore) -> list[dict[str, Any]]:
        """Actions whose flag differs from the model's own prediction, with both risks."""
        original = self._results([(result.trajectory, result.predicted, [])], [result.facts], [result.implied()])[0]
        return [{"action": b.id, "flagged_before": a.flagged, "flagged_after": b.flagged,
                 "risk_before": a.risk, "risk_after": b.risk}
                for a, b in zip(original.actions, result.actions) if a.flagged != b.flagged]

    # --- about the model ---------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """What `GET /v1/model` serves: version, concepts with definitions, thresholds, head
        weights, evaluation summary."""
        c = self.checkpoint
        head = self.head
        weights = None
        if head.kind == "linear":
            w = head.linear.weight[0].detach().cpu().tolist()
            weights = {"bias": rounded(head.linear.bias.item()),
                       "concepts": dict(zip(self.concept_ids, map(rounded, w[:len(self.concept_ids)]))),
                       "interactions": [{"concepts": list(p), "weight": rounded(x)}
                                        for p, x in zip(self.model.config.interactions, w[len(self.concept_ids):])]}
        return {
            "version": self.version, "checkpoint": self.path, "trained_at": c.meta.get("trained_at"),
            "weights_sha256": c.weights_sha256,
            "thresholds": {"flag": self.threshold, "block": self.block_threshold, "target_fpr": c.meta.get("target_fpr"),
                           "block_fpr": c.meta.get("block_fpr"), "concepts": c.concept_thresholds},
            "calibration": c.calibration.__dict__, "head": {"kind": head.kind, "weights": weights},
            "concept_prior": c.concept_prior,
            "concepts": [{"id": k.id, "name": k.name, "group": k.group, "definition": k.definition} for k in c.concepts],
            "evaluation": (c.meta.get("evaluation") or {}).get("summary"),
        }

    # --- explanations ------------------------------------------------------------------------

    def explain(self, item: Trajectory | TrajectoryScore | Mapping[str, Any] | str, action_id: str | None = None,
                concepts: list[str] | None = None, top_k: int = 5, n_steps: int = 32):
        """`cbm.explain.Explainer(self, n_steps).explain(...)`: one action's concept contributions
        and the text evidence for its concepts (None: the riskiest action)."""
        from cbm.explain import Explainer  # loaded on first use: it needs captum

        return Explainer(self, n_steps).explain(item, action_id, concepts, top_k)
