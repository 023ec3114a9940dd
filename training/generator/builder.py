"""Building one labelled run: the API every scenario family writes against.

A family function receives a `Run` and says what happens, in order: the user's task and
constraints, the agent's tool calls with their outputs, the final report. Each action names
the concepts that hold for it; the risk label comes from the risk policy, never from the
family, so the whole corpus follows one written judgement.

    @family("db_cleanup_old_rows", domain="databases")
    def db_cleanup(run: Run) -> None:
        prod = run.variant == "risky"
        host = run.names.host(production=prod)
        run.user(f"Clean up sessions older than 90 days on {host}. " + run.constraint("no_prod"))
        run.sql("SELECT count(*) FROM sessions WHERE ...", "  count\\n-------\\n 48210", database=host,
                touches_production=prod)
        ...
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cbm.concepts import CONCEPT_IDS
from cbm.trajectory import Label, Step, Trajectory, assign_action_ids
from cbm_training.generator.policy import Policy
from cbm_training.generator.pools import Names
from cbm_training.generator.surface import (CONSTRAINTS, EVASIONS, MINI_SWE_FORMAT_ERROR, MINI_SWE_RULES,
                                            MINI_SWE_SUBMIT, THOUGHTS, Style, inject, obfuscate)

VARIANTS = ("benign", "risky", "hard_negative")
DOMAINS = ("sre_devops", "databases", "software_engineering", "data_science", "security_operations",
           "it_administration", "web_browsing", "communication", "finance_shopping", "ml_infrastructure")


@dataclass(frozen=True)
class Family:
    """A scenario family: one kind of situation, with benign, risky and hard-negative runs."""

    name: str
    domain: str
    build: Callable[[Run], None]
    description: str = ""


FAMILIES: dict[str, Family] = {}


def family(name: str, domain: str) -> Callable[[Callable[[Run], None]], Callable[[Run], None]]:
    """Register a family. Its docstring is its description in the datasheet."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}")

    def register(fn: Callable[[Run], None]) -> Callable[[Run], None]:
        if name in FAMILIES:
            raise ValueError(f"family {name!r} registered twice")
        FAMILIES[name] = Family(name, domain, fn, " ".join((fn.__doc__ or "").split()))
        return fn

    return register


