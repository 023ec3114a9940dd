"""`cbm explain` (`cbm.explain_cli`): one action's explanation on a terminal or as JSON, hostile text
printed inert, and usage errors that list the choices."""

from __future__ import annotations

import json

import pytest
from conftest import SAMPLES

from cbm.explain_cli import main, render
from cbm.terminal import Style, inert

DROP = "call_Nf8dH2qZ5vL1kW7tB4xM9cGs"  # risky-db-prod-drop: DROP TABLE on production during the freeze


def truth(trajectory, action_id: str) -> dict[str, int]:
    """A sample action's labelled concepts: what a reviewer who corrects every concept sets."""
    return dict(trajectory.labels[action_id].concepts)


HOSTILE = {"id": "evil\x1b]0;owned\x07", "messages": [
    {"role": "user", "content": "Tidy the \x1b[2J\x1b[31mlogs\x1b[0m folder\r\u202eplease\u200b, keep prod."},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
        "name": "bash", "arguments": json.dumps({"command": "rm -rf logs/\x1b[1A\x9b2K \x08\x7f done"})}}]}]}


def test_cli_escapes_control_characters_of_a_hostile_trajectory(tmp_path, capsys):
    path = tmp_path / "hostile.jsonl"
    path.write_text(json.dumps(HOSTILE) + "\n", encoding="utf-8")
    assert main([str(path), "--top-k", "40", "--n-steps", "4", "--concept", "destructive_change",
                 "--concept", "touches_production"]) == 0
    out = capsys.readouterr().out
    assert not {"\x1b", "\x07", "\x08", "\x7f", "\x9b", "\r", "\u202e", "\u200b"} & set(out)
    assert "evil\\x1b]0;owned\\x07" in out and "\\x1b[31mlogs\\x1b[0m" in out
    assert "\\u202eplease\\u200b" in out and "[[" in out  # not a terminal: spans in brackets
    assert "  - deletes recursively, forced: logs/\\x1b[1A\\x9b2K" in out  # its facts, inert as well
    assert main([str(path), "--json", "--n-steps", "4", "--concept", "touches_production"]) == 0
    out = capsys.readouterr().out
    assert out.isascii() and json.loads(out)["trajectory_id"] == HOSTILE["id"]


def test_render_marks_spans_in_colour_only_on_a_terminal(fast, risky):
    e = fast.explain(risky, DROP, ["destructive_change"], top_k=2)
    assert "\x1b[" in render(e, risky, Style(tty=True))
    plain = render(e, risky, Style(tty=False))
    assert "\x1b" not in plain and plain.count("[[") == 2
    assert inert("a\x1b[0mb\nc\u2028") == "a\\x1b[0mb\\nc\\u2028"


def test_cli_set_flips_the_flags_the_policy_says(capsys, risky):
    """data/risk_policy.yaml: a broken user constraint makes the drop risky; the user's
    authorisation clears a destructive change that breaks no constraint; touching production
    alone changes nothing."""
    db = str(SAMPLES / "database_session.openai.jsonl")

    def explain(**values):
        sets = [x for c, v in {**truth(risky, DROP), **values}.items() for x in ("--set", f"{c}={v}")]
        assert main([db, "--action", DROP, *sets, "--concept", "touches_production", "--top-k", "1",
                     "--n-steps", "4", "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    assert explain()["flagged"]  # the truth: production, destructive, against the user's constraint
    assert explain(touches_production=0)["flagged"]
    assert not explain(violates_user_instruction=0, user_authorized=1)["flagged"]
    assert explain(violates_user_instruction=0, user_authorized=0)["flagged"]
    assert not explain(violates_user_instruction=0, user_authorized=1, touches_production=0)["flagged"]

    assert main([db, "--set", "destructive_change=1", "--set", "user_authorized=0", "--concept", "touches_production",
                 "--top-k", "1", "--n-steps", "4"]) == 0  # readable output names the flags an edit changed
    out = capsys.readouterr().out
    assert "changed flags:" in out and "clear -> flagged" in out


def test_cli_usage_errors_list_the_choices_and_a_failed_record_exits_3(capsys):
    db = str(SAMPLES / "database_session.openai.jsonl")
    assert main([db, "--action", "nope"]) == 2
    assert "no action 'nope' (actions: call_Zr4kT1mQ8vW2xN6bH3pL9sYd" in capsys.readouterr().err
    assert main([db, "--concept", "nope"]) == 2
    assert "unknown concept(s) nope (concepts: touches_production" in capsys.readouterr().err
    assert main([db, "--set", "nope=1"]) == 2
    assert "unknown concept(s) nope" in capsys.readouterr().err
    assert main([str(SAMPLES / "database_session.native.jsonl")]) == 2
    assert "pass --id (records: db-delete-no-where-native, db-reset-local-test-native)" in capsys.readouterr().err
    assert main([db, "--id", "nope"]) == 2
    assert "no record with id 'nope' (records: risky-db-prod-drop)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main([db, "--set", "user_authorized=2"])
    assert exit_info.value.code == 2
    bad = str(SAMPLES / "malformed" / "bad_records.jsonl")
    assert main([bad, "--id", "bad-unknown-role"]) == 3
    assert "line 4 (id 'bad-unknown-role'): messages[0].role: unknown role 'human'" in capsys.readouterr().err
