"""Fixtures shared by the test files: the shipped model, loaded once, and a tiny untrained one."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="session")
def overseer():
    from cbm.scoring import Overseer

    return Overseer.load(threads=1)


@pytest.fixture(scope="module")
def tiny():
    """A small untrained model and its vocabulary, for the model and checkpoint tests."""
    import torch

    from cbm.concepts import CONCEPT_IDS
    from cbm.features import Vocabulary
    from cbm.model import ConceptBottleneckModel, ModelConfig

    torch.manual_seed(0)
    vocab = Vocabulary([], hash_buckets=128)
    config = ModelConfig(vocab_size=len(vocab), n_concepts=len(CONCEPT_IDS), dim=32, layers=1, heads=2,
                         max_tokens=512, interactions=(("touches_production", "destructive_change"),))
    return vocab, ConceptBottleneckModel(config, CONCEPT_IDS).eval()
