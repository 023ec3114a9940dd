"""What every reader shares: options, the per-record error, and field checks that name the
field path, so that one bad record is reported precisely and never stops a batch."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cbm.trajectory import Label, Step, Trajectory, assign_action_ids


@dataclass(frozen=True)
class ReadOptions:
    """Limits applied while reading. Both are explicit so nothing is cut silently: a record
    over `max_record_bytes` is an error; a text over `max_text_chars` is truncated and the cut
    is recorded in the trajectory's `metadata["ingest"]`."""

    max_record_bytes: int = 16 * 1024 * 1024
    max_text_chars: int = 200_000


class FormatError(ValueError):
    """A record that cannot be read. `field` is a path such as `messages[3].tool_calls[0].id`."""

    def __init__(self, reason: str, field: str | None = None):
        self.reason = reason
        self.field = field
        super().__init__(f"{field}: {reason}" if field else reason)


def shown(value: object, limit: int = 40) -> str:
    """A record's value as an error message quotes it: its repr, cut to `limit` characters, so a
    message never carries a long stretch of what the record holds."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


@dataclass
class RecordError:
    """Why one input record failed, with where it is."""

    line: int | None
    record_id: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "record"
        if self.record_id is not None:
            where += f" (id {shown(self.record_id)})"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.reason}"


@dataclass
class Record:
    """One input record: a trajectory or the error that replaced it, never both."""

    line: int | None
    trajectory: Trajectory | None = None
    error: RecordError | None = None
    format: str | None = None  # the format it was read as

    @property
    def ok(self) -> bool:
        return self.error is None


def expect(value: Any, types: type | tuple[type, ...], field: str) -> Any:
    """Return `value` if it has one of `types` (a bool is not an int here), else raise a
    FormatError naming `field`."""
    types = types if isinstance(types, tuple) else (types,)
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        names = " or ".join(t.__name__ for t in types)
        raise FormatError(f"expected {_json_type(names)}, got {_json_type(type(value).__name__)}", field)
    return value


def _json_type(py_names: str) -> str:
    table = {"str": "string", "dict": "object", "list": "array", "int": "integer", "float": "number",
             "bool": "boolean", "NoneType": "null"}
    return " or ".join(table.get(n, n) for n in py_names.split(" or "))


def parse_arguments(raw: Any, field: str) -> tuple[str, dict[str, Any] | None, str | None]:
    """Tool-call arguments as (raw text, parsed dict or None, problem or None).

    The formats say arguments are a JSON string; real logs also give an object. An object's raw
    text is its canonical JSON. Text that is not a JSON object is kept and marked, not dropped.
    """
    if raw is None:
        return "{}", {}, None
    if isinstance(raw, dict):
        return json.dumps(raw, ensure_ascii=False), raw, None
    if not isinstance(raw, str):
        raise FormatError(f"expected a JSON string or an object, got {_json_type(type(raw).__name__)}", field)
    if raw.strip() == "":
        return raw, {}, None
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        return raw, None, f"{field}: arguments are not valid JSON ({exc.msg} at char {exc.pos}); raw text kept"
    if not isinstance(parsed, dict):
        return raw, None, f"{field}: arguments are JSON but not an object; raw text kept"
    return raw, parsed, None


def parse_labels(raw: Any, action_ids: list[str], field: str = "labels") -> dict[str, Label]:
    """Labels keyed by action id; every key must name an action of the trajectory."""
    expect(raw, dict, field)
    known = set(action_ids)
    labels = {}
    for action_id, obj in raw.items():
        if action_id not in known:
            raise FormatError(f"no action with id {shown(action_id)} (actions: {', '.join(action_ids) or 'none'})",
                              f"{field}.{action_id}")
        try:
            labels[action_id] = Label.from_json(obj)
        except ValueError as exc:
            raise FormatError(str(exc), f"{field}.{action_id}") from None
    return labels


def finish(record_id: str, steps: list[Step], metadata: dict[str, Any], raw_labels: Any,
           notes: list[tuple[str, str, int | None]], options: ReadOptions,
           links: list[tuple[Step, Step]] = ()) -> Trajectory:
    """Build the trajectory: cap texts, give actions their ids, point each tool result at the
    action id of the call it answers (`links` holds (result, call) pairs), attach labels and
    notes. The metadata is copied, so reading never changes the input record."""
    ingest_notes(metadata)
    trajectory = Trajectory(id=record_id, steps=steps, metadata=copy.deepcopy(metadata))
    for kind, detail, step in notes:
        trajectory.note(kind, detail, step)
    for i, step in enumerate(steps):
        if len(step.text) > options.max_text_chars:
            trajectory.note("truncated", f"text of {len(step.text)} chars cut to {options.max_text_chars} "
                            f"(max_text_chars)", i)
            step.text = step.text[: options.max_text_chars]
    assign_action_ids(steps)
    for result, call in links:
        result.call_id = call.action_id
    if raw_labels is not None:
        trajectory.labels = parse_labels(raw_labels, trajectory.action_ids)
    return trajectory


def ingest_notes(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """The notes a record already carries in `metadata["ingest"]` (a record this library wrote);
    checked, since readers add to them and `cbm validate` counts them."""
    notes = expect(metadata.get("ingest", []), list, "metadata.ingest")
    for j, note in enumerate(notes):
        expect(note, dict, f"metadata.ingest[{j}]")
        expect(note.get("kind"), str, f"metadata.ingest[{j}].kind")
        expect(note.get("detail"), str, f"metadata.ingest[{j}].detail")
    return notes


def record_id_of(obj: Any, line_text: str | None) -> str:
    """The record's own id, or a stable one derived from its content."""
    if isinstance(obj, dict) and obj.get("id") is not None:
        rid = obj["id"]
        if isinstance(rid, (str, int)) and not isinstance(rid, bool):
            return str(rid)
        raise FormatError(f"expected a string, got {_json_type(type(rid).__name__)}", "id")
    basis = line_text if line_text is not None else json.dumps(obj, sort_keys=True, ensure_ascii=False)
    return "sha1:" + hashlib.sha1(basis.encode("utf-8", "surrogatepass")).hexdigest()[:12]


