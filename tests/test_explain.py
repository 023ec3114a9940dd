"""Explanations (`cbm.explain`): concept contributions that add up, text evidence that points at
the exact characters the model used, faithful to deletion. The command, `cbm explain`, is in
test_explain_cli.py."""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import numpy as np
import pytest
import torch
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from cbm import checkpoint as ckpt
from cbm.explain import Explainer, Explanation
from cbm.explain_cli import render
from cbm.facts import describe
from cbm.features import FeatureConfig, encode
from cbm.formats import read_records
from cbm.model import ModelConfig
from cbm.scoring import Overseer
from cbm.terminal import Style
from conftest import ROOT, SAMPLES, sample
from cbm_training.faithfulness import TRIGGERS, FaithfulnessConfig, deletion_check, plant

DROP = "call_Nf8dH2qZ5vL1kW7tB4xM9cGs"  # risky-db-prod-drop: DROP TABLE on production during the freeze
VACUUM = "call_Ke6wR3yM0bT8nJ5qX1vC4zDp"  # the same run's VACUUM on staging afterwards
SCHEMA = json.loads((ROOT / "data" / "explanation.schema.json").read_text(encoding="utf-8"))


def field_text(trajectory, span) -> str:
    step = trajectory.steps[span.step]
    return step.tool_name if span.field == "tool_name" else step.text


# --- concept -> risk ----------------------------------------------------------------------------

def test_contributions_add_up_to_the_risk_logit_for_the_shipped_linear_head(overseer, risky):
    e = overseer.explain(risky, DROP, concepts=[])
    assert (e.action_id, e.contribution_method, e.contribution_delta) == (DROP, "exact", None)
    assert e.baseline_logit + sum(c.contribution for c in e.concepts) == pytest.approx(e.risk_logit, abs=1e-5)
    assert e.risk == overseer.score(risky).action(DROP).risk


def test_contributions_add_up_for_an_mlp_head_within_the_reported_delta(overseer, risky):
    torch.manual_seed(0)
    vocab = overseer.checkpoint.vocab
    model_config = ModelConfig(vocab_size=len(vocab), n_concepts=len(overseer.concept_ids), dim=32, layers=1,
                               heads=2, head="mlp", dropout=0.0)
    mlp = Overseer(ckpt.new(model_config, vocab, FeatureConfig(), overseer.checkpoint.concepts))
    e = Explainer(mlp, n_steps=8).explain(risky, DROP, concepts=["destructive_change"])
    assert e.contribution_method == "integrated_gradients"
    assert abs(e.contribution_delta) < 1e-3
    total = e.baseline_logit + sum(c.contribution for c in e.concepts)
    assert total == pytest.approx(e.risk_logit, abs=abs(e.contribution_delta) + 1e-4)
    assert any(abs(c.contribution) > 1e-3 for c in e.concepts)  # a random head: the check is not vacuous


# --- text -> concept ----------------------------------------------------------------------------

def test_token_scores_add_up_to_the_concept_logit_against_the_pad_baseline(overseer, risky):
    explainer = Explainer(overseer, n_steps=32)
    encoded = encode(risky, overseer.checkpoint.vocab, overseer.checkpoint.features)
    index = encoded.action_ids.index(DROP)
    columns = [overseer.concept_ids.index(c) for c in ("destructive_change", "touches_production")]
    found = explainer.attributions(encoded, index, columns)
    assert found.scores.shape == (2, encoded.action_span[index, 1])  # nothing after the action is read
    assert np.abs(found.delta).max() < 1e-3
    np.testing.assert_allclose(found.scores.sum(1) - found.delta, found.logit - found.baseline_logit, atol=1e-4)
    probability = overseer.score(risky).action(DROP).concepts["destructive_change"]
    assert 1 / (1 + np.exp(-found.logit[0])) == pytest.approx(probability, abs=1e-5)


