"""The native JSONL format: one trajectory per line, steps as the library holds them.

The schema is documented in `data/trajectory.schema.json`. A record:
`{"id", "metadata"?, "steps": [{"kind", "text", "message_index", "call_id"?, "tool_name"?,
"arguments"?, "is_error"?, "action_id"?}], "labels"?}`. `action_id` is written for readers'
convenience; on reading it must agree with the action-id rules.
"""

from __future__ import annotations

from typing import Any

from cbm.formats.base import (FormatError, ReadOptions, expect, finish, ingest_notes, parse_arguments, shown,
                              record_id_of)
from cbm.trajectory import STEP_KINDS, Step, Trajectory

RECORD_KEYS = {"id", "metadata", "steps", "labels"}
ASSISTANT_KINDS = ("assistant", "tool_call")
STEP_KEYS = {"kind", "text", "message_index", "call_id", "tool_name", "arguments", "is_error", "action_id"}


def read(obj: Any, options: ReadOptions, line_text: str | None = None) -> Trajectory:
    expect(obj, dict, "record")
    unknown = set(obj) - RECORD_KEYS
    if unknown:
        raise FormatError(f"unknown field(s) {sorted(unknown)}", "record")
    record_id = record_id_of(obj, line_text)
    metadata = dict(expect(obj.get("metadata", {}), dict, "metadata"))
    raw_steps = expect(obj.get("steps"), list, "steps")
    # a record this library wrote carries the note made when its arguments were first read
    noted = {n.get("step") for n in ingest_notes(metadata) if n["kind"] == "invalid_arguments"}
    steps, declared, notes = [], {}, []
    for i, raw in enumerate(raw_steps):
        field = f"steps[{i}]"
        expect(raw, dict, field)
        unknown = set(raw) - STEP_KEYS
        if unknown:
            raise FormatError(f"unknown field(s) {sorted(unknown)}", field)
        kind = expect(raw.get("kind"), str, f"{field}.kind")
        if kind not in STEP_KINDS:
            raise FormatError(f"unknown kind {shown(kind)} (one of {', '.join(STEP_KINDS)})", f"{field}.kind")
        step = Step(
            kind=kind,
            text=expect(raw.get("text", ""), str, f"{field}.text"),
            message_index=expect(raw.get("message_index", i), int, f"{field}.message_index"),
            call_id=expect(raw.get("call_id"), (str, type(None)), f"{field}.call_id"),
            tool_name=expect(raw.get("tool_name"), (str, type(None)), f"{field}.tool_name"),
            is_error=expect(raw.get("is_error", False), bool, f"{field}.is_error"),
        )
        # the action rules and the writers group steps by message; these two checks keep them agreeing
        if steps and step.message_index < steps[-1].message_index:
            raise FormatError(f"message_index {step.message_index} after {steps[-1].message_index}: steps must be "
                              "in message order", f"{field}.message_index")
        if steps and step.message_index == steps[-1].message_index and (
                (kind in ASSISTANT_KINDS) != (steps[-1].kind in ASSISTANT_KINDS)):
            raise FormatError(f"a {shown(steps[-1].kind)} and a {shown(kind)} step share message "
                              f"{step.message_index}: an assistant message holds only assistant and tool_call steps",
                              f"{field}.message_index")
        if kind == "tool_call":
            if step.tool_name is None:  # "" is kept, as the other readers keep a log's empty name
                raise FormatError("a tool call needs a tool_name", f"{field}.tool_name")
            arguments = raw.get("arguments")
            if arguments is None:
                _, arguments, problem = parse_arguments(step.text, f"{field}.text")
                if problem and i not in noted:
                    notes.append(("invalid_arguments", problem, i))
            step.arguments = expect(arguments, (dict, type(None)), f"{field}.arguments")
        if raw.get("action_id") is not None:
            declared[i] = expect(raw["action_id"], str, f"{field}.action_id")
        steps.append(step)
    trajectory = finish(record_id, steps, metadata, obj.get("labels"), notes, options)
    call_ids = {s.action_id for s in steps if s.kind == "tool_call"}
    earlier: set[str | None] = set()  # a result answers a call made before it, as in every other format
    for i, step in enumerate(steps):
        if step.kind == "tool_call":
            earlier.add(step.action_id)
        elif step.kind == "tool_result" and step.call_id not in earlier:
            problem = "comes before the call it answers" if step.call_id in call_ids else "answers no tool call"
            raise FormatError(f"tool result {problem} (call_id {shown(step.call_id)})", f"steps[{i}].call_id")
    for i, action_id in declared.items():
        if steps[i].action_id != action_id:
            raise FormatError(f"declared action_id {shown(action_id)} but the id rules give "
                              f"{shown(steps[i].action_id)}", f"steps[{i}].action_id")
    return trajectory


def write(trajectory: Trajectory) -> dict[str, Any]:
    steps = []
    for step in trajectory.steps:
        out: dict[str, Any] = {"kind": step.kind, "text": step.text, "message_index": step.message_index}
        if step.call_id is not None:
            out["call_id"] = step.call_id
        if step.tool_name is not None:
            out["tool_name"] = step.tool_name
        if step.kind == "tool_call":
            out["arguments"] = step.arguments
        if step.is_error:
            out["is_error"] = True
        if step.action_id is not None:
            out["action_id"] = step.action_id
        steps.append(out)
    record: dict[str, Any] = {"id": trajectory.id, "metadata": trajectory.metadata, "steps": steps}
    if trajectory.labels:
        record["labels"] = {aid: label.to_json() for aid, label in trajectory.labels.items()}
    return record
