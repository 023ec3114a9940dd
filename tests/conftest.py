"""Fixtures shared by the test files: the shipped model, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="session")
def overseer():
    from cbm.scoring import Overseer

    return Overseer.load(threads=1)
