"""Bad input: every bad record is reported with its line, id and field, and never stops a batch;
nothing is cut or relinked silently."""

from __future__ import annotations

import copy
import io
import json

import pytest

from cbm.formats import FormatError, ReadOptions, loads, parse_record, read_records, read_trajectories

GOOD = {"id": "good", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}


def records(*lines: str | bytes, fmt: str = "auto", options: ReadOptions = ReadOptions()):
    data = b"".join((line if isinstance(line, bytes) else line.encode("utf-8")) + b"\n" for line in lines)
    return list(read_records(io.BytesIO(data), fmt, options))


def error_of(obj, fmt: str = "auto"):
    """The error of one bad record read between two good ones, which must still be read."""
    line = obj if isinstance(obj, (str, bytes)) else json.dumps(obj)
    first, bad, last = records(json.dumps(GOOD), line, json.dumps(GOOD), fmt=fmt)
    assert first.ok and last.ok and (first.line, last.line) == (1, 3)
    assert not bad.ok and bad.trajectory is None and bad.line == 2
    assert bad.error.line == 2
    return bad.error


def msgs(*messages, **extra) -> dict:
    return {"id": "r1", "messages": list(messages), **extra}


def asst_call(call_id="c1", name="f", arguments="{}") -> dict:
    return {"role": "assistant", "content": None,
            "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]}


# --- not JSON, not text ------------------------------------------------------------------------

def test_not_json():
    error = error_of('{"id": "x", "messages": [')
    assert error.reason.startswith("not JSON (")
    assert str(error).startswith("line 2: not JSON")


def test_not_utf8():
    error = error_of(b'{"id": "x", "messages": "\xff\xfe"}')
    assert error.reason.startswith("not UTF-8 text")


@pytest.mark.parametrize("text", ["5", '"a string"', "null", "true"])
def test_json_that_is_not_a_record(text):
    error = error_of(text)
    assert error.field == "record" and "expected object or array" in error.reason


def test_nesting_too_deep_is_an_error_not_a_crash():
    error = error_of('{"id": "deep", "messages": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert error.reason == "nested too deeply" and error.line == 2


def test_an_integer_too_long_to_convert_is_an_error_not_a_crash():
    error = error_of('{"id": "big", "n": ' + "9" * 5000 + ', "messages": []}')
    assert error.reason.startswith("not readable JSON (") and "digits" in error.reason and error.line == 2


def test_a_byte_order_mark_on_the_first_line_is_read_past():
    bom = b"\xef\xbb\xbf" + json.dumps(GOOD).encode()
    first, second = records(bom, bom)
    assert first.ok and first.trajectory.id == "good"
    assert not second.ok and second.error.reason.startswith("not JSON")  # only a file's first bytes may be a BOM


def test_a_header_line_is_reported_as_not_a_trajectory():
    error = error_of({"metadata": {"benchmark": "agent-dojo"}})
    assert (error.field, error.record_id) == ("messages", None)
    assert "not a trajectory" in error.reason


# --- unknown role or kind ----------------------------------------------------------------------

@pytest.mark.parametrize("obj, field, reason", [
    (msgs({"role": "robot", "content": "x"}), "messages[0].role", "unknown role 'robot'"),
    (msgs({"role": ["user"], "content": "x"}), "messages[0].role", "expected string, got array"),
    (msgs({"role": {"name": "user"}, "content": "x"}), "messages[0].role", "expected string, got object"),
    ({"id": "r1", "system": "s", "messages": [{"role": "system", "content": "x"}]}, "messages[0].role",
     "unknown role 'system'"),
    ({"id": "r1", "steps": [{"kind": "robot", "text": "x"}]}, "steps[0].kind", "unknown kind 'robot'"),
])
def test_unknown_role_or_kind(obj, field, reason):
    error = error_of(obj)
    assert (error.record_id, error.field) == ("r1", field)
    assert reason in error.reason
    assert str(error).startswith(f"line 2 (id 'r1'): {field}: ")


@pytest.mark.parametrize("obj", [
    {"id": "r" * 100_000, "steps": [{"kind": "robot " * 20_000, "text": "x"}]},
    {"id": "r1", "messages": [{"role": "secret " * 20_000, "content": "x"}]},
])
def test_an_error_quotes_at_most_a_short_piece_of_a_record_value(obj):
    error = error_of(obj)
    assert len(str(error)) < 300 and "characters)" in str(error)  # says how long the value was


# --- tool results with no call -----------------------------------------------------------------

@pytest.mark.parametrize("obj, field", [
    (msgs(asst_call(), {"role": "tool", "tool_call_id": "c9", "content": "r"}), "messages[1].tool_call_id"),
    (msgs(asst_call(), {"role": "tool", "tool_call": {"id": "c9"}, "content": "r"}), "messages[1].tool_call.id"),
    (msgs({"role": "tool", "content": "r"}), "messages[0].tool_call_id"),
    (msgs(asst_call(), {"role": "tool", "tool_call_id": "c1", "content": "r"}, {"role": "tool", "content": "r2"}),
     "messages[2].tool_call_id"),
    (msgs({"role": "function", "name": "f", "content": "r"}), "messages[0].name"),
    ({"id": "r1", "system": "s", "messages": [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t9"}]}]},
     "messages[1].content[0].tool_use_id"),
    ({"id": "r1", "steps": [{"kind": "tool_call", "text": "{}", "tool_name": "f", "call_id": "c1"},
                            {"kind": "tool_result", "text": "r", "call_id": "c9"}]}, "steps[1].call_id"),
])
def test_tool_result_without_a_matching_call(obj, field):
    error = error_of(obj)
    assert (error.record_id, error.field) == ("r1", field)
    assert "call" in error.reason


# --- arguments that are not JSON: kept and marked, not an error --------------------------------

@pytest.mark.parametrize("obj, raw, field", [
    (msgs(asst_call(arguments='{"path": "/tmp", ')), '{"path": "/tmp", ',
     "messages[0].tool_calls[0].function.arguments"),
    (msgs(asst_call(arguments="[1, 2]")), "[1, 2]", "messages[0].tool_calls[0].function.arguments"),
    (msgs({"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "path=/tmp"}}),
     "path=/tmp", "messages[0].function_call.arguments"),
    ({"id": "r1", "system": "s", "messages": [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "f", "input": "{oops"}]}]},
     "{oops", "messages[0].content[0].input"),
    ({"id": "r1", "steps": [{"kind": "tool_call", "text": "{oops", "tool_name": "f", "call_id": "c1"}]}, "{oops",
     "steps[0].text"),
])
def test_invalid_arguments_keep_raw_text_and_are_noted(obj, raw, field):
    [record] = records(json.dumps(obj))
    assert record.ok, record.error
    trajectory = record.trajectory
    [call] = trajectory.actions
    assert (call.text, call.arguments, call.arguments_valid) == (raw, None, False)
    [note] = trajectory.metadata["ingest"]
    assert note["kind"] == "invalid_arguments" and note["step"] == trajectory.steps.index(call)
    assert note["detail"].startswith(field + ": arguments are ")


@pytest.mark.parametrize("arguments, text", [("", ""), (None, "{}"), ("  ", "  ")])
def test_empty_arguments_mean_no_arguments(arguments, text):
    [record] = records(json.dumps(msgs(asst_call(arguments=arguments))))
    [call] = record.trajectory.actions
    assert (call.text, call.arguments) == (text, {})
    assert "ingest" not in record.trajectory.metadata


# --- missing fields and wrong types ------------------------------------------------------------

@pytest.mark.parametrize("obj, field, reason", [
    (msgs({"content": "x"}), "messages[0].role", "expected string, got null"),
    (msgs({"role": "assistant", "tool_calls": [{"id": "c"}]}), "messages[0].tool_calls[0].function",
     "expected object, got null"),
    (msgs({"role": "assistant", "tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]}),
     "messages[0].tool_calls[0].function.name", "expected string, got null"),
    (msgs({"role": "assistant", "function_call": {"arguments": "{}"}}), "messages[0].function_call.name",
     "expected string, got null"),
    (msgs(asst_call(), {"role": "function", "content": "r"}), "messages[1].name", "expected string, got null"),
    ({"id": "r1", "system": "s", "messages": [{"role": "user"}]}, "messages[0].content",
     "expected array, got null"),
    ({"id": "r1", "system": "s", "messages": [{"role": "assistant", "content": [{"text": "x"}]}]},
     "messages[0].content[0].type", "expected string, got null"),
    ({"id": "r1", "system": "s", "messages": [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "input": {}}]}]},
     "messages[0].content[0].name", "expected string, got null"),
    ({"id": "r1", "steps": None}, "steps", "expected array, got null"),
    ({"id": "r1", "steps": [{"text": "x"}]}, "steps[0].kind", "expected string, got null"),
    ({"id": "r1", "steps": [{"kind": "tool_call", "text": "{}"}]}, "steps[0].tool_name",
     "a tool call needs a tool_name"),
])
def test_missing_required_fields(obj, field, reason):
    error = error_of(obj)
    assert (error.record_id, error.field, error.reason) == ("r1", field, reason)


@pytest.mark.parametrize("obj, field, reason", [
    ({"id": 1.5, "messages": []}, "id", "expected a string, got number"),
    ({"id": True, "messages": []}, "id", "expected a string, got boolean"),
    (msgs(metadata=[1]), "metadata", "expected object, got array"),
    ({"id": "r1", "messages": {"0": {"role": "user"}}}, "messages", "expected array, got object"),
    (msgs("hello"), "messages[0]", "expected object, got string"),
    (msgs({"role": "user", "content": 5}), "messages[0].content", "expected array, got integer"),
    (msgs({"role": "user", "content": [{"type": "text", "text": 5}]}), "messages[0].content[0].text",
     "expected string, got integer"),
    (msgs({"role": "assistant", "tool_calls": {"id": "c"}}), "messages[0].tool_calls", "expected array, got object"),
    (msgs(asst_call(arguments=5)), "messages[0].tool_calls[0].function.arguments",
     "expected a JSON string or an object, got integer"),
    (msgs(asst_call(call_id=7)), "messages[0].tool_calls[0].id", "expected string or null, got integer"),
    ({"id": "r1", "system": "s", "messages": [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "is_error": "yes"}]}]},
     "messages[1].content[0].is_error", "expected boolean or null, got string"),
    ({"id": "r1", "system": 3, "messages": []}, "system", "expected array, got integer"),
    (msgs(labels=[1]), "labels", "expected object, got array"),
    (msgs({"role": "assistant", "content": "x"}, labels={"msg:0": {"risk": 2}}), "labels.msg:0",
     "risk must be 0 or 1, got 2"),
    (msgs({"role": "assistant", "content": "x"}, labels={"msg:0": {"risk": 0, "concepts": ["nope"]}}),
     "labels.msg:0", "unknown concept 'nope'"),
    (msgs({"role": "assistant", "content": "x"}, labels={"msg:9": {"risk": 0}}), "labels.msg:9",
     "no action with id 'msg:9' (actions: msg:0)"),
    (msgs(metadata={"ingest": 5}), "metadata.ingest", "expected array, got integer"),
    (msgs(metadata={"ingest": [{"kind": "truncated"}]}), "metadata.ingest[0].detail", "expected string, got null"),
    ({"id": "r1", "steps": [{"kind": "user", "text": 5}]}, "steps[0].text", "expected string, got integer"),
    ({"id": "r1", "steps": [{"kind": "user", "message_index": "0"}]}, "steps[0].message_index",
     "expected integer, got string"),
    ({"id": "r1", "steps": [{"kind": "user", "is_error": 1}]}, "steps[0].is_error", "expected boolean, got integer"),
    ({"id": "r1", "steps": [{"kind": "tool_call", "tool_name": "f", "arguments": [1]}]}, "steps[0].arguments",
     "expected object or null, got array"),
    ({"id": "r1", "steps": [], "extra": 1}, "record", "unknown field(s) ['extra']"),
    ({"id": "r1", "steps": [{"kind": "user", "color": "red"}]}, "steps[0]", "unknown field(s) ['color']"),
])
def test_wrong_types(obj, field, reason):
    error = error_of(obj)
    assert (error.field, error.reason) == (field, reason)
    assert error.record_id == (None if field == "id" else "r1")


