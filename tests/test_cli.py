"""The `cbm` command line (`cbm.cli`): its table of commands, usage errors, `--version`, and
`python -m cbm.cli` as a real process. `cbm validate` and `cbm convert` are in test_validate.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CLEAN

from cbm import __version__
from cbm.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("argv", [["validate"], ["validate", "--format", "yaml", "x.jsonl"], ["bogus"],
                                  ["convert", "x.jsonl"], ["convert", "x.jsonl", "--to", "csv"]])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert "validate" in out and "convert" in out and "facts" in out and "exit codes" in out


def test_facts_command_prints_each_actions_facts_and_fails_bad_records_with_3(mixed, capsys):
    """`cbm facts` (cbm/facts_cli.py; tests/test_facts_cli.py has the rest): one JSON line per
    action of the records that read, the others on stderr with their line."""
    assert main(["facts", str(mixed), "--json"]) == 3
    captured = capsys.readouterr()
    printed = [json.loads(line) for line in captured.out.splitlines()]
    assert [(x["trajectory"], x["action"], x["tool"]) for x in printed] == [
        ("run-1", "c1", "read_secret"), ("run-1", "c2", "post"), ("run-1", "msg:5", None), ("run-2", "msg:1", None)]
    assert all(set(x) == {"trajectory", "action", "tool", "facts", "summary"} for x in printed)
    assert [line.split(": ")[:4] for line in captured.err.splitlines()] == [
        ["cbm facts", str(mixed), "line 2", "not JSON (Expecting property name enclosed in double quotes at column 2)"],
        ["cbm facts", str(mixed), "line 4 (id 'bad-role')", "messages[0].role"]]
    with pytest.raises(SystemExit) as info:
        main(["facts"])
    assert info.value.code == 2 and "usage: cbm facts" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"cbm {__version__}"


# --- a real process ----------------------------------------------------------------------------

def test_module_entry_point_in_a_subprocess(mixed):
    """`python -m cbm.cli`, reading a file and stdin: the exit code and the report reach the shell."""
    stdin = json.dumps(CLEAN) + "\n"
    result = subprocess.run([sys.executable, "-m", "cbm.cli", "validate", str(mixed), "-"], input=stdin,
                            capture_output=True, text=True, encoding="utf-8", cwd=ROOT, timeout=60)
    assert result.returncode == 3, result.stderr
    assert f"{mixed}: error: line 2: not JSON" in result.stdout
    rows = {line.split()[0]: line.split()[1:3] for line in result.stdout.splitlines()[1:4]}
    assert rows == {str(mixed): ["4", "2"], "-": ["1", "0"], "total": ["5", "2"]}
