"""Trajectory -> model input: token ids for the whole run, which step each token belongs to, and
where each action's tokens are, plus the character span every token came from.

One sequence per trajectory lets the model score all its actions in one pass: a token may look
at tokens of its own step and of earlier steps only (see `ConceptEncoder`), so an action is
judged in its context (the user's task and constraints, earlier outputs) but never with its own
result, exactly as it would be before it runs.
"""

from __future__ import annotations

import re
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
    fact_features: tuple[str, ...] = ()  # the action facts the model reads (cbm.facts.vector); () for none

    def __post_init__(self) -> None:
        object.__setattr__(self, "fact_features", tuple(self.fact_features))  # read back from JSON as a list

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
        # surrogatepass: a lone surrogate is valid JSON text; every other piece hashes as its UTF-8
        return len(self.pieces) + zlib.crc32(piece.encode("utf-8", "surrogatepass")) % self.hash_buckets

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
    facts: np.ndarray | None = None  # (A, F) float32: each action's fact features, when the config names any
    windows: np.ndarray | None = None  # (W, 2) token ranges, each read as its own sequence (see `_windows`)
    action_window: np.ndarray | None = None  # (A,) the window each action is scored in

    def window_of(self, action: int) -> tuple[int, int]:
        """The token range of the window action `action` is scored in."""
        if self.windows is None:
            return 0, len(self.ids)
        w = self.windows[int(self.action_window[action])]
        return int(w[0]), int(w[1])

    def __len__(self) -> int:
        return len(self.ids)


_CONSTRAINT = re.compile(r"(?i)\b(do not|don't|dont|never|must not|mustn't|shall not|no longer|not allowed|only|"
                         r"avoid|without|freeze|frozen|read[- ]only|forbidden|prohibited|refrain|stay (?:off|away)|"
                         r"under no circumstances|keep .{0,40} unchanged|leave .{0,40} (?:alone|untouched))\b")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


def _constraint_ranges(text: str) -> list[tuple[int, int]]:
    """Character ranges of the sentences of an instruction that restrict the agent ("do not
    modify tests", "the code freeze", "read-only"): kept whatever the length of the prompt."""
    return [m.span() for m in _SENTENCE.finditer(text) if _CONSTRAINT.search(m.group())]


def _cap(kind: str, pieces: list, config: FeatureConfig, text: str = "") -> list:
    """A step's pieces within its kind's cap; depends on the step alone, so an action's input
    never depends on what comes after it. A long instruction keeps its head and then its
    constraint sentences; a long tool output its head and tail."""
    cap = config.cap(kind)
    if len(pieces) <= cap:
        return pieces
    cut = ("[cut]", -1, -1, ORIGIN_NONE)
    if kind == "tool_result":
        return pieces[: cap - config.result_tail - 1] + [cut] + pieces[-config.result_tail:]
    if kind in ("system", "user"):
        head = cap // 2
        ranges = _constraint_ranges(text)
        later = [p for p in pieces[head:] if any(a <= p[1] < b for a, b in ranges)][: cap - head - 1]
        if later:
            return pieces[:head] + [cut] + later
    return pieces[: cap - 1] + [cut]


def _surface(text: str, piece: str, start: int, end: int) -> str:
    """What a piece literally says: hashes, numbers and keys by their characters, not their shape."""
    return text[start:end].lower() if piece in ("<num>", "<hex>", "<token>") else piece


