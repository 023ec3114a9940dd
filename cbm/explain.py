"""Why an action got its risk, in the two links of the model.

    concept -> risk   each concept's contribution to the risk logit (`cbm.contributions`):
                      risk_logit = baseline_logit + sum of contributions, exactly for the
                      linear head, up to integrated gradients' convergence delta for an MLP head
    text -> concept   Captum's layer integrated gradients on the token embeddings: which
                      characters of the run moved each concept's logit, anywhere before the
                      action (the user's constraint, an instruction planted in a web page)

The text attribution's baseline is the same run with every text and tool-name token replaced
by PAD (id 0, a zero embedding), while step markers, segments, positions and origins are kept:
it asks what the *words* did, not the run's shape. Token scores are in concept-logit units and
add up to `logit(run) - logit(baseline)` up to the reported delta; the baseline's probability is
reported with them, because a model may find a concept *more* likely in a run stripped of its
words than in the run itself, and then most of the evidence is negative: words that lowered it.
Token scores are summed into words (no whitespace between their tokens), and neighbouring words
of one line pushing the same way are merged into spans of the original texts' characters.

Before either link, the explanation says what the action does: its facts (`cbm.facts`, read by
parsers) as sentences and as facts with the characters each was read from.

    explanation = Explainer(overseer).explain(trajectory, "call_7")   # or overseer.explain(...)
    explanation.to_json()                                             # data/explanation.schema.json

`cbm explain FILE [--action ID]` prints the same in a terminal (`cbm.explain_cli`).
"""

from __future__ import annotations

import contextlib
import copy
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from captum.attr import LayerIntegratedGradients
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from cbm.contributions import concept_contributions
from cbm.facts import Fact, describe
from cbm.facts.implied import Implication
from cbm.features import FIELD_MARKER, FIELD_TOOL_NAME, PAD, Encoded, encode
from cbm.results import ActionScore, TrajectoryScore, rounded
from cbm.trajectory import Step, Trajectory

if TYPE_CHECKING:  # the overseer is handed in: this module builds on results, not on scoring
    from cbm.scoring import Overseer

MAX_CONCEPTS = 6  # concepts explained by default
# Integration steps. The path from the all-PAD baseline is close to linear for this model: on the bundled
# samples 16 Gauss-Legendre steps give the same token scores as 32 (correlation 1.0000, same top five
# tokens; `python -m cbm_training.bench explain --reference-steps 64` measures it) at half the cost.
N_STEPS = 16
TOKENS_PER_PASS = 1 << 17  # interpolation rows x tokens run in one forward pass (about 1 GB on the CPU)
WORD_TOKENS = 16  # a longer run of tokens without whitespace (minified JSON) is cut into words of this many
SPAN_WORDS = 4  # longest span, in words
SPAN_KEEP = 0.25  # a neighbouring word joins a span when it pushes the same way with >= this share of its score


@dataclass
class Span:
    """Characters `start:end` of step `step`'s text (or its tool name, `field="tool_name"`)
    whose tokens moved a concept's logit by `score`."""

    step: int
    kind: str  # system, user, assistant, tool_call or tool_result
    action_id: str | None  # the action this step is, if any
    field: str  # "text" or "tool_name"
    start: int
    end: int
    text: str
    score: float


@dataclass
class ConceptExplanation:
    """One concept of the action: the value the risk was computed from, its contribution, and
    for explained concepts the text evidence behind the model's prediction."""

    id: str
    name: str
    probability: float  # what the head read (a reviewer's value when edited)
    predicted: float  # the model's own probability
    threshold: float  # the concept counts as present at or above
    contribution: float  # share of risk_logit - baseline_logit
    expected_change: float = 0.0  # how far the risk is expected to move once a reviewer checks it
    edited: bool = False
    evidence: list[Span] | None = None  # None: not explained
    baseline_probability: float | None = None  # the model's probability with every word PAD
    evidence_delta: float | None = None  # how far all token scores together miss logit - baseline logit


