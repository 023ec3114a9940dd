"""Reading and writing trajectories (`cbm.formats`): format detection, labels, round trips and
cross-format conversion, the real AgentDojo traces, and bad input: every bad record reported with
its line, id and field. Each format's own reading is in test_formats_<format>.py."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from formats_helpers import A, B, anthropic_record, call, kinds, openai_record, read, reread, roundtrip_records

from cbm.formats import (FORMATS, FormatError, ReadOptions, detect_format, dumps_line, loads, parse_record,
                         read_records, read_trajectories, to_record, write_records)
from cbm.trajectory import Trajectory

TRACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "agentdojo" / "traces"


# --- OpenAI ------------------------------------------------------------------------------------


# --- Anthropic ---------------------------------------------------------------------------------


# --- records and detection ---------------------------------------------------------------------

def test_a_bare_message_list_gets_a_stable_content_id():
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    first, second = read(messages), read(copy.deepcopy(messages))
    assert first.id == second.id and first.id.startswith("sha1:")
    assert read(messages + [{"role": "user", "content": "more"}]).id != first.id
    assert first.action_ids == ["msg:1"]


def test_record_keeps_unknown_top_level_keys_in_metadata():
    t = read({"id": 7, "index": 3, "annotations": [], "metadata": {"suite": "banking", "index": "kept"},
              "messages": [{"role": "user", "content": "hi"}]})
    assert t.id == "7"
    assert t.metadata == {"suite": "banking", "index": "kept", "annotations": []}


@pytest.mark.parametrize("obj, fmt", [
    ({"id": "n", "steps": []}, "native"),
    ({"system": "s", "messages": []}, "anthropic"),
    ([{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]}], "anthropic"),
    ([{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t"}]}], "anthropic"),
    ([{"role": "tool", "tool_call_id": "c", "content": "x"}], "openai"),
    ([{"role": "developer", "content": "x"}], "openai"),
    ([{"role": "assistant", "content": None, "function_call": {"name": "f"}}], "openai"),
    ([{"role": "user", "content": "plain"}], "openai"),
    ([{"role": "user", "content": [{"type": "text", "text": "either"}]}], "openai"),
])
def test_detect_format(obj, fmt):
    assert detect_format(obj) == fmt


def test_format_is_detected_per_record():
    native = to_record(read(openai_record()), "native")
    lines = [json.dumps(openai_record()), json.dumps(anthropic_record()), json.dumps(native)]
    records = loads("\n".join(lines) + "\n")
    assert [(r.line, r.format, r.trajectory.id) for r in records] == [
        (1, "openai", "oa-1"), (2, "anthropic", "an-1"), (3, "native", "oa-1")]


def test_forced_format_reads_as_told():
    [record] = loads(json.dumps({"id": "x", "messages": [{"role": "user", "content": "hi"}]}), fmt="anthropic")
    assert record.format == "anthropic" and kinds(record.trajectory) == [("user", "hi")]


def test_blank_lines_are_skipped_and_line_numbers_kept():
    text = "\n" + json.dumps(openai_record()) + "\r\n\n  \n" + json.dumps(anthropic_record())
    assert [(r.line, r.ok) for r in loads(text)] == [(2, True), (5, True)]


def test_read_records_from_a_path_and_a_binary_stream(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(openai_record()) + "\n", encoding="utf-8")
    assert [t.id for t in read_trajectories(path)] == ["oa-1"]
    assert [r.trajectory.id for r in read_records(str(path))] == ["oa-1"]
    stream = io.BytesIO(path.read_bytes())
    assert [r.trajectory.id for r in read_records(stream)] == ["oa-1"]


# --- labels ------------------------------------------------------------------------------------

def test_labels_attach_to_actions_partial_and_complete():
    t = read(openai_record())
    assert set(t.labels) == {"call_ls", "msg:6", "msg:8"}
    assert t.labels["call_ls"].complete and t.labels["call_ls"].concepts[A] == 0
    assert t.labels["msg:6"].concepts == {A: 1} and not t.labels["msg:6"].complete
    assert t.labels["msg:8"].concepts == {B: 0}
    assert "call_du" not in t.labels
    assert t.risk == 1


def test_trajectory_risk_zero_needs_every_action_labelled():
    record = anthropic_record()
    assert read(record).risk is None  # toolu_2 has no label
    record["labels"]["toolu_2"] = {"risk": 0, "concepts": []}
    assert read(record).risk == 0


# --- round trips -------------------------------------------------------------------------------


RECORDS = range(len(roundtrip_records()))


def test_reading_never_changes_the_input_or_the_source_trajectory():
    record = roundtrip_records()[2]
    frozen = copy.deepcopy(record)
    t = parse_record(record)
    assert record == frozen
    snapshot = copy.deepcopy(t)
    for fmt in FORMATS:
        parse_record(to_record(t, fmt), fmt)
    assert t == snapshot


def action_view(t: Trajectory) -> list[tuple]:
    """What must survive any conversion: the action sequence with tools, arguments and labels."""
    out = []
    for step in t.actions:
        label = t.labels.get(step.action_id)
        out.append((step.kind, step.tool_name, step.arguments if step.kind == "tool_call" else step.text,
                    label.to_json() if label else None))
    return out


@pytest.mark.parametrize("index", RECORDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_conversion_keeps_actions_arguments_and_labels(index, fmt):
    original = read(roundtrip_records()[index])
    converted = reread(original, fmt)
    assert action_view(converted) == action_view(original)
    assert len(set(converted.action_ids)) == len(converted.action_ids)
    assert converted.risk == original.risk
    assert result_view(converted) == result_view(original)


def result_view(t: Trajectory) -> list[tuple]:
    """Each tool result with the position of the call it answers."""
    return [(s.text, s.is_error, t.action_ids.index(s.call_id)) for s in t.steps if s.kind == "tool_result"]


@pytest.mark.parametrize("index", RECORDS)
def test_openai_to_anthropic_to_openai(index):
    original = read(roundtrip_records()[index])
    via = reread(reread(original, "anthropic"), "openai")
    assert action_view(via) == action_view(original)
    assert [s.text for s in via.steps if s.kind == "tool_call" and s.arguments is None] == [
        s.text for s in original.steps if s.kind == "tool_call" and s.arguments is None]  # invalid raw text kept


def test_a_cut_argument_text_keeps_its_arguments_when_written():
    record = {"id": "big", "messages": [{"role": "assistant", "content": None, "tool_calls": [
        call("w", "write_file", json.dumps({"path": "a.txt", "content": "z" * 500}))]}]}
    t = read(record, options=ReadOptions(max_text_chars=100))
    assert len(t.action("w").text) == 100
    for fmt in FORMATS:
        assert reread(t, fmt).action("w").arguments == {"path": "a.txt", "content": "z" * 500}


def test_lone_surrogates_survive_writing():
    # valid JSON (an escaped half of a surrogate pair), but not encodable as UTF-8
    [record] = loads('{"id": "s", "messages": [{"role": "user", "content": "half \\ud83d pair"}]}')
    stream = io.StringIO()
    assert write_records([record.trajectory], stream, "openai") == 1
    line = stream.getvalue()
    line.encode("utf-8")  # writable to a UTF-8 file
    [again] = loads(line)
    assert again.trajectory.steps[0].text == "half \ud83d pair"
    assert dumps_line({"t": "é"}) == '{"t": "é"}\n'


# --- AgentDojo traces --------------------------------------------------------------------------

def trace_files() -> list[Path]:
    if not TRACES.is_dir():
        pytest.skip(f"AgentDojo traces not found at {TRACES}")
    files = sorted(TRACES.glob("*.jsonl"))
    if not files:
        pytest.skip(f"no *.jsonl AgentDojo traces in {TRACES}")
    return files


def test_agentdojo_traces_read_except_their_header():
    for path in trace_files():
        records = list(read_records(path))
        failed = [r for r in records if not r.ok]
        assert [r.line for r in failed] == [1], path.name
        assert "not a trajectory" in failed[0].error.reason
        trajectories = [r.trajectory for r in records if r.ok]
        assert len(trajectories) == 194, path.name
        assert [r.line for r in records if r.ok] == list(range(2, 196))
        assert all(r.format == "openai" for r in records if r.ok)
        assert all(len(t.actions) > 0 for t in trajectories), path.name
        assert len({t.id for t in trajectories}) == 194


def test_agentdojo_results_link_to_the_call_they_name():
    for path in trace_files():
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            obj = json.loads(line)
            t = read(obj)
            results = [s for s in t.steps if s.kind == "tool_result"]
            named = [m["tool_call"]["function"] for m in obj["messages"] if m["role"] == "tool"]
            assert [r.tool_name for r in results] == named, path.name
            assert all(r.call_id in t.action_ids for r in results)


def test_agentdojo_native_round_trip():
    for path in trace_files():
        for record in read_records(path):
            if record.ok:
                assert reread(record.trajectory, "native") == record.trajectory, (path.name, record.line)


# --- bad input: every bad record is reported with its line, id and field, and never stops a batch;
# nothing is cut or relinked silently ------------------------------------------------------------

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