class CallLinker:
    """Links tool results to the calls they answer.

    A result names its call by id. Real logs put that id under another key, or leave it out;
    such a result is linked to the id found, or to the oldest unanswered call, and the reader
    records a note. A result whose id matches no call, or that has no call left to answer, is
    an error."""

    def __init__(self) -> None:
        self.calls: list[tuple[str | None, Step]] = []
        self.answered: set[int] = set()
        self.links: list[tuple[Step, Step]] = []
        self.notes: list[tuple[str, str, int | None]] = []

    def add_call(self, call_id: str | None, step: Step) -> None:
        self.calls.append((call_id, step))

    def link(self, result: Step, step_index: int, call_id: Any, field: str,
             alternatives: dict[str, Any] | None = None, tool_name: str | None = None) -> None:
        """Link `result`; `call_id` is the format's own key, `alternatives` maps other keys a
        log may have used (e.g. `tool_call.id`) to their values."""
        if call_id is not None:
            expect(call_id, str, field)
            self._attach(result, self._by_id(call_id, field))
            return
        for key, value in (alternatives or {}).items():
            if isinstance(value, str) and value:
                self._attach(result, self._by_id(value, key))
                self.notes.append(("relinked_result", f"{field} missing; linked by {key} = {shown(value)}", step_index))
                return
        pending = [i for i, (_, call) in enumerate(self.calls) if i not in self.answered]
        if tool_name is not None:
            pending = [i for i in pending if self.calls[i][1].tool_name == tool_name] or pending
        if not pending:
            raise FormatError("tool result with no call id, and no unanswered tool call before it", field)
        self.answered.add(pending[0])
        call = self.calls[pending[0]][1]
        self.links.append((result, call))
        if tool_name is None:
            self.notes.append(("relinked_result", f"{field} missing; linked to the oldest unanswered call "
                               f"({call.tool_name})", step_index))

    def link_part(self, result: Step, first: Step) -> None:
        """Link a further text part of one tool result to the call its first part answers (not
        to the next unanswered call)."""
        self.links.append((result, next(call for linked, call in self.links if linked is first)))

    def _by_id(self, call_id: str, field: str) -> int:
        """The oldest unanswered call with this id, else the first with it: a log that repeats
        an id answers its calls in order."""
        matches = [i for i, (cid, _) in enumerate(self.calls) if cid == call_id]
        for i in matches:
            if i not in self.answered:
                return i
        if matches:
            return matches[0]
        raise FormatError(f"tool result answers no tool call (no call with id {shown(call_id)})", field)

    def _attach(self, result: Step, index: int) -> None:
        self.answered.add(index)
        self.links.append((result, self.calls[index][1]))


def unwrap(obj: Any, line_text: str | None, extra_keys: tuple[str, ...] = ()) -> tuple[
        str, list[Any], dict[str, Any], Any, dict[str, Any]]:
    """Split a message-list record into (id, messages, metadata, labels, extras).

    A record is a bare message list or `{"id", "messages", "metadata"?, "labels"?}`. Keys named
    in `extra_keys` (Anthropic's top-level `system`) come back in `extras`; any other key a log
    carries (AgentDojo's `index`, `annotations`) is kept in the metadata, not dropped.
    """
    if isinstance(obj, list):
        return record_id_of(obj, line_text), obj, {}, None, {}
    expect(obj, (dict, list), "record")
    messages = obj.get("messages")
    if messages is None:
        raise FormatError("not a trajectory: no 'messages' or 'steps' field (a header or summary line?)",
                          "messages")
    expect(messages, list, "messages")
    metadata = dict(expect(obj.get("metadata", {}), dict, "metadata"))
    extras = {}
    for key, value in obj.items():
        if key in extra_keys:
            extras[key] = value
        elif key not in ("id", "messages", "metadata", "labels"):
            metadata.setdefault(key, value)
    return record_id_of(obj, line_text), messages, metadata, obj.get("labels"), extras


def text_content(texts: list[str]) -> str | list[dict[str, str]] | None:
    """A message content value: null, a string, or a list of text parts."""
    if not texts:
        return None
    if len(texts) == 1:
        return texts[0]
    return [{"type": "text", "text": t} for t in texts]


def message_groups(steps: list[Step]) -> list[list[Step]]:
    """Consecutive steps from one source message and of one role form one output message."""
    groups: list[list[Step]] = []
    for step in steps:
        role = "assistant" if step.kind == "tool_call" else step.kind
        if groups:
            last = groups[-1][0]
            last_role = "assistant" if last.kind == "tool_call" else last.kind
            if last.message_index == step.message_index and last_role == role:
                groups[-1].append(step)
                continue
        groups.append([step])
    return groups
