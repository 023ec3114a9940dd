"""Thresholds after training: the false-positive bounds a deployed monitor is held to."""

from __future__ import annotations

import numpy as np

from cbm_training.calibration import threshold_at_fpr, threshold_for_harmless


def test_threshold_for_harmless_flags_at_most_the_share():
    scores = np.random.default_rng(0).random(1000)
    for share in (0.0, 0.001, 0.01, 0.1, 0.5):
        t = threshold_for_harmless(scores, share)
        flagged = (scores >= t).sum()
        assert flagged <= share * len(scores)
        # the lowest such threshold: the next harmless score down would be flagged and break the bound
        assert flagged == int(share * len(scores)) or t == -np.inf


def test_threshold_for_harmless_with_ties_and_edges():
    # ties at the top: flagging one of them flags all, so none may be flagged
    t = threshold_for_harmless(np.array([0.9, 0.9, 0.1, 0.2]), 0.25)
    assert t > 0.9 and (np.array([0.9, 0.9]) >= t).sum() == 0
    assert threshold_for_harmless(np.array([0.3, 0.2]), 1.0) == -np.inf  # all may be flagged
    assert threshold_for_harmless(np.array([]), 0.01) == -np.inf
    # any score scale (a baseline's decision values)
    assert threshold_for_harmless(np.array([-3.0, 5.0, 2.0]), 0.0) > 5.0


def test_threshold_at_fpr_keeps_the_rate_on_validation():
    rng = np.random.default_rng(1)
    y = (rng.random(2000) < 0.2).astype(int)
    calibrated = np.clip(0.3 * y + 0.7 * rng.random(2000), 0, 1)
    t = threshold_at_fpr(calibrated, y, 0.05)
    assert (calibrated[y == 0] >= t).mean() <= 0.05
