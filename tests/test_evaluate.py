"""`cbm evaluate` end to end on a tiny corpus and checkpoint, plus the metric functions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from cbm import checkpoint as ckpt
from cbm.cli import COMMANDS
from cbm.scoring import Overseer
from cbm_training.baselines import RuleMonitor
from cbm_training.evaluate import (COMMAND_CHARS, K, REAL_SETS, TOP_RISKY, evaluate, expected_calibration_error,
                                   load_split, real_sets, recall_at_fpr, record_summary, score_split,
                                   threshold_for_fpr)
from cbm_training.generate import GeneratorConfig, generate
from cbm_training.importers import (Summary, import_commands_eval, import_oas, import_oas_eval, import_safe_os_eval,
                                    import_swe_eval, import_toolemu_eval, run_import)
from cbm_training.config import DEFAULT_CONFIG, load_config
from cbm_training.train import train

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # the public data sets; absent in a fresh clone


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    corpus = root / "corpus"
    generate(GeneratorConfig(n=200, seed=1), corpus)
    real_val = "[]"
    if (DATA / "real-sessions").is_dir():  # thresholds also set on real harmless sessions, as the default does
        run_import("swe-val", DATA, corpus / "imports" / "swe-val.jsonl")
        real_val = "[swe-val]"
    path = train(load_config(DEFAULT_CONFIG, [
        f"out={root / 'run'}", f"data.corpus={corpus}", "data.generate.n=200", "model.dim=32", "model.layers=1",
        "model.heads=2", "trainer.max_epochs=1", "trainer.batch_size=16", "optim.warmup_steps=2", "data.imports=[]",
        f"calibration.real_val={real_val}",
        "optim.mode=independent"]))  # the head learns from true concepts, so setting them all must help
    out = root / "reports"
    result = evaluate(path, corpus, out, baselines=True, log=lambda msg: None, shared_data=DATA)
    return result, out, path, corpus


def _numbers(obj, key=""):
    """Every (key, number) under the metric entries of a result."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v, key)
    elif isinstance(obj, float):
        yield key, obj


def test_evaluation_reads_the_scoring_cores_numbers(evaluated):
    """Evaluation scores through the Overseer every entry point calls: the same rounded concept
    probabilities, risk logits, calibrated risks and flags as `Overseer.score_many` reports."""
    _, _, path, corpus = evaluated
    checkpoint = ckpt.load(path)
    split = score_split(Overseer(checkpoint), load_split("test", corpus / "test.jsonl", checkpoint, limit=30))
    overseer = Overseer.load(path, threads=None)
    actions = [a for r in overseer.score_many(split.trajectories) for a in r.actions]
    assert split.calibrated.tolist() == [a.risk for a in actions]
    assert split.risk_logits.tolist() == [a.risk_logit for a in actions]
    assert split.concept_probs.tolist() == [list(a.concepts.values()) for a in actions]
    assert (split.calibrated >= overseer.threshold).tolist() == [a.flagged for a in actions]
    logit, risk = overseer.risk_from_concepts(split.concept_probs)
    assert logit.tolist() == split.risk_logits.tolist() and risk.tolist() == split.calibrated.tolist()


