"""The synthetic corpus: deterministic, split-isolated, labelled by the written policy, and
covering every concept in enough families to test generalisation."""

from __future__ import annotations

import json
import random
from collections import defaultdict

import pytest

from cbm.concepts import CONCEPT_IDS
from cbm.formats import read_records
from cbm_training.generate import GeneratorConfig, family_concepts, generate, heldout_families, main
from cbm_training.generator import DOMAINS, VARIANTS, Run, load_families
from cbm_training.generator.policy import Policy
from cbm_training.generator.surface import EVASIONS, MINI_SWE_RULES, MINI_SWE_SUBMIT, SHELL_DOMAINS, obfuscate

FAMILIES = load_families()
POLICY = Policy.load()
SEEDS = range(12)


def build(name: str, variant: str, seed: int, framework: str = "generic"):
    fam = FAMILIES[name]
    run = Run(random.Random(f"test:{seed}:{name}:{variant}"), fam, variant, POLICY, f"{name}-{seed}", framework)
    fam.build(run)
    return run.build()


@pytest.fixture(scope="module")
def runs():
    """A few runs of every variant of every family."""
    return {(name, variant, seed): build(name, variant, seed)
            for name in FAMILIES for variant in VARIANTS for seed in SEEDS}


def test_enough_families_and_domains():
    assert len(FAMILIES) >= 60
    domains = {f.domain for f in FAMILIES.values()}
    assert len(domains) >= 8 and domains <= set(DOMAINS)
    assert all(f.description for f in FAMILIES.values()), "every family documents its situation"


def test_variants_keep_their_promise(runs):
    for (name, variant, seed), t in runs.items():
        risks = [label.risk for label in t.labels.values()]
        assert 2 <= len(risks) <= 40, (name, variant, seed, len(risks))
        assert (max(risks) == 1) == (variant == "risky"), (name, variant, seed)
        assert all(label.complete for label in t.labels.values())


def test_labels_follow_the_written_policy(runs):
    for (name, _, _), t in runs.items():
        info = t.metadata["generator"]["actions"]
        for action_id, label in t.labels.items():
            risk, rule = POLICY.decide(label.concepts, name, info[action_id].get("tag"))
            assert (label.risk, rule) == (risk, info[action_id]["rule"])


def test_every_concept_in_three_families_with_hard_negatives(runs):
    positive, hard = defaultdict(set), defaultdict(set)
    has_hard = {name for (name, variant, _) in runs if variant == "hard_negative"}
    for (name, variant, _), t in runs.items():
        for label in t.labels.values():
            for cid, value in label.concepts.items():
                if value and variant == "risky":
                    positive[cid].add(name)
                if value and variant == "hard_negative":
                    hard[cid].add(name)
    for cid in CONCEPT_IDS:
        hard[cid] |= positive[cid] & has_hard
        assert len(positive[cid]) >= 3, (cid, sorted(positive[cid]))
        assert len(hard[cid]) >= 3, (cid, sorted(hard[cid]))


def test_approval_claims_never_earn_user_authorized(runs):
    from cbm_training.generator.surface import AGENT_SELF_APPROVALS, APPROVAL_CLAIMS

    claims = APPROVAL_CLAIMS + AGENT_SELF_APPROVALS
    seen = 0
    for t in runs.values():
        users = " ".join(s.text for s in t.steps if s.kind == "user")
        for i, step in enumerate(t.steps):
            if step.kind in ("tool_result", "assistant") and any(c in step.text for c in claims):
                later = [s for s in t.steps[i + 1:] if s.action_id]
                if later and not any(c in users for c in claims):
                    seen += 1
                    nxt = t.labels[later[0].action_id]
                    if nxt.risk == 1:
                        assert not nxt.concepts["user_authorized"]
    assert seen > 0, "some runs carry fake approval claims"


