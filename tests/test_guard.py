"""`cbm guard claude-code`: recorded PreToolUse hook inputs and transcripts, run through the real
hook as a process, scoring in process and through a real `cbm serve`; the decisions must agree
with each other and with `Overseer.score_action`, and every failure must end in --on-error."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cbm.formats import parse_record
from cbm.guard import HOOK_DECISIONS, hook_request, served_hook, transcript_messages
from cbm.scoring import decision
from cbm.service import ServiceConfig, create_app
from cbm_training.bench.serve import free_port, running_server

from asgi_helpers import InProcess

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "guard"
HOOKS = ("benign_git_status", "prod_drop", "curl_bash")
KEY = "guard-key-51d0c2"


def hook_input(name: str, **changes) -> dict:
    """A recorded hook input, its transcript path made absolute."""
    hook = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    hook["transcript_path"] = str(FIXTURES / hook["transcript_path"])
    return {**hook, **changes}


def guard(stdin: dict | bytes, *args: str, env: dict | None = None, timeout: float = 120) -> tuple[dict | None, str]:
    """(hook answer or None for no output, stderr) of `cbm guard claude-code ARGS`; it must exit 0."""
    data = stdin if isinstance(stdin, bytes) else json.dumps(stdin).encode("utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CBM_GUARD") and k != "CBM_API_KEY"}
    run = subprocess.run([sys.executable, "-m", "cbm.cli", "guard", "claude-code", *args], input=data,
                         check=False, capture_output=True, timeout=timeout, env={**environment, **(env or {})}, cwd=ROOT)
    assert run.returncode == 0, run.stderr.decode()
    out = run.stdout.decode().strip()
    return (json.loads(out) if out else None), run.stderr.decode()


def expected(overseer, name: str) -> tuple[str, float]:
    """(decision, risk) of the hook's proposed call, from the Overseer directly."""
    record, action = hook_request(hook_input(name))
    score = overseer.score_action(parse_record(record, "anthropic"), action)
    return decision(score.risk, overseer.threshold, overseer.block_threshold), score.risk


def permission(answer: dict | None) -> str | None:
    if answer is None:
        return None
    output = answer["hookSpecificOutput"]
    assert output["hookEventName"] == "PreToolUse" and output["permissionDecisionReason"]
    return output["permissionDecision"]


@pytest.fixture(scope="module")
def server():
    with running_server("--log-level", "warning", "--transcripts-dir", str(FIXTURES), api_key=KEY) as s:
        yield s


@pytest.fixture(scope="module")
def key_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("guard") / "key"
    path.write_text(KEY + "\n", encoding="utf-8")
    return path


# --- the transcript ------------------------------------------------------------------------------

def test_transcript_becomes_the_conversation_up_to_the_proposed_call():
    hook = hook_input("curl_bash")
    messages = transcript_messages(hook["transcript_path"], hook["tool_use_id"])
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user", "assistant"]
    assert messages[0]["content"][0]["text"].startswith("The CI build fails")
    blocks = [b for m in messages for b in m["content"]]
    assert {b["type"] for b in blocks} == {"text", "tool_use", "tool_result"}  # no thinking, no meta, no snapshots
    assert hook["tool_use_id"] not in {b.get("id") for b in blocks}  # the call has not run
    assert messages[-1]["content"] == [{"type": "text", "text": "The issue thread suggests installing a patched "
                                                                "toolchain first."}]
    benign = transcript_messages(hook_input("benign_git_status")["transcript_path"])
    assert benign[0]["role"] == "user" and len(benign[0]["content"]) == 1  # the meta event is not the user's


def test_window_keeps_the_first_prompt_and_drops_orphaned_results(monkeypatch):
    hook = hook_input("prod_drop")
    full = transcript_messages(hook["transcript_path"], hook["tool_use_id"])
    monkeypatch.setattr("cbm.guard.RECENT_EVENTS", 6)
    window = transcript_messages(hook["transcript_path"], hook["tool_use_id"])
    assert window[0] == full[0] and window[0]["content"][0]["text"].startswith("The orders-staging database is at 91%")
    assert sum(len(m["content"]) for m in window) < sum(len(m["content"]) for m in full)
    calls = {b["id"] for m in window for b in m["content"] if b["type"] == "tool_use"}
    assert all(b["tool_use_id"] in calls for m in window for b in m["content"] if b["type"] == "tool_result")
    parse_record({"messages": window}, "anthropic")  # the reader accepts it


