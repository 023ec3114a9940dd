"""Helpers the format tests share: reading one record, the kinds of its steps, and a record of each
of the OpenAI and Anthropic shapes."""

from __future__ import annotations

import json

from cbm.concepts import CONCEPT_IDS
from cbm.formats import ReadOptions, loads, parse_record, to_record
from cbm.trajectory import Trajectory

A, B = CONCEPT_IDS[0], CONCEPT_IDS[1]


def read(obj, fmt: str = "auto", options: ReadOptions = ReadOptions()) -> Trajectory:
    """Read one record through the JSONL path, as a file would be read."""
    [record] = loads(json.dumps(obj, ensure_ascii=False), fmt, options)
    assert record.ok, record.error
    return record.trajectory


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



def reread(trajectory: Trajectory, fmt: str) -> Trajectory:
    """Write in `fmt`, serialise, and read back."""
    return read(json.loads(json.dumps(to_record(trajectory, fmt), ensure_ascii=False)), fmt)


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


def two_call_run(user: str, tool_output: str, command: str, final: str = "Done.") -> Trajectory:
    """An OpenAI run: the user's message, a file read and its output, a bash call, a last answer."""
    record = {"id": "t", "messages": [
        {"role": "user", "content": user},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "notes.txt"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": tool_output},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c2", "type": "function", "function": {"name": "bash", "arguments": json.dumps({"command": command})}}]},
        {"role": "tool", "tool_call_id": "c2", "content": "ok"},
        {"role": "assistant", "content": final}]}
    return parse_record(record)