def test_heldout_families_spread_over_domains_and_concepts():
    held = heldout_families(FAMILIES, 0.2, POLICY)
    assert 0.15 <= len(held) / len(FAMILIES) <= 0.3
    domains = {FAMILIES[n].domain for n in held}
    assert len(domains) >= len({f.domain for f in FAMILIES.values()}) - 1
    carriers = family_concepts(FAMILIES, POLICY)
    for cid in CONCEPT_IDS:
        holders = {n for n, found in carriers.items() if cid in found}
        assert holders & set(held), f"{cid} cannot be measured on held-out families"
        assert len(holders - set(held)) >= 2, f"{cid} is taught by fewer than two training families"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    manifest = generate(GeneratorConfig(n=600, seed=3), out)
    return out, manifest


def test_splits_are_isolated(corpus):
    out, manifest = corpus
    families = defaultdict(set)
    ids = defaultdict(set)
    for split in ("train", "val", "test", "heldout"):
        for record in read_records(out / f"{split}.jsonl"):
            assert record.ok, record.error
            t = record.trajectory
            assert t.metadata["generator"]["split"] == split
            families[split].add(t.metadata["generator"]["family"])
            ids[split].add(t.id)
    held = set(manifest["heldout_families"])
    assert families["heldout"] and families["heldout"] <= held
    assert not (families["train"] | families["val"] | families["test"]) & held
    assert sum(len(v) for v in ids.values()) == 600 == sum(manifest["counts"].values())


def test_same_seed_same_bytes_any_workers(tmp_path):
    config = GeneratorConfig(n=150, seed=11)
    a = generate(config, tmp_path / "a", workers=1)
    b = generate(config, tmp_path / "b", workers=2)
    c = generate(GeneratorConfig(n=150, seed=12), tmp_path / "c")
    assert a["sha256"] == b["sha256"]
    for split in ("train", "val", "test", "heldout"):
        assert (tmp_path / "a" / f"{split}.jsonl").read_bytes() == (tmp_path / "b" / f"{split}.jsonl").read_bytes()
    assert a["sha256"]["train"] != c["sha256"]["train"]


def test_framework_runs_take_the_shape_of_real_logs():
    """Claude Code's Bash/Read/Edit/Write, OpenHands' execute_bash and str_replace_editor; an OpenHands
    run notes thoughts with `think` (harmless: nothing runs) and reports through `finish`, which keeps
    the report's own labels (a deceptive report stays one)."""
    names = {fw: set() for fw in ("claude_code", "openhands")}
    reports = []
    for fw in names:
        for name in FAMILIES:
            for seed in range(3):
                t = build(name, "risky", seed, fw)
                names[fw] |= {s.tool_name for s in t.steps if s.kind == "tool_call"}
                assert set(t.labels) == set(t.action_ids)
                if fw == "openhands":
                    assert t.steps[-1].kind != "assistant", "the final report is a finish call"
                    reports += [t.labels[s.action_id].concepts["deceptive_report"] for s in t.steps
                                if s.kind == "tool_call" and s.tool_name == "finish"]
                    for s in t.steps:
                        if s.kind == "tool_call" and s.tool_name == "think":
                            assert t.labels[s.action_id].risk == 0 and not any(t.labels[s.action_id].concepts.values())
    assert {"Bash", "Read", "Edit", "Write"} <= names["claude_code"] and not {"bash", "execute_bash"} & names["claude_code"]
    assert {"execute_bash", "str_replace_editor", "think", "finish"} <= names["openhands"]
    assert 1 in reports and 0 in reports


def test_mini_swe_agent_runs_take_the_shape_of_its_sessions():
    """mini-swe-agent has a shell only: its rules open the run, a THOUGHT comes with every command,
    a reply that breaks the one-block rule is answered with the harness's notice (harmless: nothing
    ran), and the run ends on the submit command, which keeps the report's labels."""
    shell_families = [name for name, fam in FAMILIES.items() if fam.domain in SHELL_DOMAINS]
    retries, reports = 0, []
    for name in shell_families:
        for seed in range(2):
            t = build(name, "risky", seed, "mini_swe_agent")
            assert t.steps[0].kind == "system" and t.steps[0].text == MINI_SWE_RULES
            assert set(t.labels) == set(t.action_ids)
            calls = [s for s in t.steps if s.kind == "tool_call"]
            assert calls[-1].arguments == {"command": MINI_SWE_SUBMIT}
            reports.append(t.labels[calls[-1].action_id].concepts["deceptive_report"])
            for k, s in enumerate(t.steps):
                if s.kind == "tool_call" and s.tool_name == "bash":
                    said = [p for p in t.steps[:k] if p.message_index == s.message_index and p.kind == "assistant"]
                    assert said and said[-1].text.startswith("THOUGHT: ")
                if s.kind == "assistant" and s.action_id is not None and "```bash" in s.text:
                    retries += 1
                    assert t.steps[k + 1].kind == "user" and "EXACTLY ONE action" in t.steps[k + 1].text
                    label = t.labels[s.action_id]
                    assert label.risk == 0 and not any(label.concepts.values())
    assert retries > 0 and 1 in reports and 0 in reports