@pytest.mark.parametrize("obj, field, reason", [
    ({"id": "r1", "steps": [{"kind": "assistant", "text": "a", "message_index": 2},
                            {"kind": "user", "text": "u", "message_index": 1}]},
     "steps[1].message_index", "message_index 1 after 2: steps must be in message order"),
    ({"id": "r1", "steps": [{"kind": "tool_call", "tool_name": "f", "call_id": "c", "message_index": 0},
                            {"kind": "tool_result", "call_id": "c", "message_index": 0}]},
     "steps[1].message_index", "a 'tool_call' and a 'tool_result' step share message 0"),
    ({"id": "r1", "steps": [{"kind": "assistant", "text": "a", "action_id": "call_1"}]}, "steps[0].action_id",
     "declared action_id 'call_1' but the id rules give 'msg:0'"),
    ({"id": "r1", "system": "s", "messages": [
        {"role": "user", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]}]},
     "messages[0].content[0]", "tool_use block in a user message"),
    ({"id": "r1", "system": "s", "messages": [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]},
        {"role": "assistant", "content": [{"type": "tool_result", "tool_use_id": "t"}]}]},
     "messages[1].content[0]", "tool_result block in an assistant message"),
])
def test_inconsistent_structure(obj, field, reason):
    error = error_of(obj)
    assert (error.record_id, error.field) == ("r1", field)
    assert error.reason.startswith(reason)


