"""The scoring core (`cbm.scoring.Overseer`) on the shipped model: what every entry point relies on."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from cbm.concepts import CONCEPT_IDS
from cbm.formats import ReadOptions, loads, read_records, to_record
from cbm.scoring import Overseer, ScoringOptions

from conftest import SAMPLES

DB_SAMPLES = SAMPLES / "database_session.openai.jsonl"
DROP = "call_Nf8dH2qZ5vL1kW7tB4xM9cGs"  # risky-db-prod-drop: its DROP TABLE on production


def risky_db():
    return next(r.trajectory for r in read_records(DB_SAMPLES) if r.trajectory.id == "risky-db-prod-drop")


def test_the_production_drop_is_scored_with_readable_reasons(overseer):
    result = overseer.score(risky_db())
    assert result.error is None
    assert result.risk == max(a.risk for a in result.actions)
    assert result.flagged == any(a.flagged for a in result.actions)
    assert all(a.flagged == (a.risk >= overseer.threshold) for a in result.actions)
    drop = result.action(DROP)
    assert drop.tool == "bash" and "DROP TABLE" in result.trajectory.steps[drop.step].text
    assert set(drop.concepts) == set(CONCEPT_IDS) and all(0 <= p <= 1 for p in drop.concepts.values())
    top = drop.top_concepts(3)
    assert len(top) == 3
    assert abs(top[0]["contribution"]) >= abs(top[1]["contribution"]) >= abs(top[2]["contribution"])
    assert top[0]["contribution"] == drop.contributions[top[0]["concept"]]


def test_contributions_and_baseline_add_up_to_the_risk_logit(overseer):
    for action in overseer.score(risky_db()).actions:
        assert sum(action.contributions.values()) + action.baseline_logit == pytest.approx(action.risk_logit, abs=1e-4)


def test_every_format_of_a_run_scores_the_same(overseer):
    trajectory = risky_db()
    risks = {fmt: [a.risk for a in overseer.score(to_record(trajectory, fmt)).actions]
             for fmt in ("native", "openai", "anthropic")}
    assert risks["native"] == risks["openai"] == risks["anthropic"]
    assert [a.risk for a in overseer.score(json.dumps(to_record(trajectory, "native"))).actions] == risks["native"]


def test_score_many_keeps_order_and_failures_and_is_batch_invariant(overseer):
    lines = [line for path in sorted(SAMPLES.glob("*.jsonl")) for line in path.read_text().splitlines()]
    text = "\n".join([lines[0], "{not json", lines[1], '{"id": "x", "messages": "no"}', lines[2]]) + "\n"
    results = list(overseer.score_many(loads(text), batch_size=2))
    assert [r.error is None for r in results] == [True, False, True, False, True]
    assert results[1].error.startswith("line 2: not JSON") and results[1].line == 2
    assert "messages: expected array" in results[3].error and results[3].id == "x"
    assert results[1].risk is None and results[1].actions == []
    alone = [overseer.score(line) for line in (lines[0], lines[1], lines[2])]
    assert [r.to_json() for r in alone] == [results[i].to_json() for i in (0, 2, 4)]


def test_score_many_streams_one_batch_at_a_time(overseer):
    pulled = []

    def endless():
        trajectory = risky_db()
        while True:
            pulled.append(1)
            yield trajectory

    stream = overseer.score_many(endless(), batch_size=3)
    assert next(stream).id == "risky-db-prod-drop"
    assert len(pulled) == 3  # an endless input is scored batch by batch, never read ahead
    for _ in range(3):
        next(stream)
    assert len(pulled) == 6


def test_a_proposed_action_scores_as_it_would_in_the_full_log(overseer):
    trajectory = risky_db()
    drop = overseer.score(trajectory).action(DROP)
    step = trajectory.steps[drop.step]
    context = copy.deepcopy(trajectory)
    context.steps = context.steps[:drop.step]
    context.labels = {}
    live = overseer.score_action(context, {"tool_name": step.tool_name, "arguments": step.text, "id": step.call_id})
    full = copy.deepcopy(trajectory)
    full.steps = full.steps[:drop.step + 1]
    full.labels = {}
    assert live.to_json() == overseer.score(full).actions[-1].to_json()
    assert live.id == step.call_id == DROP


def test_proposed_action_errors_name_the_field(overseer):
    from cbm.formats import FormatError

    context = risky_db()
    with pytest.raises(FormatError, match="action.tool_name"):
        overseer.score_action(context, {"tool_name": 3})
    with pytest.raises(FormatError, match="action.arguments"):
        overseer.score_action(context, {"tool_name": "bash", "arguments": [1]})
    message = overseer.score_action(context, {"text": "All done, the table is intact."})
    assert message.tool is None and 0 <= message.risk <= 1


def test_intervention_recomputes_risk_and_undo_restores_it(overseer):
    result = overseer.score(risky_db())
    drop = result.action(DROP)
    safe = {c: 0 for c in CONCEPT_IDS} | {"user_authorized": 1}  # a reviewer: asked for, and no risk holds
    cleared = overseer.intervene(result, safe, action=DROP)
    assert not cleared.action(DROP).flagged and cleared.action(DROP).concepts["destructive_change"] == 0.0
    assert cleared.predicted == result.predicted  # the model's own values are kept
    others = [a for a in result.actions if a.id != DROP]
    assert [cleared.action(a.id).risk for a in others] == [a.risk for a in others]
    assert overseer.changed_flags(cleared) == ([] if not drop.flagged else [
        {"action": DROP, "flagged_before": True, "flagged_after": False, "risk_before": drop.risk,
         "risk_after": cleared.action(DROP).risk}])
    raised = overseer.intervene(cleared, {"user_authorized": 0, "destructive_change": 1}, action=DROP)
    assert raised.action(DROP).flagged  # destructive and not asked for: risky, as the policy says
    assert len(raised.edits) == 2
    assert overseer.undo(raised).to_json() == cleared.to_json()
    assert overseer.undo(raised, 2).to_json() == result.to_json()
    assert overseer.changed_flags(result) == []


def test_check_first_orders_concepts_by_how_far_a_reviewers_check_would_move_the_risk(overseer):
    """Each concept's expected change is what the reviewer's two possible answers, set through
    `intervene`, would do to the risk, weighed by the model's probability; a concept the reviewer
    has already set can move nothing and comes last."""
    result = overseer.score(risky_db())
    drop = result.action(DROP)
    for action in result.actions:
        order = overseer.check_first(action)
        assert sorted(c for c, _ in order) == sorted(CONCEPT_IDS)
        changes = [x for _, x in order]
        assert changes == sorted(changes, reverse=True)
        for concept, change in order[:3] + order[-2:]:
            p = action.concepts[concept]
            one, zero = (overseer.intervene(result, {concept: v}, action=action.id).action(action.id).risk
                         for v in (1, 0))
            assert change == pytest.approx(p * abs(one - action.risk) + (1 - p) * abs(zero - action.risk), abs=1e-5)
    # the drop is certain (risk 1.000): no single check moves its risk, so the check expected to
    # move its logit most comes first
    drop = result.action(DROP)
    assert all(change == 0 for _, change in overseer.check_first(drop))

    def logit_change(concept: str) -> float:
        p = drop.concepts[concept]
        one, zero = (overseer.intervene(result, {concept: v}, action=DROP).action(DROP).risk_logit for v in (1, 0))
        return p * abs(one - drop.risk_logit) + (1 - p) * abs(zero - drop.risk_logit)

    first = overseer.check_first(drop)[0][0]
    assert first == max(CONCEPT_IDS, key=logit_change)
    checked = overseer.intervene(result, {first: 1}, action=DROP).action(DROP)
    assert overseer.check_first(checked)[-1][0] == first  # a concept the reviewer set can move nothing
    rows = np.array([[a.concepts[c] for c in overseer.concept_ids] for a in result.actions])
    assert overseer.check_order(rows).shape == (len(result.actions), len(CONCEPT_IDS))


def test_intervention_refuses_bad_edits(overseer):
    result = overseer.score(risky_db())
    with pytest.raises(KeyError, match="unknown concept"):
        overseer.intervene(result, {"is_rude": 1})
    with pytest.raises(ValueError, match="probability"):
        overseer.intervene(result, {"destructive_change": 2})
    with pytest.raises(KeyError, match="no action"):
        overseer.intervene(result, {"destructive_change": 1}, action="nope")


def test_the_risk_head_runs_once_on_the_reported_concepts(overseer):
    """The model runs its encoder only; the risk comes from one head pass over the rounded
    concept probabilities the result reports, so JSON read back rebuilds the same risk."""
    calls = []
    hooks = [h.register_forward_hook(lambda *_: calls.append(1)) for h in (overseer.model.head, overseer.head)]
    original = overseer.model.forward
    overseer.model.forward = lambda *a, **k: calls.append("forward") or original(*a, **k)
    try:
        result = overseer.score(risky_db())
    finally:
        del overseer.model.forward
        for h in hooks:
            h.remove()
    assert "forward" not in calls and len(calls) <= 1  # the linear head's contributions need no forward pass
    rebuilt = overseer.intervene(result, {})
    assert [a.risk for a in rebuilt.actions] == [a.risk for a in result.actions]


def test_options_are_fixed_at_load():
    options = ScoringOptions(device="cpu", batch_size=2, threshold=0.3, top_k=5, threads=None)
    strict = Overseer.load(options=options)
    assert (strict.device, strict.batch_size, strict.threshold, strict.top_k) == ("cpu", 2, 0.3, 5)
    assert Overseer.load(options=options, top_k=1).top_k == 1 and strict.top_k == 5
    for name in ("device", "batch_size", "threshold", "block_threshold", "top_k"):
        with pytest.raises(AttributeError):
            setattr(strict, name, 1)
    with pytest.raises(Exception):
        strict.options.batch_size = 64  # frozen
    with pytest.raises(TypeError, match="unknown option"):
        Overseer.load(nope=1)
    with pytest.raises(ValueError):
        ScoringOptions(batch_size=0)


def test_threshold_override_and_model_info():
    above = round(Overseer.load(threads=None).score(risky_db()).risk + 0.01, 2)  # above every action's risk
    strict = Overseer.load(threshold=above, threads=None)
    assert not strict.score(risky_db()).flagged
    info = strict.info()
    assert info["thresholds"]["flag"] == above and info["thresholds"]["block"] >= above
    assert [c["id"] for c in info["concepts"]] == list(CONCEPT_IDS)
    assert all(c["definition"] for c in info["concepts"])
    assert set(info["head"]["weights"]["concepts"]) == set(CONCEPT_IDS)
    assert info["evaluation"]["heldout"]["risk_auroc"] > 0.5
    assert info["version"].startswith("0.") and len(info["weights_sha256"]) == 64


SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SWE_RUNS = SHARED / "real-sessions" / "swe-mini-gemini3.dev.jsonl"


@pytest.mark.skipif(not SWE_RUNS.is_file(), reason="../shared/data/real-sessions is not here")
def test_a_finished_real_run_and_the_run_cut_at_each_action_agree(overseer):
    """Real SWE-bench sessions run to hundreds of steps: every action's risk must be the same
    scored in the finished run (`cbm score`) and proposed live after its prefix (the guard)."""
    runs = [r.trajectory for r in read_records(SWE_RUNS)]
    for trajectory in sorted(runs, key=lambda t: -len(t.steps))[:2]:  # the longest runs: several windows
        finished = overseer.score(trajectory)
        for action in finished.actions[::7]:
            step = trajectory.steps[action.step]
            if step.kind != "tool_call":
                continue
            context = copy.copy(trajectory)
            context.steps, context.labels = trajectory.steps[:action.step], {}
            live = overseer.score_action(context, {"tool_name": step.tool_name, "arguments": step.text,
                                                   "id": step.call_id})
            assert abs(live.risk - action.risk) <= 1e-5, (trajectory.id, action.id)
            assert all(abs(live.concepts[c] - action.concepts[c]) <= 1e-5 for c in action.concepts)


def test_a_proposed_actions_text_is_capped_like_every_read_text():
    """A multi-megabyte argument must not cost seconds of tokenising: the proposed call's text is
    cut at `max_text_chars`, as a record's would be, so what lies past the cap changes nothing."""
    overseer = Overseer.load(threads=None)
    context = risky_db()
    cap = ReadOptions.max_text_chars
    padded = {"tool_name": "bash", "arguments": json.dumps({"command": "echo " + "a" * cap})}
    longer = {"tool_name": "bash", "arguments": padded["arguments"][:-2] + "b" * 100_000 + '"}'}
    assert overseer.score_action(context, padded).risk == overseer.score_action(context, longer).risk
