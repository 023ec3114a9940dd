"""Helpers the facts tests share: a command split into words with their positions, a tool call
as a step, and lookups of facts by kind and value."""

from __future__ import annotations

import json
import shlex

from cbm.facts.text import Text
from cbm.trajectory import Step


def argv_of(cmd: str) -> list[Text]:
    """The words of a command, each mapped to where it stands in `cmd`."""
    words, at = [], 0
    for word in shlex.split(cmd):
        start = cmd.find(word, at)
        assert start >= 0, word
        words.append(Text.plain(word, start))
        at = start + len(word)
    return words


def of(facts, kind: str, value: str | None = None) -> list:
    return [f for f in facts if f.kind == kind and (value is None or f.value == value)]


def one(facts, kind: str, value: str | None = None):
    found = of(facts, kind, value)
    assert len(found) == 1, (kind, value, facts)
    return found[0]


def at(cmd: str, fact) -> str:
    return cmd[fact.span[0]:fact.span[1]]


def tool_call(tool: str, arguments: dict) -> Step:
    """A tool call as an agent writes it: raw JSON arguments and their parsed form."""
    return Step(kind="tool_call", text=json.dumps(arguments), message_index=1, call_id="c1", tool_name=tool,
                arguments=arguments)


def shell(command: str) -> Step:
    return tool_call("bash", {"command": command})
