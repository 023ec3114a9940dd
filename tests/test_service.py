"""`cbm serve`: a real server on 127.0.0.1, talked to over HTTP. Keys, limits, validation errors,
per-record errors, and scores identical to the in-process Overseer and to `cbm score`."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest

from cbm.pipeline import score_lines
from cbm.explain import Explainer
from cbm.facts import Fact, describe
from cbm.formats import ReadOptions, lines_of, parse_record, read_lines, read_records
from cbm.scoring import decision
from cbm.service import Service, ServiceConfig, create_app, v1
from cbm.service import main as serve_main
from cbm_training.bench.serve import RISKY_CALL, RISKY_RUN, call, proposed_drop, running_server

from asgi_helpers import InProcess
from conftest import BAD, SAMPLES, read_jsonl

KEY = "test-key-7c1f0e9a"
LIMIT_BYTES, LIMIT_RECORDS = 65536, 20


@pytest.fixture(scope="module")
def server():
    with running_server("--max-request-bytes", str(LIMIT_BYTES), "--max-batch", str(LIMIT_RECORDS),
                        api_key=KEY) as s:
        yield s


def post(server, path, body, key=KEY, **kw):
    return call(server.url, path, body, key, **kw)


def risky_record() -> dict:
    with open(SAMPLES / "database_session.openai.jsonl", encoding="utf-8") as f:
        return next(r for r in map(json.loads, f) if r["id"] == RISKY_RUN)


# --- keys ----------------------------------------------------------------------------------------

def test_healthz_is_open_and_v1_needs_a_key(server):
    status, body = call(server.url, "/healthz")
    assert status == 200 and body["status"] == "ok" and body["version"]
    status, body = call(server.url, "/v1/model")
    assert status == 401 and "API key is required" in body["error"]
    status, body = call(server.url, "/v1/model", key="wrong-key")
    assert status == 401 and "not valid" in body["error"]
    status, body = post(server, "/v1/score", {"records": []}, key=None, headers={"X-API-Key": "wrong"})
    assert status == 401


def test_either_header_carries_the_key(server, overseer):
    status, info = call(server.url, "/v1/model", headers={"X-API-Key": KEY})
    assert status == 200
    assert call(server.url, "/v1/model", key=KEY)[1] == info
    assert info["version"] == overseer.version
    assert info["thresholds"]["flag"] == overseer.threshold and info["thresholds"]["block"] == overseer.block_threshold
    assert [c["id"] for c in info["concepts"]] == overseer.concept_ids


def test_openapi_documents_every_route_and_both_ways_to_send_the_key(server):
    status, spec = call(server.url, "/openapi.json")
    assert status == 200
    assert {"/v1/score", "/v1/score/action", "/v1/intervene", "/v1/explain", "/v1/model", "/healthz",
            "/v1/hooks/claude-code"} <= set(spec["paths"])  # `cbm serve` joins the guard's hook route
    assert "application/x-ndjson" in spec["paths"]["/v1/score"]["post"]["requestBody"]["content"]
    schemes = spec["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {**schemes["APIKeyHeader"], "type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["HTTPBearer"] == {**schemes["HTTPBearer"], "type": "http", "scheme": "bearer"}
    operations = [(path, op) for path, ops in spec["paths"].items() for op in ops.values()]
    for path, op in operations:  # either scheme will do; /healthz needs none
        assert op.get("security") == ([{"APIKeyHeader": []}, {"HTTPBearer": []}] if path.startswith("/v1/") else None)
    assert not any(p["in"] == "header" for _, op in operations for p in op.get("parameters", []))


def test_docs_pages_are_off_by_default(server):
    """Swagger UI and ReDoc load their scripts from a CDN: off unless `--docs`."""
    assert call(server.url, "/docs")[0] == 404 and call(server.url, "/redoc")[0] == 404


def test_docs_flag_serves_swagger_ui_and_warns_of_the_cdn(overseer, monkeypatch, capsys):
    import uvicorn

    served = {}
    monkeypatch.setattr("cbm.service.Overseer.load", lambda *a, **kw: overseer)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    monkeypatch.setenv("CBM_API_KEYS", KEY)
    assert serve_main(["--docs", "--port", "8123"]) == 0
    err = capsys.readouterr().err
    assert "warning: /docs loads Swagger UI" in err and "CDN" in err and KEY not in err
    client = InProcess(served["app"])
    try:
        page = client.get("/docs")
        assert page.status == 200 and "swagger-ui" in page.text and "/openapi.json" in page.text
        assert client.get("/redoc").status == 404 and client.get("/openapi.json").status == 200
    finally:
        client.close()
    monkeypatch.setenv("CBM_API_KEYS", "")
    assert serve_main(["--port", "8123"]) == 0
    assert "Swagger" not in capsys.readouterr().err
    client = InProcess(served["app"])
    assert client.get("/docs").status == 404 and client.get("/openapi.json").status == 200
    client.close()


@pytest.fixture(scope="module")
def in_process(overseer):
    """The same app in this process, with the key: no sockets, no server."""
    client = InProcess(create_app(overseer, ServiceConfig(api_keys=(KEY, "second-key"))))
    yield client
    client.close()


def test_in_process_v1_needs_a_key_and_takes_either_header(in_process, overseer):
    body = proposed_drop()
    refused = in_process.post("/v1/score/action", body)
    assert refused.status == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["error"].startswith("an API key is required")
    assert in_process.post("/v1/score/action", body, {"X-API-Key": "nope"}).json()["error"] == "the API key is not valid"
    assert in_process.post("/v1/score/action", body, {"Authorization": "Basic " + KEY}).status == 401
    answers = [in_process.post("/v1/score/action", body, headers) for headers in (
        {"X-API-Key": KEY}, {"Authorization": f"Bearer {KEY}"}, {"authorization": "bearer second-key"})]
    assert [a.status for a in answers] == [200, 200, 200]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    scored = overseer.score_action(body["context"], body["action"])
    assert answers[0].json()["action"] == scored.to_json()
    assert answers[0].json()["check_first"] == [{"concept": c, "expected_change": x}
                                                for c, x in overseer.check_first(scored)[:3]]


def test_an_unauthenticated_body_is_never_read(in_process):
    """The Gate answers 401 before it asks for a single piece of the body."""
    asked = []
    answer = in_process.request("POST", "/v1/score", b'{"records": []}' * 1000, {"content-type": "application/json"},
                                chunk=100, on_receive=lambda: asked.append(1))
    assert answer.status == 401 and asked == []
    answer = in_process.request("POST", "/v1/score", b'{"records": []}', {"x-api-key": KEY,
                                "content-type": "application/json"}, on_receive=lambda: asked.append(1))
    assert answer.status == 200 and asked


def test_the_routes_refuse_a_missing_key_even_without_the_gate(overseer):
    """The router's own dependency checks the key with the Gate's function: an app that mounts
    the /v1 routes without the middleware is not open."""
    from fastapi import FastAPI

    bare = FastAPI()
    bare.state.service = Service(overseer, ServiceConfig(api_keys=(KEY,)))
    bare.include_router(v1)
    client = InProcess(bare)
    try:
        refused = client.get("/v1/model")
        assert refused.status == 401 and refused.json()["detail"].startswith("an API key is required")
        assert client.get("/v1/model", {"Authorization": "Bearer wrong"}).json()["detail"] == "the API key is not valid"
        assert client.get("/v1/model", {"X-API-Key": KEY}).json()["version"] == overseer.version
        assert client.get("/v1/model", {"Authorization": f"Bearer {KEY}"}).status == 200
    finally:
        client.close()


def test_refuses_to_serve_without_keys_off_loopback(monkeypatch, capsys):
    monkeypatch.delenv("CBM_API_KEYS", raising=False)
    with pytest.raises(SystemExit) as exit_:
        serve_main(["--host", "0.0.0.0"])
    assert exit_.value.code == 2
    assert "--no-auth" in capsys.readouterr().err


# --- batches -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.jsonl")), ids=lambda p: p.name)
def test_batch_scores_equal_the_overseer(server, overseer, path):
    records = read_jsonl(path)
    status, body = post(server, "/v1/score", {"records": records})
    assert status == 200
    assert body["results"] == [r.to_json() for r in overseer.score_many(read_records(path))]
    assert body["summary"] == {"records": len(records), "scored": len(records), "failed": 0,
                               "flagged": sum(bool(r["flagged"]) for r in body["results"]),
                               "actions": sum(len(r["actions"]) for r in body["results"])}


def test_ndjson_batch_equals_cbm_score(server, overseer):
    """The raw file as NDJSON: one result per line, bad lines with their line and field, exactly
    the records `cbm score` writes."""
    raw = BAD.read_bytes()
    status, body = post(server, "/v1/score", raw, headers={"Content-Type": "application/x-ndjson"})
    assert status == 200
    with BAD.open("rb") as f:
        expected = score_lines(overseer, list(read_lines(f, ReadOptions().max_record_bytes)), "auto", ReadOptions())
    assert body["results"] == expected
    assert len(body["results"]) == len([line for line in raw.splitlines() if line.strip()])
    assert body["summary"]["failed"] == sum(r["error"] is not None for r in expected) > 0


def test_a_claude_code_session_posted_whole_is_one_record(server, overseer):
    """`?format=claude-code`: the body is a session transcript as Claude Code writes it, scored
    as `cbm score --format claude-code` scores the file, whatever the content type says."""
    path = Path(__file__).parent / "fixtures" / "guard" / "transcript_prod_drop.jsonl"
    with path.open("rb") as f:
        expected = score_lines(overseer, list(lines_of(f, "claude-code", ReadOptions())), "claude-code", ReadOptions())
    for content_type in ("application/x-ndjson", "application/json"):
        status, body = post(server, "/v1/score?format=claude-code", path.read_bytes(),
                            headers={"Content-Type": content_type})
        assert status == 200 and body["results"] == expected and body["summary"]["records"] == 1
    assert expected[0]["flagged"] and expected[0]["error"] is None


def test_bad_records_fail_alone_inside_a_200_batch(server, overseer):
    records = [json.loads(line) for line in BAD.open(encoding="utf-8") if _is_json(line)]
    status, body = post(server, "/v1/score", {"records": records})
    assert status == 200 and len(body["results"]) == len(records)
    by_id = {r["id"]: r for r in body["results"] if r["id"]}
    number = 1 + next(i for i, r in enumerate(records) if isinstance(r, dict) and r.get("id") == "bad-unknown-role")
    assert by_id["bad-unknown-role"]["error"].startswith(f"record {number} (id 'bad-unknown-role'): messages[0].role: "
                                                         "unknown role 'human'")
    assert by_id["bad-orphan-result"]["error"].endswith("messages[2].tool_call_id: tool result answers no tool call "
                                                        "(no call with id 'call_t9')")
    assert body["results"][records.index(42)]["error"] == f"record {records.index(42) + 1}: record: expected object or " \
                                                          "array, got integer"
    good = by_id["good-anthropic-weather"]
    assert good["error"] is None and good == overseer.score(records[[r.get("id") if isinstance(r, dict) else None
                                                                     for r in records].index("good-anthropic-weather")]
                                                             ).to_json()
    assert body["summary"]["failed"] == sum(r["error"] is not None for r in body["results"])


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return bool(line.strip())


# --- limits --------------------------------------------------------------------------------------

def test_body_over_the_limit_is_413_by_content_length(server):
    records = [{"id": "x", "messages": [{"role": "user", "content": "a" * 1000}]}] * 70
    status, body = post(server, "/v1/score", {"records": records})
    assert status == 413 and f"{LIMIT_BYTES}-byte limit" in body["error"]


def test_chunked_body_over_the_limit_is_413_without_reading_it_all(server):
    conn = http.client.HTTPConnection(f"{server.host}:{server.port}", timeout=30)
    chunks = (b"x" * 8192 for _ in range(LIMIT_BYTES // 8192 + 4))  # no Content-Length: chunked
    conn.request("POST", "/v1/score", chunks, {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
                 encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 413 and f"{LIMIT_BYTES}-byte limit" in json.loads(response.read())["error"]
    conn.close()


def test_too_many_records_is_413(server):
    status, body = post(server, "/v1/score", {"records": [{"messages": []}] * (LIMIT_RECORDS + 1)})
    assert status == 413 and f"{LIMIT_RECORDS}-record limit" in body["error"]
    ndjson = b'{"messages": []}\n' * (LIMIT_RECORDS + 1)
    status, body = post(server, "/v1/score", ndjson, headers={"Content-Type": "application/x-ndjson"})
    assert status == 413


def test_an_empty_ndjson_body_is_422_not_an_empty_batch(server):
    for body in (b"", b"  \n"):
        status, answer = post(server, "/v1/score", body, headers={"Content-Type": "application/x-ndjson"})
        assert status == 422 and answer["error"].startswith("body: the body is empty")


def test_a_body_outside_v1_is_never_waited_for(server):
    """Without a key anyone may reach /healthz; a body sent there is not read into memory, so a
    client that announces 60 KB and sends 10 bytes gets its answer at once."""
    conn = http.client.HTTPConnection(f"{server.host}:{server.port}", timeout=10)
    conn.putrequest("GET", "/healthz")
    conn.putheader("Content-Length", str(LIMIT_BYTES - 1000))
    conn.endheaders(b"x" * 10)
    response = conn.getresponse()
    assert response.status == 200 and json.loads(response.read())["status"] == "ok"
    conn.close()


# --- malformed requests --------------------------------------------------------------------------

@pytest.mark.parametrize("path, body, error", [
    ("/v1/score", {"records": "not a list"}, "body.records: Input should be a valid list"),
    ("/v1/score", {"recs": []}, "body.records: Field required"),
    ("/v1/score", b"{not json", "body"),
    ("/v1/score", {"records": [], "format": "yaml"}, "body.format: Input should be"),
    ("/v1/score/action", {"context": {"messages": []}, "action": {"arguments": {}}}, "body.action.tool_name: Field required"),
    ("/v1/score/action", {"context": {"messages": [{"role": "human", "content": "hi"}]},
                          "action": {"tool_name": "bash"}}, "body.context.messages[0].role: unknown role 'human'"),
    ("/v1/intervene", {"record": {"messages": []}, "edits": {"destructive_change": 2}},
     "body.edits.destructive_change: a concept value is 0, 1 or a probability between, got 2"),
])
def test_malformed_request_is_422_naming_the_field(server, path, body, error):
    status, answer = post(server, path, body)
    assert status == 422
    assert answer["error"].startswith(error), answer["error"]
    assert all({"loc", "msg", "type"} <= set(d) for d in answer["detail"])


# --- one action, interventions, explanations -----------------------------------------------------

def test_score_action_gives_the_overseer_score_and_decision(server, overseer):
    body = proposed_drop()
    status, answer = post(server, "/v1/score/action", body)
    assert status == 200
    expected = overseer.score_action(body["context"], body["action"])
    assert answer["action"] == expected.to_json() and answer["action"]["id"] == RISKY_CALL
    assert answer["decision"] == decision(expected.risk, overseer.threshold, overseer.block_threshold)
    assert answer["thresholds"] == {"flag": overseer.threshold, "block": overseer.block_threshold}


WIPE = {"command": "sudo rm -rf /var/lib/postgresql/data"}


@pytest.mark.parametrize("arguments", [WIPE, json.dumps(WIPE, indent=2)], ids=["object", "json-text"])
def test_score_action_answers_with_the_calls_facts_spanning_its_raw_arguments(server, arguments):
    """The proposed call's facts: spans index its arguments as sent (JSON text as written; an
    object as its JSON encoding), whatever the model makes of it."""
    context = proposed_drop()["context"]
    status, answer = post(server, "/v1/score/action", {"context": context, "action": {
        "tool_name": "bash", "arguments": arguments, "id": "call_wipe"}})
    assert status == 200 and answer["action"]["id"] == "call_wipe"
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    facts = answer["action"]["facts"]
    delete = next(f for f in facts if f["kind"] == "operation" and f["value"] == "delete")
    assert text[delete["span"][0]:delete["span"][1]] == "rm" and delete["parser"] == "bashlex"
    [target] = [f for f in facts if f["kind"] == "target"]
    assert target["value"] == "/var/lib/postgresql/data" and "data_directory" in target["tags"]
    assert text[target["span"][0]:target["span"][1]] == "/var/lib/postgresql/data"
    assert {("flag", "recursive"), ("flag", "force"), ("wrapper", "sudo")} <= {(f["kind"], f["value"]) for f in facts}
    assert answer["action"]["summary"] == describe([Fact.from_json(f) for f in facts]) == [
        "deletes recursively, forced: /var/lib/postgresql/data (data directory) via sudo"]


def test_score_answers_with_every_actions_facts_spanning_its_text(server):
    record = risky_record()
    trajectory = parse_record(record)
    texts = {s.action_id: s.text for s in trajectory.steps if s.action_id is not None}
    for body, headers in (({"records": [record]}, None),
                          (json.dumps(record).encode() + b"\n", {"Content-Type": "application/x-ndjson"})):
        status, answer = post(server, "/v1/score", body, headers=headers)
        assert status == 200
        [result] = answer["results"]
        assert [a["id"] for a in result["actions"]] == list(texts)
        for action in result["actions"]:
            assert action["summary"] == describe([Fact.from_json(f) for f in action["facts"]])
            for fact in action["facts"]:
                start, end = fact["span"]
                assert 0 <= start <= end <= len(texts[action["id"]])
        drop = next(a for a in result["actions"] if a["id"] == RISKY_CALL)
        host = next(f for f in drop["facts"] if f["kind"] == "host")
        assert host["value"] == "orders-live.prod.acme.internal" and "production" in host["tags"]
        assert texts[RISKY_CALL][host["span"][0]:host["span"][1]] == host["value"]


@pytest.mark.parametrize("authorized", [1, 0])
def test_intervene_sets_the_flag_of_the_production_drop_as_the_policy_says(server, overseer, authorized):
    record = risky_record()
    edits = {c: 0 for c in overseer.concept_ids}
    # a reviewer: destructive on production and nothing else; the user's authorisation decides
    edits.update(touches_production=1, destructive_change=1, user_authorized=authorized)
    status, answer = post(server, "/v1/intervene", {"record": record, "edits": edits, "action": RISKY_CALL})
    assert status == 200
    before = overseer.score(record).action(RISKY_CALL)
    after = next(a for a in answer["actions"] if a["id"] == RISKY_CALL)
    assert after["flagged"] == (not authorized)
    assert answer["changed_flags"] == ([] if before.flagged == after["flagged"] else [
        {"action": RISKY_CALL, "flagged_before": before.flagged, "flagged_after": after["flagged"],
         "risk_before": before.risk, "risk_after": after["risk"]}])
    expected = overseer.intervene(overseer.score(record), edits, RISKY_CALL)
    assert {k: v for k, v in answer.items() if k != "changed_flags"} == expected.to_json()

    half = len(edits) // 2
    groups = [{"edits": dict(list(edits.items())[:half])}, {"edits": dict(list(edits.items())[half:])}]
    status, grouped = post(server, "/v1/intervene", {"record": record, "edits": groups, "action": RISKY_CALL})
    assert status == 200 and grouped["actions"] == answer["actions"] and len(grouped["interventions"]) == 2


@pytest.mark.parametrize("edits, action, error", [
    ({"is_rude": 1}, None, "body.edits.is_rude: unknown concept"),
    ({"destructive_change": 0}, "call_nope", "body.action: no action 'call_nope'"),
    ([{"edits": {"destructive_change": 0}}, {"edits": {"x": 1}}], None, "body.edits[1].edits.x: unknown concept"),
])
def test_intervene_names_the_bad_edit(server, edits, action, error):
    status, answer = post(server, "/v1/intervene", {"record": risky_record(), "edits": edits, "action": action})
    assert status == 422 and answer["error"].startswith(error), answer["error"]


def test_explain_equals_the_in_process_explainer(server, overseer):
    record = risky_record()
    body = {"record": record, "action": RISKY_CALL, "concepts": ["destructive_change"], "top_k": 2}
    status, answer = post(server, "/v1/explain", body)
    assert status == 200
    expected = Explainer(overseer).explain(parse_record(record), RISKY_CALL, ["destructive_change"], 2).to_json()
    assert answer == json.loads(json.dumps(expected))
    status, answer = post(server, "/v1/explain", {**body, "concepts": ["is_rude"]})
    assert status == 422 and answer["error"].startswith("body.concepts[0]: unknown concept")


def test_explanations_run_on_one_thread_of_their_own(in_process, overseer, monkeypatch):
    """An attribution's scratch memory stays in the allocator arena of the thread that ran it:
    every explanation runs on the same dedicated thread, never on the shared threadpool."""
    import threading

    service = in_process.app.state.service
    threads = []

    def explain(*args):
        threads.append(threading.current_thread())
        return Explainer.explain(service.explainer, *args)

    monkeypatch.setattr(service.explainer, "explain", explain)
    body = {"record": risky_record(), "action": RISKY_CALL, "concepts": ["destructive_change"], "top_k": 1}
    answers = [in_process.post("/v1/explain", body, {"X-API-Key": KEY}) for _ in range(3)]
    assert [a.status for a in answers] == [200] * 3 and answers[0].json() == answers[2].json()
    assert len(set(threads)) == 1 and threads[0].name.startswith("cbm-explain")
    refused = in_process.post("/v1/explain", {**body, "action": "call_nope"}, {"X-API-Key": KEY})
    assert refused.status == 422 and refused.json()["error"].startswith("body.action: no action 'call_nope'")


def test_api_keys_never_reach_the_log(server):
    """Last in this file: every request above has been logged by then."""
    assert KEY not in server.log.read_text()