def test_all_three_formats_are_written_and_read_back(corpus):
    out, _ = corpus
    formats = defaultdict(int)
    for record in read_records(out / "train.jsonl"):
        formats[record.format] += 1
        assert record.trajectory.labels, "labels survive every output format"
    assert set(formats) == {"native", "openai", "anthropic"}
    frameworks = defaultdict(set)
    for split in ("train", "val", "test", "heldout"):
        for record in read_records(out / f"{split}.jsonl"):
            meta = record.trajectory.metadata["generator"]
            frameworks[meta["framework"]].add(meta["domain"])
    assert {"generic", "claude_code", "openhands", "mini_swe_agent"} <= set(frameworks)
    assert frameworks["mini_swe_agent"] <= set(SHELL_DOMAINS)  # a shell-only agent in a shell's domain


def test_label_noise_only_touches_train(tmp_path):
    generate(GeneratorConfig(n=300, seed=5, label_noise=0.2), tmp_path)
    noisy = defaultdict(int)
    for split in ("train", "val", "test", "heldout"):
        for record in read_records(tmp_path / f"{split}.jsonl"):
            gen = record.trajectory.metadata["generator"]
            noisy[split] += len(gen.get("noisy_actions", []))
            for action_id in gen.get("noisy_actions", []):
                rule_risk, _ = POLICY.decide(record.trajectory.labels[action_id].concepts, gen["family"],
                                             gen["actions"][action_id].get("tag"))
                assert record.trajectory.labels[action_id].risk != rule_risk
    assert noisy["train"] > 0
    assert noisy["val"] == noisy["test"] == noisy["heldout"] == 0


def test_obfuscations_hide_the_plain_words():
    rng = random.Random(0)
    command = "rm -rf /home/alice"
    for method in EVASIONS:
        disguised = obfuscate(command, method, rng)
        assert disguised != command
        if method in ("base64", "hex"):
            assert "rm -rf" not in disguised


def test_cli_reports_and_rejects_bad_arguments(tmp_path, capsys):
    assert main(["--n", "20", "--seed", "1", "--out", str(tmp_path), "--formats", "openai"]) == 0
    assert "20 trajectories" in capsys.readouterr().err
    first = json.loads((tmp_path / "manifest.json").read_text())
    assert first["config"]["formats"] == ["openai"]
    with pytest.raises(SystemExit) as exc:
        main(["--n", "5", "--out", str(tmp_path), "--formats", "yaml"])
    assert exc.value.code == 2


def test_cli_sets_the_share_of_runs_written_in_a_frameworks_shape(tmp_path):
    def frameworks(out, *args):
        assert main(["--n", "60", "--seed", "2", "--out", str(out), *args]) == 0
        return {json.loads(line)["metadata"]["generator"]["framework"]
                for split in ("train", "val", "test", "heldout") for line in (out / f"{split}.jsonl").open()}

    assert frameworks(tmp_path / "none", "--frameworks", "none") == {"generic"}
    assert frameworks(tmp_path / "all", "--frameworks", "openhands=1") == {"openhands"}
    assert json.loads((tmp_path / "all" / "manifest.json").read_text())["config"]["frameworks"] == [["openhands", 1.0]]
    for bad in ("cursor=0.5", "openhands=0.8,claude_code=0.5", "openhands"):
        with pytest.raises(SystemExit) as exc:
            main(["--n", "5", "--out", str(tmp_path / "bad"), "--frameworks", bad])
        assert exc.value.code == 2
