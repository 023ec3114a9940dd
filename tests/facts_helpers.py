"""Helpers the facts tests share: a command split into words with their positions, and lookups
of facts by kind and value."""

from __future__ import annotations

import shlex

from cbm.facts.text import Text


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
