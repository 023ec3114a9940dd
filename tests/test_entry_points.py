"""Every entry point gives the same scores for the same input: the Python API, `cbm score`, the
HTTP service (batch and single action) and the live guard (in process and through the service).

The input is the recorded Claude Code hook call that drops a production table: its transcript
as context plus the proposed call, and the same run with the call appended as a plain record."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cbm.formats import parse_record
from cbm.guard import HOOK_DECISIONS, hook_request, with_call
from cbm.scoring import decision
from cbm_training.bench.serve import call, running_server

from conftest import ROOT
from test_guard import guard, hook_input

KEY = "entry-points-key-3b9d"


@pytest.fixture(scope="module")
def case(overseer):
    record, action = hook_request(hook_input("curl_bash"))  # a recorded call the model flags
    live = overseer.score_action(parse_record(record, "anthropic"), action)
    return record, action, live


@pytest.fixture(scope="module")
def server():
    with running_server("--log-level", "warning", api_key=KEY) as s:
        yield s


def test_python_batch_equals_python_live(overseer, case):
    record, action, live = case
    full = overseer.score(with_call(record, action))
    assert full.actions[-1].id == action["id"]
    assert full.actions[-1].to_json() == live.to_json()
    assert live.flagged


def test_cli_equals_python(tmp_path, case):
    record, action, live = case
    path = tmp_path / "run.jsonl"
    path.write_text(json.dumps(with_call(record, action)) + "\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "cbm.cli", "score", str(path), "--quiet"], capture_output=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["actions"][-1] == live.to_json()


def test_http_batch_and_action_equal_python(server, case):
    record, action, live = case
    status, body = call(server.url, "/v1/score", {"records": [with_call(record, action)]}, KEY)
    assert status == 200 and body["results"][0]["actions"][-1] == live.to_json()
    status, body = call(server.url, "/v1/score/action", {"context": record, "action": action, "format": "anthropic"},
                        KEY)
    assert status == 200 and body["action"] == live.to_json()


@pytest.mark.parametrize("through_service", [False, True])
def test_guard_equals_python(overseer, server, case, tmp_path, through_service):
    _, _, live = case
    args = ["--no-explain"]
    if through_service:
        key = tmp_path / "key"
        key.write_text(KEY)
        args += ["--url", server.url, "--api-key-file", str(key)]
    answer, _ = guard(hook_input("curl_bash"), *args)
    want = HOOK_DECISIONS[decision(live.risk, overseer.threshold, overseer.block_threshold)]
    output = answer["hookSpecificOutput"]
    assert output["permissionDecision"] == want
    assert f"risk {live.risk:.2f}" in output["permissionDecisionReason"]
