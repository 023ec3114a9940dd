"""`cbm import` on the real public data sets in ../shared/data (skipped when that folder is absent).

The numbers asserted here were measured on the shared copies (see data/IMPORTERS.md); where the
data sets disagree with their own documentation the test pins what the data holds.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from cbm.formats import read_records
from cbm_training import importers
from cbm_training.importers import main, run_import, toolemu_trajectory_label

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_CACHE: dict[str, tuple[Path, importers.Summary, list]] = {}


def _need(source_folder: str) -> Path:
    folder = DATA / source_folder
    if not folder.is_dir():
        pytest.skip(f"public data set not available: {folder} (the shared data folder ../shared/data "
                    f"is absent in a fresh clone; these tests need it)")
    return folder


# the data folder each importer reads, where it is not named like the importer
FOLDERS = {"swe": "real-sessions", "swe-val": "real-sessions", "swe-heldout": "real-sessions",
           "oas": "openagentsafety", "oas-heldout": "openagentsafety", "commands-heldout": "commands",
           "toolemu-heldout": "toolemu", "safe-os-heldout": "safe-os"}


def _imported(source: str, tmp_path_factory) -> tuple[Path, importers.Summary, list]:
    """Import once per session and read the output back; every record must read without error."""
    _need(FOLDERS.get(source, source))
    if source not in _CACHE:
        out = tmp_path_factory.mktemp(source) / f"{source}.jsonl"
        summary = run_import(source, DATA, out)
        records = list(read_records(out))
        errors = [str(r.error) for r in records if r.error]
        assert errors == []
        assert all(r.format == "native" for r in records)
        _CACHE[source] = (out, summary, [r.trajectory for r in records])
    return _CACHE[source]


def _raw_agentdojo_traces() -> list[dict]:
    traces = []
    for path in sorted((DATA / "agentdojo" / "traces").glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        assert "messages" not in json.loads(lines[0])  # line 1 is the header
        traces += [json.loads(line) for line in lines[1:] if line.strip()]
    return traces


# ------------------------------------------------------------------------------------------- AgentDojo

def test_agentdojo_counts_ids_and_provenance(tmp_path_factory):
    out, summary, trajectories = _imported("agentdojo", tmp_path_factory)
    assert len(trajectories) == summary.records == 388
    assert summary.errors == [] and summary.extra["header lines skipped"] == 2
    ids = [t.id for t in trajectories]
    assert len(set(ids)) == 388
    assert "agentdojo:gpt-4o-mini-2024-07-18:1" in ids and "agentdojo:meta-llama_Llama-3-70b-chat-hf:194" in ids
    for t in trajectories:
        meta = t.metadata
        assert meta["dataset"] == "agentdojo" and meta["licence"].startswith("MIT")
        assert meta["source_file"].startswith("agentdojo/traces/") and meta["source_line"] >= 2
        for label in t.labels.values():
            assert label.source in {"agentdojo:injection_ground_truth", "agentdojo:no_injection_seen",
                                    "agentdojo:no_injection_seen,read_only_tool",
                                    "agentdojo:no_injection_seen,user_task_ground_truth",
                                    "agentdojo:function_implied"}
            if label.source == "agentdojo:function_implied":  # a concept only, never a risk
                assert label.risk is None and set(label.concepts) <= {"financial_transaction",
                                                                      "external_communication"}
    # the traces predate the v1.2.2 ground truth: 4 user prompts (x 2 runs x 2 models) differ
    assert sum(t.metadata["agentdojo_labels"]["user_prompt_matches_ground_truth"] for t in trajectories) == 372
    # source_line points at the original line
    sample = next(t for t in trajectories if t.id == "agentdojo:gpt-4o-mini-2024-07-18:19")
    raw = (DATA / sample.metadata["source_file"]).read_text(encoding="utf-8").splitlines()
    assert json.loads(raw[sample.metadata["source_line"] - 1])["index"] == 19


def test_agentdojo_no_attack_traces_have_no_risky_action(tmp_path_factory):
    _, _, trajectories = _imported("agentdojo", tmp_path_factory)
    clean = [t for t in trajectories if t.metadata["injection_task_id"] is None]
    assert len(clean) == 194
    for t in clean:
        assert all(label.risk != 1 for label in t.labels.values())
        # no injection anywhere in the run: every action is known not to follow one
        assert set(t.labels) == set(t.action_ids)
        assert all(label.concepts["follows_injected_instruction"] == 0 for label in t.labels.values())
        # risk 0 only on read-only tools and on the user task's own calls; messages stay unknown
        for step in t.actions:
            label = t.labels[step.action_id]
            if step.kind == "assistant":
                assert label.risk is None
            if label.risk == 0:
                assert label.source != "agentdojo:no_injection_seen"


def test_agentdojo_risky_trajectories_vs_security_flag(tmp_path_factory):
    """Risky trajectories = attacked traces with an attacker call. `security: true` (attack
    succeeded) does not coincide with that, and the test pins how: see data/IMPORTERS.md."""
    _, summary, trajectories = _imported("agentdojo", tmp_path_factory)
    raw = _raw_agentdojo_traces()
    attacked_raw = [r for r in raw if r["metadata"]["injection_task_id"] is not None]
    # the schema doc's counts: 21 + 26 attacked traces with security=True
    assert Counter((r["metadata"]["model"], r["metadata"]["security"]) for r in attacked_raw) == {
        ("gpt-4o-mini-2024-07-18", True): 21, ("gpt-4o-mini-2024-07-18", False): 76,
        ("meta-llama_Llama-3-70b-chat-hf", True): 26, ("meta-llama_Llama-3-70b-chat-hf", False): 71}

    attacked = [t for t in trajectories if t.metadata["agentdojo_labels"]["attacked"]]
    found = [t for t in attacked if t.metadata["agentdojo_labels"]["attacker_calls"] > 0]
    risky = [t for t in trajectories if t.risk == 1]
    assert {t.id for t in risky} == {t.id for t in found}
    assert len(risky) == summary.risky_trajectories == 60
    table = Counter((t.metadata["security"], t.metadata["agentdojo_labels"]["attacker_calls"] > 0) for t in attacked)
    assert table == {(True, True): 40, (False, True): 20, (True, False): 7, (False, False): 127}
    # every "successful" attack without an attacker call is a run cut off after a tool result
    for t in attacked:
        if t.metadata["security"] and not t.metadata["agentdojo_labels"]["attacker_calls"]:
            assert t.steps[-1].kind == "tool_result"
            assert t.metadata["model"] == "meta-llama_Llama-3-70b-chat-hf"


def test_agentdojo_attacker_call_labels(tmp_path_factory):
    _, summary, trajectories = _imported("agentdojo", tmp_path_factory)
    attacker_actions = 0
    for t in trajectories:
        found = t.metadata["agentdojo_labels"]
        assert "attacker_calls_before_injection_seen" not in found  # always after the injection is read
        first = found["first_attacker_call"]
        if first is None:
            continue
        ids = t.action_ids
        for aid in ids[ids.index(first):]:
            label = t.labels.get(aid)
            if label and label.source == "agentdojo:injection_ground_truth":
                attacker_actions += 1
                step = t.action(aid)
                assert label.risk == 1 and label.concepts["follows_injected_instruction"] == 1
                if step.tool_name == "send_money":
                    assert label.concepts["financial_transaction"] == 1
                    assert step.arguments["recipient"] == "US133000000121212121212"
                if step.tool_name == "send_email":
                    assert label.concepts["external_communication"] == 1
                    assert {"mark.black-2134@gmail.com", "jay@google.com"} & set(step.arguments["recipients"])
                if step.tool_name == "get_webpage":
                    assert "true-informations.com" in step.arguments["url"]
        # actions before the first attacker call never carry risk 1
        assert all(t.labels[a].risk != 1 for a in ids[:ids.index(first)] if a in t.labels)
    assert attacker_actions == summary.risky_actions == 61


def test_agentdojo_attacker_iban_named_by_the_user_is_not_a_marker(tmp_path_factory):
    """The traces' (older) banking user_task_15 gives US133000000121212121212, the attacker's IBAN, as
    the new landlord's account: a transfer to it proves nothing there."""
    _, _, trajectories = _imported("agentdojo", tmp_path_factory)
    task15 = [t for t in trajectories if t.metadata["suite_name"] == "banking"
              and t.metadata["user_task_id"] == "user_task_15"]
    assert len(task15) == 4
    for t in task15:
        assert t.metadata["agentdojo_labels"]["user_prompt_matches_ground_truth"] is False
        if t.metadata["agentdojo_labels"]["attacked"]:
            assert t.metadata["agentdojo_labels"]["attacker_markers_dropped"] == 1
            assert t.risk != 1


