"""Reading and writing trajectories in the native, OpenAI and Anthropic formats.

`read_records` streams a JSONL file (or stdin) one record at a time and yields each record's
trajectory or its error, so one bad line never stops a batch and nothing is dropped silently.
`to_record` writes a trajectory in any format, keeping its labels on the right actions.

Beside these record formats, inputs can be Claude Code session transcripts (`claude-code`):
a whole file is one record, made by `cbm.transcript` and then read as the Anthropic format.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from cbm import transcript
from cbm.formats import anthropic, native, openai
from cbm.formats.base import FormatError, ReadOptions, Record, RecordError
from cbm.jsonl import read_lines
from cbm.trajectory import Trajectory

FORMATS = ("native", "openai", "anthropic")
SESSION_FORMATS = ("claude-code",)  # a whole file is one record (`lines_of`)
INPUT_FORMATS = (*FORMATS, *SESSION_FORMATS)  # what readers accept


def _read_session(obj: Any, options: ReadOptions, line_text: str | None = None) -> Trajectory:
    """A session record `lines_of` made, read as the Anthropic format; a file that held no message
    of the user or the agent (not a transcript, or an empty one) is an error, not an empty run."""
    if isinstance(obj, dict) and not obj.get("messages"):
        raise FormatError("no message of the user or the agent in this Claude Code transcript", "messages")
    return anthropic.read(obj, options, line_text)


READERS = {"native": native.read, "openai": openai.read, "anthropic": anthropic.read, "claude-code": _read_session}
Line = tuple[int, bytes | None, int]  # (line number, bytes or None when too large, size)

__all__ = ["FORMATS", "INPUT_FORMATS", "SESSION_FORMATS", "FormatError", "Line", "ReadOptions", "Record", "RecordError",
           "detect_format", "dumps_line", "lines_of", "loads", "parse_line", "parse_record", "read_lines", "read_records",
           "read_trajectories", "to_record", "write_records"]

_OPENAI_ROLES = {"system", "developer", "tool", "function"}
_ANTHROPIC_BLOCKS = {"tool_use", "tool_result", "thinking", "redacted_thinking", "image", "document"}


def detect_format(obj: Any) -> str:
    """Guess a record's format from its shape. Messages with plain string content read the
    same either way; such records are read as OpenAI."""
    if isinstance(obj, dict):
        if "steps" in obj:
            return "native"
        if "system" in obj:
            return "anthropic"
        messages = obj.get("messages")
    else:
        messages = obj
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        if "tool_calls" in message or "function_call" in message or _one_of(message.get("role"), _OPENAI_ROLES):
            return "openai"
        content = message.get("content")
        if isinstance(content, list) and any(isinstance(b, dict) and _one_of(b.get("type"), _ANTHROPIC_BLOCKS)
                                             for b in content):
            return "anthropic"
    return "openai"


def _one_of(value: Any, names: set[str]) -> bool:
    """`value in names` for any JSON value (a list or object is unhashable)."""
    return isinstance(value, str) and value in names


def parse_record(obj: Any, fmt: str = "auto", options: ReadOptions = ReadOptions(),
                 line_text: str | None = None) -> Trajectory:
    """One decoded JSON record as a trajectory; raises FormatError naming the field."""
    if fmt == "auto":
        fmt = detect_format(obj)
    if fmt not in READERS:
        raise ValueError(f"unknown format {fmt!r} (one of auto, {', '.join(INPUT_FORMATS)})")
    return READERS[fmt](obj, options, line_text)


def lines_of(stream: IO[bytes], fmt: str, options: ReadOptions, name: str = "-") -> Iterator[Line]:
    """The raw records of an input, as `parse_line` takes them: its JSONL lines, or for a session
    format the whole file as one record (line 1; None when its JSON is over `max_record_bytes`)."""
    if fmt not in SESSION_FORMATS:
        yield from read_lines(stream, options.max_record_bytes)
        return
    raw = json.dumps(transcript.session_record(stream, name), ensure_ascii=False).encode("utf-8")
    yield (1, raw, len(raw)) if len(raw) <= options.max_record_bytes else (1, None, len(raw))


def _read_stream(stream: IO[bytes], fmt: str, options: ReadOptions, name: str = "-") -> Iterator[Record]:
    for number, raw, size in lines_of(stream, fmt, options, name):
        yield parse_line(number, raw, size, fmt, options)


BOM = b"\xef\xbb\xbf"


def parse_line(number: int, raw: bytes | None, size: int, fmt: str = "auto",
               options: ReadOptions = ReadOptions()) -> Record:
    """One line of a JSONL file (None: a line over the size limit) as a Record."""
    if raw is None:
        return Record(number, error=RecordError(number, None, None, f"record is {size / 2**20:.1f} MiB, over "
                                                f"the {options.max_record_bytes / 2**20:.0f} MiB limit "
                                                f"(max_record_bytes)"))
    if number == 1 and raw.startswith(BOM):  # editors on Windows start a UTF-8 file with one
        raw = raw[len(BOM):]
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
        obj = json.loads(text)
    except UnicodeDecodeError as exc:
        return Record(number, error=RecordError(number, None, None, f"not UTF-8 text ({exc.reason} at byte "
                                                f"{exc.start})"))
    except json.JSONDecodeError as exc:
        return Record(number, error=RecordError(number, None, None, f"not JSON ({exc.msg} at column {exc.colno})"))
    except ValueError as exc:  # an integer with more digits than Python converts
        return Record(number, error=RecordError(number, None, None, f"not readable JSON ({exc})"))
    except RecursionError:
        return Record(number, error=RecordError(number, None, None, "nested too deeply"))
    record_id = None
    if isinstance(obj, dict) and isinstance(obj.get("id"), (str, int)) and not isinstance(obj["id"], bool):
        record_id = str(obj["id"])
    try:
        used = detect_format(obj) if fmt == "auto" else fmt
        trajectory = READERS[used](obj, options, text)
    except FormatError as exc:
        return Record(number, error=RecordError(number, record_id, exc.field, exc.reason))
    except RecursionError:
        return Record(number, error=RecordError(number, record_id, None, "nested too deeply"))
    return Record(number, trajectory=trajectory, format=used)


def read_records(source: str | Path | IO[bytes], fmt: str = "auto",
                 options: ReadOptions = ReadOptions()) -> Iterator[Record]:
    """Stream the records of a JSONL file, `-` for stdin, or a binary stream, in order."""
    if fmt != "auto" and fmt not in INPUT_FORMATS:
        raise ValueError(f"unknown format {fmt!r} (one of auto, {', '.join(INPUT_FORMATS)})")
    if isinstance(source, (str, Path)):
        if str(source) == "-":
            yield from _read_stream(sys.stdin.buffer, fmt, options)
            return
        with open(source, "rb") as stream:
            yield from _read_stream(stream, fmt, options, str(source))
        return
    yield from _read_stream(source, fmt, options)


def read_trajectories(source: str | Path | IO[bytes], fmt: str = "auto",
                      options: ReadOptions = ReadOptions()) -> list[Trajectory]:
    """Every trajectory of a file; raises on the first bad record (for trusted files only)."""
    out = []
    for record in read_records(source, fmt, options):
        if record.error:
            raise FormatError(str(record.error))
        out.append(record.trajectory)
    return out


def to_record(trajectory: Trajectory, fmt: str) -> dict[str, Any]:
    """The trajectory as one record of `fmt`, with metadata and labels.

    Formats number messages differently, so a `msg:<i>` action id can change; labels follow
    their action, matched by order (the action sequence is the same in every format).
    """
    if fmt == "native":
        return native.write(trajectory)
    if fmt == "openai":
        record: dict[str, Any] = {"id": trajectory.id, "messages": openai.write(trajectory)}
    elif fmt == "anthropic":
        system, messages = anthropic.write(trajectory)
        record = {"id": trajectory.id}
        if system is not None:
            record["system"] = system
        record["messages"] = messages
    else:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    if trajectory.metadata:
        record["metadata"] = trajectory.metadata
    if trajectory.labels:
        new_ids = READERS[fmt](record, ReadOptions(max_text_chars=sys.maxsize)).action_ids
        renamed = dict(zip(trajectory.action_ids, new_ids))
        record["labels"] = {renamed[aid]: label.to_json() for aid, label in trajectory.labels.items()}
    return record


def dumps_line(record: dict[str, Any]) -> str:
    """One JSONL line, non-ASCII text kept readable. A text with a lone surrogate (valid JSON,
    not encodable as UTF-8) makes the line ASCII-escaped, so writing it cannot fail."""
    line = json.dumps(record, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(record)
    return line + "\n"


def write_records(trajectories: Iterable[Trajectory], stream: IO[str], fmt: str = "native") -> int:
    """Write JSONL, one record per trajectory; returns how many were written."""
    count = 0
    for trajectory in trajectories:
        stream.write(dumps_line(to_record(trajectory, fmt)))
        count += 1
    return count


def loads(text: str, fmt: str = "auto", options: ReadOptions = ReadOptions()) -> list[Record]:
    """Records of a JSONL string (handy in tests and notebooks)."""
    return list(read_records(io.BytesIO(text.encode("utf-8")), fmt, options))
