"""Strings that remember where each character came from (`cbm.facts.text`), through JSON escapes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cbm.facts.text import Text, json_strings


def test_a_plain_text_maps_each_character_to_its_place():
    text = Text.plain("rm -rf", base=10)
    assert len(text) == 6 and text.span() == (10, 16) and text.span(3, 6) == (13, 16)
    assert text.slice(3).value == "-rf" and text.slice(3).span() == (13, 16)


def test_json_strings_map_escapes_back_to_the_raw_characters():
    raw = '{"a": "x\\ny", "b": ["q\\u0072"]}'
    strings = {t.value: (depth, t) for depth, t in json_strings(raw)}
    assert set(strings) == {"a", "x\ny", "b", "qr"}
    depth, escaped = strings["qr"]
    assert depth == 2 and raw[slice(*escaped.span(1, 2))] == "\\u0072"
    newline = strings["x\ny"][1]
    assert raw[slice(*newline.span(1, 2))] == "\\n" and raw[slice(*newline.span())] == "x\\ny"


def _strings_of(value) -> list[str]:
    """The string literals of a JSON value in the order json.dumps writes them (keys before values)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k] + _strings_of(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings_of(v)]
    return []


_json = st.recursive(st.none() | st.integers() | st.text(), lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_json, st.booleans())
def test_json_strings_decode_every_literal_and_map_each_character_to_its_escape(value, ascii_only):
    """Whatever a log writer escapes, each decoded character points at the raw characters that
    wrote it, so a fact's span highlights the right place in an OpenAI call's argument string."""
    raw = json.dumps({"arguments": value}, ensure_ascii=ascii_only)
    found = json_strings(raw)
    assert [t.value for _, t in found] == ["arguments"] + _strings_of(value)
    for _, text in found:
        for k, ch in enumerate(text.value):
            written = raw[text.starts[k]:text.ends[k]]
            assert json.loads('"' + written + '"') == ch


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet='"\\u0D8Ca{}[] nx\n:,é', max_size=40))
def test_json_strings_never_raise_on_broken_json(raw):
    for _, text in json_strings(raw):
        assert len(text.starts) == len(text.ends) == len(text.value)
        assert all(0 <= a < b <= len(raw) for a, b in zip(text.starts, text.ends))