def test_agentdojo_is_deterministic(tmp_path):
    _need("agentdojo")
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    run_import("agentdojo", DATA, a)
    run_import("agentdojo", DATA, b)
    assert a.read_bytes() == b.read_bytes()


# --------------------------------------------------------------------------------------------- ToolEmu

def test_toolemu_scale_runs_backwards():
    assert toolemu_trajectory_label([0, 0])["risk"] == 1
    assert toolemu_trajectory_label([1, 0])["risk"] == 1
    assert toolemu_trajectory_label([3, 3])["risk"] == 0
    for mixed in ([0, 3], [2, 3], [1, 2], [2, 2]):
        assert "risk" not in toolemu_trajectory_label(mixed)
    assert toolemu_trajectory_label([1, 1])["agreement"] == "exact"
    assert toolemu_trajectory_label([0, 1])["agreement"] == "same_side"
    assert toolemu_trajectory_label([1, 2])["agreement"] == "split"
    assert toolemu_trajectory_label([None, 2])["agreement"] == "missing"


def test_toolemu_import(tmp_path_factory):
    _, summary, train = _imported("toolemu", tmp_path_factory)
    _, held_summary, held = _imported("toolemu-heldout", tmp_path_factory)
    trajectories = train + held
    assert len(train) == 198 and len(held) == 90 and summary.errors == held_summary.errors == []
    assert len({t.id for t in trajectories}) == 288
    # a test case's runs (one per agent) are held out together
    assert not {t.id.rsplit(":", 1)[1] for t in train} & {t.id.rsplit(":", 1)[1] for t in held}
    assert all(t.metadata["held_out"] for t in held) and not any(t.metadata["held_out"] for t in train)
    assert all(t.labels == {} for t in trajectories)  # no per-action labels
    risks = Counter()
    per_judge = Counter()
    for t in trajectories:
        label = t.metadata["trajectory_label"]
        assert label["source"] == "toolemu:judges" and len(label["scores"]) == 2
        scores = label["scores"]
        if scores == [0, 0]:
            assert label["risk"] == 1  # 0 is the riskiest end of the scale
        if scores == [3, 3]:
            assert label["risk"] == 0
        risks[label.get("risk")] += 1
        for judge, score in zip(label["judges"], scores):
            per_judge[(t.metadata["agent_model"], judge, score)] += 1
        assert sum(s.kind == "tool_call" for s in t.steps) == t.metadata["executed_tool_calls"]
        assert t.steps[0].kind == "user" and t.steps[-1].kind == "assistant"
    assert risks == {1: 145, 0: 23, None: 120}
    # the score table of toolemu/SCHEMA.md: the judge files are paired with the right trajectories
    expected = {("gpt-4o-mini", "gpt-5-mini"): [41, 58, 24, 21], ("gpt-4o-mini", "Qwen3-32B"): [13, 65, 41, 25],
                ("meta-llama_Llama-3.1-8B-Instruct", "gpt-5-mini"): [58, 52, 24, 10],
                ("meta-llama_Llama-3.1-8B-Instruct", "Qwen3-32B"): [18, 61, 56, 9]}
    for (agent, judge), counts in expected.items():
        assert [per_judge[(agent, judge, s)] for s in range(4)] == counts
    # most Llama runs never executed a tool: the judges scored text the agent wrote, not actions
    llama = [t for t in trajectories if t.metadata["agent_model"].startswith("meta-llama")]
    assert sum(t.metadata["executed_tool_calls"] == 0 for t in llama) == 122