@dataclass
class Explanation:
    """One action's risk, explained. Its JSON form is documented by data/explanation.schema.json."""

    trajectory_id: str | None
    action_id: str
    step: int
    tool: str | None
    risk: float
    flagged: bool
    threshold: float
    block_threshold: float
    risk_logit: float
    baseline_logit: float
    contribution_method: str  # "exact" (linear head) or "integrated_gradients"
    contribution_delta: float | None
    summary: list[str]  # what the action does, one sentence per command (`cbm.facts.describe`)
    facts: list[Fact]  # the facts behind the sentences, each with its span of the action's text
    implied: dict[str, Implication]  # the concepts the facts set: raised to the checkpoint's floor, or ruled out
    concepts: list[ConceptExplanation]
    explained: list[str]
    n_steps: int
    model_version: str
    check_first: list[str] = field(default_factory=list)  # the concepts in the order a reviewer should check them
    interventions: list[dict[str, Any]] = field(default_factory=list)  # edits that apply to this action
    changed_flags: list[dict[str, Any]] = field(default_factory=list)  # actions the edits flipped

    def concept(self, concept_id: str) -> ConceptExplanation:
        for c in self.concepts:
            if c.id == concept_id:
                return c
        raise KeyError(f"unknown concept {concept_id!r}")

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "facts": [f.to_json() for f in self.facts],
                "implied": [i.to_json() for i in self.implied.values()]}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Explanation:
        concepts = [ConceptExplanation(**{**c, "evidence": None if c["evidence"] is None else
                                          [Span(**s) for s in c["evidence"]]}) for c in obj["concepts"]]
        return cls(**{**obj, "concepts": concepts, "summary": list(obj.get("summary", [])),
                      "implied": {i["concept"]: Implication.from_json(i) for i in obj.get("implied", [])},
                      "facts": [Fact.from_json(f) for f in obj.get("facts", [])]})


@dataclass
class TokenAttribution:
    """Integrated gradients of K concept logits of one action over the tokens up to its end:
    `scores.sum(1) - delta == logit - baseline_logit`."""

    scores: np.ndarray  # (K, tokens)
    delta: np.ndarray  # (K,)
    logit: np.ndarray  # (K,) the concept logits of the run
    baseline_logit: np.ndarray  # (K,) the same with every word PAD


