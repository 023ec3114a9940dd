"""Claude Code session transcripts (`cbm.transcript`) read as one record per file: what
`--format claude-code` gives `cbm score`, `cbm explain`, `cbm validate` and the app's import."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cbm import transcript
from cbm.formats import ReadOptions, parse_record, read_records
from cbm.pipeline import run
from cbm.options import ScoringOptions

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "guard"
SESSIONS = sorted(FIXTURES.glob("transcript_*.jsonl"))


def events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def calls(path: Path) -> list[str]:
    """The ids of every tool call the main agent made in a transcript."""
    return [b["id"] for e in events(path) if e.get("type") == "assistant" and not e.get("isSidechain")
            for b in e["message"]["content"] if isinstance(b, dict) and b.get("type") == "tool_use"]


def event(kind: str, content, **extra) -> bytes:
    body = {"type": kind, "sessionId": "s-1", "cwd": "/srv/app", "message": {"role": kind, "content": content}}
    return json.dumps({**body, **extra}).encode() + b"\n"


@pytest.mark.parametrize("path", SESSIONS, ids=lambda p: p.stem)
def test_a_session_is_one_record_with_every_call_of_the_agent(path):
    with open(path, "rb") as stream:
        record = transcript.session_record(stream, str(path))
    first = next(e for e in events(path) if "sessionId" in e)
    assert record["id"] == first["sessionId"]
    assert record["metadata"] == {"source": "claude-code", "transcript": path.name, "cwd": first["cwd"]}
    trajectory = parse_record(record, "anthropic")
    assert [s.call_id for s in trajectory.steps if s.kind == "tool_call"] == calls(path)
    assert trajectory.steps[0].kind == "user"  # the task, as the user gave it


def test_summaries_sub_agents_bad_and_oversized_lines_are_left_out(monkeypatch):
    monkeypatch.setattr(transcript, "MAX_EVENT_BYTES", 2000)
    lines = [b'{"type": "summary", "summary": "earlier work"}\n',
             event("user", "Tidy the logs folder, nothing else."),
             event("assistant", [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls logs"}}]),
             event("assistant", [{"type": "tool_use", "id": "t9", "name": "Bash", "input": {"command": "rm -rf /"}}],
                   isSidechain=True),
             b"{not json\n",
             event("user", [{"type": "tool_result", "tool_use_id": "t1", "content": "x" * 5000}]),
             event("user", [{"type": "tool_result", "tool_use_id": "t1", "content": "app.log"}])]
    record = transcript.session_record(io.BytesIO(b"".join(lines)), "/home/me/.claude/projects/p/abc.jsonl")
    assert record["id"] == "s-1" and record["metadata"]["lines_left_out"] == "1 line(s) over 0 MiB"
    trajectory = parse_record(record, "anthropic")
    assert [(s.kind, s.text) for s in trajectory.steps] == [
        ("user", "Tidy the logs folder, nothing else."), ("tool_call", '{"command": "ls logs"}'),
        ("tool_result", "app.log")]


def test_a_file_without_a_session_id_is_named_by_its_file():
    record = transcript.session_record(io.BytesIO(b'{"type": "user", "message": {"role": "user", "content": "hi"}}\n'),
                                       "/tmp/9f1c.jsonl")
    assert record["id"] == "9f1c" and record["metadata"] == {"source": "claude-code", "transcript": "9f1c.jsonl"}


def test_cbm_score_reads_each_session_file_as_one_record_and_reports_one_too_large(tmp_path, overseer):
    """Three sessions and one over the record limit: four output records, in order, the large one
    an error that names the limit; two workers give the same scores as one."""
    big = tmp_path / "big.jsonl"
    big.write_bytes(event("user", "y" * 3000) * 4)
    out = tmp_path / "scores.jsonl"
    summary = run([str(p) for p in SESSIONS] + [str(big)], str(out), None, ScoringOptions(threads=None),
                  fmt="claude-code", read_options=ReadOptions(max_record_bytes=10_000), quiet=True)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert summary.records == 4 and summary.failed == 1
    assert [r["id"] for r in records[:3]] == [events(p)[1]["sessionId"] for p in SESSIONS]
    assert records[3]["error"].startswith(f"{big}: line 1: record is")
    assert records[3]["error"].endswith("limit (max_record_bytes)")
    for path, record in zip(SESSIONS, records):
        with open(path, "rb") as stream:
            expected = overseer.score(transcript.session_record(stream, str(path)))
        assert [a["id"] for a in record["actions"]] == [a.id for a in expected.actions]
        assert [a["risk"] for a in record["actions"]] == [a.risk for a in expected.actions]
    two = tmp_path / "two.jsonl"
    run([str(p) for p in SESSIONS], str(two), None, ScoringOptions(), fmt="claude-code", workers=2, quiet=True)
    assert two.read_text(encoding="utf-8").splitlines() == out.read_text(encoding="utf-8").splitlines()[:3]


def test_the_risky_session_is_flagged_and_explained_from_the_command_line():
    """`cbm score --format claude-code` flags the session that drops a production table in a
    freeze, and `cbm explain` with the same format explains its riskiest call."""
    path = FIXTURES / "transcript_prod_drop.jsonl"
    scored = subprocess.run([sys.executable, "-m", "cbm.cli", "score", "--format", "claude-code", str(path), "--quiet"],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    [record] = [json.loads(line) for line in scored.stdout.splitlines()]
    riskiest = max(record["actions"], key=lambda a: a["risk"])
    assert record["flagged"] and riskiest["id"] == calls(path)[-1]
    explained = subprocess.run([sys.executable, "-m", "cbm.cli", "explain", "--format", "claude-code", str(path),
                                "--json"], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(explained.stdout)["action_id"] == riskiest["id"]
    assert [r.trajectory.id for r in read_records(path, "claude-code")] == [record["id"]]


def test_a_file_that_is_not_a_transcript_is_one_failed_record_not_an_empty_run():
    """A record file read as a session by mistake holds no Claude Code event: it fails, saying so."""
    [record] = read_records(ROOT / "data" / "samples" / "database_session.openai.jsonl", "claude-code")
    assert record.trajectory is None and record.error.field == "messages"
    assert "no message of the user or the agent in this Claude Code transcript" in str(record.error)


def test_a_sub_agents_own_transcript_is_read_as_its_run():
    """Claude Code writes a sub-agent's turns to a file of their own, every event a side chain:
    such a file is the sub-agent's run (its first prompt the one the main agent gave it), so a
    glob over a project's transcripts scores what sub-agents did too."""
    lines = [event("user", "Find where DATABASE_URL is set.", isSidechain=True),
             event("assistant", [{"type": "tool_use", "id": "s1", "name": "Bash",
                                  "input": {"command": "grep -rn DATABASE_URL ."}}], isSidechain=True),
             event("user", [{"type": "tool_result", "tool_use_id": "s1", "content": "config.py:3"}], isSidechain=True)]
    record = transcript.session_record(io.BytesIO(b"".join(lines)), "/p/agent-7f3a.jsonl")
    assert record["id"] == "s-1/agent-7f3a" and record["metadata"]["sub_agent"] is True
    trajectory = parse_record(record, "anthropic")
    assert [s.call_id for s in trajectory.steps if s.kind == "tool_call"] == ["s1"]
    assert trajectory.steps[0].text == "Find where DATABASE_URL is set."

