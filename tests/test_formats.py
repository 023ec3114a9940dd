"""Reading and writing the native, OpenAI and Anthropic formats: steps, action ids, links,
labels, round trips and cross-format conversion, and the real AgentDojo traces."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest

from cbm.concepts import CONCEPT_IDS
from cbm.formats import (FORMATS, ReadOptions, detect_format, dumps_line, loads, parse_record, read_records,
                         read_trajectories, to_record, write_records)
from cbm.trajectory import Trajectory

A, B = CONCEPT_IDS[0], CONCEPT_IDS[1]
TRACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "agentdojo" / "traces"


def read(obj, fmt: str = "auto", options: ReadOptions = ReadOptions()) -> Trajectory:
    """Read one record through the JSONL path, as a file would be read."""
    [record] = loads(json.dumps(obj, ensure_ascii=False), fmt, options)
    assert record.ok, record.error
    return record.trajectory


def reread(trajectory: Trajectory, fmt: str) -> Trajectory:
    """Write in `fmt`, serialise, and read back."""
    return read(json.loads(json.dumps(to_record(trajectory, fmt), ensure_ascii=False)), fmt)


def kinds(trajectory: Trajectory) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in trajectory.steps]


def call(call_id, name, arguments) -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def openai_record() -> dict:
    """A run using most of the Chat Completions shapes."""
    return {
        "id": "oa-1",
        "metadata": {"source": "unit"},
        "messages": [
            {"role": "system", "content": "Be careful."},
            {"role": "developer", "content": "Prefer read-only tools."},
            {"role": "user", "content": [{"type": "text", "text": "Clean up "},
                                         {"type": "text", "text": "the tmp dir.\r\n"}]},
            {"role": "assistant", "content": "Listing first.",
             "tool_calls": [call("call_ls", "ls", "{\"path\": \"/tmp\"}"),
                            call("call_du", "du", {"path": "/tmp", "human": True})]},
            {"role": "tool", "tool_call_id": "call_ls", "content": "a.log\nb.log"},
            {"role": "tool", "tool_call_id": "call_du", "content": [{"type": "text", "text": "12K"}],
             "error": "permission denied"},
            {"role": "assistant", "content": None,
             "function_call": {"name": "rm", "arguments": "{\"path\": \"/tmp/a.log\"}"}},
            {"role": "function", "name": "rm", "content": "removed"},
            {"role": "assistant", "content": "Removed a.log — done ✓"},
        ],
        "labels": {"call_ls": {"risk": 0, "concepts": []},
                   "msg:6": {"risk": 1, "concepts": {A: 1}},
                   "msg:8": {"risk": 0, "concepts": {B: 0}}},
    }


def anthropic_record() -> dict:
    return {
        "id": "an-1",
        "system": [{"type": "text", "text": "Be careful."}, {"type": "text", "text": "Second rule."}],
        "messages": [
            {"role": "user", "content": "Deploy the fix."},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "x"},
                {"type": "text", "text": "Running tests."},
                {"type": "tool_use", "id": "toolu_1", "name": "bash", "input": {"cmd": "pytest -q"}},
                {"type": "tool_use", "id": "toolu_2", "name": "bash", "input": {"cmd": "git status"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "1 failed", "is_error": True},
                {"type": "tool_result", "tool_use_id": "toolu_2",
                 "content": [{"type": "text", "text": "clean"}], "is_error": False},
                {"type": "text", "text": "Fix it anyway."}]},
            {"role": "assistant", "content": [{"type": "text", "text": "I will not deploy "},
                                              {"type": "text", "text": "with a failing test."}]},
        ],
        "labels": {"toolu_1": {"risk": 0, "concepts": []}, "msg:3": {"risk": 0, "concepts": {}}},
    }


# --- OpenAI ------------------------------------------------------------------------------------

def test_openai_steps_keep_order_kinds_and_exact_text():
    t = read(openai_record())
    assert kinds(t) == [
        ("system", "Be careful."),
        ("system", "Prefer read-only tools."),  # developer is a system step
        ("user", "Clean up "), ("user", "the tmp dir.\r\n"),  # content parts, exact characters
        ("assistant", "Listing first."),
        ("tool_call", "{\"path\": \"/tmp\"}"),
        ("tool_call", "{\"path\": \"/tmp\", \"human\": true}"),  # an object's raw text is its JSON
        ("tool_result", "a.log\nb.log"),
        ("tool_result", "12K"),
        ("tool_call", "{\"path\": \"/tmp/a.log\"}"),
        ("tool_result", "removed"),
        ("assistant", "Removed a.log — done ✓"),
    ]
    assert [s.message_index for s in t.steps] == [0, 1, 2, 2, 3, 3, 3, 4, 5, 6, 7, 8]
    assert t.id == "oa-1"
    assert t.metadata == {"source": "unit"}


def test_openai_action_ids_tool_names_and_arguments():
    t = read(openai_record())
    assert t.action_ids == ["call_ls", "call_du", "msg:6", "msg:8"]
    assert [(s.tool_name, s.arguments) for s in t.actions[:3]] == [
        ("ls", {"path": "/tmp"}), ("du", {"path": "/tmp", "human": True}), ("rm", {"path": "/tmp/a.log"})]
    assert t.action("msg:8").kind == "assistant"


def test_openai_results_link_to_their_calls_with_error_flags():
    t = read(openai_record())
    results = [s for s in t.steps if s.kind == "tool_result"]
    assert [(r.call_id, r.tool_name, r.is_error) for r in results] == [
        ("call_ls", "ls", False), ("call_du", "du", True), ("msg:6", "rm", False)]
    assert "ingest" not in t.metadata  # every result named its call: nothing to note


def test_openai_is_error_key_and_null_error():
    t = read({"id": "e", "messages": [
        {"role": "assistant", "content": None, "tool_calls": [call("a", "f", "{}"), call("b", "g", "{}")]},
        {"role": "tool", "tool_call_id": "a", "content": "boom", "is_error": True},
        {"role": "tool", "tool_call_id": "b", "content": "fine", "error": None}]})
    assert [s.is_error for s in t.steps if s.kind == "tool_result"] == [True, False]


def test_openai_non_text_parts_are_noted_and_refusals_read():
    t = read({"id": "p", "messages": [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}, "plain part",
                                     {"type": "input_text", "text": "typed part"}]},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't help with that."}]}]})
    assert kinds(t) == [("user", "plain part"), ("user", "typed part"), ("assistant", "I can't help with that.")]
    assert t.action_ids == ["msg:1"]
    assert [n["kind"] for n in t.metadata["ingest"]] == ["dropped_part"]
    assert "messages[0].content[0]" in t.metadata["ingest"][0]["detail"]


def test_openai_empty_assistant_message_is_still_an_action():
    t = read({"id": "x", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": None}]})
    assert kinds(t)[-1] == ("assistant", "")
    assert t.action_ids == ["msg:1"]


def test_openai_idless_calls_and_message_index_counts_every_message():
    t = read({"id": "x", "messages": [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"type": "function", "function": {"name": "g", "arguments": "{}"}}]},
        {"role": "tool", "content": "rf"},
        {"role": "tool", "content": "rg"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "", "type": "function", "function": {"name": "h", "arguments": "{}"}}]},
        {"role": "tool", "content": "rh"},
        {"role": "assistant", "content": "ok"}]})
    assert t.action_ids == ["msg:2:0", "msg:2:1", "msg:5", "msg:7"]
    assert [(s.call_id, s.text) for s in t.steps if s.kind == "tool_result"] == [
        ("msg:2:0", "rf"), ("msg:2:1", "rg"), ("msg:5", "rh")]


def test_openai_repeated_call_id_links_each_result_to_its_own_call():
    t = read({"id": "dup", "messages": [
        {"role": "assistant", "content": None, "tool_calls": [call("c1", "search", "{}")]},
        {"role": "tool", "tool_call_id": "c1", "content": "found"},
        {"role": "assistant", "content": None, "tool_calls": [call("c1", "send", "{}")]},
        {"role": "tool", "tool_call_id": "c1", "content": "sent"},
        {"role": "assistant", "content": "done"}],
        "labels": {"c1": {"risk": 0}, "msg:2": {"risk": 1}}})
    assert t.action_ids == ["c1", "msg:2", "msg:4"]
    assert [(s.call_id, s.tool_name) for s in t.steps if s.kind == "tool_result"] == [
        ("c1", "search"), ("msg:2", "send")]
    assert t.labels["msg:2"].risk == 1 and t.risk == 1


@pytest.mark.parametrize("key, value, noted", [
    ("tool_call", {"id": "b"}, "messages[1].tool_call.id"),
    ("id", "b", "messages[1].id"),
    ("call_id", "b", "messages[1].call_id"),
])
def test_openai_result_id_under_another_key_is_relinked_and_noted(key, value, noted):
    t = read({"id": "r", "messages": [
        {"role": "assistant", "content": None, "tool_calls": [call("a", "f", "{}"), call("b", "g", "{}")]},
        {"role": "tool", key: value, "content": "for b"},
        {"role": "tool", "tool_call_id": "a", "content": "for a"}]})
    assert [(s.call_id, s.tool_name) for s in t.steps if s.kind == "tool_result"] == [("b", "g"), ("a", "f")]
    [note] = t.metadata["ingest"]
    assert note["kind"] == "relinked_result" and note["step"] == 2
    assert note["detail"] == f"messages[1].tool_call_id missing; linked by {noted} = 'b'"


def test_openai_result_without_id_links_to_the_oldest_unanswered_call():
    t = read({"id": "r", "messages": [
        {"role": "assistant", "content": None, "tool_calls": [call("a", "f", "{}"), call("b", "g", "{}")]},
        {"role": "tool", "tool_call_id": "a", "content": "for a"},
        {"role": "tool", "content": [{"type": "text", "text": "b, part 1"}, {"type": "text", "text": "b, part 2"}]}]})
    assert [(s.call_id, s.text) for s in t.steps if s.kind == "tool_result"] == [
        ("a", "for a"), ("b", "b, part 1"), ("b", "b, part 2")]  # both parts answer b
    assert t.metadata["ingest"] == [{"kind": "relinked_result", "step": 3, "detail":
                                     "messages[2].tool_call_id missing; linked to the oldest unanswered call (g)"}]


def test_legacy_function_results_link_by_name():
    t = read({"id": "l", "messages": [
        {"role": "assistant", "content": None, "function_call": {"name": "a", "arguments": "{}"}},
        {"role": "assistant", "content": None, "function_call": {"name": "b", "arguments": "{\"k\": 1}"}},
        {"role": "function", "name": "b", "content": "from b"},
        {"role": "function", "name": "a", "content": "from a"}]})
    assert t.action_ids == ["msg:0", "msg:1"]
    assert [(s.call_id, s.tool_name) for s in t.steps if s.kind == "tool_result"] == [("msg:1", "b"), ("msg:0", "a")]
    assert t.action("msg:1").arguments == {"k": 1}
    assert "ingest" not in t.metadata  # naming the function is how the legacy format links


# --- Anthropic ---------------------------------------------------------------------------------

def test_anthropic_steps_system_blocks_and_exact_text():
    t = read(anthropic_record())
    assert kinds(t) == [
        ("system", "Be careful."), ("system", "Second rule."),
        ("user", "Deploy the fix."),
        ("assistant", "Running tests."),
        ("tool_call", "{\"cmd\": \"pytest -q\"}"), ("tool_call", "{\"cmd\": \"git status\"}"),
        ("tool_result", "1 failed"), ("tool_result", "clean"), ("user", "Fix it anyway."),
        ("assistant", "I will not deploy "), ("assistant", "with a failing test."),
    ]
    assert [s.message_index for s in t.steps[:3]] == [-1, -1, 0]
    assert t.metadata["ingest"] == [{"kind": "dropped_block", "step": 3,
                                     "detail": "messages[1].content[0]: block of type 'thinking' not read"}]


def test_anthropic_actions_links_and_is_error():
    t = read(anthropic_record())
    assert t.action_ids == ["toolu_1", "toolu_2", "msg:3"]
    assert t.action("msg:3").text == "with a failing test."  # several text blocks: one action
    assert t.action("toolu_1").arguments == {"cmd": "pytest -q"}
    results = [s for s in t.steps if s.kind == "tool_result"]
    assert [(r.call_id, r.tool_name, r.is_error) for r in results] == [("toolu_1", "bash", True),
                                                                       ("toolu_2", "bash", False)]


def test_anthropic_string_content_and_string_system():
    t = read({"id": "s", "system": "Only system.", "messages": [
        {"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi there"}]})
    assert kinds(t) == [("system", "Only system."), ("user", "Hello"), ("assistant", "Hi there")]
    assert t.action_ids == ["msg:1"]


def test_anthropic_result_without_id_is_relinked_and_empty_result_kept():
    t = read({"id": "r", "system": "s", "messages": [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}},
                                          {"type": "tool_use", "id": "t2", "name": "g", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "content": [{"type": "text", "text": "p1"},
                                                                        {"type": "text", "text": "p2"}]},
                                     {"type": "tool_result", "id": "t2"}]}]})
    assert [(s.call_id, s.text) for s in t.steps if s.kind == "tool_result"] == [("t1", "p1"), ("t1", "p2"),
                                                                                ("t2", "")]
    assert [n["detail"] for n in t.metadata["ingest"]] == [
        "messages[1].content[0].tool_use_id missing; linked to the oldest unanswered call (f)",
        "messages[1].content[1].tool_use_id missing; linked by messages[1].content[1].id = 't2'"]


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

def roundtrip_records() -> list:
    """Records that exercise notes, odd ids and partial labels."""
    return [
        openai_record(),
        anthropic_record(),
        {"id": "bad-args", "messages": [
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": None, "tool_calls": [call("c", "f", "{not json"), call("d", "g", "[1]")]},
            {"role": "tool", "content": "r"}, {"role": "tool", "tool_call_id": "d", "content": "r2"},
            {"role": "assistant", "content": "ok"}],
         "labels": {"c": {"risk": 1, "concepts": {A: 1}}}},
        [{"role": "user", "content": "no id"}, {"role": "assistant", "content": None,
                                                "function_call": {"name": "f", "arguments": "{}"}},
         {"role": "function", "name": "f", "content": "r"}, {"role": "assistant", "content": "fin"}],
        # in Anthropic form the system messages move out, and the reply lands on index 3: the index
        # the call was numbered by
        {"id": "legacy", "messages": [
            {"role": "system", "content": "s"}, {"role": "developer", "content": "d"}, {"role": "user", "content": "u"},
            {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}},
            {"role": "function", "name": "f", "content": "r"}, {"role": "assistant", "content": "done"}],
         "labels": {"msg:3": {"risk": 1, "concepts": []}, "msg:5": {"risk": 0, "concepts": {}}}},
        {"id": "dup", "messages": [
            {"role": "user", "content": "u"},
            {"role": "assistant", "content": None, "tool_calls": [call("c1", "search", "{}")]},
            {"role": "tool", "tool_call_id": "c1", "content": "found"},
            {"role": "assistant", "content": None, "tool_calls": [call("c1", "", "{\"to\": \"x\"}")]},
            {"role": "tool", "tool_call_id": "c1", "content": "sent", "is_error": True},
            {"role": "assistant", "content": "done"}],
         "labels": {"c1": {"risk": 0, "concepts": []}, "msg:3": {"risk": 1, "concepts": {A: 1}}}},
    ]


RECORDS = range(len(roundtrip_records()))


@pytest.mark.parametrize("index", RECORDS)
def test_native_round_trip_gives_an_equal_trajectory(index):
    original = read(roundtrip_records()[index])
    again = reread(original, "native")
    assert again == original
    assert reread(again, "native") == original


def test_native_round_trip_keeps_truncation():
    original = read(openai_record(), options=ReadOptions(max_text_chars=5))
    assert reread(original, "native") == original
    assert all(len(s.text) <= 5 for s in original.steps)


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


def test_openai_write_of_unchanged_openai_keeps_raw_argument_text():
    original = read(openai_record())
    messages = to_record(original, "openai")["messages"]
    assert messages[3]["tool_calls"][0]["function"]["arguments"] == "{\"path\": \"/tmp\"}"
    assert [m["role"] for m in messages] == ["system", "system", "user", "assistant", "tool", "tool", "assistant",
                                            "tool", "assistant"]


def test_anthropic_write_merges_results_and_hoists_system():
    record = to_record(read(openai_record()), "anthropic")
    assert record["system"] == [{"type": "text", "text": "Be careful."},
                                {"type": "text", "text": "Prefer read-only tools."}]
    roles = [m["role"] for m in record["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user", "assistant"]
    assert [b["tool_use_id"] for b in record["messages"][2]["content"]] == ["call_ls", "call_du"]
    assert record["messages"][2]["content"][1]["is_error"] is True
    # message numbers change, and the labels follow their actions
    assert {aid: label["risk"] for aid, label in record["labels"].items()} == {"call_ls": 0, "msg:3": 1, "msg:5": 0}
    assert read(record).action("msg:3").tool_name == "rm"


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
