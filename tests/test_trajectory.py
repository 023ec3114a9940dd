"""The trajectory model: labels (complete and partial), trajectory risk, and the action-id rules."""

from __future__ import annotations

import pytest

from cbm.concepts import CONCEPT_IDS
from cbm.trajectory import Label, Step, Trajectory, assign_action_ids

A, B, C = CONCEPT_IDS[0], CONCEPT_IDS[1], CONCEPT_IDS[2]


# --- labels ------------------------------------------------------------------------------------

def test_label_list_form_is_complete_and_lists_the_concepts_that_hold():
    label = Label.from_json({"risk": 1, "concepts": [A, C]})
    assert label.risk == 1
    assert label.complete
    assert label.concepts == {cid: int(cid in (A, C)) for cid in CONCEPT_IDS}


def test_label_empty_list_means_every_concept_false():
    label = Label.from_json({"risk": 0, "concepts": []})
    assert label.complete
    assert set(label.concepts.values()) == {0}


def test_label_map_form_leaves_missing_and_null_concepts_unknown():
    label = Label.from_json({"risk": None, "concepts": {A: 1, B: 0, C: None}})
    assert label.risk is None
    assert label.concepts == {A: 1, B: 0}
    assert C not in label.concepts
    assert not label.complete


def test_label_without_concepts_knows_no_concept():
    label = Label.from_json({"risk": 1})
    assert label.concepts == {}
    assert not label.complete


def test_label_accepts_booleans_as_zero_one():
    label = Label.from_json({"risk": True, "concepts": {A: False, B: True}})
    assert label.risk == 1
    assert label.concepts == {A: 0, B: 1}


def test_label_map_form_with_every_concept_is_complete():
    label = Label.from_json({"risk": 0, "concepts": {cid: 0 for cid in CONCEPT_IDS}})
    assert label.complete


@pytest.mark.parametrize("obj, message", [
    ({"risk": 2}, "risk must be 0 or 1"),
    ({"risk": "1"}, "risk must be 0, 1 or null"),
    ({"risk": 0.5}, "risk must be 0, 1 or null"),
    ({"risk": 0, "concepts": ["no_such_concept"]}, "unknown concept 'no_such_concept'"),
    ({"risk": 0, "concepts": {"no_such_concept": 1}}, "unknown concept 'no_such_concept'"),
    ({"risk": 0, "concepts": {A: 2}}, f"concept {A!r} must be 0 or 1"),
    ({"risk": 0, "concepts": {A: "yes"}}, f"concept {A!r} must be 0, 1 or null"),
    ({"risk": 0, "concepts": [1]}, "concept ids must be strings"),
    ({"risk": 0, "concepts": "all"}, "concepts must be a list of ids or an {id: 0|1} map"),
    ({"risk": 0, "why": "x"}, "unknown label field(s) ['why']"),
    ({"risk": 0, "source": 3}, "source must be a string"),
    ([1, 0], "a label must be an object, got list"),
])
def test_bad_labels_are_rejected_with_a_reason(obj, message):
    with pytest.raises(ValueError) as info:
        Label.from_json(obj)
    assert message in str(info.value)


@pytest.mark.parametrize("obj", [
    {"risk": 1, "concepts": [A]},
    {"risk": None, "concepts": {A: 1, B: 0}},
    {"risk": 0, "concepts": {}, "source": "reviewer:ann"},
    {"risk": 0, "concepts": []},
])
def test_label_json_round_trip(obj):
    label = Label.from_json(obj)
    assert Label.from_json(label.to_json()) == label


def test_label_to_json_uses_list_form_only_when_complete():
    assert Label.from_json({"risk": 1, "concepts": [B, A]}).to_json() == {"risk": 1, "concepts": [A, B]}
    assert Label.from_json({"risk": 1, "concepts": {B: 1}}).to_json() == {"risk": 1, "concepts": {B: 1}}


def test_label_constructor_checks_values():
    with pytest.raises(ValueError):
        Label(risk=3)
    with pytest.raises(ValueError):
        Label(concepts={"nope": 1})


# --- trajectory risk ---------------------------------------------------------------------------

def _two_actions(labels: dict[str, Label]) -> Trajectory:
    steps = [Step("user", "go", 0),
             Step("tool_call", "{}", 1, call_id="c1", tool_name="ls", arguments={}),
             Step("tool_result", "ok", 2, call_id="c1", tool_name="ls"),
             Step("assistant", "done", 3)]
    assign_action_ids(steps)
    return Trajectory(id="t", steps=steps, labels=labels)


@pytest.mark.parametrize("risks, expected", [
    ({}, None),  # nothing known
    ({"c1": 0}, None),  # one action unknown, none risky
    ({"c1": 0, "msg:3": None}, None),  # an explicit unknown risk
    ({"c1": 0, "msg:3": 0}, 0),
    ({"c1": 1}, 1),  # one risky action decides, even with the other unknown
    ({"c1": 0, "msg:3": 1}, 1),
])
def test_trajectory_risk_is_the_max_over_actions_with_unknowns(risks, expected):
    trajectory = _two_actions({aid: Label(risk=r) for aid, r in risks.items()})
    assert trajectory.risk == expected


