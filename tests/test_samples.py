"""The hand-written samples in data/samples and the native schema in data/trajectory.schema.json:
the samples validate against the schema, read with complete labels, survive round trips and
conversion, the malformed file reports every bad line precisely, and the classic risky database
sample labels its production DROP as risky."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from cbm import validate
from cbm.concepts import CONCEPT_IDS
from cbm.formats import FORMATS, parse_record, read_records, read_trajectories, to_record
from cbm.trajectory import Trajectory

DATA = Path(__file__).parents[1] / "data"
SAMPLES = DATA / "samples"
MALFORMED = SAMPLES / "malformed" / "bad_records.jsonl"
SCENARIOS = ("coding_session", "database_session", "prompt_injection")

# file -> (records, actions, risky actions, risky runs)
EXPECTED_COUNTS = {
    "coding_session.openai.jsonl": (1, 8, 0, 0),
    "coding_session.anthropic.jsonl": (1, 12, 0, 0),
    "coding_session.native.jsonl": (2, 14, 0, 0),
    "database_session.openai.jsonl": (1, 9, 1, 1),
    "database_session.anthropic.jsonl": (1, 6, 2, 1),
    "database_session.native.jsonl": (2, 11, 1, 1),
    "prompt_injection.openai.jsonl": (2, 13, 3, 1),
    "prompt_injection.anthropic.jsonl": (2, 12, 3, 1),
    "prompt_injection.native.jsonl": (2, 12, 2, 1),
}
SAMPLE_FILES = sorted(EXPECTED_COUNTS)


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads((DATA / "trajectory.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def trajectories(name: str) -> list[Trajectory]:
    return read_trajectories(SAMPLES / name)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def schema_errors(validator, record) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(record)]


# --- the schema itself -----------------------------------------------------------------------

def test_every_file_in_samples_is_covered_by_these_tests():
    assert sorted(p.name for p in SAMPLES.glob("*.jsonl")) == SAMPLE_FILES
    assert sorted(p.name for p in SAMPLES.glob("*.jsonl")) == sorted(
        f"{s}.{f}.jsonl" for s in SCENARIOS for f in FORMATS)


def test_schema_concept_enum_is_the_shipped_taxonomy(schema):
    assert schema["$defs"]["concept_id"]["enum"] == list(CONCEPT_IDS)
    assert len(CONCEPT_IDS) == 18


def test_every_schema_property_is_documented(schema):
    missing = []

    def walk(node, path):
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if not (isinstance(sub, dict) and sub.get("description")):
                    missing.append(f"{path}/properties/{name}")
            for key, sub in node.items():
                walk(sub, f"{path}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{path}/{i}")

    walk(schema, "#")
    assert schema["description"] and not missing, missing
    for name, definition in schema["$defs"].items():
        assert definition.get("description"), name


def test_schema_documents_the_action_id_rules(schema):
    text = schema["description"] + schema["$defs"]["step"]["properties"]["action_id"]["description"]
    for rule in ("msg:<message_index>", "msg:<message_index>:<j>", "calls no tool"):
        assert rule in text
    assert "-1" in schema["$defs"]["step"]["properties"]["message_index"]["description"]
    assert "ingest" in schema["properties"]["metadata"]["properties"]


# --- (a) samples validate against the schema -------------------------------------------------

@pytest.mark.parametrize("name", [n for n in SAMPLE_FILES if ".native." in n])
def test_native_sample_lines_validate_against_the_schema(validator, name):
    records = lines(SAMPLES / name)
    assert records
    for record in records:
        assert schema_errors(validator, record) == [], record["id"]


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_every_sample_written_as_native_validates_against_the_schema(validator, name):
    for trajectory in trajectories(name):
        assert schema_errors(validator, to_record(trajectory, "native")) == [], trajectory.id


def test_malformed_files_good_records_written_as_native_validate(validator):
    good = [r.trajectory for r in read_records(MALFORMED) if r.ok]
    assert len(good) == 4
    for trajectory in good:
        assert schema_errors(validator, to_record(trajectory, "native")) == [], trajectory.id


def _native_example() -> dict:
    return json.loads((SAMPLES / "coding_session.native.jsonl").read_text(encoding="utf-8").splitlines()[0])


@pytest.mark.parametrize("change, where", [
    (lambda r: r["labels"]["tc_01"].update(risk=2), "labels/tc_01/risk"),
    (lambda r: r["labels"]["tc_01"].update(concepts=["is_rude"]), "labels/tc_01/concepts"),
    (lambda r: r["labels"]["tc_01"].update(concepts={"is_rude": 1}), "labels/tc_01/concepts"),
    (lambda r: r["labels"]["tc_01"].update(confidence=0.9), "labels/tc_01"),
    (lambda r: r["steps"][2].pop("tool_name"), "steps/2"),
    (lambda r: r["steps"][0].update(kind="observation"), "steps/0/kind"),
    (lambda r: r["steps"][0].update(role="system"), "steps/0"),
    (lambda r: r["steps"][0].update(message_index="0"), "steps/0/message_index"),
    (lambda r: r.pop("steps"), ""),
    (lambda r: r.update(messages=[]), ""),
])
def test_schema_rejects_what_the_reader_rejects(validator, change, where):
    record = _native_example()
    assert schema_errors(validator, record) == []
    change(record)
    errors = list(validator.iter_errors(record))
    assert errors
    assert any("/".join(map(str, e.absolute_path)) == where for e in errors), [e.message for e in errors]
    with pytest.raises(ValueError):  # FormatError is a ValueError
        parse_record(record, "native")


def test_schema_accepts_the_map_label_form_and_reader_defaults(validator):
    record = _native_example()
    record["labels"]["tc_01"] = {"risk": None, "concepts": {"touches_production": 1, "user_authorized": None}}
    declared = [step.pop("action_id", None) for step in record["steps"]]  # optional: computed when absent
    record.pop("id")
    assert schema_errors(validator, record) == []
    trajectory = parse_record(record, "native")
    assert trajectory.labels["tc_01"].concepts == {"touches_production": 1}
    assert [s.action_id for s in trajectory.steps] == declared
    assert trajectory.id.startswith("sha1:")
    # message_index defaults to the step's position
    minimal = {"steps": [{"kind": "user", "text": "hi"}, {"kind": "assistant", "text": "hello"}],
               "labels": {"msg:1": {"risk": 0}}}
    assert schema_errors(validator, minimal) == []
    assert parse_record(minimal, "native").action_ids == ["msg:1"]


# --- (b) validate summaries: no failures, expected counts, complete labels -------------------

@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_summary_of_each_sample_file(name):
    records, actions, risky_actions, risky_runs = EXPECTED_COUNTS[name]
    summary = validate.summarise(str(SAMPLES / name))
    assert summary.failed == 0, summary.errors
    assert summary.errors == [] and summary.warnings == []
    assert (summary.records, summary.actions, summary.risky_actions, summary.risky_trajectories) == (
        records, actions, risky_actions, risky_runs)
    assert summary.labelled_actions == summary.fully_labelled_actions == actions
    fmt = name.split(".")[1]
    assert dict(summary.formats) == {fmt: records}  # --format auto detects the file's format


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_every_action_has_a_complete_hand_label(name):
    for trajectory in trajectories(name):
        assert sorted(trajectory.labels) == sorted(trajectory.action_ids), trajectory.id
        for action_id, label in trajectory.labels.items():
            assert label.complete and label.risk in (0, 1), (trajectory.id, action_id)
            assert label.source == "hand-labelled"
            if label.risk == 1:
                assert any(label.concepts.values()), (trajectory.id, action_id)
        assert trajectory.risk in (0, 1)
        assert 5 <= len(trajectory.actions) <= 15


def test_sample_ids_are_unique_and_scenarios_are_different_runs():
    ids = [t.id for name in SAMPLE_FILES for t in trajectories(name)]
    assert len(ids) == len(set(ids))
    for scenario in SCENARIOS:
        first_user = [next(s.text for s in t.steps if s.kind == "user")
                      for f in FORMATS for t in trajectories(f"{scenario}.{f}.jsonl")]
        assert len(first_user) == len(set(first_user)), scenario


def test_coding_sessions_are_safe_and_the_risky_scenarios_have_risky_and_safe_runs():
    for fmt in FORMATS:
        assert all(t.risk == 0 for t in trajectories(f"coding_session.{fmt}.jsonl"))
        injections = trajectories(f"prompt_injection.{fmt}.jsonl")
        assert sorted(t.risk for t in injections) == [0, 1]
        for t in injections:
            followed = [a for a, label in t.labels.items() if label.concepts["follows_injected_instruction"]]
            assert bool(followed) == (t.risk == 1), t.id
        assert 1 in [t.risk for t in trajectories(f"database_session.{fmt}.jsonl")]


def test_database_hard_negative_is_an_authorized_local_drop():
    [run] = [t for t in trajectories("database_session.native.jsonl") if t.id == "db-reset-local-test-native"]
    [drop] = [s for s in run.actions if "DROP TABLE" in s.text]
    label = run.labels[drop.action_id]
    assert "-h localhost" in drop.text and ".prod." not in drop.text
    assert label.risk == 0
    assert {c for c, v in label.concepts.items() if v} == {"destructive_change", "user_authorized"}
    assert run.risk == 0


def test_destructive_statements_on_production_are_risky_in_every_format():
    for fmt in FORMATS:
        for t in trajectories(f"database_session.{fmt}.jsonl"):
            for step in t.actions:
                if step.kind == "tool_call" and ".prod." in step.text and re.search(
                        r"\b(DROP TABLE|TRUNCATE|DELETE FROM)\b", step.text):
                    label = t.labels[step.action_id]
                    assert label.risk == 1, (t.id, step.action_id)
                    for concept in ("touches_production", "destructive_change", "violates_user_instruction"):
                        assert label.concepts[concept] == 1, (t.id, step.action_id, concept)
                elif step.kind == "tool_call" and ".prod." in step.text:
                    label = t.labels[step.action_id]
                    assert label.concepts["touches_production"] == 1 and label.concepts["destructive_change"] == 0


# --- (c) round trips -------------------------------------------------------------------------

@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_native_round_trip_gives_an_equal_trajectory(name):
    for trajectory in trajectories(name):
        record = json.loads(json.dumps(to_record(trajectory, "native"), ensure_ascii=False))
        again = parse_record(record, "native")
        assert again == trajectory, trajectory.id
        assert to_record(again, "native") == record


def _comparable(trajectory: Trajectory) -> list[tuple]:
    """What every format keeps: the step sequence with texts, tools, arguments, errors, which
    steps are actions, and their labels in action order. (Message indexes and `msg:<i>` ids
    depend on how a format numbers messages; a tool call's text is the argument object's JSON
    in Anthropic, so calls are compared by their parsed arguments.)"""
    out = []
    for step in trajectory.steps:
        text = step.arguments if step.kind == "tool_call" else step.text
        label = trajectory.labels[step.action_id].to_json() if step.action_id else None
        out.append((step.kind, text, step.tool_name, step.is_error, step.action_id is not None, label))
    return out


@pytest.mark.parametrize("name", SAMPLE_FILES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_conversion_to_every_format_keeps_steps_actions_and_labels(name, fmt):
    for trajectory in trajectories(name):
        record = json.loads(json.dumps(to_record(trajectory, fmt), ensure_ascii=False))
        again = parse_record(record)  # --format auto must detect what was written
        assert _comparable(again) == _comparable(trajectory), (trajectory.id, fmt)
        assert again.id == trajectory.id and again.metadata == trajectory.metadata
        # call ids survive, so labels keyed by a call id keep their key
        assert [a for a in again.action_ids if not a.startswith("msg:")] == [
            a for a in trajectory.action_ids if not a.startswith("msg:")]
        # and the converted run comes back to the same native record
        assert parse_record(to_record(again, "native"), "native") == again


def test_native_action_ids_follow_the_id_rules():
    [_, run] = trajectories("coding_session.native.jsonl")
    assert run.action_ids == ["msg:2", "msg:4", "msg:6", "msg:8", "msg:10:0", "msg:10:1", "msg:13"]
    results = [s for s in run.steps if s.kind == "tool_result"]
    assert [r.call_id for r in results] == run.action_ids[:-1]


def test_anthropic_system_prompt_is_message_minus_one():
    for t in trajectories("coding_session.anthropic.jsonl") + trajectories("database_session.anthropic.jsonl"):
        assert t.steps[0].kind == "system" and t.steps[0].message_index == -1
        assert t.steps[1].kind == "user" and t.steps[1].message_index == 0


# --- (d) the malformed file ------------------------------------------------------------------

# line -> (record id or None, field or None, words the reason must contain)
BAD_LINES = {
    2: (None, None, "not JSON"),
    3: (None, "record", "expected object or array, got integer"),
    4: ("bad-unknown-role", "messages[0].role", "unknown role 'human'"),
    5: ("bad-orphan-result", "messages[2].tool_call_id", "answers no tool call (no call with id 'call_t9')"),
    7: ("bad-missing-messages", "messages", "not a trajectory"),
    8: ("bad-messages-not-list", "messages", "expected array, got object"),
    9: ("bad-role-type", "messages[0].role", "expected string, got integer"),
    10: ("bad-label-unknown-action", "labels.msg:5", "no action with id 'msg:5'"),
    11: ("bad-label-unknown-concept", "labels.msg:1", "unknown concept 'is_rude'"),
    12: ("bad-risk-2", "labels.msg:1", "risk must be 0 or 1, got 2"),
    13: (None, "messages", "not a trajectory"),
}
GOOD_LINES = {1: ("good-openai-ls", "openai"), 6: ("warn-invalid-arguments", "openai"),
              14: ("good-anthropic-weather", "anthropic"), 15: ("good-native-status", "native")}


def test_malformed_file_reports_each_bad_line_and_reads_the_rest():
    records = list(read_records(MALFORMED))
    assert [r.line for r in records] == list(range(1, 16))
    errors = {r.line: r.error for r in records if not r.ok}
    assert sorted(errors) == sorted(BAD_LINES)
    for line, (record_id, field, reason) in BAD_LINES.items():
        error = errors[line]
        assert (error.line, error.record_id, error.field) == (line, record_id, field), str(error)
        assert reason in error.reason, str(error)
        text = str(error)
        assert text.startswith(f"line {line}") and (field is None or f"{field}: " in text)
    good = {r.line: (r.trajectory.id, r.format) for r in records if r.ok}
    assert good == GOOD_LINES


def test_malformed_file_summary_counts_good_records_and_warns_about_arguments():
    summary = validate.summarise(str(MALFORMED))
    assert (summary.records, summary.failed, summary.actions, summary.labelled_actions) == (15, 11, 7, 6)
    assert dict(summary.formats) == {"openai": 2, "anthropic": 1, "native": 1}
    assert dict(summary.notes) == {"invalid_arguments": 1}
    [warning] = summary.warnings
    assert warning.startswith("line 6 (id 'warn-invalid-arguments') step 1: invalid_arguments: "
                              "messages[1].tool_calls[0].function.arguments: arguments are not valid JSON")
    [record] = [r for r in read_records(MALFORMED) if r.line == 6]
    [call] = [s for s in record.trajectory.steps if s.kind == "tool_call"]
    assert call.arguments is None and call.text == '{"command": "cat /etc/nginx/nginx.conf"'


def test_expected_md_is_what_cbm_validate_prints(capsys):
    exit_code = validate.main([str(MALFORMED)])
    assert exit_code == validate.EXIT_FAILED_RECORDS
    printed = [line.split(": ", 1)[1] for line in capsys.readouterr().out.splitlines()
               if line.startswith(f"{MALFORMED}: ")]
    assert len(printed) == len(BAD_LINES) + 1  # the errors and the one warning
    table = {}
    for row in (MALFORMED.parent / "EXPECTED.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| (\d+) \|.*\| (`.*`|\(nothing: reads OK\)) \|$", row)
        if match:
            table[int(match.group(1))] = re.findall(r"`([^`]*)`", match.group(2))
    assert sorted(table) == list(range(1, 16))
    expected = {f"line {n}": messages for n, messages in table.items()}
    for message in printed:
        line = re.search(r"line (\d+)", message).group(0)
        assert message in expected[line], message
    assert sum(len(m) for m in table.values()) == len(printed)


# --- (e) the classic risky database sample ---------------------------------------------------

def test_risky_db_prod_drop_labels_the_production_drop():
    [t] = [t for t in trajectories("database_session.openai.jsonl") if t.id == "risky-db-prod-drop"]
    drops = [s for s in t.actions if "DROP TABLE" in s.text]
    [prod_drop] = [s for s in drops if "orders-live.prod.acme.internal" in s.text]
    [staging_drop] = [s for s in drops if "orders-staging.acme.internal" in s.text]
    label = t.labels[prod_drop.action_id]
    assert prod_drop.kind == "tool_call" and prod_drop.tool_name == "bash"
    assert prod_drop.action_id.startswith("call_")
    assert label.risk == 1
    assert {c for c, v in label.concepts.items() if v} == {
        "touches_production", "destructive_change", "violates_user_instruction"}
    # the span an explanation will point at: the host and the statement, in the action's own text
    assert prod_drop.text.index("orders-live.prod.acme.internal") < prod_drop.text.index("DROP TABLE")
    # the same statement on staging, which the user asked for, is not risky
    assert t.labels[staging_drop.action_id].risk == 0
    assert t.labels[staging_drop.action_id].concepts["user_authorized"] == 1
    # reading production first is touches_production only
    before = t.actions[:t.actions.index(prod_drop)]
    prod_reads = [s for s in before if "orders-live" in s.text]
    assert prod_reads and all("SELECT" in s.text for s in prod_reads)
    assert all(t.labels[s.action_id].risk == 0 and t.labels[s.action_id].concepts["touches_production"]
               for s in prod_reads)
    # the user's constraint the DROP violates is in the run
    user = next(s.text for s in t.steps if s.kind == "user")
    assert "code freeze" in user and "no changes on production" in user
    assert t.risk == 1
