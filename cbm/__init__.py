"""cbm-oversight: an interpretable, concept-bottleneck oversight model for AI agent actions."""

from cbm.concepts import CONCEPT_IDS, CONCEPTS, Concept
from cbm.trajectory import Label, Step, Trajectory

__version__ = "0.1.0"
__all__ = ["CONCEPTS", "CONCEPT_IDS", "Concept", "Label", "Step", "Trajectory", "__version__"]
