"""Action facts: what each action does, read by real parsers, with the characters it came from.

    from cbm.facts import facts, run_facts, describe
    facts(step, earlier_steps)        # list[Fact] for one action
    run_facts(trajectory)             # {action id: list[Fact]} for a whole run, in one pass
    RunFactsCache()(trajectory)       # the same, reusing the steps it read in earlier calls
    describe(facts)                   # sentences a reviewer reads, one per command

One module per language: `shell` (bashlex, shlex as fallback) with `commands` (what each
program does), `sql` (sqlglot), `python` (ast), `urls` (urllib.parse), `edits` (file tools),
`packages`, `cloud`; `tools` picks the parser for a tool call, and `replies` says when an
agent's reply is a command attempt (harnesses that take commands from replies). Extraction never raises, keeps a
work and size budget, and records a parser's failure as a fact.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from cbm.facts.base import KINDS, OPERATIONS, Collector, Context, Fact
from cbm.facts.sentences import describe
from cbm.trajectory import Step, Trajectory

__all__ = ["Fact", "Context", "KINDS", "OPERATIONS", "facts", "run_facts", "RunFactsCache", "describe",
           "context_from"]


def _extract(step: Step, context: Context) -> list[Fact]:
    """Facts of one step, updating `context` with what it defines; never raises."""
    if step.kind not in ("tool_call", "assistant"):
        return []
    from cbm.facts.provenance import provenance_facts
    from cbm.facts.replies import reply_facts
    from cbm.facts.tools import tool_facts

    out = Collector(context)
    try:
        if step.kind == "assistant":
            reply_facts(out, step.text or "")
        else:
            tool_facts(out, step.tool_name or "", step.text or "", step.arguments)
            provenance_facts(out, step.text or "", step.arguments)
    except Exception as exc:  # the last line of defence: a bug in a parser must not lose the action
        out.add("parse_error", f"{type(exc).__name__}: {str(exc)[:120]}", (0, len(step.text or "")), "facts")
    if step.kind == "tool_call" and step.text:
        context.calls = (context.calls + "\n" + step.text.lower())[-20_000:]
    return out.facts


def _observe(step: Step, context: Context) -> None:
    """What a non-action step adds to the context: the user's and system's words, and what tool
    outputs plant."""
    if step.kind in ("user", "system") and step.text:
        context.instructions = (context.instructions + "\n" + step.text.lower())[-20_000:]
    elif step.kind == "tool_result" and step.text:
        from cbm.facts.provenance import observe_output

        observe_output(context, step.text)


def context_from(steps: Iterable[Step]) -> Context:
    """The context earlier steps build: their definitions, written files and instructions."""
    context = Context()
    for step in steps:
        _observe(step, context)
        _extract(step, context)
    return context


def facts(step: Step, earlier: Sequence[Step] = ()) -> list[Fact]:
    """The facts of one action, read in the context of the steps before it."""
    return _extract(step, context_from(earlier))


def run_facts(trajectory: Trajectory) -> dict[str, list[Fact]]:
    """Every action's facts, in one pass over the run (each action sees only what came before)."""
    context = Context()
    found: dict[str, list[Fact]] = {}
    for step in trajectory.steps:
        _observe(step, context)
        result = _extract(step, context)
        if step.action_id is not None:
            found[step.action_id] = result
    return found


class RunFactsCache:
    """`run_facts` for runs that grow a step at a time: a live guard scores each proposed call in
    the context of every step before it, so without a cache each call parses the whole run again.
    Each step is keyed by a digest of the steps up to it and stores the context after it and its
    facts; a run resumes after its longest prefix already read. At most `size` steps are kept
    (least recently used first out). Safe to share between threads."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._steps: OrderedDict[bytes, tuple[Context, list[Fact]]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._steps)

    def __call__(self, trajectory: Trajectory) -> dict[str, list[Fact]]:
        keys, digest = [], b""
        for step in trajectory.steps:
            digest = hashlib.blake2b(digest + _signature(step), digest_size=16).digest()
            keys.append(digest)
        with self._lock:
            cached = []
            for key in keys:
                entry = self._steps.get(key)
                if entry is None:
                    break
                self._steps.move_to_end(key)
                cached.append(entry)
        context = cached[-1][0].copy() if cached else Context()
        found: dict[str, list[Fact]] = {}
        fresh = []
        for i, step in enumerate(trajectory.steps):
            if i < len(cached):
                result = cached[i][1]
            else:
                _observe(step, context)
                result = _extract(step, context)
                fresh.append((keys[i], (context.copy(), result)))
            if step.action_id is not None:
                found[step.action_id] = list(result)
        with self._lock:
            self._steps.update(fresh)
            while len(self._steps) > self.size:
                self._steps.popitem(last=False)
        return found


def _signature(step: Step) -> bytes:
    """Everything about a step that its facts or the context it leaves can depend on."""
    arguments = "" if step.arguments is None else json.dumps(step.arguments, sort_keys=True, default=str)
    return "\0".join((step.kind, step.tool_name or "", arguments, step.text or "")).encode("utf-8", "surrogatepass")
