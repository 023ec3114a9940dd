"""Trajectory -> model input: token ids for the whole run, which step each token belongs to, and
where each action's tokens are, plus the character span every token came from.

One sequence per trajectory lets the model score all its actions in one pass: a token may look
at tokens of its own step and of earlier steps only (see `ConceptEncoder`), so an action is
judged in its context (the user's task and constraints, earlier outputs) but never with its own
result, exactly as it would be before it runs.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from cbm.tokenizer import tokenize
from cbm.trajectory import Trajectory

SPECIALS = ("<pad>", "[system]", "[user]", "[assistant]", "[call]", "[args]", "[result]", "[error]", "[cut]",
            "<decoded>", "<hex>", "<token>", "<num>")
PAD = 0
SEGMENTS = ("pad", "system", "user", "assistant", "tool_call", "tool_result")
FIELD_MARKER, FIELD_TEXT, FIELD_TOOL_NAME = -1, 0, 1
ORIGIN_NONE, ORIGIN_USER, ORIGIN_OUTPUT = 0, 1, 2  # bits: where an agent's piece appeared before
N_ORIGINS = 4


@dataclass(frozen=True)
class FeatureConfig:
    """How much of each step the model reads. Caps are in pieces; a longer tool output keeps its
    head and tail around a `[cut]` marker, since errors and summaries sit at either end."""

    max_tokens: int = 768
    cap_system: int = 32
    cap_user: int = 160
    cap_assistant: int = 96
    cap_tool_call: int = 128
    cap_tool_result: int = 64
    result_tail: int = 16

    def cap(self, kind: str) -> int:
        return getattr(self, f"cap_{kind}")


class Vocabulary:
    """Known pieces get their own id; any other piece one of `hash_buckets` shared ids chosen by a
    stable hash, so names never seen in training still map to something consistent."""

    def __init__(self, pieces: Iterable[str], hash_buckets: int = 4096):
        self.pieces = list(SPECIALS) + [p for p in pieces if p not in SPECIALS]
        self.index = {p: i for i, p in enumerate(self.pieces)}
        self.hash_buckets = hash_buckets

    def __len__(self) -> int:
        return len(self.pieces) + self.hash_buckets

    def id(self, piece: str) -> int:
        found = self.index.get(piece)
        if found is not None:
            return found
        return len(self.pieces) + zlib.crc32(piece.encode("utf-8")) % self.hash_buckets

    @classmethod
    def build(cls, trajectories: Iterable[Trajectory], max_size: int = 20_000, min_count: int = 3,
              hash_buckets: int = 4096) -> Vocabulary:
        """The most frequent pieces of a corpus (ties broken alphabetically, for determinism)."""
        counts: Counter[str] = Counter()
        for trajectory in trajectories:
            for step in trajectory.steps:
                counts.update(p.text for p in tokenize(step.text))
                if step.tool_name:
                    counts.update(p.text for p in tokenize(step.tool_name))
        ranked = sorted((p for p, c in counts.items() if c >= min_count), key=lambda p: (-counts[p], p))
        return cls(ranked[:max_size], hash_buckets)

    def to_json(self) -> dict:
        return {"pieces": self.pieces[len(SPECIALS):], "hash_buckets": self.hash_buckets}

    @classmethod
    def from_json(cls, obj: dict) -> Vocabulary:
        return cls(obj["pieces"], obj["hash_buckets"])


@dataclass
class Encoded:
    """One trajectory as arrays. Token `t` came from step `step[t]`, field `field[t]`
    (text, tool name, or a marker), characters `start[t]:end[t]` of that field."""

    trajectory_id: str
    ids: np.ndarray  # (T,) int32
    segment: np.ndarray  # (T,) int32, index into SEGMENTS
    step: np.ndarray  # (T,) int32
    field: np.ndarray  # (T,) int32
    start: np.ndarray  # (T,) int32
    end: np.ndarray  # (T,) int32
    origin: np.ndarray  # (T,) int32: ORIGIN_* bits, for pieces of agent steps
    action_ids: list[str]
    action_span: np.ndarray  # (A, 2) token range [begin, end) of each action's step

    def __len__(self) -> int:
        return len(self.ids)


def _cap(kind: str, pieces: list, config: FeatureConfig) -> list:
    cap = config.cap(kind)
    if len(pieces) <= cap:
        return pieces
    cut = ("[cut]", -1, -1, ORIGIN_NONE)
    if kind == "tool_result":
        return pieces[: cap - config.result_tail - 1] + [cut] + pieces[-config.result_tail:]
    return pieces[: cap - 1] + [cut]


def _surface(text: str, piece: str, start: int, end: int) -> str:
    """What a piece literally says: hashes, numbers and keys by their characters, not their shape."""
    return text[start:end].lower() if piece in ("<num>", "<hex>", "<token>") else piece


def encode(trajectory: Trajectory, vocab: Vocabulary, config: FeatureConfig = FeatureConfig()) -> Encoded:
    """Tokens of every step in order. When the run is longer than `max_tokens`, the oldest
    non-user steps are emptied to their markers first: the user's words carry the task and its
    constraints, and recent steps matter most to the next action. If that is not enough, every
    step is shortened alike; each step keeps at least its marker.

    Every piece of an agent step also carries its *origin*: whether the same word, number or
    address appeared earlier in a user message, in a tool output, or both. Whether a payee,
    recipient or command came from the user or from content the agent read is what separates
    following the user from following an injection, and no vocabulary can hold every IBAN."""
    rows: list[list[tuple[int, int, int, int, int, int]]] = []  # (id, segment, field, start, end, origin)
    said_by_user: set[str] = set()
    read_in_output: set[str] = set()
    for step in trajectory.steps:
        segment = SEGMENTS.index(step.kind)
        marker = {"system": "[system]", "user": "[user]", "assistant": "[assistant]", "tool_call": "[call]",
                  "tool_result": "[error]" if step.is_error else "[result]"}[step.kind]
        row = [(vocab.id(marker), segment, FIELD_MARKER, 0, 0, ORIGIN_NONE)]
        agent = step.kind in ("tool_call", "assistant")
        if step.kind == "tool_call" and step.tool_name:
            row += [(vocab.id(t), segment, FIELD_TOOL_NAME, s, e, ORIGIN_NONE) for t, s, e in tokenize_name(step.tool_name)]
            row.append((vocab.id("[args]"), segment, FIELD_MARKER, 0, 0, ORIGIN_NONE))
        pieces = []
        for p in tokenize(step.text):
            surface = _surface(step.text, p.text, p.start, p.end)
            origin = ORIGIN_NONE
            if agent and len(surface) >= 3:
                origin = (surface in said_by_user) * ORIGIN_USER + (surface in read_in_output) * ORIGIN_OUTPUT
            pieces.append((p.text, p.start, p.end, origin))
            if step.kind == "user":
                said_by_user.add(surface)
            elif step.kind == "tool_result":
                read_in_output.add(surface)
        for text, s, e, origin in _cap(step.kind, pieces, config):
            row.append((vocab.id(text), segment, FIELD_TEXT if s >= 0 else FIELD_MARKER, max(s, 0), max(e, 0), origin))
        rows.append(row)
    total = sum(len(r) for r in rows)
    for i, step in enumerate(trajectory.steps):
        if total <= config.max_tokens:
            break
        if step.kind != "user" and step.action_id is None and len(rows[i]) > 1:
            total -= len(rows[i]) - 1
            rows[i] = rows[i][:1]
    keep = 64
    while total > config.max_tokens and keep >= 1:  # still too long: shorten every step alike
        rows = [row[:keep] for row in rows]
        total = sum(len(r) for r in rows)
        keep //= 2
    flat, step_index, spans = [], [], {}
    for i, row in enumerate(rows):
        spans[i] = (len(flat), len(flat) + len(row))
        flat.extend(row)
        step_index.extend([i] * len(row))
    arr = np.asarray(flat, dtype=np.int32).reshape(-1, 6)
    actions = [(i, s.action_id) for i, s in enumerate(trajectory.steps) if s.action_id is not None]
    return Encoded(
        trajectory_id=trajectory.id, ids=arr[:, 0], segment=arr[:, 1], step=np.asarray(step_index, dtype=np.int32),
        field=arr[:, 2], start=arr[:, 3], end=arr[:, 4], origin=arr[:, 5], action_ids=[a for _, a in actions],
        action_span=np.asarray([spans[i] for i, _ in actions], dtype=np.int64).reshape(-1, 2))


def tokenize_name(name: str) -> list[tuple[str, int, int]]:
    return [(p.text, p.start, p.end) for p in tokenize(name)]
