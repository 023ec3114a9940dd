"""Anthropic Messages records (`cbm.formats.anthropic`): system blocks, tool use and its results,
and writing them back."""

from __future__ import annotations

from formats_helpers import anthropic_record, kinds, openai_record, read

from cbm.formats import to_record


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