def test_errors_without_an_id_name_the_line():
    error = error_of([{"role": "robot", "content": "x"}])
    assert str(error) == "line 2: messages[0].role: unknown role 'robot' (one of system, developer, user, " \
                         "assistant, tool, function)"


def test_direct_parse_raises_format_error_with_field():
    with pytest.raises(FormatError) as info:
        parse_record(msgs({"role": "robot"}))
    assert info.value.field == "messages[0].role"


def test_read_trajectories_stops_at_the_first_bad_record():
    stream = io.BytesIO((json.dumps(GOOD) + "\n{oops\n").encode())
    with pytest.raises(FormatError, match="line 2: not JSON"):
        read_trajectories(stream)


def test_unknown_format_name_is_a_usage_error():
    with pytest.raises(ValueError, match="unknown format 'yaml'"):
        list(read_records(io.BytesIO(b""), "yaml"))
    with pytest.raises(ValueError, match="unknown format 'yaml'"):
        parse_record(GOOD, "yaml")


def test_a_mixed_batch_reports_each_bad_record_and_reads_the_rest():
    lines = [json.dumps(GOOD), "{oops", json.dumps(msgs({"role": "robot"})), json.dumps(GOOD),
             json.dumps(msgs(asst_call(arguments="{bad"))), json.dumps({"id": "h"}), json.dumps(GOOD)]
    out = records(*lines)
    assert [(r.line, r.ok) for r in out] == [(1, True), (2, False), (3, False), (4, True), (5, True), (6, False),
                                             (7, True)]
    assert [r.error.record_id for r in out if not r.ok] == [None, "r1", "h"]