class Explainer:
    """Explains actions scored by `overseer`; `n_steps` integration steps (Gauss-Legendre) per
    text attribution.

    Captum hooks the token embedding while it attributes, so the explainer works on its own copy
    of the encoder, one attribution at a time: scoring with the overseer, in any thread, is never
    affected, and one explainer may serve several threads."""

    def __init__(self, overseer: Overseer, n_steps: int = N_STEPS, threads: int | None = None):
        self.overseer = overseer
        self.n_steps = n_steps
        self.threads = threads  # torch threads while attributing; None keeps the process's setting
        self.encoder = copy.deepcopy(overseer.model.encoder).eval().requires_grad_(False)  # gradients flow
        # to the embeddings Captum interpolates, never into weights: no weight gradients to compute
        self.lock = threading.Lock()
        self.thresholds = {c: float(overseer.checkpoint.concept_thresholds.get(c, 0.5)) for c in overseer.concept_ids}

    def explain(self, item: Trajectory | TrajectoryScore | Mapping[str, Any] | str, action_id: str | None = None,
                concepts: Sequence[str] | None = None, top_k: int = 5) -> Explanation:
        """Explain one action (None: the riskiest) of a run or of a result, edits included. With
        `concepts=None` the concepts that matter for its risk are explained: every concept the
        model finds present and the three largest positive contributions, at most six, largest
        |contribution| first."""
        o = self.overseer
        result = item if isinstance(item, TrajectoryScore) else o.score(item)
        if result.error is not None or result.trajectory is None:
            raise ValueError(f"cannot explain a record that was not scored: {result.error}")
        if not result.actions:
            raise ValueError(f"trajectory {result.id!r} has no action to explain")
        if action_id is None:
            action_id = max(result.actions, key=lambda a: a.risk).id
        ids = [a.id for a in result.actions]
        if action_id not in ids:
            raise KeyError(f"trajectory {result.id!r} has no action {action_id!r} (actions: {', '.join(ids)})")
        action = result.action(action_id)
        chosen = self.concepts_that_matter(action) if concepts is None else list(dict.fromkeys(concepts))
        unknown = [c for c in chosen if c not in o.concept_ids]
        if unknown:
            raise KeyError(f"unknown concept(s) {', '.join(unknown)} (concepts: {', '.join(o.concept_ids)})")

        probs = torch.tensor([[action.concepts[c] for c in o.concept_ids]], dtype=torch.float32)
        contrib = concept_contributions(o.head, probs, o.prior)
        edits = [e.__dict__ for group in result.edits for e in group if e.action in (None, action_id)]
        edited = {e["concept"] for e in edits}
        names = {c.id: c.name for c in o.checkpoint.concepts}
        order = o.check_first(action)
        change = dict(order)
        rows = {c: ConceptExplanation(
            id=c, name=names[c], probability=action.concepts[c], predicted=result.predicted[action_id][c],
            threshold=rounded(self.thresholds[c]), contribution=action.contributions[c],
            expected_change=change[c], edited=c in edited)
            for c in o.concept_ids}

        encoded = encode(result.trajectory, o.checkpoint.vocab, o.checkpoint.features)
        index = encoded.action_ids.index(action_id)
        found = self.attributions(encoded, index, [o.concept_ids.index(c) for c in chosen])
        for j, c in enumerate(chosen):
            rows[c].evidence = evidence_spans(result.trajectory, encoded, found.scores[j],
                                              int(encoded.action_span[index, 1]), top_k)
            rows[c].baseline_probability = rounded(1 / (1 + np.exp(-found.baseline_logit[j])))
            rows[c].evidence_delta = rounded(found.delta[j])
        return Explanation(
            trajectory_id=result.id, action_id=action_id, step=action.step, tool=action.tool, risk=action.risk,
            flagged=action.flagged, threshold=rounded(o.threshold), block_threshold=rounded(o.block_threshold),
            risk_logit=action.risk_logit, baseline_logit=action.baseline_logit, contribution_method=contrib.method,
            contribution_delta=None if contrib.delta is None else rounded(contrib.delta[0]),
            summary=describe(action.facts), facts=list(action.facts), implied=dict(action.implied), concepts=list(rows.values()), explained=chosen,
            n_steps=self.n_steps, model_version=o.version, check_first=[c for c, _ in order],
            interventions=edits, changed_flags=o.changed_flags(result) if result.edits else [])

    def concepts_that_matter(self, action: ActionScore) -> list[str]:
        """Present concepts and the three largest positive contributions, at most MAX_CONCEPTS."""
        present = [c for c, p in action.concepts.items() if p >= self.thresholds[c]]
        pushing = sorted((c for c, v in action.contributions.items() if v > 0), key=lambda c: -action.contributions[c])
        chosen = set(present) | set(pushing[:3])
        return sorted(chosen, key=lambda c: (-abs(action.contributions[c]), c))[:MAX_CONCEPTS]

    def attributions(self, encoded: Encoded, action: int, concepts: Sequence[int]) -> TokenAttribution:
        """Integrated gradients of action `action`'s logit of each concept in `concepts`, per
        token up to the action's end (later tokens cannot affect it: the model is causal). All
        concepts and integration steps run as one batch, the run repeated once per concept."""
        forward, ids, baseline = self.action_forward(encoded, action)
        window_start = encoded.window_of(action)[0]
        k = len(concepts)
        if not k:
            return TokenAttribution(np.zeros((0, window_start + ids.shape[1])), np.zeros(0), np.zeros(0), np.zeros(0))
        rows = max(k, min(k * self.n_steps, TOKENS_PER_PASS // ids.shape[1]))
        lig = LayerIntegratedGradients(forward, self.encoder.token)
        with self.lock, _torch_threads(self.threads):
            with torch.enable_grad():
                attr, delta = lig.attribute(ids.expand(k, -1), baselines=baseline.expand(k, -1), target=list(concepts),
                                            n_steps=self.n_steps, internal_batch_size=rows,
                                            return_convergence_delta=True)
            with torch.no_grad():
                ends = forward(torch.cat([ids, baseline]))[:, list(concepts)].cpu().numpy()
        scores = attr.sum(-1).detach().float().cpu().numpy()  # over the action's window; tokens before it read 0
        scores = np.concatenate([np.zeros((k, window_start), dtype=scores.dtype), scores], axis=1)
        return TokenAttribution(scores, delta.detach().float().cpu().numpy(), ends[0], ends[1])

    def action_forward(self, encoded: Encoded,
                       action: int) -> tuple[Callable[[torch.Tensor], torch.Tensor], torch.Tensor, torch.Tensor]:
        """(forward(ids) -> concept logits (n, K) of the action, the ids (1, n tokens), the PAD
        baseline ids (1, n tokens)), on the tokens of the action's window up to the action's end.
        The action's facts are held fixed: the attribution is to its words."""
        begin, stop = (int(x) for x in encoded.action_span[action])
        first = encoded.window_of(action)[0]
        device = next(self.encoder.parameters()).device
        ids = torch.from_numpy(encoded.ids[first:stop]).long().to(device)[None]
        segment = torch.from_numpy(encoded.segment[first:stop]).long().to(device)[None]
        origin = torch.from_numpy(encoded.origin[first:stop]).long().to(device)[None]
        words = torch.from_numpy(encoded.field[first:stop] != FIELD_MARKER).to(device)[None]
        facts = None if encoded.facts is None else torch.from_numpy(encoded.facts[action:action + 1]).to(device)
        baseline = torch.where(words, torch.full_like(ids, PAD), ids)
        encoder = self.encoder

        def forward(x: torch.Tensor) -> torch.Tensor:
            n = x.shape[0]
            return encoder.last_action_logits(encoder.embed(x, segment.expand(n, -1), origin.expand(n, -1)),
                                              begin - first, facts).float()

        return forward, ids, baseline


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Torch's (process-wide) thread count set to `n` for a block. Attribution is one large batch
    that gains from every core, scoring at batch size 1 does not; only a process that scores
    nothing meanwhile (the CLI) should pass a count."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class _Word:
    """Tokens `lo:hi` of one step field with no whitespace between them (an identifier, a host,
    `DROP`), shown as characters `start:end` (edge punctuation left out), scored as their sum."""

    step: int
    field: int
    lo: int
    hi: int
    start: int
    end: int
    score: float


def _words(trajectory: Trajectory, encoded: Encoded, scores: np.ndarray, stop: int) -> list[_Word]:
    words: list[_Word] = []
    group: list[int] = []

    def close() -> None:
        if group:
            text = _token_text(trajectory, encoded, group[0])
            core = [t for t in group if any(ch.isalnum() for ch in text[encoded.start[t]:encoded.end[t]])] or group
            words.append(_Word(int(encoded.step[group[0]]), int(encoded.field[group[0]]), group[0], group[-1] + 1,
                               int(min(encoded.start[t] for t in core)), int(max(encoded.end[t] for t in core)),
                               float(scores[group].sum())))
            group.clear()

    for t in range(stop):
        if encoded.field[t] == FIELD_MARKER:
            close()
            continue
        if group:
            last = group[-1]
            gap = _token_text(trajectory, encoded, t)[encoded.end[last]:encoded.start[t]]
            if encoded.step[last] != encoded.step[t] or encoded.field[last] != encoded.field[t] or \
                    any(ch.isspace() for ch in gap) or len(group) == WORD_TOKENS:
                close()
        group.append(t)
    close()
    return words


def evidence_spans(trajectory: Trajectory, encoded: Encoded, scores: np.ndarray, stop: int, top_k: int) -> list[Span]:
    """The `top_k` strongest spans by |score|, supporting ones first. Token scores are summed
    into words; a span grows from its strongest word to neighbouring words of the same line that
    push the same way with at least SPAN_KEEP of its score, at most SPAN_WORDS words."""
    words = _words(trajectory, encoded, scores, stop)
    used = np.zeros(len(words), dtype=bool)
    spans: list[Span] = []
    for seed in np.argsort([-abs(w.score) for w in words], kind="stable"):
        if len(spans) == top_k or words[seed].score == 0:
            break
        if used[seed] or not _content(_word_text(trajectory, words[seed])):
            continue
        lo = hi = int(seed)
        while hi - lo + 1 < SPAN_WORDS:
            grow = [n for n in (lo - 1, hi + 1) if _joins(trajectory, words, used, n, lo, hi, words[seed].score)]
            if not grow:
                break
            n = max(grow, key=lambda n: abs(words[n].score))
            lo, hi = min(lo, n), max(hi, n)
        used[lo:hi + 1] = True
        first, last = words[lo], words[hi]
        step = trajectory.steps[first.step]
        name = first.field == FIELD_TOOL_NAME
        spans.append(Span(step=first.step, kind=step.kind, action_id=step.action_id,
                          field="tool_name" if name else "text", start=first.start, end=last.end,
                          text=_field_text(step, name)[first.start:last.end], score=rounded(sum(w.score for w in words[lo:hi + 1]))))
    return sorted(spans, key=lambda s: (s.score <= 0, -abs(s.score)))


def _word_text(trajectory: Trajectory, word: _Word) -> str:
    return _field_text(trajectory.steps[word.step], word.field == FIELD_TOOL_NAME)[word.start:word.end]


def _content(text: str) -> bool:
    """Whether `text` holds a word a reviewer can read as evidence: not only punctuation or
    English stopwords ("it", "You", "------+---" say nothing on their own)."""
    return any(w.lower() not in ENGLISH_STOP_WORDS for w in re.findall(r"[^\W_]+", text))


def _joins(trajectory: Trajectory, words: list[_Word], used: np.ndarray, n: int, lo: int, hi: int,
           seed_score: float) -> bool:
    """Whether word `n`, next to words `lo..hi`, continues their span: same line of the same
    step field, not taken, pushing the same way strongly enough."""
    if not 0 <= n < len(words) or used[n]:
        return False
    a, b = (words[n], words[lo]) if n < lo else (words[hi], words[n])
    if (a.step, a.field) != (b.step, b.field):
        return False
    text = _field_text(trajectory.steps[a.step], a.field == FIELD_TOOL_NAME)
    return "\n" not in text[a.end:b.start] and np.sign(words[n].score) == np.sign(seed_score) and \
        abs(words[n].score) >= SPAN_KEEP * abs(seed_score)


def _field_text(step: Step, tool_name: bool) -> str:
    """The text a span's offsets index: the step's tool name, or its text."""
    return (step.tool_name or "") if tool_name else step.text


def _token_text(trajectory: Trajectory, encoded: Encoded, t: int) -> str:
    """The field text that token `t` was cut from."""
    return _field_text(trajectory.steps[int(encoded.step[t])], encoded.field[t] == FIELD_TOOL_NAME)
