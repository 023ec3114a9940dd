"""Anthropic Messages.

Reads `user`/`assistant` messages whose content is a string or a list of `text`, `tool_use`
and `tool_result` blocks (with `is_error`), and the record's top-level `system` (a string or
text blocks). Top-level system text is not in the message list, so its steps carry
`message_index` -1. `thinking` and media blocks are not read; each one skipped is noted.
"""

from __future__ import annotations

from typing import Any

from cbm.formats.base import (CallLinker, FormatError, ReadOptions, expect, finish, message_groups, shown,
                              parse_arguments, text_content, unwrap)
from cbm.trajectory import Step, Trajectory

ROLES = ("user", "assistant")
# `input` must be an object: arguments that were not a JSON object are written as {RAW_ARGUMENTS: text}
RAW_ARGUMENTS = "_raw_arguments"


def _texts(content: Any, field: str) -> list[str]:
    """Texts of a string-or-text-blocks value (system, tool_result content)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [content]
    expect(content, list, field)
    texts = []
    for j, block in enumerate(content):
        expect(block, dict, f"{field}[{j}]")
        if block.get("type") == "text":
            texts.append(expect(block.get("text"), str, f"{field}[{j}].text"))
    return texts


def read(obj: Any, options: ReadOptions, line_text: str | None = None) -> Trajectory:
    record_id, messages, metadata, raw_labels, extras = unwrap(obj, line_text, extra_keys=("system",))
    steps = [Step(kind="system", text=t, message_index=-1) for t in _texts(extras.get("system"), "system")]
    linker = CallLinker()
    notes = linker.notes
    for i, message in enumerate(messages):
        field = f"messages[{i}]"
        expect(message, dict, field)
        role = expect(message.get("role"), str, f"{field}.role")
        if role not in ROLES:
            raise FormatError(f"unknown role {shown(role)} (one of {', '.join(ROLES)})", f"{field}.role")
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else expect(
            content, list, f"{field}.content")
        for j, block in enumerate(blocks):
            block_field = f"{field}.content[{j}]"
            expect(block, dict, block_field)
            kind = expect(block.get("type"), str, f"{block_field}.type")
            if kind == "text":
                text = expect(block.get("text"), str, f"{block_field}.text")
                steps.append(Step(kind="assistant" if role == "assistant" else "user", text=text, message_index=i))
            elif kind == "tool_use":
                if role != "assistant":
                    raise FormatError("tool_use block in a user message", block_field)
                call_id = expect(block.get("id"), (str, type(None)), f"{block_field}.id") or None
                name = expect(block.get("name"), str, f"{block_field}.name")
                raw_input = block.get("input", {})
                if isinstance(raw_input, dict) and list(raw_input) == [RAW_ARGUMENTS] and isinstance(
                        raw_input[RAW_ARGUMENTS], str):
                    raw_input = raw_input[RAW_ARGUMENTS]  # read back as the invalid text it was
                text, arguments, problem = parse_arguments(raw_input, f"{block_field}.input")
                if problem:
                    notes.append(("invalid_arguments", problem, len(steps)))
                step = Step(kind="tool_call", text=text, message_index=i, call_id=call_id, tool_name=name,
                            arguments=arguments)
                linker.add_call(call_id, step)
                steps.append(step)
            elif kind == "tool_result":
                if role != "user":
                    raise FormatError("tool_result block in an assistant message", block_field)
                is_error = expect(block.get("is_error", False), (bool, type(None)), f"{block_field}.is_error")
                for k, text in enumerate(_texts(block.get("content"), f"{block_field}.content") or [""]):
                    step = Step(kind="tool_result", text=text, message_index=i, is_error=bool(is_error))
                    if k:
                        linker.link_part(step, steps[-1])
                    else:
                        alternatives = {f"{block_field}.tool_call_id": block.get("tool_call_id"),
                                        f"{block_field}.id": block.get("id")}
                        linker.link(step, len(steps), block.get("tool_use_id"), f"{block_field}.tool_use_id",
                                    alternatives)
                    steps.append(step)
            else:
                notes.append(("dropped_block", f"{block_field}: block of type {shown(kind)} not read", len(steps)))
    for result, call in linker.links:
        result.tool_name = call.tool_name
    return finish(record_id, steps, metadata, raw_labels, notes, options, linker.links)


def write(trajectory: Trajectory) -> tuple[str | list[dict[str, str]] | None, list[dict[str, Any]]]:
    """(system, messages). Consecutive tool results go into one user message, as the API wants;
    each call is written under its action id, the id its results name."""
    system = text_content([s.text for s in trajectory.steps if s.kind == "system"])
    messages: list[dict[str, Any]] = []
    for group in message_groups([s for s in trajectory.steps if s.kind != "system"]):
        role = "assistant" if group[0].kind in ("assistant", "tool_call") else "user"
        blocks = [_block(s) for s in group]
        if messages and messages[-1]["role"] == "user" and group[0].kind == "tool_result" and all(
                b["type"] == "tool_result" for b in messages[-1]["content"]):
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": role, "content": blocks})
    return system, messages


def _block(step: Step) -> dict[str, Any]:
    if step.kind == "tool_call":
        arguments = step.arguments if step.arguments is not None else {RAW_ARGUMENTS: step.text}
        return {"type": "tool_use", "id": step.action_id, "name": step.tool_name, "input": arguments}
    if step.kind == "tool_result":
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": step.call_id, "content": step.text}
        if step.is_error:
            block["is_error"] = True
        return block
    return {"type": "text", "text": step.text}
