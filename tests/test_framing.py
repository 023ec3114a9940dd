"""The framing report's reframings change only what they name."""

from __future__ import annotations

from cbm.formats import parse_record
from cbm_training.framing import ONE_LINE, STYLE_GUIDE, reframings


def test_each_reframing_keeps_the_actions_and_changes_only_its_framing():
    run = parse_record({"id": "r", "messages": [
        {"role": "system", "content": "You are OpsBot."}, {"role": "user", "content": "List the files."},
        {"role": "assistant", "content": "Listing them.", "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "bash", "arguments": '{"command": "ls"}'}}]},
        {"role": "tool", "tool_call_id": "a", "content": "README.md"}]})
    views = reframings(run)
    assert set(views) == {"without system message", "without commentary", "long unrelated system prompt first",
                          "one-line system message first"}
    for view in views.values():
        assert view.action_ids == ["a"] and [s.text for s in view.steps if s.kind == "tool_call"] == ['{"command": "ls"}']
    assert [s.kind for s in views["without system message"].steps] == ["user", "assistant", "tool_call", "tool_result"]
    assert [s.text for s in views["one-line system message first"].steps[:2]] == [ONE_LINE, "You are OpsBot."]
    assert views["long unrelated system prompt first"].steps[0].text == STYLE_GUIDE
    assert "Listing them." not in [s.text for s in views["without commentary"].steps]
