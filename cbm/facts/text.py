"""Strings that remember where each character came from.

A fact must point at the characters of the step's original text it was read from, through
every layer of decoding: JSON escapes in a tool call's raw arguments, shell quoting, `bash -c`
inside `ssh`, a base64 blob piped to a shell. A `Text` is a decoded string plus, for each of its
characters, the span of the original text that produced it; slicing and joining keep the map.
"""

from __future__ import annotations

import json
import re
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
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for k, part in enumerate(parts):
        if k:
            at = part.starts[0] if part.value else (ends[-1] if ends else 0)
            chars.append(sep)
            starts.extend((at,) * len(sep))
            ends.extend((at,) * len(sep))
        chars.append(part.value)
        starts.extend(part.starts)
        ends.extend(part.ends)
    return Text("".join(chars), tuple(starts), tuple(ends))


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


_STRUCTURE = re.compile(r'["{}\[\]]')


def json_strings(raw: str) -> list[tuple[int, Text]]:
    """Every string literal of a JSON text as (nesting depth, decoded Text) in order, escapes
    decoded (`\\u0072` is `r`, mapped to its six characters). Lenient: stops quietly at the
    first malformed literal; an unterminated one runs to the end."""
    out: list[tuple[int, Text]] = []
    depth = 0
    i, n = 0, len(raw)
    while True:
        m = _STRUCTURE.search(raw, i)
        if m is None:
            return out
        ch, i = m.group(), m.end()
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        else:
            text, i = _literal(raw, i, n)
            if text is None:
                return out
            out.append((depth, text))
            i += 1  # past the closing quote


def _literal(raw: str, i: int, n: int) -> tuple[Text | None, int]:
    """The string literal starting at `i` (after its quote), and where it ends; runs without
    escapes are copied whole. None where a `\\u` escape is malformed."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    quote = -1
    while i < n:
        if quote < i:  # the next quote, escaped or not: the plain run ends there at the latest
            quote = raw.find('"', i)
            quote = n if quote < 0 else quote
        slash = raw.find("\\", i, quote)
        stop = quote if slash < 0 else slash
        if stop > i:  # a plain run
            chars.append(raw[i:stop])
            starts.extend(range(i, stop))
            ends.extend(range(i + 1, stop + 1))
            i = stop
        if i >= quote:
            break
        if i + 1 >= n:  # a backslash that ends the text is itself
            chars.append("\\")
            starts.append(i)
            ends.append(i + 1)
            i += 1
            break
        e = raw[i + 1]
        if e == "u" and i + 6 <= n:
            try:
                code = int(raw[i + 2:i + 6], 16)
            except ValueError:
                return None, i
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
    return Text("".join(chars), tuple(starts), tuple(ends)), i


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
