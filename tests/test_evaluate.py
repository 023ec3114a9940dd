"""`cbm evaluate` end to end on a tiny corpus and checkpoint, plus the metric functions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cbm.cli import COMMANDS
from training.baselines import RuleMonitor
from training.evaluate import K, evaluate, expected_calibration_error, recall_at_fpr
from training.generate import GeneratorConfig, generate
from training.train import DEFAULT_CONFIG, load_config, train


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    corpus = root / "corpus"
    generate(GeneratorConfig(n=200, seed=1), corpus)
    path = train(load_config(DEFAULT_CONFIG, [
        f"out={root / 'run'}", f"data.corpus={corpus}", "data.generate.n=200", "model.dim=32", "model.layers=1",
        "model.heads=2", "trainer.max_epochs=1", "trainer.batch_size=16", "optim.warmup_steps=2", "data.imports=[]",
        "optim.mode=independent"]))  # the head learns from true concepts, so setting them all must help
    out = root / "reports"
    result = evaluate(path, corpus, out, baselines=True, log=lambda msg: None)
    return result, out


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


def test_report_files_exist(evaluated):
    result, out = evaluated
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
    result, out = evaluated
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
    result, _ = evaluated
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
    result, _ = evaluated
    for split in ("test", "heldout"):
        leak = result["splits"][split]["leakage"]
        assert leak["auroc"] == 0.5 and leak["distinct_risk_values"] == 1 and leak["passed"]


def test_all_true_concepts_are_at_least_as_good_as_none(evaluated):
    result, _ = evaluated
    for split in ("test", "heldout"):
        curve = result["splits"][split]["interventions"]
        assert curve["k"][-1] == K == 18
        for order in ("uncertain_first", "random"):
            aurocs = curve[order]["auroc"]
            assert aurocs[K] >= aurocs[0]
        # with every concept set, the order does not matter
        assert curve["uncertain_first"]["auroc"][K] == pytest.approx(curve["random"]["auroc"][K])


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