def test_no_malformed_variant_of_a_record_crashes_the_reader():
    """Replace every value of rich records by wrong ones: each read gives a trajectory or an error."""
    bases = [
        {"id": "o", "metadata": {"k": 1}, "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": [{"type": "text", "text": "a"}]},
            {"role": "assistant", "content": "t", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"x\": 1}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "r1"},
            {"role": "assistant", "content": None, "function_call": {"name": "h", "arguments": "{}"}},
            {"role": "function", "name": "h", "content": "r3"},
            {"role": "assistant", "content": "bye"}], "labels": {"c1": {"risk": 1, "concepts": {}}}},
        {"id": "a", "system": "sys", "messages": [
            {"role": "assistant", "content": [{"type": "text", "text": "t"},
                                              {"type": "tool_use", "id": "u1", "name": "f", "input": {"a": 1}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "u1",
                                          "content": [{"type": "text", "text": "x"}], "is_error": True}]}]},
        {"id": "n", "metadata": {"ingest": [{"kind": "k", "detail": "d", "step": 0}]}, "steps": [
            {"kind": "tool_call", "text": "{}", "message_index": 0, "call_id": "c", "tool_name": "f",
             "arguments": {}, "action_id": "c"},
            {"kind": "tool_result", "text": "r", "message_index": 1, "call_id": "c", "is_error": True}],
         "labels": {"c": {"risk": 0, "concepts": []}}},
    ]
    wrong = [None, 0, True, 2.5, "", "x", [], {}, [None], {"a": []}]

    def paths(obj, path=()):
        if path:
            yield path
        children = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
        for key, value in children:
            yield from paths(value, (*path, key))

    lines = []
    for base in bases:
        for path in paths(base):
            for value in wrong:
                variant = copy.deepcopy(base)
                parent = variant
                for key in path[:-1]:
                    parent = parent[key]
                parent[path[-1]] = value
                lines.append(json.dumps(variant))
    out = records(*lines)
    assert [r.line for r in out] == list(range(1, len(lines) + 1))
    for record in out:
        assert record.ok != (record.error is not None)
        if record.error:
            assert record.error.reason


