"""OpenAI Chat Completions messages.

Reads `system`/`developer`/`user`/`assistant`/`tool` messages, assistant `tool_calls` with
JSON-string arguments, the legacy `function_call` with `role: function` results, and content
given as a string or a list of parts. Also accepts what real logs do: arguments as an object,
a result's call id under `tool_call.id`, `id` or `call_id`, or none at all, and an `error` or
`is_error` key on results.
"""

from __future__ import annotations

import json
from typing import Any

from cbm.formats.base import (CallLinker, FormatError, ReadOptions, expect, finish, message_groups, shown,
                              parse_arguments, text_content, unwrap)
from cbm.trajectory import Step, Trajectory

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
TEXT_KIND = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant",
             "tool": "tool_result", "function": "tool_result"}


def content_texts(content: Any, field: str, notes: list, step_index: int) -> list[str]:
    """The texts of a message's content: a string, null, or a list of parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [content]
    expect(content, list, field)
    texts = []
    for j, part in enumerate(content):
        part_field = f"{field}[{j}]"
        if isinstance(part, str):
            texts.append(part)
            continue
        expect(part, dict, part_field)
        kind = part.get("type")
        if kind in ("text", "input_text", "output_text"):
            texts.append(expect(part.get("text"), str, f"{part_field}.text"))
        elif kind == "refusal":
            texts.append(expect(part.get("refusal"), str, f"{part_field}.refusal"))
        else:
            notes.append(("dropped_part", f"{part_field}: non-text part of type {shown(kind)} not read", step_index))
    return texts


def read(obj: Any, options: ReadOptions, line_text: str | None = None) -> Trajectory:
    record_id, messages, metadata, raw_labels, _ = unwrap(obj, line_text)
    steps: list[Step] = []
    linker = CallLinker()
    notes = linker.notes
    for i, message in enumerate(messages):
        field = f"messages[{i}]"
        expect(message, dict, field)
        role = expect(message.get("role"), str, f"{field}.role")
        if role not in ROLES:
            raise FormatError(f"unknown role {shown(role)} (one of {', '.join(ROLES)})", f"{field}.role")
        texts = content_texts(message.get("content"), f"{field}.content", notes, len(steps))
        if role == "assistant":
            calls = _calls(message, field)
            for text in texts:
                if text or not calls:
                    steps.append(Step(kind="assistant", text=text, message_index=i))
            if not texts and not calls:
                steps.append(Step(kind="assistant", text="", message_index=i))
            for call_id, name, raw_args, call_field in calls:
                text, arguments, problem = parse_arguments(raw_args, call_field)
                if problem:
                    notes.append(("invalid_arguments", problem, len(steps)))
                step = Step(kind="tool_call", text=text, message_index=i, call_id=call_id, tool_name=name,
                            arguments=arguments)
                linker.add_call(call_id, step)
                steps.append(step)
        elif role in ("tool", "function"):
            is_error = bool(message.get("error")) or message.get("is_error") is True
            for j, text in enumerate(texts or [""]):
                step = Step(kind="tool_result", text=text, message_index=i, is_error=is_error)
                if role == "function" or message.get("name") is not None:
                    step.tool_name = expect(message.get("name"), str, f"{field}.name")
                if j:
                    linker.link_part(step, steps[-1])
                elif role == "function":
                    linker.link(step, len(steps), None, f"{field}.name", tool_name=step.tool_name)
                else:
                    nested = message.get("tool_call")
                    alternatives = {f"{field}.tool_call.id": nested.get("id") if isinstance(nested, dict) else None,
                                    f"{field}.id": message.get("id"), f"{field}.call_id": message.get("call_id")}
                    linker.link(step, len(steps), message.get("tool_call_id"), f"{field}.tool_call_id",
                                alternatives)
                steps.append(step)
        else:
            for text in texts:
                steps.append(Step(kind=TEXT_KIND[role], text=text, message_index=i))
    for result, call in linker.links:
        result.tool_name = result.tool_name or call.tool_name
    return finish(record_id, steps, metadata, raw_labels, notes, options, linker.links)


def _calls(message: dict[str, Any], field: str) -> list[tuple[str | None, str, Any, str]]:
    """(call id, tool name, raw arguments, field path) for each call of an assistant message."""
    calls = []
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        expect(tool_calls, list, f"{field}.tool_calls")
        for j, call in enumerate(tool_calls):
            call_field = f"{field}.tool_calls[{j}]"
            expect(call, dict, call_field)
            function = expect(call.get("function"), dict, f"{call_field}.function")
            name = expect(function.get("name"), str, f"{call_field}.function.name")
            call_id = expect(call.get("id"), (str, type(None)), f"{call_field}.id")
            calls.append((call_id or None, name, function.get("arguments"), f"{call_field}.function.arguments"))
    legacy = message.get("function_call")
    if legacy is not None:
        expect(legacy, dict, f"{field}.function_call")
        name = expect(legacy.get("name"), str, f"{field}.function_call.name")
        calls.append((None, name, legacy.get("arguments"), f"{field}.function_call.arguments"))
    return calls


def write(trajectory: Trajectory) -> list[dict[str, Any]]:
    """The trajectory as Chat Completions messages. Each call is written under its action id
    (its own id, or `msg:...` where it had none or repeated one): the id its results name."""
    messages: list[dict[str, Any]] = []
    for group in message_groups(trajectory.steps):
        kind = group[0].kind
        if kind == "tool_result":
            for step in group:
                message = {"role": "tool", "tool_call_id": step.call_id, "content": step.text}
                if step.tool_name:
                    message["name"] = step.tool_name
                if step.is_error:
                    message["is_error"] = True
                messages.append(message)
            continue
        texts = [s.text for s in group if s.kind != "tool_call"]
        role = "assistant" if kind in ("assistant", "tool_call") else kind
        message: dict[str, Any] = {"role": role, "content": text_content(texts)}
        calls = [s for s in group if s.kind == "tool_call"]
        if calls:
            message["tool_calls"] = [
                {"id": s.action_id, "type": "function",
                 "function": {"name": s.tool_name, "arguments": _arguments_text(s)}} for s in calls]
        messages.append(message)
    return messages


def _arguments_text(call: Step) -> str:
    """The raw argument text, or the arguments as JSON where that text does not parse to them
    (it was cut at max_text_chars), so that the written call keeps its arguments."""
    if call.arguments is not None:
        try:
            if json.loads(call.text) == call.arguments:
                return call.text
        except json.JSONDecodeError:
            pass
        return json.dumps(call.arguments, ensure_ascii=False)
    return call.text