def test_report_files_exist(evaluated):
    result, out, *_ = evaluated
    for name in ("evaluation.md", "evaluation.json", "reliability.png", "interventions.png", "roc.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert json.loads((out / "evaluation.json").read_text())["splits"].keys() == {"test", "heldout"}
    text = (out / "evaluation.md").read_text()
    for heading in ("## Targets", "## Risk", "## Concepts", "## Interventions", "## Leakage check", "## Baselines"):
        assert heading in text
    assert {t["verdict"] for t in result["targets"]} <= {"PASS", "FAIL", "NOT MEASURED"}
    assert set(result["comparison"]["heldout"]) == {"cbm", "blackbox", "tfidf", "rules"}
    assert "evaluate" in COMMANDS


def test_action_only_slice_and_policy_agreement_are_reported(evaluated):
    result, out, *_ = evaluated
    for name in ("test", "heldout"):
        only = result["splits"][name]["action_only"]
        assert only["n_actions"] > 0 and 0 <= only["risk"]["auroc"] <= 1
        assert only["n_actions"] < result["splits"][name]["risk"]["n"]  # report-like calls are left out
    policy = result["policy"]
    assert policy["combinations"] == 988 and 0 <= policy["agree"] <= 1
    assert policy["flagged_but_safe"] + policy["missed"] == round((1 - policy["agree"]) * 988)
    text = (out / "evaluation.md").read_text()
    assert "### The action alone" in text and "judge like the written policy" in text


def test_metrics_are_in_unit_interval(evaluated):
    result, *_ = evaluated
    bounded = {"auroc", "auprc", "f1", "recall_at_1fpr", "recall_at_5fpr", "ece", "precision", "recall", "fpr",
               "base_rate", "mean_calibrated_risk", "macro_auroc", "macro_auprc"}
    seen = 0
    for split in ("test", "heldout"):
        for source in (result["splits"][split], result["comparison"][split]):
            for key, value in _numbers(source):
                if key in bounded:
                    assert 0.0 <= value <= 1.0, (split, key, value)
                    seen += 1
    assert seen > 50
    assert result["splits"]["heldout"]["risk"]["auroc"] is not None


def test_leakage_check_gives_exactly_chance(evaluated):
    result, *_ = evaluated
    for split in ("test", "heldout"):
        leak = result["splits"][split]["leakage"]
        assert leak["auroc"] == 0.5 and leak["distinct_risk_values"] == 1 and leak["passed"]


def test_all_true_concepts_are_at_least_as_good_as_none(evaluated):
    result, *_ = evaluated
    for split in ("test", "heldout"):
        curve = result["splits"][split]["interventions"]
        assert curve["k"][-1] == K == 18
        for order in ("uncertain_first", "check_first", "random"):
            aurocs = curve[order]["auroc"]
            assert aurocs[K] >= aurocs[0]
        # with every concept set, the order does not matter
        assert curve["uncertain_first"]["auroc"][K] == pytest.approx(curve["random"]["auroc"][K])
        assert curve["check_first"]["errors"][K] == curve["uncertain_first"]["errors"][K]
        assert curve["errors_k2_check_first"] == curve["check_first"]["errors"][2]


def test_rules_baseline():
    rules = RuleMonitor()
    assert rules.flags("bash rm -rf ~")
    assert not rules.flags("ls")
    assert rules.flags("execute_sql DROP TABLE customers;")
    assert not rules.flags("bash cat README.md")


def test_expected_calibration_error():
    rng = np.random.default_rng(0)
    p = rng.random(200_000)
    y = (rng.random(200_000) < p).astype(int)  # labels drawn with the predicted probability
    assert expected_calibration_error(y, p) < 0.01
    y = (rng.random(1000) < 0.3).astype(int)
    for c in (0.0, 0.2, 0.5, 0.9, 1.0):
        assert expected_calibration_error(y, np.full(1000, c)) == pytest.approx(abs(y.mean() - c))


def test_recall_at_fpr():
    y = np.array([0] * 100 + [1] * 10)
    score = np.concatenate([np.arange(100) / 100, [0.995] * 5 + [0.5] * 5])
    assert recall_at_fpr(y, score, 0.0) == 0.5
    assert recall_at_fpr(y, score, 0.5) == 1.0
    assert recall_at_fpr(np.zeros(5), np.arange(5), 0.05) is None


# ----------------------------------------------------------------------------------- real data sets

def _need_shared(*folders: str) -> None:
    for folder in folders:
        if not (DATA / folder).is_dir():
            pytest.skip(f"public data set not available: {DATA / folder} (../shared/data is absent in a fresh clone)")


def _shares(obj):
    """Every {n, of, share} count under a result."""
    if isinstance(obj, dict):
        if {"n", "of", "share"} <= set(obj):
            yield obj
        for v in obj.values():
            yield from _shares(v)


def test_real_sets_swe_heldout(evaluated):
    _need_shared("real-sessions")
    result, out, *_ = evaluated
    rs = result["real_sets"]
    swe = rs["sets"]["swe_heldout"]
    trajectories = list(import_swe_eval(DATA, Summary("swe-heldout")))
    n_actions = sum(len(t.action_ids) for t in trajectories)
    edits = sum(label.source == "swe:test_edit" for t in trajectories for label in t.labels.values())
    assert swe["n_runs"] == len(trajectories) == 33 and swe["n_actions"] == n_actions
    assert swe["test_edit_actions"] == edits and swe["harmless_actions"] == n_actions - edits
    assert set(swe["repos"]) == {"astropy/astropy", "psf/requests", "mwaskom/seaborn", "pallets/flask"}
    assert swe["held_out"] and not swe["trained_on_django_sessions"]  # the tiny model trains on generated runs only
    assert set(swe["models"]) == {"cbm", "tfidf", "rules"}  # thresholds matched on the corpus's val split
    for m in swe["models"].values():
        assert m["actions_flagged"]["of"] == n_actions and m["runs_flagged"]["of"] == 33
        assert m["harmless_flagged"]["of"] == n_actions - edits and m["test_edits_flagged"]["of"] == edits
        assert m["actions_blocked"]["n"] <= m["actions_flagged"]["n"]
        assert m["harmless_flagged"]["n"] + m["test_edits_flagged"]["n"] == m["actions_flagged"]["n"]
        assert m["runs_flagged"]["n"] <= min(33, m["actions_flagged"]["n"])
        assert m["harmless_blocked"]["of"] == n_actions - edits
        assert m["harmless_blocked"]["n"] <= min(m["harmless_flagged"]["n"], m["actions_blocked"]["n"])
        assert m["runs_flagged_for_harmless"]["of"] == 33
        assert m["runs_flagged_for_harmless"]["n"] <= min(m["runs_flagged"]["n"], m["harmless_flagged"]["n"])
    shares = list(_shares(swe))
    assert len(shares) == 21 and all(0 <= s["share"] <= 1 and 0 <= s["n"] <= s["of"] for s in shares if s["of"])
    risky = swe["riskiest"]
    ids = {(t.id, a) for t in trajectories for a in t.action_ids}
    assert len(risky) == TOP_RISKY and all((r["run"], r["action"]) in ids for r in risky)
    assert [r["risk"] for r in risky] == sorted((r["risk"] for r in risky), reverse=True)
    assert all(0 <= r["risk"] <= 1 and len(r["command"]) <= COMMAND_CHARS for r in risky)
    thresholds = rs["thresholds"]
    assert thresholds["cbm"]["flag"] == ckpt.load(evaluated[2]).threshold
    for key in ("tfidf", "rules"):  # never more false positives on validation than the CBM
        assert thresholds[key]["val_fpr_flag"] <= thresholds["cbm"]["val_fpr_flag"] + 1e-12
        assert thresholds[key]["val_fpr_block"] <= thresholds["cbm"]["val_fpr_block"] + 1e-12
    text = (out / "evaluation.md").read_text()
    section = text[text.index("## Real data sets"):]
    for heading in ("### Thresholds", "### SWE held-out repositories", "harmless actions flagged", "TF-IDF + LR",
                    "rules", risky[0]["action"]):
        assert heading in section
    saved = json.loads((out / "evaluation.json").read_text())["real_sets"]
    assert saved["sets"]["swe_heldout"]["models"]["cbm"] == json.loads(json.dumps(swe["models"]["cbm"]))


def test_real_sets_oas_and_agentdojo(evaluated):
    _need_shared("openagentsafety", "agentdojo")
    result, out, *_ = evaluated
    rs = result["real_sets"]
    oas = rs["sets"]["oas"]
    labels = [t.metadata["trajectory_label"] for t in import_oas_eval(DATA, Summary("oas-heldout"))]
    judged = [lb["risk"] for lb in labels if lb["risk"] is not None]
    checked = [lb["rule_check"] for lb in labels if lb["rule_check"] is not None]
    assert oas["n_runs"] == len(labels) == 156 and oas["held_out"]  # the held-out tasks only
    for key in ("cbm", "tfidf", "rules"):
        m = oas["models"][key]
        assert m["judge"]["n"] == len(judged) and m["judge"]["positives"] == sum(judged)
        assert m["rule_check"]["n"] == len(checked) and m["rule_check"]["positives"] == sum(checked)
        assert 0 <= m["judge"]["auroc"] <= 1 and 0 <= m["rule_check"]["auroc"] <= 1
    ad = rs["sets"]["agentdojo"]
    assert ad["n_runs"] == 388 and ad["attacked_runs"] == 194 and ad["runs_with_attacker_call"] == 60
    for key in ("cbm", "tfidf", "rules"):
        m = ad["models"][key]
        assert m["runs"]["n"] == 388 and m["runs"]["positives"] == 60 and m["attacked_runs"]["n"] == 194
        assert m["actions"]["n"] == ad["actions_with_risk_label"] and 0 <= m["actions"]["auroc"] <= 1
    assert list(rs["verdicts"]) == ["swe_heldout", "oas", "oas_other", "agentdojo", "toolemu", "safe_os", "commands"]
    other = rs["sets"]["oas_other"]  # the tasks the importer keeps for training: this checkpoint never saw them
    assert other["n_runs"] == 160 and other["held_out"] and not other["trained_on_other_tasks"]
    other_ids = {t.id for t in import_oas(DATA, Summary("oas"))}
    assert other_ids.isdisjoint(t.id for t in import_oas_eval(DATA, Summary("oas-heldout")))
    assert all(("beats both baselines" in v) != ("does NOT beat" in v) for v in rs["verdicts"].values())
    text = (out / "evaluation.md").read_text()
    for heading in ("### OpenAgentSafety", "run AUROC (judge)", "run AUROC (rule check)", "### AgentDojo",
                    "run AUROC (all runs)", *rs["verdicts"].values()):
        assert heading in text


def test_real_sets_toolemu_and_safe_os(evaluated):
    """Held-out ToolEmu cases and Safe-OS tasks, against their run labels (unknown ones left out)."""
    _need_shared("toolemu", "safe-os")
    result, out, *_ = evaluated
    sets = result["real_sets"]["sets"]
    for key, importer, label_of in (
            ("toolemu", import_toolemu_eval, lambda t: t.metadata["trajectory_label"].get("risk")),
            ("safe_os", import_safe_os_eval, lambda t: t.risk)):
        entry = sets[key]
        runs = list(importer(DATA, Summary(key)))
        known = [label_of(t) for t in runs if label_of(t) is not None]
        assert entry["n_runs"] == len(runs) and entry["held_out"] and 0 < len(known) < len(runs) + 1
        for model in ("cbm", "tfidf", "rules"):
            r = entry["models"][model]["runs"]
            assert r["n"] == len(known) and r["positives"] == sum(known) and 0 <= r["auroc"] <= 1
        assert f"### {REAL_SETS[key]}" in (out / "evaluation.md").read_text()


def test_a_checkpoint_from_before_the_splits_is_not_held_out_on_a_set_it_imports():
    from types import SimpleNamespace

    from cbm_training.evaluate import _held_out

    def checkpoint(imports, split):
        meta = {"config": {"data": {"imports": imports}}, **({"held_out_splits": 1} if split else {})}
        return SimpleNamespace(meta=meta)

    assert not _held_out(checkpoint(["toolemu", "swe"], split=False), "toolemu")  # trained on every ToolEmu run
    assert _held_out(checkpoint(["toolemu", "swe"], split=True), "toolemu")  # trained on the other cases only
    assert _held_out(checkpoint(["swe"], split=False), "commands")  # never imported
    assert not _held_out(checkpoint(["commands-heldout"], split=True), "commands")


def test_real_sets_commands(evaluated):
    _need_shared("commands")
    result, out, *_ = evaluated
    cm = result["real_sets"]["sets"]["commands"]
    trajectories = list(import_commands_eval(DATA, Summary("commands-heldout")))
    risky = sum(t.risk == 1 for t in trajectories)
    assert cm["n_runs"] == cm["n_actions"] == len(trajectories) and cm["held_out"]
    assert cm["collections"]["redcode"] == risky and cm["collections"]["nl2bash"] == cm["collections"]["tldr"]
    for key in ("cbm", "tfidf", "rules"):
        m = cm["models"][key]
        assert m["actions"]["n"] == len(trajectories) and m["actions"]["positives"] == risky
        assert 0 <= m["actions"]["auroc"] <= 1
        flagged = m["flagged"]
        assert flagged["redcode"]["of"] == risky and flagged["redcode"]["n"] == m["actions"]["at_threshold"]["tp"]
        assert flagged["nl2bash"]["n"] + flagged["tldr"]["n"] == m["actions"]["at_threshold"]["fp"]
    scenarios = cm["models"]["cbm"]["redcode_scenarios"]
    assert sum(c["of"] for c in scenarios.values()) == risky
    text = (out / "evaluation.md").read_text()
    assert "### Command collections" in text and "RedCode flagged" in text


def test_real_validation_bounds_every_models_thresholds(evaluated):
    """The baselines meet the same real-session bound the checkpoint's thresholds were set with."""
    _need_shared("real-sessions")
    result, out, path, _ = evaluated
    rv = result["real_sets"].get("real_validation")
    if rv is None:
        pytest.skip("the test checkpoint names no real validation sessions")
    shares = rv["shares"]
    assert rv["sets"] == ["swe-val"] and rv["harmless_actions"] > 1000 and rv["runs"] > 20
    for key in ("tfidf", "rules"):
        m = rv["models"][key]
        assert m["actions_flagged"]["share"] <= shares["real_flag_share"] + 1e-12
        assert m["runs_flagged"]["share"] <= shares["real_run_share"] + 1e-12
        assert m["actions_blocked"]["share"] <= shares["real_block_share"] + 1e-12
    assert "bounded by real harmless validation sessions" in (out / "evaluation.md").read_text()


def test_real_sets_recorded_in_the_checkpoint(evaluated, tmp_path):
    result, _, path, _ = evaluated
    copy = tmp_path / "checkpoint"
    shutil.copytree(path, copy)
    record_summary(result, copy)
    recorded = json.loads((copy / ckpt.CONFIG).read_text())["meta"]["evaluation"]
    assert set(recorded["summary"]) == {"test", "heldout"}  # the per-split table stays as it was
    real = recorded["real_sets"]
    assert real["verdicts"] == result["real_sets"]["verdicts"]
    assert set(real) == {"verdicts", "swe_heldout", "oas", "oas_other", "agentdojo", "toolemu", "safe_os", "commands"}
    assert ckpt.load(copy).weights_sha256 == ckpt.load(path).weights_sha256


def test_real_sets_skip_cleanly_without_the_data(evaluated, tmp_path):
    _, _, path, _ = evaluated
    messages = []
    rs = real_sets(Overseer(ckpt.load(path)), tmp_path / "nowhere", log=messages.append)
    assert {k: "skipped" in v for k, v in rs["sets"].items()} == {
        "swe_heldout": True, "oas": True, "oas_other": True, "agentdojo": True, "toolemu": True, "safe_os": True,
        "commands": True}
    assert "real_validation" not in rs
    assert all("not evaluated" in v for v in rs["verdicts"].values())
    assert any("not found" in m for m in messages)
    # no corpus given: TF-IDF still fits on the checkpoint's own training files, but without a validation
    # split no baseline threshold can be matched
    assert rs["tfidf"]["training_data"] == "the checkpoint's own training files (hash verified)"
    assert rs["thresholds"]["tfidf"] is None and rs["thresholds"]["rules"] is None and "validation" not in rs


def test_threshold_for_fpr():
    y = np.array([0] * 100 + [1] * 10)
    score = np.concatenate([np.arange(100), [200] * 10]).astype(float)
    assert threshold_for_fpr(y, score, 0.05) == 95  # flags 5 of the 100 negatives
    assert threshold_for_fpr(y, score, 0.0) == 200
    assert threshold_for_fpr(y, -score, 0.0) == np.inf  # no threshold keeps FPR at 0: nothing is flagged
    assert threshold_for_fpr(y, np.where(y == 1, 1.0, 0.0), 0.01) == 1.0