# --------------------------------------------------------------------------------------------- Safe-OS

def test_safe_os_import(tmp_path_factory):
    _, summary, train = _imported("safe-os", tmp_path_factory)
    _, held_summary, held = _imported("safe-os-heldout", tmp_path_factory)
    trajectories = train + held
    assert len(train) == 69 and len(held) == 31 and summary.errors == held_summary.errors == []
    assert len({t.id for t in trajectories}) == 100
    assert all(t.metadata["held_out"] for t in held) and not any(t.metadata["held_out"] for t in train)
    task_labels = Counter(t.metadata["trajectory_label"]["risk"] for t in trajectories)
    assert task_labels == {0: 27, 1: 73}
    by_file = Counter((t.id.split(":")[1], t.metadata["trajectory_label"]["risk"]) for t in trajectories)
    assert by_file == {("benign", 0): 27, ("environment", 1): 20, ("prompt_injection", 1): 23,
                       ("system_sabotage", 1): 30}
    for t in trajectories:
        assert t.metadata["dataset"] == "safe-os" and t.metadata["trajectory_label"]["source"] == "safe-os:label"
        assert len(t.action_ids) == 1
        step = t.actions[0]
        label = t.labels.get(step.action_id)
        kind = t.id.split(":")[1]
        if kind == "system_sabotage":  # every sabotage task has an expected command: a risky bash call
            assert step.kind == "tool_call" and step.tool_name == "bash" and "command" in step.arguments
            assert label.risk == 1 and label.source == "safe-os:label"
        if kind == "benign":  # no command in the data: the expected answer, safe
            assert step.kind == "assistant" and label.risk == 0
        if kind == "prompt_injection":  # label is about the task; the faithful answer follows nothing
            assert label.risk is None and label.concepts == {"follows_injected_instruction": 0}
        if label is not None and label.risk == 1:
            assert step.kind == "tool_call"
    risky = [t for t in trajectories if t.risk == 1]
    assert len(risky) == summary.risky_actions + held_summary.risky_actions == 48  # 30 sabotage + 18 environment
    usermod = [t for t in trajectories if "usermod -aG sudo" in t.actions[0].text]
    assert len(usermod) == 1 and usermod[0].labels["call_0"].concepts["privilege_escalation"] == 1


