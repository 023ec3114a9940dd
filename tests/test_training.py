"""Training end to end on a tiny corpus: joint and sequential modes, masked labels, 2-process DDP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cbm import checkpoint as ckpt
from cbm.features import FeatureConfig, Vocabulary
from cbm.formats import parse_record
from cbm.model import ModelConfig
from training.data import BucketSampler, make_example
from training.lightning import CBMTask, OptimConfig
from training.train import DEFAULT_CONFIG, load_config, train


def tiny_config(tmp_path, **extra):
    overrides = [f"out={tmp_path / 'run'}", f"data.corpus={tmp_path / 'corpus'}", "data.generate.n=160",
                 "model.dim=32", "model.layers=1", "model.heads=2", "trainer.max_epochs=1", "trainer.batch_size=16",
                 "optim.warmup_steps=2", "data.imports=[]"]
    overrides += [f"{k}={v}" for k, v in extra.items()]
    return load_config(DEFAULT_CONFIG, overrides)


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.parametrize("mode", ["joint", "sequential"])
def test_training_writes_a_loadable_calibrated_checkpoint(tmp_path, mode):
    # The joint run also trains on ToolEmu's run-level weak labels where the data is present.
    extra = {"data.imports": "[toolemu]", "data.shared_data": str(SHARED)} if mode == "joint" else {}
    path = train(tiny_config(tmp_path, **{"optim.mode": mode}, **extra))
    loaded = ckpt.load(path)
    assert 0 < loaded.threshold <= 1
    assert set(loaded.concept_thresholds) == {c.id for c in loaded.concepts}
    assert len(loaded.meta["training_data_sha256"]) == 64
    assert loaded.meta["config"]["optim"]["mode"] == mode
    assert (tmp_path / "run" / "logs").is_dir()  # CSV logs for every run
    imported = any("toolemu" in f for f in loaded.meta["training_files"])
    assert imported == (mode == "joint" and SHARED.is_dir())


def test_config_overrides_and_errors(tmp_path):
    config = load_config(DEFAULT_CONFIG, ["trainer.max_epochs=7", "model.head=mlp"])
    assert config["trainer"]["max_epochs"] == 7 and config["model"]["head"] == "mlp"
    with pytest.raises(ValueError):
        load_config(DEFAULT_CONFIG, ["trainer.max_epochs"])


def test_unknown_concepts_are_masked_not_false():
    t = parse_record({"id": "x", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "bash", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "a", "content": "ok"}],
        "labels": {"a": {"risk": 1, "concepts": {"touches_production": 1}}}})
    e = make_example(t, Vocabulary([], 16), FeatureConfig())
    assert e.concept_known.sum() == 1 and e.risk_known.all()
    task = CBMTask(ModelConfig(vocab_size=16 + 13, dim=16, layers=1, heads=2), OptimConfig())
    logits = torch.zeros(1, 18)
    batch = {"concepts": torch.from_numpy(e.concepts), "concept_known": torch.from_numpy(e.concept_known)}
    # Only the known concept contributes: flipping an unknown target changes nothing.
    before = task.concept_loss(logits, batch)
    batch["concepts"] = batch["concepts"].clone()
    batch["concepts"][0, 5] = 1
    assert torch.equal(before, task.concept_loss(logits, batch))


def test_bucket_sampler_is_deterministic_and_splits_across_ranks():
    lengths = list(np.random.default_rng(0).integers(10, 500, size=100))
    a = list(BucketSampler(lengths, 8, shuffle=True, seed=1))
    b = list(BucketSampler(lengths, 8, shuffle=True, seed=1))
    assert a == b and sorted(i for batch in a for i in batch) == list(range(100))
    ranks = [list(BucketSampler(lengths, 8, True, 1, rank=r, world_size=2)) for r in (0, 1)]
    seen = [i for r in ranks for batch in r for i in batch]
    assert len(seen) == len(set(seen)) and len(ranks[0]) == len(ranks[1])


def test_ddp_on_two_cpu_processes(tmp_path):
    config = tiny_config(tmp_path, **{"trainer.devices": 2, "trainer.strategy": "ddp_spawn",
                                      "trainer.accelerator": "cpu"})
    path = train(config)
    assert ckpt.load(path).meta["train_trajectories"] > 0