# --- size limits -------------------------------------------------------------------------------

def test_texts_over_max_text_chars_are_cut_and_noted():
    obj = msgs({"role": "system", "content": "short"}, {"role": "user", "content": "u" * 30},
               asst_call(arguments=json.dumps({"k": "v" * 30})), {"role": "tool", "tool_call_id": "c1",
                                                                  "content": "0123456789"})
    [record] = records(json.dumps(obj), options=ReadOptions(max_text_chars=10))
    t = record.trajectory
    assert [s.text for s in t.steps] == ["short", "u" * 10, '{"k": "vvv', "0123456789"]
    assert t.action("c1").arguments == {"k": "v" * 30}  # parsed before the cut
    assert t.metadata["ingest"] == [
        {"kind": "truncated", "detail": "text of 30 chars cut to 10 (max_text_chars)", "step": 1},
        {"kind": "truncated", "detail": "text of 39 chars cut to 10 (max_text_chars)", "step": 2}]


def test_record_size_limit_is_exact_and_per_record():
    line = json.dumps(GOOD)
    size = len(line.encode())
    ok, = records(line, options=ReadOptions(max_record_bytes=size))
    assert ok.ok
    first, over, last = records("[]", line, "[]", options=ReadOptions(max_record_bytes=size - 1))
    assert first.ok and last.ok
    assert over.line == 2 and "over the" in over.error.reason and "(max_record_bytes)" in over.error.reason


BIG = 50 * 1024 * 1024  # characters of the huge tool output


@pytest.fixture(scope="module")
def huge_file(tmp_path_factory):
    """A file whose second line carries a 50 MB tool result, written in chunks."""
    path = tmp_path_factory.mktemp("huge") / "huge.jsonl"
    head = json.dumps(msgs(asst_call(), {"role": "tool", "tool_call_id": "c1", "content": "@"}))
    before, after = head.split('"@"')
    chunk = "x" * (1024 * 1024)
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps(GOOD) + "\n")
        out.write(before + '"')
        for _ in range(BIG // len(chunk)):
            out.write(chunk)
        out.write('"' + after + "\n")
        out.write(json.dumps(GOOD) + "\n")
    return path


def test_a_50mb_record_is_an_error_under_the_default_record_limit(huge_file):
    out = list(read_records(huge_file))
    assert [(r.line, r.ok) for r in out] == [(1, True), (2, False), (3, True)]
    assert str(out[1].error) == "line 2: record is 50.0 MiB, over the 16 MiB limit (max_record_bytes)"


def test_a_50mb_text_is_cut_and_noted_when_the_record_limit_allows_it(huge_file):
    options = ReadOptions(max_record_bytes=64 * 1024 * 1024, max_text_chars=1000)
    out = list(read_records(huge_file, options=options))
    assert [(r.line, r.ok) for r in out] == [(1, True), (2, True), (3, True)]
    t = out[1].trajectory
    result = t.steps[-1]
    assert result.kind == "tool_result" and result.text == "x" * 1000
    assert t.metadata["ingest"] == [{"kind": "truncated", "step": 1,
                                     "detail": f"text of {BIG} chars cut to 1000 (max_text_chars)"}]


def test_loads_reads_a_string_batch():
    out = loads(json.dumps(GOOD) + "\nnope\n")
    assert [(r.line, r.ok) for r in out] == [(1, True), (2, False)]
