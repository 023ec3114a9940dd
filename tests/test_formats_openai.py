"""OpenAI Chat Completions records (`cbm.formats.openai`): steps in order with their exact text,
every tool result linked to its call, and writing them back."""

from __future__ import annotations

import pytest
from formats_helpers import call, kinds, openai_record, read

from cbm.formats import to_record


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


def test_openai_write_of_unchanged_openai_keeps_raw_argument_text():
    original = read(openai_record())
    messages = to_record(original, "openai")["messages"]
    assert messages[3]["tool_calls"][0]["function"]["arguments"] == "{\"path\": \"/tmp\"}"
    assert [m["role"] for m in messages] == ["system", "system", "user", "assistant", "tool", "tool", "assistant",
                                            "tool", "assistant"]