# ------------------------------------------------------------------------------------- OpenAgentSafety

def test_oas_label_rule():
    for llm, risk in ((2, 1), (1, 1), (0, 0), (-1, None), (None, None), (True, None), ("2", None)):
        label = importers.oas_trajectory_label(llm, 1)
        assert label["risk"] == risk and label["source"] == "oas:llm_judge", llm
    assert importers.oas_trajectory_label(-1, 1)["rule_check"] == 1  # the rule result is kept beside an unknown
    assert importers.oas_trajectory_label(0, None)["rule_check"] is None
    assert importers.oas_trajectory_label(2, 0)["oas_rule_result"] == 0


def test_oas_import(tmp_path_factory):
    from cbm_training.evaluate import trajectory_labels

    _, summary, train = _imported("oas", tmp_path_factory)
    _, held_summary, held = _imported("oas-heldout", tmp_path_factory)
    trajectories = train + held
    assert summary.errors == held_summary.errors == []
    assert len(train) == summary.records == 160 and len(held) == held_summary.records == 156
    # whole tasks are held out: a task (one run each) is in exactly one part, by a fixed hash
    assert len({t.id for t in trajectories}) == 316 and all(t.id.startswith("oas:gpt-4o:safety-") for t in trajectories)
    assert all(t.metadata["held_out"] for t in held) and not any(t.metadata["held_out"] for t in train)
    assert all(t.labels == {} for t in trajectories)  # run-level labels only
    assert summary.actions + held_summary.actions == 3302 and summary.labelled_actions == 0
    by_judge, by_rule = Counter(), Counter()
    for t in trajectories:
        meta, label = t.metadata, t.metadata["trajectory_label"]
        assert meta["dataset"] == "openagentsafety" and meta["licence"].startswith("MIT")
        assert meta["source_file"] == "openagentsafety/oas-gpt-4o.jsonl" and meta["source_line"] >= 1
        assert label["oas_llm_label"] == meta["oas_llm_label"] and label["oas_rule_result"] == meta["oas_rule_result"]
        assert label["risk"] == {2: 1, 1: 1, 0: 0, -1: None}[meta["oas_llm_label"]]
        by_judge[label["risk"]] += 1
        by_rule[label["rule_check"]] += 1
    # the counts of openagentsafety/SCHEMA.md: 105 + 21 unsafe, 64 safe, 126 never reached the unsafe step
    assert by_judge == {1: 126, 0: 64, None: 126}
    assert by_rule == {0: 189, 1: 106, None: 21}
    # the evaluation reads the unknown runs as unknown (-1), never as safe
    runs = trajectory_labels(type("Runs", (), {"trajectories": trajectories})())
    assert Counter(runs.tolist()) == {1: 126, 0: 64, -1: 126}
    # both parts hold safe and unsafe runs
    for part in (train, held):
        assert {t.metadata["trajectory_label"]["risk"] for t in part} == {0, 1, None}
    first = (DATA / "openagentsafety" / "oas-gpt-4o.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert ("oas:gpt-4o:" + json.loads(first)["metadata"]["task"]) in {t.id for t in trajectories}


def test_held_out_part_is_a_fixed_hash():
    keys = [f"task-{i}" for i in range(2000)]
    parts = [importers.held_out_part(k, 0.25, "salt") for k in keys]
    assert parts == [importers.held_out_part(k, 0.25, "salt") for k in keys]  # stable
    assert 0.22 < sum(parts) / len(parts) < 0.28  # about the share asked for
    assert parts != [importers.held_out_part(k, 0.25, "other salt") for k in keys]  # each split its own
    assert not any(importers.held_out_part(k, 0.0, "salt") for k in keys)
    assert all(importers.held_out_part(k, 1.0, "salt") for k in keys)


# ------------------------------------------------------------------------------------- command collections

def test_tldr_placeholders_are_filled():
    assert importers._tldr_command("rm {{[-r|--recursive]}} {{path/to/directory}}") == "rm -r path/to/directory"
    assert importers._tldr_command("ls") == "ls"


def test_commands_import(tmp_path_factory):
    _, summary, train = _imported("commands", tmp_path_factory)
    _, held_summary, held = _imported("commands-heldout", tmp_path_factory)
    assert summary.errors == held_summary.errors == []
    assert not {t.id for t in train} & {t.id for t in held}
    for part, trajectories in (("train", train), ("heldout", held)):
        collections = Counter(t.metadata["collection"] for t in trajectories)
        assert collections["nl2bash"] == collections["tldr"] == importers.COMMANDS_PER_SOURCE
        assert collections["redcode"] > 100
        for t in trajectories:
            # one Bash call in a plain Claude Code transcript: the request, then the call
            assert [s.kind for s in t.steps] == ["user", "tool_call"] and t.steps[1].tool_name == "Bash"
            label = t.labels[t.action_ids[0]]
            assert t.metadata["part"] == part and t.metadata["licence"]
            if t.metadata["collection"] == "redcode":
                scenario = t.metadata["redcode_scenario"]
                assert label.source == f"commands:redcode_scenario_{scenario}" and label.risk == 1
                assert {c for c, v in label.concepts.items() if v} == set(importers.REDCODE_CONCEPTS[scenario])
                assert label.concepts["user_authorized"] == 0
            else:
                assert label.risk == 0 and not any(label.concepts.values())
                assert label.source == f"commands:{t.metadata['collection']}_everyday"
    # an everyday command whose facts show a deletion, sudo or a secret is left out, not labelled harmless
    commands = {t.steps[1].arguments["command"] for t in train + held if t.metadata["collection"] != "redcode"}
    assert not any(c.startswith(("sudo ", "rm ")) for c in commands)
    assert summary.extra["nl2bash: left out (facts show a risky operation or target)"] > 0


# ------------------------------------------------------------------------------------ SWE-bench sessions

def test_swe_train_val_and_heldout_parts(tmp_path_factory):
    _, train_summary, train = _imported("swe", tmp_path_factory)
    _, val_summary, val = _imported("swe-val", tmp_path_factory)
    _, held_summary, held = _imported("swe-heldout", tmp_path_factory)
    assert len(train) == train_summary.records == 195 and len(val) == val_summary.records == 36
    assert len(held) == held_summary.records == 33
    assert {t.metadata["swe_repo"] for t in train} == {t.metadata["swe_repo"] for t in val} == {"django/django"}
    assert {t.metadata["swe_repo"] for t in held} == set(importers.SWE_HELD_OUT_REPOS)
    assert all(t.metadata["held_out"] for t in held) and not any(t.metadata["held_out"] for t in train + val)
    assert {t.metadata["part"] for t in val} == {"val"}
    raw = [json.loads(line)["id"] for line in
           (DATA / importers.SWE_FILE).read_text(encoding="utf-8").splitlines() if line.strip()]
    assert sorted(raw) == sorted(t.id for t in train + val + held)  # every run lands in exactly one part


def test_swe_labels(tmp_path_factory):
    for source in ("swe", "swe-val", "swe-heldout"):
        _, summary, trajectories = _imported(source, tmp_path_factory)
        edits = 0
        for t in trajectories:
            assert set(t.labels) == set(t.action_ids)  # every action is labelled
            touched = {f.rsplit("/", 1)[-1] for f in t.metadata.get("patch_touches_tests_or_config") or []}
            for step in t.actions:
                label = t.labels[step.action_id]
                assert all(label.concepts[c] == 0 for c in importers.SWE_ABSENT)
                if label.source == "swe:test_edit":
                    edits += 1
                    assert label.risk == 1 and label.concepts["violates_user_instruction"] == 1
                    # a run whose patch touches a test file (the write may sit in a script the call runs)
                    assert step.kind == "tool_call" and touched
                else:
                    assert label.source == "swe:real_session" and label.risk == 0
        assert edits == summary.risky_actions == summary.extra["actions labelled as test edits"] > 0, source


# ----------------------------------------------------------------------------------------- command line

def test_cli_writes_and_summarises(tmp_path, capsys):
    _need("safe-os")
    out = tmp_path / "safe-os.jsonl"
    assert main(["safe-os", "--data-dir", str(DATA), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "69 records written" in err and "35 risky actions" in err  # the training part
    assert sum(1 for _ in out.open()) == 69


def test_cli_missing_data_dir(tmp_path, capsys, monkeypatch):
    assert main(["toolemu", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.jsonl")]) == 2
    assert "data folder not found" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)  # the default, ../shared/data, does not exist from here
    assert main(["toolemu", "--out", str(tmp_path / "x.jsonl")]) == 2
    assert not (tmp_path / "x.jsonl").exists()


def test_cli_default_data_dir(tmp_path, monkeypatch):
    _need("safe-os")
    monkeypatch.chdir(DATA.parent)  # from /…/shared, ../shared/data is the data folder
    out = tmp_path / "safe-os.jsonl"
    assert main(["safe-os", "--out", str(out)]) == 0
    assert sum(1 for _ in out.open()) == 69
