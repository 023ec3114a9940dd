"""`cbm validate` and `cbm convert` (`cbm.validate`): every bad record is reported with its line, id
and field, and the rest are still checked or converted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CLEAN, RUN, write

from cbm.cli import main
from cbm.formats import FORMATS, loads

TRACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "agentdojo" / "traces"


def test_validate_clean_file_exits_0_with_counts(tmp_path, capsys):
    path = write(tmp_path / "clean.jsonl", RUN, CLEAN)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    header, row = out.splitlines()[:2]
    assert header.split()[:4] == ["file", "records", "failed", "actions"]
    # records, failed, actions, labelled (risk known), risky actions, risky runs
    assert row.split() == [str(path), "2", "0", "4", "2", "1", "1"]
    assert "error:" not in out
    assert "warning: line 1 (id 'run-1') step 3: relinked_result:" in out
    assert "warning: line 1 (id 'run-1') step 4: invalid_arguments:" in out


def test_validate_reports_each_bad_record_with_its_line_and_exits_3(mixed, capsys):
    assert main(["validate", str(mixed)]) == 3
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:4] == [str(mixed), "4", "2", "4"]
    errors = [line for line in out.splitlines() if ": error: " in line]
    assert errors == [
        f"{mixed}: error: line 2: not JSON (Expecting property name enclosed in double quotes at column 2)",
        f"{mixed}: error: line 4 (id 'bad-role'): messages[0].role: unknown role 'robot' "
        "(one of system, developer, user, assistant, tool, function)"]


def test_validate_json_summary(mixed, capsys):
    assert main(["validate", "--json", str(mixed)]) == 3
    [summary] = json.loads(capsys.readouterr().out)
    assert {k: summary[k] for k in ("records", "failed", "actions", "labelled_actions", "fully_labelled_actions",
                                    "risky_actions", "risky_trajectories")} == {
        "records": 4, "failed": 2, "actions": 4, "labelled_actions": 2, "fully_labelled_actions": 1,
        "risky_actions": 1, "risky_trajectories": 1}
    assert summary["formats"] == {"openai": 1, "anthropic": 1}
    assert summary["notes"] == {"relinked_result": 1, "invalid_arguments": 1}
    assert [e.split(":")[0] for e in summary["errors"]] == ["line 2", "line 4 (id 'bad-role')"]


def test_validate_several_files_prints_a_total(tmp_path, mixed, capsys):
    clean = write(tmp_path / "clean.jsonl", CLEAN)
    assert main(["validate", str(clean), str(mixed)]) == 3
    total = [line for line in capsys.readouterr().out.splitlines() if line.startswith("total")]
    assert [line.split()[:4] for line in total] == [["total", "5", "2", "5"]]


def test_validate_quiet_caps_the_listing(tmp_path, capsys):
    path = write(tmp_path / "bad.jsonl", *["{x"] * 25)
    assert main(["validate", "--quiet", str(path)]) == 3
    out = capsys.readouterr().out
    assert out.count(": error: line ") == 20
    assert f"{path}: ... and 5 more errors" in out


def test_validate_read_limits_are_options(tmp_path, capsys):
    path = write(tmp_path / "run.jsonl", {"id": "long", "messages": [{"role": "user", "content": "x" * 500}]},
                 {"id": "huge", "messages": [{"role": "user", "content": "x" * 5000}]})
    assert main(["validate", "--max-text-chars", "100", "--max-record-bytes", "2000", str(path)]) == 3
    out = capsys.readouterr().out
    assert f"{path}: warning: line 1 (id 'long') step 0: truncated: text of 500 chars cut to 100 (max_text_chars)" in out
    [error] = [line for line in out.splitlines() if ": error: " in line]
    assert error.startswith(f"{path}: error: line 2: record is ") and error.endswith("limit (max_record_bytes)")


def test_validate_forced_format(tmp_path, capsys):
    path = write(tmp_path / "a.jsonl", CLEAN)
    assert main(["validate", "--format", "native", str(path)]) == 3
    assert "unknown field(s) ['messages', 'system']" in capsys.readouterr().out


def test_validate_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", FORMATS)
def test_convert_keeps_actions_and_labels(tmp_path, capsys, fmt):
    path = write(tmp_path / "in.jsonl", RUN, CLEAN)
    assert main(["convert", str(path), "--to", fmt]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == "cbm convert: 2 written, 0 failed"
    converted = loads(captured.out, fmt)
    assert all(r.ok for r in converted)
    original = [r.trajectory for r in loads(path.read_text(encoding="utf-8"))]
    for before, after in zip(original, (r.trajectory for r in converted), strict=True):
        assert [(s.kind, s.tool_name, s.arguments) for s in after.actions] == [
            (s.kind, s.tool_name, s.arguments) for s in before.actions]
        assert [after.labels.get(a) for a in after.action_ids] == [before.labels.get(a) for a in before.action_ids]


def test_convert_out_dash_is_stdout(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / "in.jsonl", RUN, CLEAN)
    assert main(["convert", str(path), "--to", "openai", "--out", "-"]) == 0
    assert len(loads(capsys.readouterr().out, "openai")) == 2
    assert not (tmp_path / "-").exists()


def test_convert_to_a_file_skips_bad_records_and_exits_3(mixed, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    assert main(["convert", str(mixed), "--to", "native", "--out", str(out)]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"cbm convert: {mixed}: line 2: not JSON" in captured.err
    assert f"cbm convert: {mixed}: line 4 (id 'bad-role'): messages[0].role" in captured.err
    assert "cbm convert: 2 written, 2 failed" in captured.err
    assert [(r.format, r.trajectory.id) for r in loads(out.read_text(encoding="utf-8"))] == [
        ("native", "run-1"), ("native", "run-2")]


def test_convert_native_output_reads_back_equal(tmp_path, capsys):
    path = write(tmp_path / "in.jsonl", RUN, CLEAN)
    out = tmp_path / "native.jsonl"
    assert main(["convert", str(path), "--to", "native", "--out", str(out)]) == 0
    assert [r.trajectory for r in loads(out.read_text(encoding="utf-8"))] == [
        r.trajectory for r in loads(path.read_text(encoding="utf-8"))]


def test_convert_missing_input_is_a_usage_error(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "nope.jsonl"), "--to", "native"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_validate_agentdojo_traces(capsys):
    if not TRACES.is_dir() or not list(TRACES.glob("*.jsonl")):
        pytest.skip(f"AgentDojo traces not found at {TRACES}")
    files = sorted(str(p) for p in TRACES.glob("*.jsonl"))
    assert main(["validate", "--json", *files]) == 3  # each file's header line is not a trajectory
    for summary in json.loads(capsys.readouterr().out):
        assert (summary["records"], summary["failed"], summary["formats"]) == (195, 1, {"openai": 194})
        assert summary["errors"][0].startswith("line 1: messages: not a trajectory")