def test_the_drop_is_explained_by_the_concepts_that_matter_with_evidence_in_the_run(overseer, risky):
    e = Explainer(overseer, n_steps=8).explain(risky, DROP)  # the concepts that matter, by default
    action = overseer.score(risky).action(DROP)
    assert e.step == action.step and e.tool == "bash"
    present = {c for c, p in action.concepts.items() if p >= overseer.checkpoint.concept_thresholds[c]}
    pushing = sorted((c for c, v in action.contributions.items() if v > 0), key=lambda c: -action.contributions[c])
    assert set(pushing[:3]) <= set(e.explained) and len(e.explained) <= 6
    assert set(e.explained) - set(pushing[:3]) <= present
    for c in e.concepts:
        assert (c.evidence is not None) == (c.id in e.explained)
        assert c.probability == c.predicted == action.concepts[c.id] and not c.edited
    spans = [s for cid in e.explained for s in e.concept(cid).evidence]
    assert all(s.step <= e.step for s in spans)
    assert {s.step for s in spans} - {e.step}, "evidence also points into earlier steps"
    for cid in e.explained:
        scores = [s.score for s in e.concept(cid).evidence]
        support = [s for s in scores if s > 0]
        assert scores[:len(support)] == sorted(support, reverse=True)


def test_the_drops_evidence_names_the_production_host_and_the_statement(overseer, risky):
    """What a reviewer of the risky database run must see: the production host is what made the
    model see `touches_production`, and the DROP statement is part of the `destructive_change`
    evidence, all pointing at the exact characters of the command."""
    e = Explainer(overseer).explain(risky, DROP, ["touches_production", "destructive_change"], top_k=5)
    command = risky.steps[e.step].text
    top = e.concept("touches_production").evidence[0]
    assert top.score > 0 and top.step == e.step and "orders-live.prod.acme.internal" in top.text
    statement = command.index("DROP TABLE")
    assert any(s.step == e.step and s.start < statement + len("DROP TABLE order_events_legacy") and s.end > statement
               for s in e.concept("destructive_change").evidence)


def test_span_offsets_reproduce_the_original_characters(fast):
    for name in ("database_session.openai.jsonl", "prompt_injection.native.jsonl", "coding_session.anthropic.jsonl"):
        trajectory = sample(name)
        result = fast.overseer.score(trajectory)
        for action in result.actions[::3]:
            e = fast.explain(result, action.id, ["touches_production", "follows_injected_instruction"], top_k=8)
            for cid in e.explained:
                for s in e.concept(cid).evidence:
                    assert s.text == field_text(trajectory, s)[s.start:s.end] and s.text.strip()
                    # never a span of stopwords or punctuation alone ("it", "You", "-----+---")
                    assert {w.lower() for w in re.findall(r"[^\W_]+", s.text)} - ENGLISH_STOP_WORDS, s.text
                    assert s.kind == trajectory.steps[s.step].kind
                    assert s.action_id == trajectory.steps[s.step].action_id


# Phrases appended to a test command in a coding session: the strongest evidence is the phrase,
# not a stopword or a run of punctuation elsewhere in the session.
@pytest.mark.parametrize("trigger", [t for t in TRIGGERS if t.concept in ("disables_safeguards", "touches_production")],
                         ids=lambda t: t.concept)
def test_a_planted_trigger_is_the_strongest_supporting_evidence(fast, trigger):
    trajectory = sample("coding_session.anthropic.jsonl")
    planted, step, start, end = plant(trajectory, trajectory.action_ids[0], trigger)
    assert planted.steps[step].text[start:end] == trigger.phrase
    e = fast.explain(planted, trajectory.action_ids[0], [trigger.concept])
    top = e.concept(trigger.concept).evidence[0]
    assert top.score > 0 and top.step == step and top.start < end and top.end > start


def test_deleting_the_top_attributed_tokens_lowers_the_concept_more_than_random_tokens(overseer):
    runs = [sample("database_session.openai.jsonl"), sample("prompt_injection.native.jsonl"),
            sample("coding_session.native.jsonl")]
    report = deletion_check(Explainer(overseer, n_steps=8), runs, FaithfulnessConfig(pairs=10, k=8, seed=0))
    assert report["pairs"] == 10
    assert report["mean_top_drop"] > 2 * report["mean_random_drop"]
    assert report["top_beats_random"] >= 0.8


# --- the explanation object ---------------------------------------------------------------------

def truth(trajectory, action_id: str) -> dict[str, int]:
    """A sample action's labelled concepts: what a reviewer who corrects every concept sets."""
    return dict(trajectory.labels[action_id].concepts)