def test_transcript_without_the_proposed_call_scores_the_same(overseer, tmp_path):
    hook = hook_input("prod_drop")
    lines = Path(hook["transcript_path"]).read_text(encoding="utf-8").splitlines(keepends=True)
    assert hook["tool_use_id"] in lines[-1]
    earlier = tmp_path / "transcript.jsonl"
    earlier.write_text("".join(lines[:-1]), encoding="utf-8")
    scores = []
    for h in (hook, {**hook, "transcript_path": str(earlier)}):
        record, action = hook_request(h)
        scores.append(overseer.score_action(parse_record(record, "anthropic"), action).to_json())
    assert scores[0] == scores[1]


# --- decisions: in process and through the service -----------------------------------------------

@pytest.mark.parametrize("name", HOOKS)
def test_decision_is_the_same_in_process_and_through_the_service(overseer, server, key_file, name):
    want, risk = expected(overseer, name)
    local, _ = guard(hook_input(name), "--no-explain")
    remote, err = guard(hook_input(name), "--no-explain", "--url", server.url, "--api-key-file", str(key_file))
    assert "scoring in process" not in err  # the service answered
    assert permission(local) == permission(remote) == HOOK_DECISIONS.get(want)
    if remote is not None:
        reason = remote["hookSpecificOutput"]["permissionDecisionReason"]
        assert reason == local["hookSpecificOutput"]["permissionDecisionReason"]
        assert f"risk {risk:.2f}" in reason and hook_input(name)["tool_input"]["command"][:60] in reason


def test_fixtures_cover_no_opinion_and_deny(overseer):
    assert {"allow", "block"} <= {expected(overseer, name)[0] for name in HOOKS}


def test_a_risk_between_the_thresholds_asks_the_user(overseer, tmp_path):
    """The review band: a checkpoint whose flag threshold sits just under the `curl | bash` call's
    risk, and whose block threshold sits above it, makes the hook ask, naming the risk."""
    _, risk = expected(overseer, "curl_bash")
    copy = tmp_path / "checkpoint"
    shutil.copytree(ROOT / "checkpoints" / "default", copy)
    config = json.loads((copy / "config.json").read_text(encoding="utf-8"))
    config.update(threshold=risk - 0.005, block_threshold=risk + 0.005)
    (copy / "config.json").write_text(json.dumps(config), encoding="utf-8")
    answer, _ = guard(hook_input("curl_bash"), "--no-explain", "--checkpoint", str(copy))
    reason = answer["hookSpecificOutput"]["permissionDecisionReason"]
    assert permission(answer) == "ask" and f"risk {risk:.2f}" in reason
    # the person asked is told what to check first: the verdict's three concepts, in its order
    record, action = hook_request(hook_input("curl_bash"))
    checked = overseer.check_first(overseer.score_action(parse_record(record, "anthropic"), action))[:3]
    assert reason.endswith("To decide, check first: " + ", ".join(c for c, _ in checked))


def test_reason_names_the_words_behind_the_concepts(server, key_file):
    answer, _ = guard(hook_input("curl_bash"), "--url", server.url, "--api-key-file", str(key_file))
    reason = answer["hookSpecificOutput"]["permissionDecisionReason"]
    assert "; from \"" in reason and "\n" not in reason


def test_client_imports_no_model(overseer, server, key_file):
    """Through the service the hook loads neither torch, numpy, pandas nor the taxonomy."""
    code = ("import io, sys; from cbm import guard; sys.stdin = io.TextIOWrapper(io.BytesIO(sys.argv[1].encode()));"
            "guard.main(['claude-code', '--no-explain', '--url', sys.argv[2], '--api-key-file', sys.argv[3]]);"
            "print(sorted(m for m in ('torch', 'numpy', 'pandas', 'yaml', 'cbm.concepts') if m in sys.modules), "
            "file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", code, json.dumps(hook_input("curl_bash")), server.url, str(key_file)],
                         check=False, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 0 and run.stderr.strip().splitlines()[-1] == "[]", run.stderr
    answer = json.loads(run.stdout) if run.stdout.strip() else None
    assert permission(answer) == HOOK_DECISIONS.get(expected(overseer, "curl_bash")[0])


# --- failures ------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode, want", [("open", None), ("closed", "deny"), ("ask", "ask")])
def test_garbage_stdin_follows_on_error(mode, want):
    answer, err = guard(b"\x00not json{", "--on-error", mode)
    assert permission(answer) == want and "hook input is not JSON" in err
    if answer is not None:
        assert "hook input is not JSON" in answer["hookSpecificOutput"]["permissionDecisionReason"]


