"""cbm-oversight: an interpretable, concept-bottleneck oversight model for AI agent actions."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
__all__ = ["CONCEPTS", "CONCEPT_IDS", "Concept", "Label", "Overseer", "ScoringOptions", "Step", "Trajectory",
           "__version__"]

# Loaded on first use: the live guard's client imports `cbm` on every tool call and needs none of them.
_LAZY = {"CONCEPTS": "cbm.concepts", "CONCEPT_IDS": "cbm.concepts", "Concept": "cbm.concepts",
         "Label": "cbm.trajectory", "Overseer": "cbm.scoring", "ScoringOptions": "cbm.options", "Step": "cbm.trajectory",
         "Trajectory": "cbm.trajectory"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cbm' has no attribute {name!r}")
