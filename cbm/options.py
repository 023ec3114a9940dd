"""How an `Overseer` scores: `ScoringOptions`, typed, given when it is made, never changed after.

Light on purpose (no torch): `cbm score`'s parent process builds them and hands them to worker
processes that load the model. `cbm.scoring` exports them beside the Overseer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

DEFAULT_CHECKPOINT_ENV = "CBM_CHECKPOINT"


def shipped_checkpoint() -> Path:
    """The checkpoint shipped with the package: the repository's `checkpoints/default`, installed
    as the package data `cbm.checkpoints` (in a wheel, `site-packages/cbm/checkpoints/default`)."""
    return Path(str(resources.files("cbm.checkpoints") / "default"))


def default_checkpoint() -> Path:
    """`$CBM_CHECKPOINT` if set, else the shipped checkpoint."""
    if os.environ.get(DEFAULT_CHECKPOINT_ENV):
        return Path(os.environ[DEFAULT_CHECKPOINT_ENV])
    return shipped_checkpoint()


@dataclass(frozen=True)
class ScoringOptions:
    """How an `Overseer` scores, given when it is made and never changed afterwards.

    `device`: where the model runs (None: CUDA when available, else the CPU). `batch_size`:
    trajectories per forward pass (None: `default_batch_size(device)`, 1 on the CPU so that scores
    never depend on the batch). `threshold`: the flag threshold on calibrated risk (None: the
    checkpoint's; above 1 flags nothing). `top_k`: top concepts listed per action in JSON results.
    `threads`: torch's CPU thread count, set by `Overseer.load` (`auto`: one per physical core;
    None: left alone)."""

    device: str | None = None
    batch_size: int | None = None
    threshold: float | None = None
    top_k: int = 3
    threads: int | str | None = "auto"

    def __post_init__(self) -> None:
        if self.threshold is not None and self.threshold != self.threshold:  # NaN would flag nothing
            raise ValueError("threshold is NaN")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size!r}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be 0 or more, got {self.top_k!r}")
        if self.threads is not None and self.threads != "auto" and int(self.threads) < 1:
            raise ValueError(f"threads is auto, None or at least 1, got {self.threads!r}")

    def in_worker(self) -> ScoringOptions:
        """The options for one of several scoring processes on the CPU: one torch thread each."""
        return replace(self, device="cpu", threads=1)

    def on(self, device: object) -> ScoringOptions:
        """The options for a process whose device is decided elsewhere (a Lightning rank's)."""
        return replace(self, device=str(device))
