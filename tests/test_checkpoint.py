"""The checkpoint format (`cbm.checkpoint`): what is saved loads back equal, a checkpoint's own
concepts are the ones used, and a broken checkpoint is refused by name."""

from __future__ import annotations

import datetime
import json

import pytest
import torch

from cbm import checkpoint as ckpt
from cbm.concepts import CONCEPT_IDS, CONCEPTS
from cbm.features import FeatureConfig, Vocabulary, encode
from cbm.model import ConceptBottleneckModel, ModelConfig, collate
from conftest import SAMPLES
from formats_helpers import two_call_run


def test_a_checkpoints_own_concepts_are_the_ones_scored_and_written(tmp_path):
    """Nothing at run time reads the shipped taxonomy: a checkpoint of three other concepts is
    scored, explained and written to Parquet with its own names, in its own order."""
    from cbm.concepts import Concept
    from cbm.options import ScoringOptions
    from cbm.pipeline import run
    from cbm.scoring import Overseer

    torch.manual_seed(0)
    vocab = Vocabulary([], hash_buckets=64)
    concepts = tuple(Concept(id=cid, name=cid, group="test", definition="a test concept", positive=("a", "b"),
                             negative=("c", "d")) for cid in ("zeta", "alpha", "user_authorized"))
    config = ModelConfig(vocab_size=len(vocab), n_concepts=3, dim=16, layers=1, heads=2,
                         max_tokens=FeatureConfig().max_tokens,
                         monotone=True, interactions=(("user_authorized", "zeta"),))
    made = ckpt.new(config, vocab, FeatureConfig(), concepts)
    made.concept_thresholds = {c.id: 0.5 for c in concepts}
    path = ckpt.save(made, tmp_path / "other")
    overseer = Overseer.load(path, threads=None)
    assert overseer.concept_ids == ["zeta", "alpha", "user_authorized"]
    assert overseer.model.head.pairs.tolist() == [[2, 0]] and overseer.model.head.linear.sign[0, 2] == -1
    result = overseer.score(two_call_run("Fix the bug.", "a note", "ls"))
    assert all(list(a.concepts) == overseer.concept_ids for a in result.actions)
    out = tmp_path / "scores.parquet"
    run([str(SAMPLES / "database_session.openai.jsonl")], str(out), path, ScoringOptions(threads=None), quiet=True)
    import pyarrow.parquet as pq
    action = pq.read_schema(out).field("actions").type.value_type
    assert [f.name for f in action.field("concepts").type] == ["zeta", "alpha", "user_authorized"]
    with pytest.raises(ValueError, match="unknown concept"):
        ConceptBottleneckModel(ModelConfig(vocab_size=8, n_concepts=3, interactions=(("a", "b"),)), ["x", "y", "z"])


def test_checkpoint_round_trip_and_refusals(tiny, tmp_path):
    vocab, model = tiny
    checkpoint = ckpt.Checkpoint(model, vocab, FeatureConfig(), CONCEPTS,
                                 ckpt.Calibration(1.5, -0.2), 0.7, {c: 0.5 for c in CONCEPT_IDS}, {"note": "test"},
                                 fact_floor=0.85)
    path = ckpt.save(checkpoint, tmp_path / "c")
    loaded = ckpt.load(path)
    assert loaded.fact_floor == 0.85
    batch = collate([encode(two_call_run("a", "b", "rm -rf /"), vocab)])
    with torch.no_grad():
        assert torch.equal(model(batch)[1], loaded.model(batch)[1])
    assert loaded.threshold == 0.7 and loaded.calibration.scale == 1.5 and loaded.meta == {"note": "test"}

    weights = path / ckpt.WEIGHTS
    original = weights.read_bytes()
    weights.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(ckpt.CheckpointError, match="SHA-256"):
        ckpt.load(path)

    torch.save({"x": datetime.timedelta(days=1)}, weights)  # any pickled object is refused, hash or not
    config = json.loads((path / ckpt.CONFIG).read_text())
    config["weights_sha256"] = ckpt.file_sha256(weights)
    (path / ckpt.CONFIG).write_text(json.dumps(config))
    with pytest.raises(ckpt.CheckpointError, match="plain tensors"):
        ckpt.load(path)

    wrong = dict(config["model"], dim=48)
    torch.save(model.state_dict(), weights)
    config["weights_sha256"] = ckpt.file_sha256(weights)
    (path / ckpt.CONFIG).write_text(json.dumps({**config, "model": wrong}))
    with pytest.raises(ckpt.CheckpointError, match="does not fit"):
        ckpt.load(path)

    weights.unlink()
    with pytest.raises(ckpt.CheckpointError, match="missing weights.pt"):
        ckpt.load(path)


@pytest.mark.parametrize("change, reason", [
    (lambda c: c.update(threshold=float("nan")), "NaN is not a number"),
    (lambda c: c.update(threshold="high"), "threshold is 'high'"),
    (lambda c: c.pop("threshold"), "threshold"),
    (lambda c: c.update(block_threshold=1.5), "outside"),
    (lambda c: c.update(fact_floor=2), "fact_floor is 2"),
    (lambda c: c["calibration"].update(scale=float("inf")), "Infinity is not a number"),
    (lambda c: c["concept_thresholds"].update(destructive_change=None), "destructive_change is None"),
    (lambda c: c.update(meta=[1]), "meta is a list"),
])
def test_a_config_with_a_bad_number_is_refused_by_name(tiny, tmp_path, change, reason):
    """A NaN or mistyped threshold would make every risk comparison false and let every call
    through, so loading names the field instead."""
    vocab, model = tiny
    checkpoint = ckpt.Checkpoint(model, vocab, FeatureConfig(), CONCEPTS,
                                 ckpt.Calibration(1.0, 0.0), 0.5, {c: 0.5 for c in CONCEPT_IDS}, {})
    path = ckpt.save(checkpoint, tmp_path / "c")
    config = json.loads((path / ckpt.CONFIG).read_text())
    change(config)
    (path / ckpt.CONFIG).write_text(json.dumps(config))  # json writes NaN and Infinity as bare words
    with pytest.raises(ckpt.CheckpointError, match=reason):
        ckpt.load(path)


def test_weights_with_nan_are_refused(tiny, tmp_path):
    vocab, model = tiny
    checkpoint = ckpt.Checkpoint(model, vocab, FeatureConfig(), CONCEPTS,
                                 ckpt.Calibration(1.0, 0.0), 0.5, {c: 0.5 for c in CONCEPT_IDS}, {})
    path = ckpt.save(checkpoint, tmp_path / "c")
    state = model.state_dict()
    name = next(iter(state))
    state[name] = torch.full_like(state[name], float("nan"))
    torch.save(state, path / ckpt.WEIGHTS)
    config = json.loads((path / ckpt.CONFIG).read_text())
    (path / ckpt.CONFIG).write_text(json.dumps({**config, "weights_sha256": ckpt.file_sha256(path / ckpt.WEIGHTS)}))
    with pytest.raises(ckpt.CheckpointError, match=f"NaN or infinite values in {name}"):
        ckpt.load(path)
    (path / ckpt.CONFIG).write_text("[1, 2]")
    with pytest.raises(ckpt.CheckpointError, match="JSON object expected"):
        ckpt.load(path)