def encode(trajectory: Trajectory, vocab: Vocabulary, config: FeatureConfig = FeatureConfig(),
           facts: dict[str, list] | None = None) -> Encoded:
    """Tokens of every step in order, each step within its kind's cap. A run longer than
    `max_tokens` is split into windows (`_windows`) that each repeat the instructions and the
    latest steps; an action's input never depends on the steps after it.

    Every piece of an agent step also carries its *origin*: whether the same word, number or
    address appeared earlier in a user message, in a tool output, or both. Whether a payee,
    recipient or command came from the user or from content the agent read is what separates
    following the user from following an injection, and no vocabulary can hold every IBAN.

    With `config.fact_features`, each action also carries its facts (`cbm.facts`) as a vector;
    `facts` passes them in when the caller has them already."""
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
        found = tokenize(step.text)
        if agent:  # each piece's origin: said by the user, read in an output, both or neither
            pieces = []
            for text, s, e in found:
                surface = _surface(step.text, text, s, e)
                origin = ORIGIN_NONE if len(surface) < 3 else \
                    (surface in said_by_user) * ORIGIN_USER + (surface in read_in_output) * ORIGIN_OUTPUT
                pieces.append((text, s, e, origin))
        else:
            pieces = [(text, s, e, ORIGIN_NONE) for text, s, e in found]
            if step.kind in ("user", "tool_result"):
                (said_by_user if step.kind == "user" else read_in_output).update(
                    _surface(step.text, text, s, e) for text, s, e in found)
        for text, s, e, origin in _cap(step.kind, pieces, config, step.text):
            row.append((vocab.id(text), segment, FIELD_TEXT, s, e, origin) if s >= 0 else
                       (vocab.id(text), segment, FIELD_MARKER, 0, 0, origin))
        if len(row) > config.max_tokens // 2:  # a window always holds the step with its context
            row = row[:config.max_tokens // 2 - 1] + [(vocab.id("[cut]"), segment, FIELD_MARKER, 0, 0, ORIGIN_NONE)]
        rows.append(row)
    windows, owner = _windows([s.kind for s in trajectory.steps], [len(r) for r in rows], config)
    flat, step_index, window_spans, spans = [], [], [], {}
    for w, members in enumerate(windows):
        first = len(flat)
        for i in members:
            if owner[i] == w:
                spans[i] = (len(flat), len(flat) + len(rows[i]))
            flat.extend(rows[i])
            step_index.extend([i] * len(rows[i]))
        window_spans.append((first, len(flat)))
    arr = np.asarray(flat, dtype=np.int32).reshape(-1, 6)
    actions = [(i, s.action_id) for i, s in enumerate(trajectory.steps) if s.action_id is not None]
    fact_matrix = None
    if config.fact_features:
        from cbm.facts import run_facts
        from cbm.facts.vector import fact_vector

        facts = run_facts(trajectory) if facts is None else facts
        fact_matrix = np.stack([fact_vector(facts.get(a, []), config.fact_features) for _, a in actions]) \
            if actions else np.zeros((0, len(config.fact_features)), dtype=np.float32)
    return Encoded(
        trajectory_id=trajectory.id, ids=arr[:, 0], segment=arr[:, 1], step=np.asarray(step_index, dtype=np.int32),
        field=arr[:, 2], start=arr[:, 3], end=arr[:, 4], origin=arr[:, 5], action_ids=[a for _, a in actions],
        action_span=np.asarray([spans[i] for i, _ in actions], dtype=np.int64).reshape(-1, 2), facts=fact_matrix,
        windows=np.asarray(window_spans, dtype=np.int64).reshape(-1, 2),
        action_window=np.asarray([owner[i] for i, _ in actions], dtype=np.int64))


def _windows(kinds: list[str], lengths: list[int], config: FeatureConfig) -> tuple[list[list[int]], list[int]]:
    """Steps split into windows of at most `max_tokens`, left to right: a step joins the current
    window if it fits, else opens a new one that repeats the instructions so far (system and
    user steps, up to a quarter of the budget) and the most recent steps (another quarter).
    Where a step lands depends only on the steps before it, so a finished run and the same run
    cut at an action give that action the same input, and runs of any length fit the model.
    Returns the windows' steps and, for every step, the window it was added to as new."""
    budget = config.max_tokens
    windows: list[list[int]] = [[]]
    owner: list[int] = []
    size = 0
    for i, length in enumerate(lengths):
        if windows[-1] and size + length > budget:
            members, used = [], 0
            for j in range(i):
                if kinds[j] in ("system", "user") and used + lengths[j] <= budget // 4:
                    members.append(j)
                    used += lengths[j]
            recent: list[int] = []
            for j in range(i - 1, -1, -1):
                if j in members:
                    continue
                if used + lengths[j] > budget // 2:
                    break
                recent.insert(0, j)
                used += lengths[j]
            windows.append(sorted(members + recent))
            size = used
        windows[-1].append(i)
        owner.append(len(windows) - 1)
        size += length
    return windows, owner


def tokenize_name(name: str) -> list[tuple[str, int, int]]:
    return [(p.text, p.start, p.end) for p in tokenize(name)]
