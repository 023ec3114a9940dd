"""The corpus datasheet: counts that add up, the duplicate detector, the shortcut audit, the CLI."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from cbm.concepts import CONCEPT_IDS
from cbm.formats import dumps_line, loads, read_records, to_record
from cbm_training.datasheet import build_datasheet, main, render_markdown, tokens
from cbm_training.generator import Family, Run, load_families
from cbm_training.generator.policy import Policy, Rule

FORMATS = ("native", "openai", "anthropic")
SECTIONS = ("# Datasheet", "## Summary", "## Coverage", "## Concepts per split", "## Families", "## Splits",
            "## Lengths", "## Duplicates", "## Evasions, rules, tags", "## Shortcut audit", "## How to read this")
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")

# A policy of our own, so these tests do not move when data/risk_policy.yaml does.
POLICY = Policy(rules=[Rule("user_authorized", {"user_authorized": 1}, 0, ""),
                       Rule("destructive", {"destructive_change": 1}, 1, "")],
                default=Rule("default", {}, 0, ""), exceptions=[], digest="test")


def _synthetic(name: str, domain: str, message_tool: str, message_args) -> Family:
    """A family whose risky action, and only it, is a call to the tool `zorblax`: a planted
    perfect shortcut token for risk. Its benign runs message someone (asked for) with
    `message_tool` and arguments that differ between the train and the held-out family."""

    def build(run: Run) -> None:
        word, n = run.rng.choice(WORDS), run.rng.randint(0, 10**9)
        run.user(f"Please tidy the {word} records, ticket {n}.")
        run.call_named("list_items", {"scope": word, "ticket": n}, f"{run.rng.randint(1, 99)} items")
        if run.variant == "risky":
            run.call_named("zorblax", {"scope": word, "ticket": n}, "gone", destructive_change=1,
                           touches_production=1)
        elif run.variant == "hard_negative":
            run.call_named("archive_items", {"scope": word, "ticket": n}, "archived", destructive_change=1,
                           user_authorized=1)
        else:
            run.call_named("archive_items", {"scope": word, "ticket": n, "dry_run": True}, "would archive")
            run.call_named(message_tool, message_args(word, n), "sent",
                           external_communication=1, user_authorized=1)
        run.say(f"Finished the {word} records.")

    return Family(name, domain, build, "synthetic")


SYN_TRAIN = _synthetic("syn_train", "databases", "send_mail",
                       lambda word, n: {"to": f"{word}@example.com", "body": f"ticket {n} done"})
SYN_HELD = _synthetic("syn_held", "communication", "post_message",
                      lambda word, n: {"channel": f"#{word}", "text": f"{n} closed"})


def _run(family: Family, variant: str, run_id: str, policy: Policy = POLICY):
    run = Run(random.Random(run_id), family, variant, policy, run_id)
    family.build(run)
    return run.build()


def _write(path: Path, trajectories, start: int = 0) -> None:
    with open(path, "a", encoding="utf-8") as f:
        for i, t in enumerate(trajectories, start):
            f.write(dumps_line(to_record(t, FORMATS[i % 3])))


def _synthetic_corpus(root: Path, per_variant: int = 30) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for split, family, n in (("train", SYN_TRAIN, per_variant), ("val", SYN_TRAIN, 3), ("test", SYN_TRAIN, 3),
                             ("heldout", SYN_HELD, per_variant // 2)):
        runs = [_run(family, v, f"{split}-{v}-{i}") for v in ("benign", "risky", "hard_negative") for i in range(n)]
        _write(root / f"{split}.jsonl", runs)
    return root


@pytest.fixture(scope="module")
def mixed_corpus(tmp_path_factory) -> Path:
    """Runs of every registered family that builds (two per variant, real policy) in
    train/val/test, the synthetic held-out family in heldout."""
    root = tmp_path_factory.mktemp("mixed")
    policy = Policy.load()
    splits: dict[str, list] = {"train": [], "val": [], "test": []}
    for k, (name, family) in enumerate(sorted(load_families().items())):
        for variant in ("benign", "risky", "hard_negative"):
            for i in range(2):
                try:
                    t = _run(family, variant, f"{name}-{variant}-{i}", policy)
                except Exception:  # a family being written elsewhere; not this module's test
                    continue
                splits[("train", "train", "val", "test")[(k + i) % 4]].append(t)
    splits["train"] += [_run(SYN_TRAIN, v, f"syn-{v}-{i}") for v in ("benign", "risky", "hard_negative")
                        for i in range(6)]
    for split, runs in splits.items():
        _write(root / f"{split}.jsonl", runs)
    _write(root / "heldout.jsonl", [_run(SYN_HELD, v, f"held-{v}-{i}") for v in ("benign", "risky", "hard_negative")
                                    for i in range(4)])
    (root / "manifest.json").write_text(json.dumps({"seed": 1, "n": 0}), encoding="utf-8")
    return root


def test_tokens_split_identifiers():
    assert tokens("psql -h orders-live.prod.acme") == ["psql", "h", "orders", "live", "prod", "acme"]
    assert tokens('read_file {"Path": "SRC/Main.py"}') == ["read", "file", "path", "src", "main", "py"]


def test_counts_add_up(mixed_corpus):
    sheet = build_datasheet(mixed_corpus, audit=False)
    # a direct count from the files
    trajectories = actions = risky = risky_runs = 0
    per_split: Counter = Counter()
    per_family: Counter = Counter()
    concept_pos: Counter = Counter()
    for split in ("train", "val", "test", "heldout"):
        for record in read_records(mixed_corpus / f"{split}.jsonl"):
            t = record.trajectory
            trajectories += 1
            per_split[split] += 1
            per_family[t.metadata["generator"]["family"]] += 1
            risky_runs += t.risk == 1
            for aid in t.action_ids:
                actions += 1
                risky += t.labels[aid].risk == 1
                for cid, value in t.labels[aid].concepts.items():
                    concept_pos[cid] += value
    s = sheet["summary"]
    assert (s["trajectories"], s["actions"], s["risky_actions"], s["risky_trajectories"]) == \
        (trajectories, actions, risky, risky_runs)
    assert s["record_errors"] == 0 and sheet["splits"] == ["train", "val", "test", "heldout"]
    for key in ("trajectories", "actions", "risky_actions", "risky_trajectories"):
        assert sum(r[key] for r in sheet["per_split"].values()) == s[key], key
    assert {k: r["trajectories"] for k, r in sheet["per_split"].items()} == dict(per_split)
    assert sum(r["safe_actions"] + r["risky_actions"] for r in sheet["per_split"].values()) == actions
    assert {f: r["trajectories"] for f, r in sheet["per_family"].items()} == dict(per_family)
    for key in ("trajectories", "actions", "risky_actions"):
        assert sum(r[key] for r in sheet["per_family"].values()) == s[key], key
        assert sum(r[key] for r in sheet["per_domain"].values()) == s[key], key
    assert sum(sum(r["variants"].values()) for r in sheet["per_family"].values()) == trajectories
    for cid in CONCEPT_IDS:
        row = sheet["per_concept"][cid]
        assert row["positive"] == concept_pos[cid], cid
        assert sum(row["per_split"].values()) == row["positive"], cid
        assert row["positive_risky"] + row["positive_safe"] == row["positive"], cid
    labels = sheet["labels"]
    assert labels["risk_1_actions"] + labels["risk_0_actions"] + labels["risk_unknown_actions"] == actions
    lengths = sheet["lengths"]["actions_per_trajectory"]
    assert lengths["n"] == trajectories and sum(lengths["histogram"].values()) == trajectories
    assert lengths["min"] <= lengths["p10"] <= lengths["median"] <= lengths["p90"] <= lengths["max"]
    assert sum(sheet["formats"].values()) == trajectories
    assert sum(sheet["rules"].values()) == actions
    assert sheet["heldout_families"] == ["syn_held"] and sheet["heldout_leak"] == []
    assert sheet["manifest"] == {"seed": 1, "n": 0}
    json.dumps(sheet)  # JSON-ready as it is


def test_family_concepts_and_coverage(tmp_path):
    sheet = build_datasheet(_synthetic_corpus(tmp_path, per_variant=6), audit=False)
    fam = sheet["per_family"]["syn_train"]
    assert fam["domain"] == "databases" and fam["splits"] == ["train", "val", "test"]
    assert fam["variants"] == {"benign": 12, "risky": 12, "hard_negative": 12}
    assert fam["concepts_in_risky"] == ["touches_production", "destructive_change"]
    # positive in hard-negative runs, or positive in risky runs of a family that has hard negatives
    assert set(fam["concepts_in_hard_negatives"]) == {"touches_production", "destructive_change", "user_authorized"}
    assert "external_communication" in fam["concepts_positive"]
    cov = sheet["coverage"]
    assert cov["destructive_change"]["families_positive"] == 2
    assert cov["destructive_change"]["families_hard_negative"] == 2
    assert cov["destructive_change"]["domains_positive"] == 2
    assert cov["destructive_change"]["families_hard_negative_runs"] == 2  # archive_items, asked for
    assert cov["touches_production"]["families_hard_negative"] == 2  # positive in risky runs only
    assert cov["touches_production"]["families_hard_negative_runs"] == 0
    assert fam["concepts_in_hard_negative_runs"] == ["destructive_change", "user_authorized"]
    assert cov["destructive_change"]["ok"] is False and cov["secret_access"]["families_positive"] == 0
    assert any(f.startswith("coverage: destructive_change") for f in sheet["flags"])
    assert any("secret_access" in f and "no family" in f for f in sheet["flags"])
    assert sheet["labels"]["risky_action_position"] == {"middle": 12 + 3}  # risky runs in train, val, test, heldout


def test_duplicate_detector_finds_planted_copy(tmp_path):
    root = tmp_path / "dup"
    root.mkdir()
    runs = [_run(SYN_TRAIN, v, f"t-{v}-{i}") for v in ("benign", "risky") for i in range(5)]
    _write(root / "train.jsonl", runs)
    clean = build_datasheet(root, audit=False)["duplicates"]
    assert clean["duplicate_copies"] == 0 and clean["trajectories_in_duplicate_groups"] == 0
    # the same run under another id, other call ids and another format
    original = runs[7]
    line = json.dumps(to_record(original, "native"))
    for n, aid in enumerate(original.action_ids):
        if not aid.startswith("msg:"):
            line = line.replace(aid, f"call_copy_{n}")
    copy = loads(line.replace(original.id, "planted-copy"))[0].trajectory
    assert copy.id == "planted-copy" and copy.action_ids != original.action_ids
    _write(root / "test.jsonl", [copy], start=2)  # written as Anthropic
    dup = build_datasheet(root, audit=False)["duplicates"]
    assert dup["duplicate_copies"] == 1 and dup["trajectories_in_duplicate_groups"] == 2
    assert dup["copies_of_train_runs_in"] == {"test": 1}
    assert dup["largest_group"] == 2 and dup["duplicate_rate"] == round(1 / 11, 4)
    n_actions = len(original.action_ids)
    assert dup["actions_with_duplicated_text"] >= clean["actions_with_duplicated_text"] + n_actions
    assert any("repeat a train trajectory" in f for f in build_datasheet(root, audit=False)["flags"])


def test_audit_finds_planted_shortcut_token(tmp_path):
    sheet = build_datasheet(_synthetic_corpus(tmp_path))
    audit = sheet["audit"]
    assert audit["eval_split"] == "heldout" and audit["train_actions"] > 0
    risk = audit["targets"]["risk"]
    assert risk["token"] == "zorblax" and risk["token_train_auc"] == 1.0 and risk["token_auc"] == 1.0
    assert risk["shortcut"] is True and risk["flag"].startswith("too easy: a shortcut")
    assert risk["tfidf_auc"] >= 0.97 and risk["tfidf_context_auc"] is not None
    assert any(f.startswith("shortcut: risk") for f in sheet["flags"])
    # the held-out family messages with another tool and other arguments: the token that is
    # perfect on train never occurs in held-out
    ext = audit["targets"]["external_communication"]
    assert ext["token_train_auc"] == 1.0 and ext["token_auc"] == 0.5
    assert "token" not in ext["flag"]
    # one class in held-out: n/a, not a number
    secret = audit["targets"]["secret_access"]
    assert secret["token_auc"] is None and secret["tfidf_auc"] is None and secret["flag"].startswith("n/a")
    markdown = render_markdown(sheet)
    assert "TOO EASY: a shortcut" in markdown and "`zorblax`" in markdown


def test_audit_flags_concepts_heldout_cannot_test(tmp_path):
    root = _synthetic_corpus(tmp_path, per_variant=6)
    (root / "heldout.jsonl").unlink()  # held-out: hard negatives only, so nothing in it is risky
    _write(root / "heldout.jsonl", [_run(SYN_HELD, "hard_negative", f"h-{i}") for i in range(6)])
    sheet = build_datasheet(root)
    risk = sheet["audit"]["targets"]["risk"]
    assert risk["eval_positive"] == 0 and risk["token_auc"] is None and risk["flag"] == "n/a: one class in heldout"
    untested = [f for f in sheet["flags"] if f.startswith("audit:")]
    assert len(untested) == 1 and "touches_production" in untested[0] and "risk" in untested[0]
    assert "destructive_change" not in untested[0]


def test_audit_subsample_is_seeded(tmp_path):
    root = _synthetic_corpus(tmp_path, per_variant=10)
    a = build_datasheet(root, max_train_actions=40, seed=3)["audit"]
    b = build_datasheet(root, max_train_actions=40, seed=3)["audit"]
    assert a["train_actions_used"] == 40 < a["train_actions"]
    assert a["targets"] == b["targets"]


def test_main_writes_markdown_and_json(mixed_corpus, tmp_path, capsys):
    md, js = tmp_path / "DATASHEET.md", tmp_path / "sheet.json"
    assert main([str(mixed_corpus), "--out", str(md), "--json", str(js)]) == 0
    text = md.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert section in text, section
    sheet = json.loads(js.read_text(encoding="utf-8"))
    assert sheet["summary"]["trajectories"] > 0 and set(sheet["audit"]["targets"]) == set(CONCEPT_IDS) | {"risk"}
    assert main([str(mixed_corpus), "--no-audit"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Datasheet") and "Not run (--no-audit)" in out


def test_main_usage_errors(tmp_path, capsys):
    assert main([str(tmp_path / "missing")]) == 2
    assert main([str(tmp_path)]) == 2  # a directory without split files
    assert "cbm datasheet:" in capsys.readouterr().err


def test_generator_output_matches_manifest(tmp_path):
    generate = pytest.importorskip("cbm_training.generate")
    assert generate.main(["--n", "300", "--seed", "1", "--out", str(tmp_path)]) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    sheet = build_datasheet(tmp_path, audit=False)
    assert sheet["summary"]["record_errors"] == 0 and sheet["summary"]["trajectories"] == 300
    if isinstance(manifest.get("counts"), dict):
        assert {s: r["trajectories"] for s, r in sheet["per_split"].items()} == \
            {s: n for s, n in manifest["counts"].items() if n or s in sheet["per_split"]}
    if manifest.get("heldout_families"):
        assert set(sheet["heldout_families"]) <= set(manifest["heldout_families"])
        assert sheet["heldout_leak"] == []
    assert "## Shortcut audit" in render_markdown(sheet)


def test_small_and_partial_corpora_do_not_break(tmp_path):
    only_train = tmp_path / "a"
    only_train.mkdir()
    _write(only_train / "train.jsonl", [_run(SYN_TRAIN, "risky", "r1"), _run(SYN_TRAIN, "benign", "b1")])
    sheet = build_datasheet(only_train)
    assert sheet["audit"]["targets"] == {} and "skipped" in sheet["audit"]["note"]
    assert "## Shortcut audit" in render_markdown(sheet)
    no_heldout = tmp_path / "b"
    no_heldout.mkdir()
    _write(no_heldout / "train.jsonl", [_run(SYN_TRAIN, v, f"t{v}{i}") for v in ("risky", "benign") for i in range(8)])
    _write(no_heldout / "test.jsonl", [_run(SYN_TRAIN, v, f"e{v}{i}") for v in ("risky", "benign") for i in range(3)])
    audit = build_datasheet(no_heldout)["audit"]
    assert audit["eval_split"] == "test" and "no held-out" in audit["note"]
    assert audit["targets"]["risk"]["token"] == "zorblax"