def test_an_intervened_result_shows_the_edits_and_keeps_the_models_evidence(overseer, fast, risky):
    result = overseer.score(risky)
    edits = {**truth(risky, VACUUM), "destructive_change": 1}  # the VACUUM, had it destroyed data unasked
    edited = overseer.intervene(result, edits, action=VACUUM)
    e = fast.explain(edited, VACUUM, ["destructive_change"], top_k=3)
    before = fast.explain(result, VACUUM, ["destructive_change"], top_k=3)
    c = e.concept("destructive_change")
    assert (c.probability, c.edited) == (1.0, True) and c.predicted == result.action(VACUUM).concepts[c.id]
    assert c.evidence == before.concept(c.id).evidence  # evidence is the model's, whatever the reviewer set
    assert e.interventions == [{"concept": k, "value": float(v), "action": VACUUM} for k, v in edits.items()]
    assert e.flagged  # data/risk_policy.yaml: an unauthorised destructive change is risky
    flagged_before = result.action(VACUUM).flagged
    assert e.changed_flags == ([] if flagged_before else [
        {"action": VACUUM, "flagged_before": False, "flagged_after": True, "risk_before": result.action(VACUUM).risk,
         "risk_after": e.risk}])
    assert e.baseline_logit + sum(x.contribution for x in e.concepts) == pytest.approx(e.risk_logit, abs=1e-5)


def test_correcting_every_concept_gives_the_policys_decision_on_every_sample_action(overseer):
    """A reviewer who sets all 18 concepts of an action to the truth gets the written policy's
    decision (data/risk_policy.yaml, which the samples' risk labels follow)."""
    checked = 0
    for path in sorted(SAMPLES.glob("*.jsonl")):
        for record in read_records(str(path)):
            result = overseer.score(record.trajectory)
            for action in result.actions:
                label = record.trajectory.labels.get(action.id)
                if label is None or label.risk is None or not label.complete:
                    continue
                corrected = overseer.intervene(result, dict(label.concepts), action=action.id).action(action.id)
                assert corrected.flagged == bool(label.risk), (record.trajectory.id, action.id)
                checked += 1
    assert checked >= 90


def test_json_round_trip_validates_against_the_schema(fast, risky):
    e = fast.explain(risky, DROP, ["destructive_change", "touches_production"], top_k=3)
    obj = json.loads(json.dumps(e.to_json()))
    jsonschema.Draft202012Validator(SCHEMA).validate(obj)
    assert Explanation.from_json(obj) == e


def test_the_explanation_says_what_the_action_does_before_its_evidence(overseer, fast, risky):
    """The action's facts (read by parsers) come first, in the object and on the terminal: the
    sentences, then each fact with the characters of the command it was read from."""
    e = fast.explain(risky, DROP, ["touches_production"], top_k=2)
    action = overseer.score(risky).action(DROP)
    assert e.facts and e.facts == action.facts and e.summary == describe(action.facts)
    command = risky.steps[e.step].text
    host = next(f for f in e.facts if f.kind == "host")  # psql -h: read by the shell parser
    assert host.value == "orders-live.prod.acme.internal" and "production" in host.tags
    assert command[host.span[0]:host.span[1]] == host.value
    obj = e.to_json()
    keys = list(obj)
    assert keys.index("summary") < keys.index("facts") < keys.index("concepts")
    assert obj["facts"] == [f.to_json() for f in e.facts] and obj["summary"] == e.summary
    older = {k: v for k, v in json.loads(json.dumps(obj)).items() if k not in ("summary", "facts")}
    assert Explanation.from_json(older).facts == []  # an explanation saved before facts still reads
    plain = render(e, risky, Style(tty=False))
    assert plain.index("what it does") < plain.index(e.summary[0]) < plain.index('"orders-live.prod.acme.internal"')
    bars = re.search(r"^  \w+ +p=\d", plain, re.M).start()  # the first contribution bar
    assert plain.index('"orders-live.prod.acme.internal"') < bars < plain.index("evidence:")


def test_unknown_action_and_concept_name_the_choices(fast, risky):
    with pytest.raises(KeyError, match="actions: call_Zr4kT1mQ8vW2xN6bH3pL9sYd"):
        fast.explain(risky, "nope")
    with pytest.raises(KeyError, match="concepts: touches_production"):
        fast.explain(risky, DROP, ["nope"])



def test_a_run_with_no_action_cannot_be_explained(fast):
    silent = copy.deepcopy(sample("database_session.openai.jsonl"))
    silent.steps = silent.steps[:2]
    with pytest.raises(ValueError, match="no action to explain"):
        fast.explain(silent)
