"""The trajectory: what an agent was asked, what it did, what its tools answered.

Every reader in `cbm.formats` produces these objects and every later stage (features,
concepts, risk, explanations, review) reads them. Texts keep their exact characters so
that explanations can point at character spans of the original messages.

An *action* is what the oversight model judges: every tool call, and every assistant
message that speaks to the user without calling a tool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cbm.concepts import CONCEPT_IDS

StepKind = Literal["system", "user", "assistant", "tool_call", "tool_result"]
STEP_KINDS: tuple[str, ...] = ("system", "user", "assistant", "tool_call", "tool_result")


@dataclass
class Step:
    """One event of a run, in order.

    `text` is the message content; for a tool call it is the raw argument text exactly as the
    agent wrote it, for a tool result the tool's output. `message_index` is the position of
    the source message in the input message list, so several steps can share it (an assistant
    message with two tool calls gives two `tool_call` steps).
    """

    kind: StepKind
    text: str = ""
    message_index: int = 0
    call_id: str | None = None  # tool_call: the format's own id; tool_result: action id of its call
    tool_name: str | None = None
    arguments: dict[str, Any] | None = None  # tool_call: parsed arguments; None if not valid JSON
    is_error: bool = False  # tool_result: the tool reported a failure
    action_id: str | None = None  # set on steps that are actions

    @property
    def arguments_valid(self) -> bool:
        return self.kind != "tool_call" or self.arguments is not None


@dataclass
class Label:
    """What is known about one action. `concepts` maps concept id -> 0/1; a concept that is
    absent is *unknown*, not false. `risk` is None when unknown. `source` says where the label
    came from (a generator's policy, an importer's rule, a reviewer)."""

    risk: int | None = None
    concepts: dict[str, int] = field(default_factory=dict)
    source: str | None = None

    def __post_init__(self) -> None:
        if self.risk is not None and self.risk not in (0, 1):
            raise ValueError(f"risk must be 0 or 1, got {self.risk!r}")
        for cid, value in self.concepts.items():
            if cid not in CONCEPT_IDS:
                raise ValueError(f"unknown concept {cid!r}")
            if value not in (0, 1):
                raise ValueError(f"concept {cid!r} must be 0 or 1, got {value!r}")

    @property
    def complete(self) -> bool:
        """True when every concept of the taxonomy is known."""
        return len(self.concepts) == len(CONCEPT_IDS)

    @classmethod
    def from_json(cls, obj: Any) -> Label:
        """Read either `{"risk", "concepts": [ids that hold]}` (every other concept false) or
        `{"risk", "concepts": {id: 0|1}}` (missing ids unknown)."""
        if not isinstance(obj, dict):
            raise ValueError(f"a label must be an object, got {type(obj).__name__}")
        unknown_keys = set(obj) - {"risk", "concepts", "source"}
        if unknown_keys:
            raise ValueError(f"unknown label field(s) {sorted(unknown_keys)}")
        risk = obj.get("risk")
        if isinstance(risk, bool):
            risk = int(risk)
        if risk is not None and not isinstance(risk, int):
            raise ValueError(f"risk must be 0, 1 or null, got {risk!r}")
        raw = obj.get("concepts", {})
        if isinstance(raw, list):
            for cid in raw:
                if not isinstance(cid, str):
                    raise ValueError(f"concept ids must be strings, got {cid!r}")
                if cid not in CONCEPT_IDS:
                    raise ValueError(f"unknown concept {cid!r}")
            concepts = {cid: int(cid in raw) for cid in CONCEPT_IDS}
        elif isinstance(raw, dict):
            concepts = {}
            for cid, value in raw.items():
                if cid not in CONCEPT_IDS:
                    raise ValueError(f"unknown concept {cid!r}")
                if value is None:
                    continue  # explicit unknown
                if isinstance(value, bool):
                    value = int(value)
                if not isinstance(value, int):
                    raise ValueError(f"concept {cid!r} must be 0, 1 or null, got {value!r}")
                concepts[cid] = value
        else:
            raise ValueError("concepts must be a list of ids or an {id: 0|1} map")
        source = obj.get("source")
        if source is not None and not isinstance(source, str):
            raise ValueError("source must be a string")
        return cls(risk=risk, concepts=concepts, source=source)

    def to_json(self) -> dict[str, Any]:
        """The list form when every concept is known, the map form otherwise."""
        out: dict[str, Any] = {"risk": self.risk}
        if self.complete:
            out["concepts"] = [cid for cid in CONCEPT_IDS if self.concepts[cid]]
        else:
            out["concepts"] = {cid: self.concepts[cid] for cid in CONCEPT_IDS if cid in self.concepts}
        if self.source is not None:
            out["source"] = self.source
        return out


@dataclass
class Trajectory:
    """A run of an agent: an id, free-form metadata, ordered steps and optional labels keyed
    by action id. `metadata["ingest"]` records what the reader had to do to the input
    (relinked tool results, truncated texts, arguments that were not valid JSON)."""

    id: str
    steps: list[Step]
    metadata: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)

    @property
    def actions(self) -> list[Step]:
        """The steps the oversight model judges, in order."""
        return [s for s in self.steps if s.action_id is not None]

    @property
    def action_ids(self) -> list[str]:
        return [s.action_id for s in self.steps if s.action_id is not None]

    def action(self, action_id: str) -> Step:
        for step in self.steps:
            if step.action_id == action_id:
                return step
        raise KeyError(f"trajectory {self.id!r} has no action {action_id!r}")

    @property
    def risk(self) -> int | None:
        """The run's risk label: the max over its actions; None when no action is known risky
        and some action's risk is unknown."""
        risks = [self.labels[a].risk if a in self.labels else None for a in self.action_ids]
        if any(r == 1 for r in risks):
            return 1
        if risks and all(r == 0 for r in risks):
            return 0
        return None

    def note(self, kind: str, detail: str, step: int | None = None) -> None:
        """Record something the reader did to the input, so nothing changes silently."""
        entry: dict[str, Any] = {"kind": kind, "detail": detail}
        if step is not None:
            entry["step"] = step
        notes = self.metadata.setdefault("ingest", [])
        if entry not in notes:  # a record read twice keeps one copy of each note
            notes.append(entry)


def assign_action_ids(steps: list[Step]) -> None:
    """Mark the action steps and give each a stable id.

    A tool call keeps the format's own call id (first use wins if a log repeats one). Otherwise
    the id is `msg:<message index>`; when one message holds several id-less calls they are
    `msg:<i>:<j>` in order. An assistant message that calls no tool is one action, carried by
    its last text step (a message may hold several text blocks).

    An own id that starts with `msg:` is one a writer gave an id-less call under another
    message numbering; such a call is numbered afresh like an id-less one, so that it cannot
    take the id of a message here.
    """
    calling = {s.message_index for s in steps if s.kind == "tool_call"}
    idless_calls: dict[int, list[Step]] = {}
    speaking: dict[int, Step] = {}
    seen: set[str] = set()
    for step in steps:
        step.action_id = None
        if step.kind == "tool_call":
            if step.call_id and not step.call_id.startswith("msg:") and step.call_id not in seen:
                step.action_id = step.call_id
                seen.add(step.call_id)
            else:
                idless_calls.setdefault(step.message_index, []).append(step)
        elif step.kind == "assistant" and step.message_index not in calling:
            speaking[step.message_index] = step
    for index, step in speaking.items():
        step.action_id = f"msg:{index}"
    for index, group in idless_calls.items():
        if len(group) == 1:
            group[0].action_id = f"msg:{index}"
        else:
            for j, step in enumerate(group):
                step.action_id = f"msg:{index}:{j}"
