"""What a fact is, and the collector every language module writes facts into.

A `Fact` says one thing an action does ("operation: delete", "flag: recursive", "target:
/var/lib/postgresql/data [data_directory]"), where in the step's original text it was read
(`span`), and which parser read it. Facts of one command share a `command` number, so a
reviewer's sentence can say which flags and targets go with which operation.

The language modules (shell, SQL, Python, URLs, edits, packages, cloud CLIs) never call each
other directly: a module that finds code of another language hands it to `Collector.parse`,
which dispatches, bounds the depth of nesting and keeps the work budget.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cbm.facts.text import Text

# The operations a fact can name. Modules must use these words, so that the model and the
# reviewer see one vocabulary whatever the language.
OPERATIONS = (
    "read", "list", "search", "write", "append", "copy", "move", "delete", "truncate", "drop", "create",
    "chmod", "chown", "kill", "install", "execute", "execute_download", "network_fetch", "network_send",
    "reverse_shell", "tunnel", "schedule", "stop_service", "start_service", "user_change", "force_push", "push",
    "branch_protection", "infra_destroy", "infra_scale", "infra_apply", "disable_safeguard", "decode", "print",
    "navigate", "change_directory", "define", "git", "container", "build", "test", "deploy", "message",
    "query", "other",
)
FLAGS = ("recursive", "force", "no_preserve_root", "no_verify", "auto_approve", "privileged", "cascade",
         "hard", "all", "if_exists", "detached", "host_network", "mount_root")
KINDS = ("operation", "flag", "target", "scope", "host", "destination", "data_sent", "package", "cloud",
         "wrapper", "decoded", "parse_error", "cut", "reply", "provenance")

MAX_CHARS = 20_000  # the characters of one action's text any parser reads
MAX_DEPTH = 8  # nested layers (bash -c inside ssh inside sudo ...)
WORK_BUDGET = 60_000  # characters all parsers together read for one action; past it, a `cut` fact says so.
# A count, not a clock: the same action must give the same facts (and scores) on any machine under
# any load, and this bounds the time all the same (about 50 ms of parsing on one core)


@dataclass(frozen=True)
class Fact:
    """One thing an action does. `span` indexes the step's original text (for a tool call: its
    raw argument text, exactly as the agent wrote it)."""

    kind: str
    value: str
    span: tuple[int, int]
    parser: str
    tags: tuple[str, ...] = ()
    command: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "span": list(self.span), "parser": self.parser,
                "tags": list(self.tags), "command": self.command}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Fact:
        return cls(obj["kind"], obj["value"], tuple(obj["span"]), obj["parser"], tuple(obj.get("tags", ())),
                   int(obj.get("command", 0)))


_SENTENCE_END = re.compile(r"(?<=[.!?\n])\s+")


def sentences(words: str) -> list[str]:
    """The sentences of the user's and system's words: a constraint, a request or a prohibition is
    read within one sentence."""
    return _SENTENCE_END.split(words)


@dataclass
class Context:
    """What earlier steps of the run tell about this one: shell variables with literal values,
    aliases and functions the agent defined, files it wrote (with their content), git remotes it
    added, and the user's and system's words (lower-cased) for what they say about hosts."""

    variables: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # path -> content the agent wrote ("" if unknown)
    instructions: str = ""
    planted: list[str] = field(default_factory=list)  # text addressed to the agent in tool outputs, lower-cased
    read: list[str] = field(default_factory=list)  # the rest of the tool outputs, lower-cased (cbm.facts.provenance)
    calls: str = ""  # the earlier calls' own text, lower-cased (the last 20,000 characters): the paths they name
    remotes: dict[str, str] = field(default_factory=dict)  # git remote -> URL the agent set (`git remote add`)

    def copy(self) -> Context:
        return Context(dict(self.variables), dict(self.aliases), dict(self.functions), dict(self.files),
                       self.instructions, list(self.planted), list(self.read), self.calls, dict(self.remotes))

    def names(self, path: str) -> bool:
        """Whether an earlier call or tool output named this file (by its name): it existed before."""
        name = path.rstrip("/").rsplit("/", 1)[-1].lower()
        return len(name) > 3 and (name in self.calls or any(name in text for text in self.read))


Parser = Callable[["Collector", Text], None]
PARSERS: dict[str, Parser] = {}


def register(language: str) -> Callable[[Parser], Parser]:
    def wrap(fn: Parser) -> Parser:
        PARSERS[language] = fn
        return fn
    return wrap


class Collector:
    """Gathers the facts of one action. `context` is updated as the action defines things
    (a variable set before it is used, a function defined then called), and read for what
    earlier steps defined."""

    def __init__(self, context: Context | None = None, budget: int = WORK_BUDGET):
        self.context = context if context is not None else Context()
        self.facts: list[Fact] = []
        self.depth = 0
        self.command = 0
        self.budget = budget  # characters the parsers may still read
        self.pids: dict[str, tuple[Text, ...]] = {}  # shell variables holding PIDs looked up by name (`p=$(pgrep x)`)
        self._seen: set[tuple] = set()
        self._cut = False

    # --- writing facts -------------------------------------------------------------------------

    def add(self, kind: str, value: str, span: tuple[int, int], parser: str, tags: tuple[str, ...] = (),
            command: int | None = None) -> None:
        """One fact, of the current command unless `command` names an earlier one."""
        span = (int(span[0]), max(int(span[0]), int(span[1])))  # an empty word (`pod ''`) ends where it starts
        command = self.command if command is None else command
        key = (kind, value, span, tags, command)
        if key in self._seen:
            return
        self._seen.add(key)
        self.facts.append(Fact(kind, value, (int(span[0]), int(span[1])), parser, tuple(tags), command))

    def operation(self, value: str, text: Text, parser: str, tags: tuple[str, ...] = ()) -> None:
        from cbm.facts.requests import unrequested_tags

        if value not in OPERATIONS:
            raise ValueError(f"unknown operation {value!r}")
        self.add("operation", value, text.span(), parser, tags + unrequested_tags(value, self.context.instructions, tags))

    def flag(self, value: str, text: Text, parser: str) -> None:
        """A flag that matters, tagged `unrequested` as an operation is (skipping the hooks where the
        user's words ask to turn no protection off)."""
        from cbm.facts.requests import unrequested_tags

        if value not in FLAGS:
            raise ValueError(f"unknown flag {value!r}")
        self.add("flag", value, text.span(), parser, unrequested_tags(value, self.context.instructions))

    def target(self, text: Text, parser: str, tags: tuple[str, ...] = ()) -> None:
        """A path or resource the command acts on, with its class (see `cbm.facts.paths`); the
        target of a removal is `requested` where a sentence of the user's words asks to remove it
        and names it as written ("drop orders_dev and recreate it")."""
        from cbm.facts.paths import classify
        from cbm.facts.requests import REMOVALS, named

        value = text.value.strip()
        if not value:
            return
        op = next((f for f in reversed(self.facts) if f.kind == "operation" and f.command == self.command), None)
        if op is not None and op.value in REMOVALS:
            tags = tags + named("removal", self.context.instructions, [value])
        self.add("target", value[:300], text.span(), parser, tuple(dict.fromkeys(classify(value, self.context) + tags)))

    def url(self, text: Text, parser: str, sending: bool = False) -> None:
        """A URL: its host (environment, private or public) or outbound destination."""
        from cbm.facts.urls import url_facts

        url_facts(self, text, parser, sending)

    def host(self, text: Text, parser: str, tags: tuple[str, ...] = ()) -> None:
        from cbm.facts.urls import host_fact

        host_fact(self, text, parser, tags)

    def next_command(self) -> None:
        """Facts after this belong to a new command (one simple command, one SQL statement)."""
        if any(f.command == self.command for f in self.facts[-1:]):
            self.command += 1

    # --- nesting -------------------------------------------------------------------------------

    def parse(self, language: str, text: Text) -> None:
        """Read `text` as `language` ("shell", "sql", "python"); nested calls are bounded in depth,
        size and work, and a parser's failure becomes a `parse_error` fact."""
        if not text.value.strip():
            return
        if self.depth >= MAX_DEPTH:
            self.add("cut", f"nesting deeper than {MAX_DEPTH} layers", text.span(), language)
            return
        if self.budget <= 0:
            if not self._cut:
                self._cut = True
                self.add("cut", f"work budget of {WORK_BUDGET} characters spent", text.span(), language)
            return
        limit = min(MAX_CHARS, self.budget)
        if len(text) > limit:
            self.add("cut", f"read {limit} of {len(text)} characters", text.span(limit), language)
            text = text.slice(0, limit)
        self.budget -= len(text)
        self.depth += 1
        try:
            PARSERS[language](self, text)
        except RecursionError:
            self.add("parse_error", "nesting too deep for the parser", text.span(), language)
        except Exception as exc:  # a parser's bug must not lose the action: it becomes a fact
            self.add("parse_error", f"{type(exc).__name__}: {str(exc)[:120]}", text.span(), language)
        finally:
            self.depth -= 1
