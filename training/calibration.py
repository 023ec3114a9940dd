"""Calibration after training, on validation: Platt scaling of the risk logit, the flag and
block thresholds at target false-positive rates, and a threshold per concept."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_curve

from cbm import checkpoint as ckpt


def calibrate(risk_logits: np.ndarray, risk: np.ndarray) -> ckpt.Calibration:
    """Platt scaling of the risk logit on validation."""
    platt = LogisticRegression(C=1e4).fit(risk_logits.reshape(-1, 1), risk)
    scale = float(platt.coef_[0, 0])
    if scale <= 0:  # the model ranks risk backwards on validation: a flipped calibration would hide it
        print(f"cbm train: WARNING: the risk logit ranks validation risk backwards (Platt scale {scale:.3f}); "
              f"calibration left at identity; train longer or check the data", file=sys.stderr)
        return ckpt.Calibration()
    return ckpt.Calibration(scale=scale, shift=float(platt.intercept_[0]))


def threshold_at_fpr(calibrated: np.ndarray, risk: np.ndarray, target_fpr: float) -> float:
    """The lowest calibrated threshold whose false-positive rate on validation is at most `target_fpr`."""
    fpr, _, thresholds = roc_curve(risk, calibrated)
    ok = thresholds[fpr <= target_fpr]
    return float(min(ok[-1], 1.0)) if len(ok) else 1.0


def threshold_for_harmless(scores: np.ndarray, share: float) -> float:
    """The lowest threshold that flags at most `share` of these real harmless scores (actions, or
    runs by their riskiest action), on any score scale; -inf when none need be left unflagged.
    Real sessions bound the thresholds from below: a monitor that flags one run in five of
    ordinary coding work is switched off, whatever its rate on generated data."""
    ranked = np.sort(np.asarray(scores, dtype=float))[::-1]
    allowed = int(np.floor(share * len(ranked) + 1e-9))  # this many may be flagged
    return float(np.nextafter(ranked[allowed], np.inf)) if allowed < len(ranked) else float("-inf")


def bounded_by_harmless(flag: float, block: float, actions: np.ndarray, runs: np.ndarray,
                        calibration: dict) -> tuple[float, float]:
    """The flag and block thresholds raised to the real-session bound of a config's `calibration`
    section: at most `real_flag_share` of the harmless `actions` and `real_run_share` of the `runs`
    (each by its riskiest action) flagged, at most `real_block_share` of the actions blocked.
    Training sets a checkpoint's thresholds with it, and evaluation the baselines' alike."""
    actions = np.asarray(actions, dtype=float)
    runs = np.asarray(runs, dtype=float)
    runs = runs[np.isfinite(runs)]  # a run without actions has no riskiest one
    flag = max(flag, threshold_for_harmless(actions, float(calibration["real_flag_share"])),
               threshold_for_harmless(runs, float(calibration["real_run_share"])))
    block = max(block, flag, threshold_for_harmless(actions, float(calibration["real_block_share"])))
    return flag, block


def concept_thresholds(logits: np.ndarray, concepts: np.ndarray, known: np.ndarray,
                       concept_ids: Sequence[str]) -> dict[str, float]:
    """Per concept of `concept_ids` (the columns' order), the probability threshold with the best
    F1 on validation (0.5 if untestable)."""
    out = {}
    grid = np.linspace(0.05, 0.95, 19)
    probs = 1 / (1 + np.exp(-logits))
    for j, cid in enumerate(concept_ids):
        rows = known[:, j]
        y = concepts[rows, j]
        if rows.sum() == 0 or y.min() == y.max():
            out[cid] = 0.5
            continue
        scores = [f1_score(y, probs[rows, j] >= t, zero_division=0) for t in grid]
        out[cid] = float(grid[int(np.argmax(scores))])
    return out