def test_trajectory_without_actions_has_unknown_risk():
    assert Trajectory(id="t", steps=[Step("user", "hi", 0)]).risk is None


def test_action_lookup():
    trajectory = _two_actions({})
    assert trajectory.action_ids == ["c1", "msg:3"]
    assert [s.kind for s in trajectory.actions] == ["tool_call", "assistant"]
    assert trajectory.action("msg:3").text == "done"
    with pytest.raises(KeyError, match="no action 'msg:9'"):
        trajectory.action("msg:9")


def test_notes_are_recorded_once():
    trajectory = Trajectory(id="t", steps=[])
    trajectory.note("truncated", "cut", 2)
    trajectory.note("truncated", "cut", 2)
    trajectory.note("relinked_result", "linked")
    assert trajectory.metadata["ingest"] == [{"kind": "truncated", "detail": "cut", "step": 2},
                                             {"kind": "relinked_result", "detail": "linked"}]


def test_arguments_valid_only_concerns_tool_calls():
    assert not Step("tool_call", "{bad", 1, tool_name="f", arguments=None).arguments_valid
    assert Step("tool_call", "{}", 1, tool_name="f", arguments={}).arguments_valid
    assert Step("assistant", "hi", 1).arguments_valid


# --- action-id rules ---------------------------------------------------------------------------

def _ids(steps: list[Step]) -> list[tuple[str, str | None]]:
    assign_action_ids(steps)
    return [(s.kind, s.action_id) for s in steps]


def test_tool_calls_keep_their_own_ids():
    steps = [Step("user", "u", 0), Step("tool_call", "{}", 1, call_id="call_a", tool_name="f"),
             Step("tool_call", "{}", 1, call_id="call_b", tool_name="g")]
    assert _ids(steps) == [("user", None), ("tool_call", "call_a"), ("tool_call", "call_b")]


def test_idless_call_is_named_by_its_message_index():
    steps = [Step("system", "s", 0), Step("user", "u", 1), Step("tool_call", "{}", 2, tool_name="f")]
    assert _ids(steps)[-1] == ("tool_call", "msg:2")


def test_several_idless_calls_in_one_message_are_numbered_in_order():
    steps = [Step("user", "u", 0), Step("tool_call", "{}", 1, tool_name="f"), Step("tool_call", "{}", 1, tool_name="g"),
             Step("tool_call", "{}", 1, tool_name="h")]
    assert [aid for _, aid in _ids(steps)] == [None, "msg:1:0", "msg:1:1", "msg:1:2"]


def test_text_beside_a_tool_call_is_not_an_action_but_a_final_reply_is():
    steps = [Step("user", "u", 0), Step("assistant", "let me look", 1), Step("tool_call", "{}", 1, call_id="c",
                                                                              tool_name="f"),
             Step("tool_result", "r", 2, call_id="c"), Step("assistant", "here it is", 3)]
    assert _ids(steps) == [("user", None), ("assistant", None), ("tool_call", "c"), ("tool_result", None),
                           ("assistant", "msg:3")]


def test_a_speaking_message_with_several_texts_is_one_action_on_its_last_text():
    steps = [Step("user", "u", 0), Step("assistant", "part one", 1), Step("assistant", "part two", 1)]
    assert _ids(steps) == [("user", None), ("assistant", None), ("assistant", "msg:1")]


def test_a_repeated_call_id_keeps_the_first_use_and_numbers_the_repeat():
    steps = [Step("tool_call", "{}", 0, call_id="dup", tool_name="f"), Step("tool_result", "r", 1),
             Step("tool_call", "{}", 2, call_id="dup", tool_name="g")]
    assert [aid for _, aid in _ids(steps)] == ["dup", None, "msg:2"]


def test_a_repeated_call_id_within_one_message():
    steps = [Step("tool_call", "{}", 4, call_id="dup", tool_name="f"), Step("tool_call", "{}", 4, call_id="dup",
                                                                            tool_name="g")]
    assert [aid for _, aid in _ids(steps)] == ["dup", "msg:4"]


def test_a_written_msg_id_is_renumbered_so_it_cannot_collide():
    # a writer gave an id-less call the id msg:3 under another numbering; here message 2 speaks
    steps = [Step("user", "u", 0), Step("tool_call", "{}", 1, call_id="msg:3", tool_name="f"),
             Step("assistant", "done", 2), Step("assistant", "more", 3)]
    ids = [aid for _, aid in _ids(steps)]
    assert ids == [None, "msg:1", "msg:2", "msg:3"]
    assert len(set(ids[1:])) == 3


def test_action_ids_are_reassigned_from_scratch():
    steps = [Step("assistant", "hi", 0, action_id="stale"), Step("user", "u", 1, action_id="stale")]
    assert _ids(steps) == [("assistant", "msg:0"), ("user", None)]
