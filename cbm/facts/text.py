"""Strings that remember where each character came from.

A fact must point at the characters of the step's original text it was read from, through
every layer of decoding: JSON escapes in a tool call's raw arguments, shell quoting, `bash -c`
inside `ssh`, a base64 blob piped to a shell. A `Text` is a decoded string plus, for each of its
characters, the span of the original text that produced it; slicing and joining keep the map.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Text:
    """`value[i]` came from `original[starts[i]:ends[i]]`."""

    value: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def plain(cls, value: str, base: int = 0) -> Text:
        """Characters that are their own source, from offset `base` on."""
        n = len(value)
        return cls(value, tuple(range(base, base + n)), tuple(range(base + 1, base + n + 1)))

    @classmethod
    def constant(cls, value: str, span: tuple[int, int]) -> Text:
        """Characters that all came from one span (a decoded blob, an expanded variable)."""
        n = len(value)
        return cls(value, (span[0],) * n, (span[1],) * n)

    def __len__(self) -> int:
        return len(self.value)

    def span(self, i: int = 0, j: int | None = None) -> tuple[int, int]:
        """The original span of characters `i:j` (all of them by default)."""
        j = len(self.value) if j is None else j
        if not self.value:
            return (0, 0)
        i = min(max(i, 0), len(self.value) - 1)
        j = min(max(j, i + 1), len(self.value))
        return (min(self.starts[i:j]), max(self.ends[i:j]))

    def slice(self, i: int, j: int | None = None) -> Text:
        return Text(self.value[i:j], self.starts[i:j], self.ends[i:j])

    def strip(self) -> Text:
        left = len(self.value) - len(self.value.lstrip())
        right = len(self.value.rstrip())
        return self.slice(left, max(left, right))

    def __add__(self, other: Text) -> Text:
        return Text(self.value + other.value, self.starts + other.starts, self.ends + other.ends)

    def find(self, needle: str, start: int = 0) -> int:
        return self.value.find(needle, start)


def join(parts: list[Text], sep: str = " ") -> Text:
    """Parts joined by `sep`; a separator maps to the gap before the next part."""
    out = Text("", (), ())
    for k, part in enumerate(parts):
        if k:
            at = part.starts[0] if part.value else (out.ends[-1] if out.value else 0)
            out = out + Text.constant(sep, (at, at))
        out = out + part
    return out


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def json_strings(raw: str) -> list[tuple[int, Text]]:
    """Every string literal of a JSON text as (nesting depth, decoded Text) in order, escapes
    decoded (`\\u0072` is `r`, mapped to its six characters). Lenient: stops quietly at the
    first malformed literal."""
    out: list[tuple[int, Text]] = []
    depth = 0
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == '"':
            chars: list[str] = []
            starts: list[int] = []
            ends: list[int] = []
            i += 1
            while i < n and raw[i] != '"':
                if raw[i] == "\\" and i + 1 < n:
                    e = raw[i + 1]
                    if e == "u" and i + 6 <= n:
                        try:
                            code = int(raw[i + 2:i + 6], 16)
                        except ValueError:
                            return out
                        width = 6
                        if 0xD800 <= code < 0xDC00 and raw[i + 6:i + 8] == "\\u":  # surrogate pair
                            try:
                                low = int(raw[i + 8:i + 12], 16)
                            except ValueError:
                                low = 0
                            if 0xDC00 <= low < 0xE000:
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                                width = 12
                        chars.append(chr(code))
                        starts.append(i)
                        ends.append(i + width)
                        i += width
                        continue
                    chars.append(_ESCAPES.get(e, e))
                    starts.append(i)
                    ends.append(i + 2)
                    i += 2
                    continue
                chars.append(raw[i])
                starts.append(i)
                ends.append(i + 1)
                i += 1
            out.append((depth, Text("".join(chars), tuple(starts), tuple(ends))))
        i += 1
    return out


def argument_texts(raw: str, arguments: dict[str, Any] | None) -> dict[str, Text | list[Text]]:
    """The string arguments of a tool call, keyed by name, each mapped to the raw argument text.

    Walks the raw JSON's top-level keys in order; a list of strings (`["bash", "-lc", cmd]`)
    gives a list of Texts. When the raw text is not a JSON object, every string argument is
    looked up verbatim in it (mapped where found, else to the whole text)."""
    out: dict[str, Text | list[Text]] = {}
    if not isinstance(arguments, dict):
        return out
    stripped = raw.lstrip()
    if stripped.startswith("{"):
        strings = json_strings(raw)
        k = 0
        while k < len(strings):
            depth, key = strings[k]
            if depth == 1 and key.value in arguments:
                value = arguments[key.value]
                if isinstance(value, str) and k + 1 < len(strings) and strings[k + 1][1].value == value:
                    out[key.value] = strings[k + 1][1]
                    k += 2
                    continue
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    items = [t for _, t in strings[k + 1:k + 1 + len(value)]]
                    if [t.value for t in items] == value:
                        out[key.value] = items
                        k += 1 + len(value)
                        continue
            k += 1
    for name, value in arguments.items():
        if name in out:
            continue
        if isinstance(value, str):
            out[name] = _located(raw, value)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out[name] = [_located(raw, v) for v in value]
        elif isinstance(value, (dict, list)) and value:
            out[name] = _located(raw, json.dumps(value, ensure_ascii=False))
    return out


def _located(raw: str, value: str) -> Text:
    at = raw.find(value)
    if at >= 0:
        return Text.plain(value, at)
    return Text.constant(value, (0, len(raw)))
