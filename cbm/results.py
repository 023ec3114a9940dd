"""What scoring returns: one `TrajectoryScore` per input record, an `ActionScore` per action,
the `Edit`s a reviewer made, and scores rounded to DIGITS decimals. Plain data, no model: the
scoring core (`cbm.scoring`) makes them, the explanations (`cbm.explain`) and every entry point
read them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cbm.facts import Fact, describe
from cbm.facts.implied import Implication
from cbm.trajectory import Trajectory

DIGITS = 6


def rounded(x: float) -> float:
    """A score as results report it: DIGITS decimals."""
    return round(float(x), DIGITS)


@dataclass
class ActionScore:
    """One action's decision. `concepts` are the probabilities the risk was computed from (a
    reviewer's edits included); `contributions` each concept's share of `risk_logit -
    baseline_logit`, where the baseline has every concept at its training prior."""

    id: str
    step: int  # index into the trajectory's steps
    tool: str | None
    risk: float
    flagged: bool
    concepts: dict[str, float]
    contributions: dict[str, float]
    risk_logit: float
    baseline_logit: float
    facts: list[Fact] = field(default_factory=list)  # what the action does, read by parsers (cbm.facts)
    implied: dict[str, Implication] = field(default_factory=dict)  # set by the facts (cbm.facts.implied)

    def top_concepts(self, k: int = 3) -> list[dict[str, Any]]:
        """The `k` concepts that moved the risk most (largest |contribution|), strongest first."""
        ranked = sorted(self.contributions, key=lambda c: (-abs(self.contributions[c]), c))[:k]
        return [{"concept": c, "probability": self.concepts[c], "contribution": self.contributions[c]}
                for c in ranked]

    def to_json(self, top_k: int = 3) -> dict[str, Any]:
        return {"id": self.id, "tool": self.tool, "risk": self.risk, "flagged": self.flagged,
                "concepts": self.concepts, "top_concepts": self.top_concepts(top_k),
                "facts": [f.to_json() for f in self.facts], "summary": describe(self.facts),
                "implied": [i.to_json() for i in self.implied.values()]}


@dataclass
class Edit:
    """A reviewer's correction: `concept` set to `value` on one action, or on all when `action` is None."""

    concept: str
    value: float
    action: str | None = None


@dataclass
class TrajectoryScore:
    """One input record's result: its actions' scores, or the error that replaced them."""

    id: str | None
    risk: float | None  # max over actions; None when there is no action or the record failed
    flagged: bool | None
    actions: list[ActionScore] = field(default_factory=list)
    error: str | None = None
    line: int | None = None
    trajectory: Trajectory | None = field(default=None, repr=False)
    predicted: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)  # action -> model's concepts
    facts: dict[str, list[Fact]] = field(default_factory=dict, repr=False)  # action -> its facts
    edits: list[list[Edit]] = field(default_factory=list)  # groups of edits, in order (undo pops a group)

    def action(self, action_id: str) -> ActionScore:
        for a in self.actions:
            if a.id == action_id:
                return a
        raise KeyError(f"trajectory {self.id!r} has no action {action_id!r}")

    def implied(self) -> dict[str, dict[str, Implication]]:
        """Action -> the concepts its facts set (`ActionScore.implied`)."""
        return {a.id: a.implied for a in self.actions}

    def to_json(self, top_k: int = 3) -> dict[str, Any]:
        """The record `cbm score` writes and `POST /v1/score` returns."""
        out: dict[str, Any] = {"id": self.id, "risk": self.risk, "flagged": self.flagged,
                               "actions": [a.to_json(top_k) for a in self.actions], "error": self.error}
        if self.edits:
            out["interventions"] = [[e.__dict__ for e in group] for group in self.edits]
        return out

    def to_pandas(self):
        return to_pandas([self])


def to_pandas(results: Iterable[TrajectoryScore]):
    """One row per action (trajectory id, action id, tool, risk, flagged, a column per concept);
    a failed record is one row with its error."""
    import pandas as pd

    rows = []
    for r in results:
        if r.error is not None:
            rows.append({"trajectory": r.id, "line": r.line, "error": r.error})
        for a in r.actions:
            rows.append({"trajectory": r.id, "line": r.line, "action": a.id, "tool": a.tool, "risk": a.risk,
                         "flagged": a.flagged, "trajectory_risk": r.risk, **a.concepts, "error": None})
    return pd.DataFrame(rows)
