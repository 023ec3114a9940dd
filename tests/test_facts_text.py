"""Strings that remember where each character came from (`cbm.facts.text`), through JSON escapes."""

from __future__ import annotations

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
