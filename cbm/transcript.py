"""Claude Code session transcripts (JSONL under `~/.claude/projects/`, one event per line) read as
Anthropic messages: what the live guard reads as a call's context, and what `--format
claude-code` reads as one record per session file.

Only what the model reads is kept: the user's prompts, the agent's text and tool calls, and the
text of tool results. Summaries, snapshots, system and meta events and bad lines are skipped; a
sub-agent's turns are read only from a file that holds nothing else (its own transcript).

Kept apart from `cbm.formats` (which loads every reader and the taxonomy) so that the guard's
client can use it and still start fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from cbm.jsonl import read_lines

MAX_EVENT_BYTES = 4 << 20  # one transcript line; a longer one (a huge tool output) is skipped


def message(line: bytes | None) -> dict[str, Any] | None:
    """A transcript line as an Anthropic message with only the blocks the model reads, or None
    for anything else (summaries, snapshots, system and meta events, sub-agent turns, bad lines)."""
    return _message(_event(line))


def _message(event: dict[str, Any] | None, sub_agent: bool = False) -> dict[str, Any] | None:
    """The main agent's message (with `sub_agent`: a sub-agent's) in an event, or None."""
    if event is None or event.get("type") not in ("user", "assistant") or bool(event.get("isSidechain")) != sub_agent \
            or event.get("isMeta"):
        return None
    body = event.get("message")
    role = body.get("role") if isinstance(body, dict) else None
    if role != event["type"]:
        return None
    content = body.get("content")
    if isinstance(content, str):
        blocks = [{"type": "text", "text": content}] if content.strip() else []
    elif isinstance(content, list):
        blocks = [b for b in (_block(x, role) for x in content) if b is not None]
    else:
        return None
    return {"role": role, "content": blocks} if blocks else None


def _event(line: bytes | None) -> dict[str, Any] | None:
    if line is None or not line.strip():
        return None
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return event if isinstance(event, dict) else None


def _block(block: Any, role: str) -> dict[str, Any] | None:
    if not isinstance(block, dict):
        return None
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str) and block["text"].strip():
        return {"type": "text", "text": block["text"]}
    if kind == "tool_use" and role == "assistant" and isinstance(block.get("id"), str) and \
            isinstance(block.get("name"), str) and isinstance(block.get("input", {}), dict):
        return {"type": "tool_use", "id": block["id"], "name": block["name"], "input": block.get("input", {})}
    if kind == "tool_result" and role == "user" and isinstance(block.get("tool_use_id"), str):
        content = block.get("content")
        if isinstance(content, list):  # text parts only: images and documents are not read
            content = [{"type": "text", "text": p["text"]} for p in content
                       if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)]
        return {"type": "tool_result", "tool_use_id": block["tool_use_id"],
                "content": content if isinstance(content, (str, list)) else "",
                "is_error": block.get("is_error") is True}
    return None


def consistent(events: list[dict[str, Any]], proposed_id: str | None = None) -> list[dict[str, Any]]:
    """Messages the Anthropic reader accepts: cut at the proposed call (it has not run), results
    whose call is not among the events dropped, consecutive messages of one role merged (Claude
    Code writes each block of a reply as its own event)."""
    messages: list[dict[str, Any]] = []
    calls: set[str] = set()
    for event in events:
        blocks = []
        for block in event["content"]:
            if block["type"] == "tool_use":
                if block["id"] == proposed_id:
                    if blocks:
                        _append(messages, event["role"], blocks)
                    return messages
                calls.add(block["id"])
            if block["type"] != "tool_result" or block["tool_use_id"] in calls:
                blocks.append(block)
        if blocks:
            _append(messages, event["role"], blocks)
    return messages


def _append(messages: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    if messages and messages[-1]["role"] == role:
        messages[-1]["content"].extend(blocks)
    else:
        messages.append({"role": role, "content": blocks})


def session_record(stream: IO[bytes], name: str = "-") -> dict[str, Any]:
    """A whole session transcript as one Anthropic-format record: every message of the main agent
    in order, or, in a file that holds only a sub-agent's turns (Claude Code writes those to
    files of their own), the sub-agent's, its first prompt the one the main agent gave it. The id
    is the session's (`sessionId`; a sub-agent's adds its file's name), else the file's name
    (`-`: a stream without one); the metadata holds the source, the file's name, the working
    directory, whether it is a sub-agent's and how many lines were left out for their size."""
    main: list[dict[str, Any]] = []
    side: list[dict[str, Any]] = []
    session, cwd, skipped = None, None, 0
    for _, line, _ in read_lines(stream, MAX_EVENT_BYTES):
        if line is None:
            skipped += 1
            continue
        event = _event(line)
        if event is None:
            continue
        session = session or (event.get("sessionId") if isinstance(event.get("sessionId"), str) else None)
        cwd = cwd or (event.get("cwd") if isinstance(event.get("cwd"), str) else None)
        sub_agent = bool(event.get("isSidechain"))
        kept = _message(event, sub_agent)
        if kept is not None:
            (side if sub_agent else main).append(kept)
    file = Path(name) if name != "-" else None
    metadata: dict[str, Any] = {"source": "claude-code"}
    if file is not None:
        metadata["transcript"] = file.name
    if cwd:
        metadata["cwd"] = cwd
    sub_agent = not main and bool(side)
    if sub_agent:
        metadata["sub_agent"] = True
    if skipped:
        metadata["lines_left_out"] = f"{skipped} line(s) over {MAX_EVENT_BYTES >> 20} MiB"
    named = file.stem if file is not None and file.stem else None
    record_id = (f"{session}/{named}" if session and named else session or named) if sub_agent else session or named
    return {"id": record_id or "claude-code", "messages": consistent(side if sub_agent else main), "metadata": metadata}
