"""What every reader shares (`cbm.formats.base`): field checks that name the field, errors that
quote only a short piece of a value, and tool-call arguments kept whatever their shape."""

from __future__ import annotations

import pytest

from cbm.formats.base import FormatError, RecordError, expect, parse_arguments, shown


def test_expect_names_the_field_and_the_json_types():
    assert expect("x", str, "id") == "x"
    with pytest.raises(FormatError) as info:
        expect(True, (int, float), "messages[2].index")
    assert (info.value.field, info.value.reason) == ("messages[2].index", "expected integer or number, got boolean")
    assert str(info.value) == "messages[2].index: expected integer or number, got boolean"


def test_shown_cuts_a_long_value_and_an_error_says_where():
    assert shown("short") == "'short'"
    assert shown("x" * 100) == "'" + "x" * 39 + "... (102 characters)"
    assert str(RecordError(3, "run-1", "messages[0].role", "unknown role 'robot'")) == \
        "line 3 (id 'run-1'): messages[0].role: unknown role 'robot'"
    assert str(RecordError(None, None, None, "not JSON")) == "record: not JSON"


def test_arguments_are_kept_as_raw_text_whatever_their_shape():
    assert parse_arguments(None, "f") == ("{}", {}, None)
    assert parse_arguments({"path": "/tmp"}, "f") == ('{"path": "/tmp"}', {"path": "/tmp"}, None)
    assert parse_arguments('{"a": 1}', "f") == ('{"a": 1}', {"a": 1}, None)
    raw, parsed, problem = parse_arguments('{"a": ', "calls[0].arguments")
    assert (raw, parsed) == ('{"a": ', None) and problem.startswith("calls[0].arguments: arguments are not valid JSON")
    assert parse_arguments("[1]", "f")[1:] == (None, "f: arguments are JSON but not an object; raw text kept")
    with pytest.raises(FormatError, match="expected a JSON string or an object, got integer"):
        parse_arguments(5, "f")
