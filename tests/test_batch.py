"""`cbm score` (`cbm.batch`): one output record per input record, in order, failures reported, and
the same scores from one process and several. Lightning's DDP engine is in test_distributed.py."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cbm.batch import main
from cbm.facts import Fact, describe
from cbm.formats import read_records

from conftest import BAD, INPUTS, ROOT, SAMPLES, read_jsonl



def n_records(paths) -> int:
    return sum(1 for p in paths for line in Path(p).read_bytes().splitlines() if line.strip())


def test_one_output_record_per_input_record_in_order(scored):
    assert len(scored) == n_records(INPUTS)
    first = json.loads(INPUTS[0].read_text().splitlines()[0])
    assert scored[0]["id"] == first["id"]
    for record in scored:
        assert set(record) == {"id", "risk", "flagged", "actions", "error"}
        if record["error"] is None:
            assert record["actions"] and 0 <= record["risk"] <= 1
            for action in record["actions"]:
                assert set(action) == {"id", "tool", "risk", "flagged", "concepts", "top_concepts", "facts", "summary",
                                          "implied"}
                assert len(action["concepts"]) == 18
        else:
            assert record["actions"] == [] and record["risk"] is None


def test_bad_records_are_reported_with_file_and_line(scored):
    failed = [r["error"] for r in scored if r["error"]]
    assert len(failed) == 11
    assert failed[0].startswith(f"{BAD}: line 2: not JSON")
    assert any("line 4 (id 'bad-unknown-role'): messages[0].role: unknown role" in e for e in failed)
    flagged = {r["id"] for r in scored if r["flagged"]}
    assert "risky-db-prod-drop" in flagged


def test_exit_codes_and_summary(tmp_path, capsys):
    good = SAMPLES / "database_session.openai.jsonl"
    assert main([str(good), "--out", str(tmp_path / "o.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "cbm score: 1 records, 1 scored, 0 failed, 1 flagged;" in err and "actions/s" in err
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / "missing.jsonl")])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit):
        main([str(good), "--threshold", "3"])
    assert main([str(good), "--checkpoint", str(tmp_path), "--out", str(tmp_path / "x.jsonl")]) == 2
    assert "missing config.json" in capsys.readouterr().err


def test_on_a_terminal_the_summary_lists_the_flagged_runs_and_what_to_do_next(tmp_path, capsys, monkeypatch, scored):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a person reading the terminal
    good = SAMPLES / "database_session.openai.jsonl"
    assert main([str(good), "--out", str(tmp_path / "o.jsonl")]) == 0
    err = capsys.readouterr().err
    [drop] = [r for r in scored if r["id"] == "risky-db-prod-drop"]
    riskiest = max(drop["actions"], key=lambda a: a["risk"])
    assert "Flagged runs, riskiest first (1 of 1):" in err
    assert f"risky-db-prod-drop  block {drop['risk']:.3f}  {riskiest['id']} (bash):" in err
    assert describe([Fact.from_json(f) for f in riskiest["facts"]])[0] in err  # what the action does
    assert f"cbm explain {good} --id risky-db-prod-drop" in err and "cbm app" in err


def test_piped_or_logged_the_summary_stays_one_line(tmp_path):
    good = SAMPLES / "database_session.openai.jsonl"
    done = subprocess.run([sys.executable, "-m", "cbm.cli", "score", str(good), "--out", str(tmp_path / "o.jsonl")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0 and done.stderr.count("\n") == 1 and "Flagged runs" not in done.stderr


def test_threshold_changes_flags_not_scores(tmp_path, scored):
    out = tmp_path / "strict.jsonl"
    risks = sorted({r["risk"] for r in scored if r["flagged"]})  # all at or above the checkpoint's threshold
    threshold = (risks[len(risks) // 2 - 1] + risks[len(risks) // 2]) / 2  # between two of them
    main([*map(str, INPUTS), "--out", str(out), "--quiet", "--threshold", str(threshold)])
    strict = read_jsonl(out)
    assert [r["risk"] for r in strict] == [r["risk"] for r in scored]
    assert [r["flagged"] for r in strict if r["risk"] is not None] == [
        r["risk"] >= threshold for r in strict if r["risk"] is not None]
    assert sum(bool(r["flagged"]) for r in strict) < sum(bool(r["flagged"]) for r in scored)


def test_parquet_output_holds_the_same_records(tmp_path, scored):
    out = tmp_path / "out.parquet"
    main([*map(str, INPUTS), "--out", str(out), "--quiet"])
    frame = pd.read_parquet(out)
    assert len(frame) == len(scored)
    assert [i if isinstance(i, str) else None for i in frame["id"]] == [r["id"] for r in scored]
    assert frame["risk"].tolist() == pytest.approx([r["risk"] if r["risk"] is not None else float("nan")
                                                    for r in scored], nan_ok=True)
    row = next(i for i, r in enumerate(scored) if r["actions"])
    assert frame["actions"][row][0]["concepts"]["touches_production"] == \
        scored[row]["actions"][0]["concepts"]["touches_production"]
    rows = pq.read_table(out).to_pylist()  # every action keeps its facts and their sentences
    assert [(a["facts"], a["summary"]) for r in rows for a in r["actions"] or []] == \
        [(a["facts"], a["summary"]) for r in scored for a in r["actions"]]
    assert any(a["facts"] for r in rows for a in r["actions"] or [])
    fact = pq.read_schema(out).field("actions").type.value_type.field("facts").type.value_type
    assert [(f.name, str(f.type)) for f in fact] == [
        ("kind", "string"), ("value", "string"), ("span", "list<element: int32>"), ("parser", "string"),
        ("tags", "list<element: string>"), ("command", "int32")]


def test_each_action_carries_its_facts_with_spans_into_its_text(scored):
    """The shell facts of the risky run's DROP on production, and spans that index the raw
    argument text of every action of the samples."""
    texts = {(t.id, s.action_id): s.text for path in INPUTS for r in read_records(path) if r.error is None
             for t in [r.trajectory] for s in t.steps if s.action_id is not None}
    checked = 0
    for record in scored:
        for action in record["actions"]:
            text = texts[record["id"], action["id"]]
            for fact in action["facts"]:
                start, end = fact["span"]
                assert 0 <= start <= end <= len(text), (record["id"], action["id"], fact)
                checked += 1
            assert action["summary"] == describe([Fact.from_json(f) for f in action["facts"]])
    assert checked > 50
    drop = next(a for r in scored if r["id"] == "risky-db-prod-drop" for a in r["actions"]
                if a["id"] == "call_Nf8dH2qZ5vL1kW7tB4xM9cGs")
    host = next(f for f in drop["facts"] if f["kind"] == "host")
    assert host["value"] == "orders-live.prod.acme.internal" and "production" in host["tags"]


def test_stdin_to_stdout_as_a_real_process(scored):
    data = b"".join(p.read_bytes() for p in INPUTS)
    proc = subprocess.run([sys.executable, "-m", "cbm.cli", "score"], input=data, capture_output=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 3
    lines = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert [r["risk"] for r in lines] == [r["risk"] for r in scored]
    assert lines[-1]["error"] is None or lines[-1]["error"].startswith("line ")
    assert "11 failed" in proc.stderr.decode() and "\r" not in proc.stderr.decode()  # no progress bar off a terminal


def test_out_dash_is_stdout_as_dash_is_stdin(tmp_path, monkeypatch, capfd, scored):
    monkeypatch.chdir(tmp_path)
    assert main([*map(str, INPUTS), "--out", "-", "--quiet"]) == 3
    lines = [json.loads(x) for x in capfd.readouterr().out.splitlines()]
    assert [r["risk"] for r in lines] == [r["risk"] for r in scored]
    assert not (tmp_path / "-").exists()  # no file named "-"


def test_worker_processes_give_the_same_output(tmp_path, scored):
    out = tmp_path / "workers.jsonl"
    assert main([*map(str, INPUTS), "--out", str(out), "--quiet", "--workers", "2"]) == 3
    assert read_jsonl(out) == scored


def test_an_oversized_record_fails_alone(tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = (SAMPLES / "database_session.openai.jsonl").read_text()
    path.write_text(good + json.dumps({"id": "huge", "messages": [{"role": "user", "content": "y" * 300_000}]}) + "\n"
                    + good)
    out = tmp_path / "o.jsonl"
    assert main([str(path), "--out", str(out), "--quiet", "--max-record-bytes", "200000"]) == 3
    records = read_jsonl(out)
    assert [r["error"] is None for r in records] == [True, False, True]
    assert "over the" in records[1]["error"] and records[1]["error"].startswith("line 2")


def test_a_run_of_1000_steps_and_a_huge_integer_leave_the_batch_whole(tmp_path):
    """Long runs are scored in windows, and a number Python will not convert is one bad record:
    neither may cost the other records of the batch."""
    long_run = {"id": "long", "steps": [{"kind": "user", "text": "tidy the logs"}] + [
        s for i in range(500) for s in ({"kind": "tool_call", "tool_name": "bash", "call_id": f"c{i}",
                                          "text": json.dumps({"command": f"ls /var/log/app{i}"})},
                                         {"kind": "tool_result", "call_id": f"c{i}", "text": "a.log b.log"})]}
    good = (SAMPLES / "database_session.openai.jsonl").read_text()
    path = tmp_path / "mixed.jsonl"
    path.write_text(good + json.dumps(long_run) + "\n" + '{"id": "big", "n": ' + "9" * 5000 + "}\n" + good)
    out = tmp_path / "o.jsonl"
    assert main([str(path), "--out", str(out), "--quiet", "--workers", "2"]) == 3
    records = read_jsonl(out)
    assert [r["error"] is None for r in records] == [True, True, False, True]
    assert len(records[1]["actions"]) == 500 and all(0 <= a["risk"] <= 1 for a in records[1]["actions"])
    assert records[2]["error"].startswith("line 3: not readable JSON")


def test_an_output_that_cannot_be_written_is_a_usage_error_not_a_traceback(tmp_path, capsys):
    sample = str(SAMPLES / "database_session.openai.jsonl")
    with pytest.raises(SystemExit) as exit_:
        main([sample, "--out", str(tmp_path / "missing" / "o.jsonl"), "--quiet"])
    assert exit_.value.code == 2 and "its folder does not exist" in capsys.readouterr().err
    folder = tmp_path / "taken.jsonl"
    folder.mkdir()  # a folder where the output file should go
    assert main([sample, "--out", str(folder), "--quiet"]) == 2
    assert capsys.readouterr().err.startswith(f"cbm score: {folder}: Is a directory")


def test_stdin_dash_reads_a_stream(monkeypatch, capsys):
    data = (SAMPLES / "database_session.openai.jsonl").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["-", "--quiet"]) == 0
    records = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in records] == ["risky-db-prod-drop"] and records[0]["flagged"]
