"""Scoring options (`cbm.options`): checked when made, frozen after, and the default checkpoint's
location, which `$CBM_CHECKPOINT` overrides."""

from __future__ import annotations

import dataclasses

import pytest

from cbm.options import DEFAULT_CHECKPOINT_ENV, ScoringOptions, default_checkpoint


@pytest.mark.parametrize("changes, message", [
    ({"threshold": float("nan")}, "threshold is NaN"),
    ({"batch_size": 0}, "batch_size must be at least 1"),
    ({"top_k": -1}, "top_k must be 0 or more"),
    ({"threads": 0}, "threads is auto, None or at least 1"),
])
def test_bad_options_are_refused_with_a_reason(changes, message):
    with pytest.raises(ValueError, match=message):
        ScoringOptions(**changes)


def test_options_are_frozen_and_workers_get_one_cpu_thread_each():
    options = ScoringOptions(device="cuda", batch_size=8, threshold=0.4, top_k=5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.top_k = 1
    worker = options.in_worker()
    assert (worker.device, worker.threads) == ("cpu", 1)
    assert (worker.batch_size, worker.threshold, worker.top_k) == (8, 0.4, 5)
    assert options.on("cuda:1").device == "cuda:1" and options.device == "cuda"


def test_the_default_checkpoint_ships_beside_the_package_unless_the_environment_names_one(monkeypatch, tmp_path):
    monkeypatch.delenv(DEFAULT_CHECKPOINT_ENV, raising=False)
    shipped = default_checkpoint()
    assert shipped.parts[-2:] == ("checkpoints", "default") and (shipped / "config.json").is_file()
    monkeypatch.setenv(DEFAULT_CHECKPOINT_ENV, str(tmp_path))
    assert default_checkpoint() == tmp_path