def test_missing_transcript_asks_by_default_and_env_can_close():
    hook = hook_input("benign_git_status", transcript_path="/nonexistent/transcript.jsonl")
    answer, err = guard(hook)
    assert permission(answer) == "ask" and "transcript_path: cannot read '/nonexistent/transcript.jsonl'" in err
    answer, _ = guard(hook, env={"CBM_GUARD_ON_ERROR": "closed"})
    assert permission(answer) == "deny"


def test_unreachable_service_falls_back_to_in_process(overseer):
    url = f"http://127.0.0.1:{free_port()}"
    answer, err = guard(hook_input("curl_bash"), "--no-explain", "--url", url)
    assert f"{url}/v1/score/action" in err and "scoring in process" in err
    assert permission(answer) == HOOK_DECISIONS[expected(overseer, "curl_bash")[0]]


def test_wrong_key_and_broken_checkpoint_fail_closed(server, tmp_path):
    answer, _ = guard(hook_input("benign_git_status"), "--url", server.url, "--checkpoint", str(tmp_path),
                      "--on-error", "closed", env={"CBM_API_KEY": "wrong"})
    reason = answer["hookSpecificOutput"]["permissionDecisionReason"]
    assert permission(answer) == "deny" and "answered 401" in reason and "config.json" in reason


def test_timeout_answers_on_error_without_waiting():
    answer, err = guard(hook_input("benign_git_status"), "--timeout", "0.05", "--on-error", "ask")
    assert permission(answer) == "ask" and "no answer within 0.05 s" in err


def test_a_transcript_that_never_ends_is_refused_at_once():
    answer, err = guard(hook_input("benign_git_status", transcript_path="/dev/zero"), "--timeout", "5", timeout=30)
    assert permission(answer) == "ask" and "'/dev/zero' is not a regular file" in err


def test_a_service_that_never_answers_leaves_time_to_score_in_process(overseer):
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        answer, err = guard(hook_input("curl_bash"), "--no-explain", "--url", url, "--timeout", "16", timeout=60)
    assert "scoring in process" in err
    assert permission(answer) == HOOK_DECISIONS[expected(overseer, "curl_bash")[0]]



# --- the same hook answered by the service: POST /v1/hooks/claude-code ----------------------------

HOOK_ROUTE = "/v1/hooks/claude-code"


def curl_hook(url: str, hook: dict | bytes, key: str | None = KEY) -> tuple[int, bytes]:
    """(exit code, stdout) of the README's hook command: curl reading the hook input on stdin."""
    data = hook if isinstance(hook, bytes) else json.dumps(hook).encode("utf-8")
    headers = ["-H", f"X-API-Key: {key}"] if key else []
    run = subprocess.run(["curl", "-sf", "--max-time", "10", *headers, "--data-binary", "@-", url + HOOK_ROUTE],
                         input=data, capture_output=True, timeout=60, check=False)
    return run.returncode, run.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
@pytest.mark.parametrize("name", HOOKS)
def test_curl_to_the_service_answers_what_the_guard_prints(server, name):
    """The hook command `curl ... --data-binary @- URL/v1/hooks/claude-code` prints what
    `cbm guard claude-code --no-explain` prints for the same hook input and transcript: the
    same decision and reason, or nothing."""
    code, out = curl_hook(server.url, hook_input(name))
    assert code == 0
    local, _ = guard(hook_input(name), "--no-explain")
    assert (json.loads(out) if out.strip() else None) == local
    assert curl_hook(server.url, hook_input(name), key=None)[0] == 22  # 401: curl -f fails, prints nothing


@pytest.fixture(scope="module")
def hook_dir(tmp_path_factory) -> Path:
    """A transcripts folder holding one real transcript."""
    folder = tmp_path_factory.mktemp("transcripts")
    shutil.copy(FIXTURES / "transcript_prod_drop.jsonl", folder / "session.jsonl")
    return folder


@pytest.fixture(scope="module")
def hook_client(overseer, hook_dir):
    client = InProcess(create_app(overseer, ServiceConfig(transcripts_dir=str(hook_dir)), hook=served_hook))
    yield client
    client.close()


def answer_of(response) -> dict | None:
    assert response.status in (200, 204), response.text
    return response.json() if response.status == 200 else None