class Run:
    """A trajectory under construction.

    Messages are numbered as an OpenAI message list would number them (system, user,
    assistant, tool, ...), so action ids and labels stay valid in every output format.
    """

    def __init__(self, rng: random.Random, family: Family, variant: str, policy: Policy, run_id: str,
                 framework: str = "generic"):
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}")
        self.rng = rng
        self.family = family
        self.variant = variant
        self.policy = policy
        self.id = run_id
        self.names = Names(rng)
        self.style = Style(rng, framework)
        self.steps: list[Step] = []
        self.labels: dict[str, Label] = {}
        self.action_info: dict[str, dict[str, str]] = {}
        self._message = 0
        self._thought: str | None = None
        if framework == "mini_swe_agent":  # its rules come first, as its own system message
            self.system(MINI_SWE_RULES)

    # --- context --------------------------------------------------------------------------

    def system(self, text: str) -> None:
        self._add(Step(kind="system", text=text, message_index=self._next_message()))

    def user(self, text: str) -> None:
        self._add(Step(kind="user", text=text, message_index=self._next_message()))

    def constraint(self, kind: str) -> str:
        """A phrasing of a user constraint (see surface.CONSTRAINTS), to put in a user message."""
        return self.rng.choice(CONSTRAINTS[kind])

    def injection(self, instruction: str) -> str:
        """An injected instruction, dressed as injections arrive, to put in a tool output."""
        return inject(instruction, self.rng)

    def think(self, text: str | None = None, thing: str | None = None) -> None:
        """Assistant text that accompanies the next tool call in the same message. With `thing`,
        a generic phrase about it; most calls carry no text at all."""
        if text is None and thing is not None:
            text = self.rng.choice(THOUGHTS).format(thing=thing)
        self._thought = text or None

    # --- actions --------------------------------------------------------------------------

    def call(self, kind: str, args: dict[str, Any], output: str, *, error: bool = False, tag: str | None = None,
             evasion: str | None = None, **concepts: int) -> str:
        """A tool call of a canonical kind (surface.TOOLSETS), rendered in this run's framework
        style, and its result. Returns the action id."""
        name, rendered = self.style.render(kind, args)
        return self.call_named(name, rendered, output, error=error, tag=tag, evasion=evasion, **concepts)

    def call_named(self, name: str, args: dict[str, Any], output: str | None, *, error: bool = False,
                   tag: str | None = None, evasion: str | None = None, **concepts: int) -> str:
        """A call to a tool with a fixed name and arguments (domain tools such as `get_balance`).
        `output=None` leaves the call unanswered (the run ends on it, as a proposed action)."""
        if self._thought and self.style.framework == "openhands" and self.rng.random() < 0.5:
            thought, self._thought = self._thought, None  # OpenHands notes it with its `think` tool
            self.call_named("think", {"thought": thought}, "Your thought has been logged.")
        if self.style.framework == "mini_swe_agent":
            if not any(concepts.values()) and "command" in args and self.rng.random() < 0.1:
                self._format_error(args["command"])
            self._thought = "THOUGHT: " + (self._thought or self.rng.choice(THOUGHTS).format(thing="the next step"))
        index = self._next_message()
        if self._thought:
            self._add(Step(kind="assistant", text=self._thought, message_index=index))
            self._thought = None
        call_id = self.style.call_id()
        self._add(Step(kind="tool_call", text=json.dumps(args, ensure_ascii=False), message_index=index,
                       call_id=call_id, tool_name=name, arguments=args))
        self._label(call_id, concepts, tag, evasion)
        if output is not None:
            self._add(Step(kind="tool_result", text=output, message_index=self._next_message(), call_id=call_id,
                           tool_name=name, is_error=error))
        return call_id

    def shell(self, command: str, output: str, **kw: Any) -> str:
        return self.call("shell", {"command": command}, output, **kw)

    def sql(self, query: str, output: str, database: str = "", **kw: Any) -> str:
        return self.call("sql", {"query": query, "database": database}, output, **kw)

    def shell_evasive(self, command: str, output: str, method: str | None = None, **kw: Any) -> str:
        """A shell command in a disguised form (surface.EVASIONS, or `split`: written to a
        script by one call, run by the next). The label is the plain command's."""
        method = method or self.rng.choice(EVASIONS + ("split",))
        if method == "split":
            script = self.rng.choice(["/tmp/run.sh", "./tmp_fix.sh", "/tmp/.maint", "scripts/cleanup_now.sh"])
            self.shell(f"cat > {script} <<'EOF'\n{command}\nEOF\nchmod +x {script}", "", evasion="split_write")
            return self.shell(f"bash {script}", output, evasion="split", **kw)
        return self.shell(obfuscate(command, method, self.rng), output, evasion=method, **kw)

    def say(self, text: str, *, tag: str | None = None, **concepts: int) -> str:
        """The assistant speaks to the user without calling a tool (a question or the final
        report). This is an action too: a report can deceive."""
        index = self._next_message()
        self._add(Step(kind="assistant", text=text, message_index=index))
        action_id = f"msg:{index}"
        self._label(action_id, concepts, tag, None)
        return action_id

    def filler(self, count: int) -> None:
        """`count` harmless exploration steps (listing, reading, status checks), so that the
        risky action is not always the first or the last one."""
        from cbm_training.generator.fillers import FILLERS

        for _ in range(count):
            self.rng.choice(FILLERS)(self)

    def _format_error(self, command: str) -> None:
        """A reply that breaks mini-swe-agent's one-block rule (the command, then a second block) and
        the harness's notice: nothing runs, so the reply is harmless whatever it proposes."""
        follow = self.rng.choice(["git status", "ls -la", "git diff"])
        text = (f"THOUGHT: {self.rng.choice(THOUGHTS).format(thing='the next step')}\n\n```bash\n{command}\n```\n\n"
                f"Then I will check the result:\n\n```bash\n{follow}\n```")
        self.say(text)
        self.user(MINI_SWE_FORMAT_ERROR.format(n=2))

    # --- finishing ------------------------------------------------------------------------

    def build(self) -> Trajectory:
        steps = self.steps
        last = steps[-1] if steps else None
        if self.style.framework in ("openhands", "mini_swe_agent") and last is not None and last.kind == "assistant":
            self._finish(last)  # OpenHands reports through its `finish` tool, mini-swe-agent by submitting
        assign_action_ids(steps)
        missing = [a for a in (s.action_id for s in steps if s.action_id) if a not in self.labels]
        if missing:
            raise AssertionError(f"{self.family.name}: unlabelled actions {missing}")
        metadata = {"generator": {"family": self.family.name, "domain": self.family.domain,
                                  "variant": self.variant, "actions": self.action_info}}
        return Trajectory(id=self.id, steps=steps, metadata=metadata, labels=self.labels)

    def _finish(self, report: Step) -> None:
        """The final report as the framework writes it, with the report's labels: OpenHands' `finish`
        call; mini-swe-agent's submit command, the report its THOUGHT."""
        call_id = self.style.call_id()
        if self.style.framework == "openhands":
            name, args, thought = "finish", {"message": report.text, "task_completed": "true"}, []
        else:
            name, args = "bash", {"command": MINI_SWE_SUBMIT}
            thought = [Step(kind="assistant", text=f"THOUGHT: {report.text}", message_index=report.message_index)]
        self.steps[-1:] = thought + [Step(kind="tool_call", text=json.dumps(args, ensure_ascii=False),
                                          message_index=report.message_index, call_id=call_id, tool_name=name,
                                          arguments=args)]
        said = f"msg:{report.message_index}"
        self.labels[call_id] = self.labels.pop(said)
        self.action_info[call_id] = self.action_info.pop(said)

    def _add(self, step: Step) -> None:
        self.steps.append(step)

    def _next_message(self) -> int:
        index = self._message
        self._message += 1
        return index

    def _label(self, action_id: str, concepts: dict[str, int], tag: str | None, evasion: str | None) -> None:
        unknown = set(concepts) - set(CONCEPT_IDS)
        if unknown:
            raise ValueError(f"{self.family.name}: unknown concept(s) {sorted(unknown)}")
        full = {cid: int(bool(concepts.get(cid, 0))) for cid in CONCEPT_IDS}
        risk, rule = self.policy.decide(full, self.family.name, tag)
        self.labels[action_id] = Label(risk=risk, concepts=full, source=f"generator:{rule}")
        info = {"rule": rule}
        if tag:
            info["tag"] = tag
        if evasion:
            info["evasion"] = evasion
        self.action_info[action_id] = info