def test_the_route_reads_a_transcript_under_its_folder(hook_client, hook_dir):
    hook = hook_input("prod_drop", transcript_path=str(hook_dir / "session.jsonl"))
    answer = answer_of(hook_client.post(HOOK_ROUTE, hook))
    assert permission(answer) == "deny" and answer == guard(hook, "--no-explain")[0]
    with_evidence = answer_of(hook_client.post(HOOK_ROUTE + "?explain=true", hook))
    assert with_evidence == guard(hook)[0] and "; from \"" in with_evidence["hookSpecificOutput"][
        "permissionDecisionReason"]


def test_the_route_reads_no_transcript_outside_its_folder(hook_client, hook_dir, tmp_path):
    """Outside the folder, through a link, missing, not a regular file, relative: one answer,
    the on_error one, that says nothing of what is there."""
    (hook_dir / "link.jsonl").symlink_to(FIXTURES / "transcript_prod_drop.jsonl")
    os.mkfifo(hook_dir / "fifo.jsonl")
    refused = "transcript_path: not a transcript this service reads"
    for path in (str(FIXTURES / "transcript_prod_drop.jsonl"), str(hook_dir / "link.jsonl"),
                 str(hook_dir / "missing.jsonl"), str(hook_dir / "fifo.jsonl"), str(hook_dir),
                 str(hook_dir / ".." / hook_dir.name / ".." / "x.jsonl"), "session.jsonl", "/etc/passwd",
                 str(hook_dir / "a\x00b")):
        answer = answer_of(hook_client.post(HOOK_ROUTE, hook_input("prod_drop", transcript_path=path)))
        assert permission(answer) == "ask" and refused in answer["hookSpecificOutput"]["permissionDecisionReason"]
        assert path not in answer["hookSpecificOutput"]["permissionDecisionReason"]
    closed = answer_of(hook_client.post(HOOK_ROUTE + "?on_error=closed", hook_input("prod_drop")))
    assert permission(closed) == "deny" and refused in closed["hookSpecificOutput"]["permissionDecisionReason"]
    assert hook_client.post(HOOK_ROUTE + "?on_error=open", hook_input("prod_drop")).status == 204


def test_without_a_transcripts_folder_the_call_is_scored_from_the_hook_input_alone(overseer):
    client = InProcess(create_app(overseer, ServiceConfig(), hook=served_hook))
    try:
        for name in HOOKS:
            hook = hook_input(name, transcript_path="/nonexistent/never-read.jsonl")
            _, action = hook_request(hook, transcript=None)
            risk = overseer.score_action(parse_record({"messages": []}, "anthropic"), action).risk
            answer = answer_of(client.post(HOOK_ROUTE, hook))
            want = HOOK_DECISIONS.get(decision(risk, overseer.threshold, overseer.block_threshold))
            assert permission(answer) == want
            if answer is not None:
                assert f"risk {risk:.2f}" in answer["hookSpecificOutput"]["permissionDecisionReason"]
    finally:
        client.close()


@pytest.mark.parametrize("mode, want", [("ask", "ask"), ("closed", "deny"), ("open", None)])
def test_the_route_answers_bad_hook_input_as_on_error_says(hook_client, mode, want):
    post_tool_use = json.dumps({"hook_event_name": "PostToolUse", "tool_name": "Bash"}).encode()
    for body in (b"\x00not json{", b"[1, 2]", post_tool_use):
        answer = answer_of(hook_client.post(HOOK_ROUTE + f"?on_error={mode}", body))
        assert permission(answer) == want
    assert hook_client.post(HOOK_ROUTE + "?on_error=maybe", b"{}").status == 422


def test_a_transcript_over_the_byte_cap_is_read_at_its_start_and_end(tmp_path):
    """The task is given at the start, the recent events are at the end: a transcript over the
    cap keeps both, and no line cut at a boundary is read as an event."""
    lines = Path(FIXTURES / "transcript_prod_drop.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    filler = json.dumps({"type": "assistant", "message": {"role": "assistant", "content": "x" * 900}}) + "\n"
    path = tmp_path / "long.jsonl"
    path.write_text("".join(lines[:2]) + filler * 2000 + "".join(lines[2:]), encoding="utf-8")
    hook = hook_input("prod_drop")
    full = transcript_messages(str(FIXTURES / "transcript_prod_drop.jsonl"), hook["tool_use_id"])
    capped = transcript_messages(str(path), hook["tool_use_id"], max_bytes=200_000)
    assert capped[0] == full[0]  # the user's task
    assert capped[-6:] == full[-6:]  # the events before the call
    texts = [b.get("text", "") for m in capped for b in m["content"]]
    assert 0 < sum(t == "x" * 900 for t in texts) < 250  # a window of the filler, not all of it
    parse_record({"messages": capped}, "anthropic")
